// One LND node of the regtest network, set up and inspected only through lncli so this module
// does not depend on the project's own gRPC code.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LndBinaries } from './binaries.js';
import type { BtcdConnection } from './btcd.js';
import { runCommand } from './command.js';
import { Daemon } from './daemon.js';
import { waitFor } from './wait.js';

export interface NodeInfo {
  name: string;
  pubkey: string;
  /** host:port of the gRPC server. */
  grpcHost: string;
  /** host:port of the Lightning p2p listener. */
  p2pHost: string;
  tlsCertPath: string;
  adminMacaroonPath: string;
  lndDir: string;
  logFile: string;
}

export class LndNode {
  readonly lndDir: string;
  readonly grpcHost: string;
  readonly p2pHost: string;
  private readonly daemon: Daemon;
  private readonly connArgs: string[];
  private pubkeyCache: string | undefined;

  constructor(
    readonly name: string,
    private readonly bins: LndBinaries,
    baseDir: string,
    ports: { grpc: number; p2p: number },
    private readonly btcd: BtcdConnection,
    /** Flags every start of this node gets (version- and role-specific). */
    private readonly baseArgs: string[],
  ) {
    this.lndDir = join(baseDir, name);
    mkdirSync(this.lndDir, { recursive: true });
    this.grpcHost = `127.0.0.1:${ports.grpc}`;
    this.p2pHost = `127.0.0.1:${ports.p2p}`;
    this.daemon = new Daemon(name, bins.lnd, join(this.lndDir, 'lnd.out.log'));
    this.connArgs = [`--lnddir=${this.lndDir}`, `--rpcserver=${this.grpcHost}`, '--network=regtest'];
  }

  get isRunning(): boolean {
    return this.daemon.isRunning;
  }

  get tlsCertPath(): string {
    return join(this.lndDir, 'tls.cert');
  }

  get adminMacaroonPath(): string {
    return join(this.lndDir, 'data', 'chain', 'bitcoin', 'regtest', 'admin.macaroon');
  }

  /** LND's own log (the process's stdout goes to lnd.out.log next to it). */
  get logFile(): string {
    return join(this.lndDir, 'logs', 'bitcoin', 'regtest', 'lnd.log');
  }

  args(extra: string[]): string[] {
    return [
      `--lnddir=${this.lndDir}`,
      `--alias=${this.name}`,
      '--noseedbackup',
      '--bitcoin.regtest',
      '--bitcoin.node=btcd',
      `--btcd.rpchost=${this.btcd.rpcHost}`,
      `--btcd.rpcuser=${this.btcd.rpcUser}`,
      `--btcd.rpcpass=${this.btcd.rpcPass}`,
      `--btcd.rpccert=${this.btcd.rpcCert}`,
      `--listen=${this.p2pHost}`,
      `--rpclisten=${this.grpcHost}`,
      '--norest',
      '--nobootstrap',
      '--debuglevel=info',
      // Gossip goes out in 50 ms batches instead of 5 s, so the graph settles quickly.
      '--trickledelay=50',
      '--bitcoin.defaultchanconfs=1',
      '--bitcoin.minhtlc=1',
      '--maxpendingchannels=10',
      ...this.baseArgs,
      ...extra,
    ];
  }

  /**
   * Starts lnd (the wallet is created/unlocked by --noseedbackup) and waits for its RPC state:
   * 'rpc' = RPC_ACTIVE (wallet calls such as newaddress work; lnd is still waiting for a chain tip
   * less than ~2 hours old), 'server' = SERVER_ACTIVE (fully up).
   */
  async start(
    extraArgs: string[] = [],
    until: 'rpc' | 'server' = 'server',
    timeoutMs = 120_000,
  ): Promise<void> {
    this.daemon.start(this.args(extraArgs));
    const want = until === 'rpc' ? ['RPC_ACTIVE', 'SERVER_ACTIVE'] : ['SERVER_ACTIVE'];
    await waitFor(
      `${this.name} state ${want.join('/')}`,
      async () => {
        if (!this.daemon.isRunning) {
          throw new Error(`lnd ${this.name} ${this.daemon.describeExit()}, see ${this.daemon.logFile}`);
        }
        const { state } = (await this.lncli('state')) as { state: string };
        return want.includes(state);
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Graceful stop over RPC (as an operator would), falling back to signals. */
  async stop(): Promise<void> {
    if (!this.daemon.isRunning) return;
    try {
      await this.lncli('stop');
    } catch {
      // Not answering RPC: the signal path below still stops it.
    }
    if (!(await this.daemon.waitExit(30_000))) await this.daemon.stop(10_000);
  }

  async kill(): Promise<void> {
    await this.daemon.kill();
  }

  /** A long-running lncli (subscribecustom, ...): the caller reads its stdout and kills it. */
  lncliStream(...args: string[]): ChildProcess {
    return spawn(this.bins.lncli, [...this.connArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async lncliRaw(...args: string[]): Promise<string> {
    return runCommand(this.bins.lncli, this.connArgs, args, 120_000);
  }

  /** Runs lncli and parses its JSON output. */
  async lncli(...args: string[]): Promise<unknown> {
    const out = await this.lncliRaw(...args);
    const text = out.trim();
    return text === '' ? {} : (JSON.parse(text) as unknown);
  }

  async pubkey(): Promise<string> {
    if (!this.pubkeyCache) {
      this.pubkeyCache = ((await this.lncli('getinfo')) as { identity_pubkey: string }).identity_pubkey;
    }
    return this.pubkeyCache;
  }

  async info(): Promise<NodeInfo> {
    return {
      name: this.name,
      pubkey: await this.pubkey(),
      grpcHost: this.grpcHost,
      p2pHost: this.p2pHost,
      tlsCertPath: this.tlsCertPath,
      adminMacaroonPath: this.adminMacaroonPath,
      lndDir: this.lndDir,
      logFile: this.logFile,
    };
  }
}
