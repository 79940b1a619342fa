// The regtest chain: one btcd with --txindex, RPC (TLS, as LND requires) on loopback, driven
// through btcctl. btcd has no generatetoaddress: `generate` pays --miningaddr, so changing who gets
// the coinbase means restarting btcd with a new address. btcd deletes its regtest database on every
// start, so a restart is only harmless while the chain holds nothing but the genesis block.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './command.js';
import { Daemon } from './daemon.js';
import { waitFor } from './wait.js';

/** P2WPKH to the all-zero key hash: nobody can spend it; a placeholder until a wallet address exists. */
export const BURN_ADDRESS = 'bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202';

export interface BtcdConnection {
  rpcHost: string;
  rpcUser: string;
  rpcPass: string;
  rpcCert: string;
}

export class Btcd {
  readonly conn: BtcdConnection;
  private readonly daemon: Daemon;
  private readonly cliArgs: string[];
  private miningAddr = BURN_ADDRESS;

  constructor(
    private readonly bins: { btcd: string; btcctl: string },
    readonly dir: string,
    private readonly ports: { rpc: number; p2p: number },
  ) {
    mkdirSync(dir, { recursive: true });
    // Empty config files: without them btcd/btcctl read (btcd even writes) ~/.btcd/btcd.conf.
    writeFileSync(join(dir, 'btcd.conf'), '');
    writeFileSync(join(dir, 'btcctl.conf'), '');
    this.conn = {
      rpcHost: `127.0.0.1:${ports.rpc}`,
      rpcUser: 'regtest',
      rpcPass: 'regtest',
      rpcCert: join(dir, 'rpc.cert'),
    };
    this.daemon = new Daemon('btcd', bins.btcd, join(dir, 'btcd.out.log'));
    this.cliArgs = [
      `--configfile=${join(dir, 'btcctl.conf')}`,
      '--regtest',
      `--rpcserver=${this.conn.rpcHost}`,
      `--rpcuser=${this.conn.rpcUser}`,
      `--rpcpass=${this.conn.rpcPass}`,
      `--rpccert=${this.conn.rpcCert}`,
    ];
  }

  get logFile(): string {
    return this.daemon.logFile;
  }

  async start(miningAddr: string = this.miningAddr): Promise<void> {
    this.miningAddr = miningAddr;
    this.daemon.start([
      `--configfile=${join(this.dir, 'btcd.conf')}`,
      '--regtest',
      `--datadir=${join(this.dir, 'data')}`,
      `--logdir=${join(this.dir, 'logs')}`,
      `--rpcuser=${this.conn.rpcUser}`,
      `--rpcpass=${this.conn.rpcPass}`,
      `--rpclisten=${this.conn.rpcHost}`,
      `--rpccert=${this.conn.rpcCert}`,
      `--rpckey=${join(this.dir, 'rpc.key')}`,
      `--listen=127.0.0.1:${this.ports.p2p}`,
      '--txindex',
      `--miningaddr=${miningAddr}`,
      '--debuglevel=info',
    ]);
    await waitFor(
      'btcd RPC',
      async () => {
        if (!this.daemon.isRunning)
          throw new Error(`btcd ${this.daemon.describeExit()}, see ${this.logFile}`);
        await this.cli('getblockcount');
        return true;
      },
      { timeoutMs: 30_000 },
    );
  }

  async stop(): Promise<void> {
    await this.daemon.stop(10_000);
  }

  /** Restarts paying future coinbases to `miningAddr`. The regtest chain starts over from genesis. */
  async restart(miningAddr: string): Promise<void> {
    await this.stop();
    await this.start(miningAddr);
  }

  async cli(...args: string[]): Promise<string> {
    return (await runCommand(this.bins.btcctl, this.cliArgs, args, 120_000)).trim();
  }

  async height(): Promise<number> {
    return Number(await this.cli('getblockcount'));
  }

  /** Mines `n` blocks to the current mining address; returns their hashes. */
  async generate(n: number): Promise<string[]> {
    return JSON.parse(await this.cli('generate', String(n))) as string[];
  }

  async kill(): Promise<void> {
    await this.daemon.kill();
  }
}
