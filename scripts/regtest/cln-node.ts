// One Core Lightning node of a regtest network: lightningd built by scripts/install-cln.sh, its chain
// backend the btcd of the network through our bitcoin-cli shim, driven over its JSON-RPC socket.
// The async-trampoline plugin and its guard run as important plugins when asked.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir } from './binaries.js';
import type { BtcdConnection } from './btcd.js';
import { Daemon } from './daemon.js';
import { waitFor } from './wait.js';
import { ClnRpc } from '../../plugin/backends/cln/rpc-client.js';
import { nullLogger } from '../../plugin/ops/log.js';

export const CLN_VERSION = 'v26.06.6';

export interface ClnBinaries {
  lightningd: string;
  'lightning-cli': string;
  src: string;
}

export function clnBinaries(version = CLN_VERSION): ClnBinaries {
  const path = join(cacheDir(), 'manifest-cln.json');
  let m: { cln: Record<string, ClnBinaries> };
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as typeof m;
  } catch {
    throw new Error(`no CLN manifest at ${path}: run \`bash scripts/install-cln.sh\` first`);
  }
  const b = m.cln[version];
  if (!b) throw new Error(`CLN ${version} is not in ${path}: run \`bash scripts/install-cln.sh\``);
  return b;
}

export interface ClnNodeOptions {
  name: string;
  baseDir: string;
  p2pPort: number;
  btcd: BtcdConnection;
  /** dist/ of this repo: the plugin, its guard and the bitcoin-cli shim run from there. */
  distDir: string;
  /** Load dist/plugin/cln.js and dist/plugin/cln-guard.js as important plugins. */
  withPlugin: boolean;
}

/** A structured log line of our plugin (it writes JSON lines to stderr, which lightningd passes on). */
export type PluginLogLine = { level: string; message: string } & Record<string, unknown>;

export class ClnNode {
  readonly dir: string;
  readonly p2pHost: string;
  private readonly daemon: Daemon;
  private rpcClient: ClnRpc | undefined;
  private idCache: string | undefined;
  private readonly shim: string;
  /** Extra flags of the next start (plugin options); kept across restarts. */
  extraArgs: string[] = [];
  /**
   * Node flags for our plugins on the next start (e.g. --cpu-prof, which NODE_OPTIONS refuses): each
   * runs through a same-named wrapper, as lightningd names plugins (and the guard finds cln.js) by
   * file name.
   */
  pluginNodeArgs: string[] = [];
  /** Load cln.js with `important-plugin` (as deployed) or plain `plugin` (lightningd outlives it). */
  pluginImportant = true;

  constructor(
    bins: ClnBinaries,
    readonly opts: ClnNodeOptions,
  ) {
    this.dir = join(opts.baseDir, opts.name);
    mkdirSync(this.dir, { recursive: true });
    this.p2pHost = `127.0.0.1:${opts.p2pPort}`;
    this.daemon = new Daemon(opts.name, bins.lightningd, join(this.dir, 'lightningd.out.log'));
    // bcli runs --bitcoin-cli as a plain executable: a wrapper names node, the shim and btcd's cert.
    this.shim = join(this.dir, 'bitcoin-cli');
    const shimJs = join(opts.distDir, 'scripts', 'regtest', 'bitcoin-cli-shim.js');
    writeFileSync(
      this.shim,
      `#!/bin/sh\nBTCD_RPC_CERT='${opts.btcd.rpcCert}' exec '${process.execPath}' '${shimJs}' "$@"\n`,
    );
    chmodSync(this.shim, 0o755);
    // lightningd execs plugins; a plain `tsc` build leaves them without the executable bit.
    if (opts.withPlugin) {
      for (const f of ['cln.js', 'cln-guard.js']) chmodSync(join(opts.distDir, 'plugin', f), 0o755);
    }
  }

  get name(): string {
    return this.opts.name;
  }

  get isRunning(): boolean {
    return this.daemon.isRunning;
  }

  get pid(): number | undefined {
    return this.daemon.pid;
  }

  /** lightningd's own log. */
  get logFile(): string {
    return join(this.dir, 'lightningd.log');
  }

  /** lightningd's stdout/stderr, where our plugin's JSON log lines end up. */
  get outFile(): string {
    return this.daemon.logFile;
  }

  get rpcSocket(): string {
    return join(this.dir, 'regtest', 'lightning-rpc');
  }

  args(): string[] {
    const [host, port] = this.opts.btcd.rpcHost.split(':');
    const plugin = this.pluginNodeArgs.length > 0 ? this.pluginWrappers() : join(this.opts.distDir, 'plugin');
    return [
      `--lightning-dir=${this.dir}`,
      '--network=regtest',
      `--alias=${this.opts.name}`,
      `--addr=${this.p2pHost}`,
      `--log-file=${this.logFile}`,
      '--log-level=debug',
      `--bitcoin-cli=${this.shim}`,
      `--bitcoin-rpcuser=${this.opts.btcd.rpcUser}`,
      `--bitcoin-rpcpassword=${this.opts.btcd.rpcPass}`,
      `--bitcoin-rpcconnect=${host}`,
      `--bitcoin-rpcport=${port}`,
      // --dev-* options need --developer (a runtime switch since v23.11, not a build flag): poll the
      // chain every second instead of every 30, gossip fast, announce loopback addresses.
      '--developer',
      '--dev-bitcoind-poll=1',
      '--dev-fast-gossip',
      '--dev-allow-localhost',
      // LND and our shim disagree on regtest fee estimates; fee disputes would close channels.
      '--ignore-fee-limits=true',
      '--funding-confirms=1',
      ...(this.opts.withPlugin
        ? [
            `--${this.pluginImportant ? 'important-plugin' : 'plugin'}=${join(plugin, 'cln.js')}`,
            `--important-plugin=${join(plugin, 'cln-guard.js')}`,
          ]
        : []),
      ...this.extraArgs,
    ];
  }

  /** Writes <dir>/plugin-wrappers/{cln,cln-guard}.js running the plugins with pluginNodeArgs. */
  private pluginWrappers(): string {
    const dir = join(this.dir, 'plugin-wrappers');
    mkdirSync(dir, { recursive: true });
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    for (const f of ['cln.js', 'cln-guard.js']) {
      const real = join(this.opts.distDir, 'plugin', f);
      const cmd = [process.execPath, ...this.pluginNodeArgs, real].map(q).join(' ');
      writeFileSync(join(dir, f), `#!/bin/sh\nexec ${cmd} "$@"\n`);
      chmodSync(join(dir, f), 0o755);
    }
    return dir;
  }

  /** Starts lightningd and waits until its RPC answers and it has synced to `height` (if given). */
  async start(height?: number): Promise<void> {
    const env = {
      ...process.env,
      // The plugin's `#!/usr/bin/env node` must find this node.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      ASYNC_TRAMPOLINE_LOG_LEVEL: 'debug',
    };
    this.daemon.start(this.args(), env);
    await waitFor(
      `${this.name} lightningd RPC`,
      async () => {
        if (!this.daemon.isRunning) {
          throw new Error(`lightningd ${this.name} ${this.daemon.describeExit()}, see ${this.logFile}`);
        }
        if (!existsSync(this.rpcSocket)) return false;
        await this.rpc('getinfo');
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    if (height !== undefined) await this.waitSynced(height);
  }

  async waitSynced(height: number): Promise<void> {
    await waitFor(
      `${this.name} synced to height ${height}`,
      async () => {
        const info = await this.rpc<{ blockheight: number; warning_bitcoind_sync?: string }>('getinfo');
        return info.blockheight >= height && !info.warning_bitcoind_sync;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  }

  /** Waits for lightningd to exit on its own (e.g. an important plugin stopped it). */
  async waitExit(timeoutMs: number): Promise<boolean> {
    const r = await this.daemon.waitExit(timeoutMs);
    if (r) this.dropRpc();
    return r;
  }

  describeExit(): string {
    return this.daemon.describeExit();
  }

  async stop(): Promise<void> {
    if (!this.daemon.isRunning) return;
    try {
      await this.rpc('stop');
    } catch {
      // Not answering: the signal below stops it.
    }
    if (!(await this.daemon.waitExit(30_000))) await this.daemon.stop(10_000);
    this.dropRpc();
  }

  async kill(): Promise<void> {
    await this.daemon.kill();
    this.dropRpc();
  }

  private dropRpc(): void {
    this.rpcClient?.close();
    this.rpcClient = undefined;
  }

  async rpc<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    this.rpcClient ??= new ClnRpc({ socketPath: this.rpcSocket, logger: nullLogger, idPrefix: 'regtest' });
    return this.rpcClient.call<T>(method, params, { timeoutMs: 120_000 });
  }

  async nodeId(): Promise<string> {
    this.idCache ??= (await this.rpc<{ id: string }>('getinfo')).id;
    return this.idCache;
  }

  /** Our plugin's JSON log lines so far (from lightningd's stderr). */
  pluginLines(): PluginLogLine[] {
    if (!existsSync(this.outFile)) return [];
    const out: PluginLogLine[] = [];
    for (const line of readFileSync(this.outFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const v = JSON.parse(line) as PluginLogLine;
        if (typeof v.message === 'string') out.push(v);
      } catch {
        // Not one of ours.
      }
    }
    return out;
  }

  /** lightningd's own log text so far. */
  logText(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}
