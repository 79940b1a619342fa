// The LSP side of a regtest run, shared by the LND integration tests and the demo: the sidecar as a
// child process (`async-trampoline lnd`, as operators run it, on a macaroon baked with exactly the
// calls it makes, never admin.macaroon), the operator CLI against it, and lncli helpers for
// invoices and pending HTLCs.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot, type RegtestNetwork, type NodeName } from './network.js';
import type { LndNode, NodeInfo } from './lnd-node.js';
import { waitFor } from './wait.js';
import { connectLnd, type LndClients } from '../../plugin/backends/lnd/grpc.js';
import { createLogger } from '../../plugin/ops/log.js';
import { bakeMacaroonCommand } from '../../plugin/backends/lnd/preflight.js';
import { freePorts } from './ports.js';

/** The parts of a network the sidecar needs: RegtestNetwork, or cln-network.ts with an LND L or RL. */
export interface SidecarNetwork {
  readonly runDir: string;
  readonly lndVersion: RegtestNetwork['lndVersion'];
  node(name: NodeName): LndNode;
  nodeInfo(name: NodeName): Promise<NodeInfo>;
}

/**
 * Bakes a node's least-privilege sidecar macaroon (once per run dir and node; a macaroon is bound to
 * the node that baked it) with the documented `lncli bakemacaroon` line for this LND version.
 */
export async function bakedMacaroon(net: SidecarNetwork, node: NodeName = 'lsp'): Promise<string> {
  const path = join(
    net.runDir,
    node === 'lsp' ? 'async-trampoline.macaroon' : `async-trampoline-${node}.macaroon`,
  );
  if (existsSync(path)) return path;
  const transport = net.lndVersion.startsWith('v0.20.') ? 'custom-message' : 'native';
  await net.node(node).lncliRaw(...bakeMacaroonCommand(transport, path));
  chmodSync(path, 0o600);
  return path;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type LogLine = { level: string; message: string } & Record<string, unknown>;

/** The sidecar process for L (or another node), with its structured log lines kept for assertions. */
export class Sidecar {
  private proc: ChildProcess | undefined;
  readonly lines: LogLine[] = [];
  private out: WriteStream;
  readonly dataDir: string;
  private exitWaiters: ((code: number | null) => void)[] = [];
  /** Loopback ports of the admin endpoint and of /metrics + /healthz (picked at the first start). */
  adminPort = 0;
  metricsPort = 0;

  constructor(
    private readonly net: SidecarNetwork,
    private readonly extraArgs: string[] = [],
    /** The node it runs beside; another node than L gets its own data dir and log file. */
    readonly node: NodeName = 'lsp',
  ) {
    const name = node === 'lsp' ? 'sidecar' : `sidecar-${node}`;
    this.dataDir = join(net.runDir, name);
    mkdirSync(this.dataDir, { recursive: true });
    this.out = createWriteStream(join(net.runDir, `${name}.log`), { flags: 'a' });
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    const l = await this.net.nodeInfo(this.node);
    const since = this.lines.length;
    if (this.adminPort === 0) [this.adminPort, this.metricsPort] = await freePorts(2);
    const args = [
      join(repoRoot(), 'dist', 'plugin', 'cli.js'),
      'lnd',
      `--lnd-rpc=${l.grpcHost}`,
      `--lnd-tls-cert=${l.tlsCertPath}`,
      `--lnd-macaroon=${await bakedMacaroon(this.net, this.node)}`,
      `--data-dir=${this.dataDir}`,
      `--admin-port=${this.adminPort}`,
      `--metrics-listen=127.0.0.1:${this.metricsPort}`,
      '--log-level=debug',
      '--notify-base-ms=1000',
      '--notify-cap-ms=3000',
      ...this.extraArgs,
    ];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = p;
    createInterface({ input: p.stderr! }).on('line', (line) => {
      this.out.write(`${line}\n`);
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ level: 'raw', message: line });
      }
    });
    p.on('exit', (code) => {
      for (const w of this.exitWaiters.splice(0)) w(code);
    });
    await this.waitLog('interceptor connected', (x) => x.message === 'interceptor connected', since);
  }

  /** Waits for a log line matching `pred` at or after index `from`; returns it. */
  async waitLog(
    what: string,
    pred: (l: LogLine) => boolean,
    from = 0,
    timeoutMs = 120_000,
  ): Promise<LogLine> {
    return waitFor(
      `sidecar log: ${what}`,
      () => {
        const found = this.lines.slice(from).find(pred);
        if (found) return found;
        if (!this.running)
          throw new Error(`sidecar exited (${this.proc?.exitCode ?? this.proc?.signalCode})`);
        return undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  /** Runs the operator CLI (`async-trampoline <args>`) against this sidecar. */
  cli(...args: string[]): Promise<CliResult> {
    const bin = join(repoRoot(), 'dist', 'plugin', 'cli.js');
    const conn = [`--data-dir=${this.dataDir}`, `--admin-port=${this.adminPort}`];
    return new Promise((resolve) => {
      execFile(process.execPath, [bin, ...args, ...conn], { timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      });
    });
  }

  /** GET a path of the metrics endpoint (/metrics, /healthz). */
  async scrape(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}${path}`);
    return { status: res.status, body: await res.text() };
  }

  count(pred: (l: LogLine) => boolean, from = 0): number {
    return this.lines.slice(from).filter(pred).length;
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    const p = this.proc;
    if (!p || !this.running) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((res) => this.exitWaiters.push(res));
    p.kill(signal);
    return exited;
  }
}

/** Runs the sidecar against L expecting it to refuse to start; returns its exit code and stderr. */
export async function sidecarRefusal(
  net: RegtestNetwork,
  dataDir: string,
  extra: string[] = [],
): Promise<{ code: number | null; stderr: string }> {
  const l = await net.nodeInfo('lsp');
  const p = spawn(
    process.execPath,
    [
      join(repoRoot(), 'dist', 'plugin', 'cli.js'),
      'lnd',
      `--lnd-rpc=${l.grpcHost}`,
      `--lnd-tls-cert=${l.tlsCertPath}`,
      `--lnd-macaroon=${await bakedMacaroon(net)}`,
      `--data-dir=${dataDir}`,
      '--admin-port=0',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
  return { code, stderr };
}

export function clientsFor(info: {
  grpcHost: string;
  tlsCertPath: string;
  adminMacaroonPath: string;
}): LndClients {
  return connectLnd({
    rpc: info.grpcHost,
    tlsCertPath: info.tlsCertPath,
    macaroonPath: info.adminMacaroonPath,
  });
}

export const testLog = createLogger({ level: 'info', component: 'test' });

export interface Invoice {
  r_hash: string;
  payment_request: string;
  payment_addr: string;
}

export async function addInvoice(net: RegtestNetwork, node: NodeName, sat: number): Promise<Invoice> {
  return net.lncli<Invoice>(node, 'addinvoice', `--amt=${sat}`);
}

export async function invoiceState(net: RegtestNetwork, node: NodeName, rHash: string): Promise<string> {
  return (await net.lncli<{ state: string }>(node, 'lookupinvoice', rHash)).state;
}

/** The HTLCs with this payment hash on `node`'s channels, by remote peer. */
export async function htlcsFor(
  net: RegtestNetwork,
  node: NodeName,
  rHash: string,
): Promise<{ peer: string; incoming: boolean; expiration_height: number }[]> {
  const out: { peer: string; incoming: boolean; expiration_height: number }[] = [];
  for (const c of await net.channels(node)) {
    for (const h of c.pending_htlcs ?? []) {
      if (h.hash_lock === rHash)
        out.push({ peer: c.remote_pubkey, incoming: h.incoming, expiration_height: h.expiration_height });
    }
  }
  return out;
}

/** No channel anywhere closed or closing. */
export async function assertNoClosures(net: RegtestNetwork): Promise<string[]> {
  const problems: string[] = [];
  for (const n of ['sender', 'lsp', 'rlsp', 'recipient'] as const) {
    const closed = await net.lncli<{ channels: unknown[] }>(n, 'closedchannels');
    if (closed.channels.length > 0) problems.push(`${n}: ${closed.channels.length} closed channels`);
    const pending = await net.lncli<{
      pending_force_closing_channels?: unknown[];
      waiting_close_channels?: unknown[];
    }>(n, 'pendingchannels');
    const pf =
      (pending.pending_force_closing_channels ?? []).length + (pending.waiting_close_channels ?? []).length;
    if (pf > 0) problems.push(`${n}: ${pf} closing channels`);
  }
  return problems;
}
