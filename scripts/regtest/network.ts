// A whole regtest network for integration tests, the demo and benchmarks:
//
//   sender (S) --chan--> lsp (L) --chan--> rlsp (RL) --chan--> recipient (R)
//
// one btcd, four LND nodes on loopback ports, channels confirmed and announced, every node's graph
// holding all three channels. The 'five-node' topology puts one more stock LND node between the
// two LSPs, so that L and RL are not peers and onion messages between them take the graph:
//
//   sender (S) --> lsp (L) --> middle (X) --> rlsp (RL) --> recipient (R)
//
// The 'bench' topology adds L', a second LSP on stock LND (no sidecar, no --requireinterceptor),
// beside L, so that a benchmark can send plain payments over either in the same run:
//
//   sender (S) --> lsp (L) ---> rlsp (RL) --> recipient (R)
//          \----> lsp2 (L') -/
//
// Everything lives under one run directory, which teardown removes unless asked to keep the logs
// (a failing test keeps them and prints where they are).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinaries, type LndVersion } from './binaries.js';
import { Btcd } from './btcd.js';
import {
  StepLog,
  mineAndSync,
  startChainMiningTo,
  waitLndGraph,
  waitLndSynced,
  waitMempool,
} from './chain.js';
import { LndNode, type NodeInfo } from './lnd-node.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait.js';

export type { LndVersion } from './binaries.js';
export type { NodeInfo } from './lnd-node.js';

/** 'middle' exists only in the 'five-node' topology, 'lsp2' only in 'bench'. */
export type NodeName = 'sender' | 'lsp' | 'rlsp' | 'recipient' | 'middle' | 'lsp2';
/** The nodes of the default topology. */
export const NODE_NAMES: readonly NodeName[] = ['sender', 'lsp', 'rlsp', 'recipient'];

/** Channels opened at start, opener first. */
export const CHANNELS: readonly (readonly [NodeName, NodeName])[] = [
  ['sender', 'lsp'],
  ['lsp', 'rlsp'],
  ['rlsp', 'recipient'],
];
/** The 'five-node' topology: X between L and RL, which are not peers. */
export const FIVE_NODE_NAMES: readonly NodeName[] = ['sender', 'lsp', 'middle', 'rlsp', 'recipient'];
export const FIVE_NODE_CHANNELS: readonly (readonly [NodeName, NodeName])[] = [
  ['sender', 'lsp'],
  ['lsp', 'middle'],
  ['middle', 'rlsp'],
  ['rlsp', 'recipient'],
];
/** The 'bench' topology: L' beside L, with channels S -> L' -> RL. */
export const BENCH_NAMES: readonly NodeName[] = ['sender', 'lsp', 'lsp2', 'rlsp', 'recipient'];
export const BENCH_CHANNELS: readonly (readonly [NodeName, NodeName])[] = [
  ...CHANNELS,
  ['sender', 'lsp2'],
  ['lsp2', 'rlsp'],
];
export type Topology = 'four-node' | 'five-node' | 'bench';
export const CHANNEL_CAPACITY_SAT = 10_000_000;
/** Pushed to the far side of each channel, so payments can also flow back (refunds, replies). */
export const CHANNEL_PUSH_SAT = 3_000_000;

export interface StartOptions {
  lndVersion: LndVersion;
  /**
   * 'four-node' (default): S-L-RL-R. 'five-node': S-L-X-RL-R, X a stock LND, L and RL not peers.
   * 'bench': S-L-RL-R plus S-L'-RL, L' a stock LND with the same version flags as L.
   */
  topology?: Topology;
  /** Extra flags for L (the LSP running our sidecar). */
  extraLspArgs?: string[];
  /** Extra flags per node. */
  extraArgs?: Partial<Record<NodeName, string[]>>;
  /** L starts with --requireinterceptor (held HTLCs wait for the sidecar); default true. */
  lspRequireInterceptor?: boolean;
  /** Progress lines; default writes `[regtest] ...` to stderr. */
  log?: (line: string) => void;
  /** Run directory; default `<repo>/.regtest/<run-id>` (gitignored). */
  baseDir?: string;
}

export interface TeardownOptions {
  /** Keep the run directory (node logs) and print its path; default false. */
  keepLogs?: boolean;
}

/** The fields of `lncli listchannels` entries that tests use. */
export interface Channel {
  active: boolean;
  remote_pubkey: string;
  chan_id: string;
  channel_point: string;
  capacity: string;
  local_balance: string;
  remote_balance: string;
  pending_htlcs: { incoming: boolean; amount: string; hash_lock: string; expiration_height: number }[];
}

/**
 * Flags each LND version needs for the project's onion-message paths:
 * - 0.21 parses onion messages itself (on by default; `--protocol.no-onion-messages` turns it off) and
 *   by default admits them only from peers with an open channel; `onion-msg-relay-all` lets tests
 *   talk over a bare peer connection (e.g. L connected straight to R).
 * - 0.20 does not know onion messages (type 513); `protocol.custom-message=513` hands them to
 *   SubscribeCustomMessages / SendCustomMessage so the sidecar can peel them itself.
 */
export function versionArgs(v: LndVersion): string[] {
  return v === 'v0.21.2-beta' ? ['--protocol.onion-msg-relay-all'] : ['--protocol.custom-message=513'];
}

/** The repo root: the nearest directory above this module with a package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export class RegtestNetwork {
  private readonly steps: StepLog;
  private tornDown = false;
  /** Role and extra flags a node was last started with (startNode reuses them unless told otherwise). */
  private readonly startArgs = new Map<NodeName, string[]>();

  private constructor(
    readonly lndVersion: LndVersion,
    readonly runDir: string,
    readonly btcd: Btcd,
    private readonly nodes: Record<NodeName, LndNode>,
    logFn: (line: string) => void,
    /** The nodes of this run's topology, in path order. */
    readonly names: readonly NodeName[] = NODE_NAMES,
    /** Its channels, opener first. */
    readonly channelList: readonly (readonly [NodeName, NodeName])[] = CHANNELS,
  ) {
    this.steps = new StepLog(logFn);
  }

  log(msg: string): void {
    this.steps.log(msg);
  }

  private step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.steps.step(what, fn);
  }

  node(name: NodeName): LndNode {
    const n = this.nodes[name];
    if (!n) throw new Error(`no node '${name}' in this topology (${this.names.join(', ')})`);
    return n;
  }

  /** Brings the whole network up; on any failure it tears down, keeping the logs. */
  static async start(opts: StartOptions): Promise<RegtestNetwork> {
    const bins = nodeBinaries(opts.lndVersion);
    const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const runDir = resolve(opts.baseDir ?? join(repoRoot(), '.regtest', runId));
    mkdirSync(runDir, { recursive: true });
    const logFn = opts.log ?? ((line: string) => process.stderr.write(`[regtest] ${line}\n`));

    const [names, channels] =
      opts.topology === 'five-node'
        ? [FIVE_NODE_NAMES, FIVE_NODE_CHANNELS]
        : opts.topology === 'bench'
          ? [BENCH_NAMES, BENCH_CHANNELS]
          : [NODE_NAMES, CHANNELS];
    const ports = await freePorts(2 + 2 * names.length);
    const btcd = new Btcd(bins, join(runDir, 'btcd'), { rpc: ports[0]!, p2p: ports[1]! });
    const roleArgs: Record<NodeName, string[]> = {
      sender: [],
      lsp: opts.lspRequireInterceptor === false ? [] : ['--requireinterceptor'],
      rlsp: [],
      recipient: ['--accept-keysend'],
      // A stock node: only the common flags.
      middle: [],
      // L without the sidecar's flag: what L would be without our software.
      lsp2: [],
    };
    const nodes = {} as Record<NodeName, LndNode>;
    names.forEach((name, i) => {
      nodes[name] = new LndNode(
        name,
        bins.lnd,
        runDir,
        { p2p: ports[2 + 2 * i]!, grpc: ports[3 + 2 * i]! },
        btcd.conn,
        // X runs LND's defaults: 0.21 relays onion messages for peers with a channel (L and RL).
        name === 'middle' ? [] : versionArgs(opts.lndVersion),
      );
    });
    const net = new RegtestNetwork(opts.lndVersion, runDir, btcd, nodes, logFn, names, channels);
    for (const name of names) {
      net.startArgs.set(name, [
        ...roleArgs[name],
        ...(opts.extraArgs?.[name] ?? []),
        ...(name === 'lsp' ? (opts.extraLspArgs ?? []) : []),
      ]);
    }
    net.log(`LND ${opts.lndVersion} network in ${runDir}`);
    try {
      await net.bringUp();
    } catch (e) {
      net.log(`start failed: ${e instanceof Error ? e.message : String(e)}`);
      await net.teardown({ keepLogs: true });
      throw e;
    }
    return net;
  }

  private async bringUp(): Promise<void> {
    const { btcd } = this;
    // Coinbases go to S, then S funds the other channel openers (L and RL; X or L' too). The nodes
    // wait at RPC_ACTIVE until the first fresh block (lnd wants a tip less than ~2 hours old; the
    // genesis block is from 2011), which is enough for newaddress.
    await startChainMiningTo(btcd, this.nodes.sender, this.startArgs.get('sender') ?? [], this.steps);
    await this.step(`start ${this.names.length} lnd nodes`, () =>
      Promise.all(this.names.map((n) => this.nodes[n].start(this.startArgs.get(n) ?? [], 'rpc'))),
    );
    // 100 confirmations mature the first coinbases (five mature ones: 250 BTC for S). One more block
    // once the wallets are live: blocks that arrive during lnd's initial sync do not advance the
    // height its coin selection checks coinbase maturity against (listunspent already shows them).
    await this.step('mine 106 blocks and sync', async () => {
      await this.mine(105);
      await this.mine(1);
    });

    const fund = 5 * CHANNEL_CAPACITY_SAT;
    const openers = [...new Set(this.channelList.map(([a]) => a))].filter((n) => n !== 'sender');
    await this.step(`fund ${openers.join(' and ')}`, async () => {
      const to: Record<string, number> = {};
      for (const n of openers) {
        to[(await this.lncli<{ address: string }>(n, 'newaddress', 'p2wkh')).address] = fund;
      }
      // Retried: the wallet may still be catching up on the blocks just mined.
      const { txid } = await waitFor(
        `sender sendmany to ${openers.join(' and ')}`,
        () => this.lncli<{ txid: string }>('sender', 'sendmany', JSON.stringify(to), '--sat_per_vbyte=2'),
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      await this.waitMempool([txid]);
      await this.mine(1);
      for (const n of openers) {
        await waitFor(
          `${n} confirmed balance`,
          async () =>
            Number((await this.lncli<{ confirmed_balance: string }>(n, 'walletbalance')).confirmed_balance) >=
            fund,
          { timeoutMs: 60_000 },
        );
      }
    });

    await this.step('connect peers and open channels', async () => {
      const txids: string[] = [];
      for (const [a, b] of this.channelList) {
        await this.connectPeers(a, b);
        const r = await this.lncli<{ funding_txid: string }>(
          a,
          'openchannel',
          `--node_key=${await this.nodes[b].pubkey()}`,
          `--local_amt=${CHANNEL_CAPACITY_SAT}`,
          `--push_amt=${CHANNEL_PUSH_SAT}`,
          // btcd's estimatefee says 0 on regtest; an explicit rate keeps funding txs relayable.
          '--sat_per_vbyte=2',
        );
        txids.push(r.funding_txid);
      }
      await this.waitMempool(txids);
    });

    // 6 confirmations: channels are usable after 1 (defaultchanconfs), announced after 6.
    await this.step('confirm channels (6 blocks)', () => this.mine(6));
    await this.step('wait for active channels', async () => {
      for (const [a, b] of this.channelList) await this.waitChannelActive(a, b);
    });
    await this.step('wait for every graph to hold all channels', async () => {
      for (const n of this.names) await this.waitGraph(n, this.channelList.length);
    });
    this.log('network ready');
  }

  /** Mines `n` blocks (coinbase to the sender) and waits until every running node has synced them. */
  async mine(n: number): Promise<string[]> {
    const running = this.names.filter((x) => this.nodes[x].isRunning);
    return mineAndSync(
      this.btcd,
      n,
      running.map((x) => (h: number) => this.waitSynced(x, h)),
    );
  }

  async height(): Promise<number> {
    return this.btcd.height();
  }

  async waitSynced(name: NodeName, height?: number): Promise<void> {
    await waitLndSynced(this.nodes[name], this.btcd, height);
  }

  private async waitMempool(txids: string[]): Promise<void> {
    await waitMempool(this.btcd, txids);
  }

  async channels(name: NodeName): Promise<Channel[]> {
    return (await this.lncli<{ channels: Channel[] }>(name, 'listchannels')).channels;
  }

  /** Waits until `a` sees an active channel with `b`. */
  async waitChannelActive(a: NodeName, b: NodeName, timeoutMs = 120_000): Promise<Channel> {
    const pk = await this.nodes[b].pubkey();
    return waitFor(
      `active channel ${a}-${b}`,
      async () => (await this.channels(a)).find((c) => c.remote_pubkey === pk && c.active),
      { timeoutMs, intervalMs: 500 },
    );
  }

  /**
   * Waits until `name`'s graph has `edges` channels with both directions' policies known, and a node
   * announcement (with features) for every node: BuildRoute refuses to attach a payment address to a
   * final hop whose features it has not seen ("cannot attach payment addr").
   */
  async waitGraph(name: NodeName, edges: number, timeoutMs = 120_000): Promise<void> {
    await waitLndGraph(this.node(name), edges, this.names.length, timeoutMs);
  }

  /** Connects a to b over p2p; already being connected counts as success. */
  async connectPeers(a: NodeName, b: NodeName): Promise<void> {
    const target = this.node(b);
    try {
      await this.lncli(a, 'connect', `${await target.pubkey()}@${target.p2pHost}`);
    } catch (e) {
      if (!(e instanceof Error) || !/already connected/i.test(e.message)) throw e;
    }
    const pk = await target.pubkey();
    await waitFor(`${a} peer ${b}`, async () =>
      (await this.lncli<{ peers: { pub_key: string }[] }>(a, 'listpeers')).peers.some(
        (p) => p.pub_key === pk,
      ),
    );
  }

  /** Runs lncli on a node; returns its parsed JSON output. */
  async lncli<T = Record<string, unknown>>(name: NodeName, ...args: string[]): Promise<T> {
    return (await this.node(name).lncli(...args)) as T;
  }

  async nodeInfo(name: NodeName): Promise<NodeInfo> {
    return this.node(name).info();
  }

  async stopNode(name: NodeName): Promise<void> {
    await this.step(`stop ${name}`, () => this.node(name).stop());
  }

  /**
   * The flags beyond the common and version ones that `name` was last started with: its role flags
   * (L: --requireinterceptor, R: --accept-keysend) and the extra ones from StartOptions.
   */
  nodeArgs(name: NodeName): string[] {
    return [...(this.startArgs.get(name) ?? [])];
  }

  /**
   * Restarts a stopped node with the same data and waits until it is synced. `args` replaces its role
   * and extra flags (see nodeArgs), e.g. to restart L without --requireinterceptor.
   */
  async startNode(name: NodeName, opts: { args?: string[] } = {}): Promise<void> {
    if (opts.args) this.startArgs.set(name, [...opts.args]);
    await this.step(`start ${name}`, async () => {
      await this.node(name).start(this.startArgs.get(name) ?? [], 'server');
      await this.waitSynced(name);
    });
  }

  /** Stops every daemon (also done on process exit); removes the run directory unless keepLogs. */
  async teardown(opts: TeardownOptions = {}): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    // SIGKILL straight away: a graceful stop per node would only slow every test down, and the
    // data is thrown away (logs are written line by line, so they are complete either way).
    await Promise.all([...this.names.map((n) => this.nodes[n].kill()), this.btcd.kill()]);
    if (opts.keepLogs) {
      this.log(`logs kept in ${this.runDir} (lnd: <node>/logs/bitcoin/regtest/lnd.log, btcd: btcd/logs)`);
    } else {
      rmSync(this.runDir, { recursive: true, force: true });
    }
  }
}

/** Starts a regtest network (see RegtestNetwork.start). */
export async function start(opts: StartOptions): Promise<RegtestNetwork> {
  return RegtestNetwork.start(opts);
}
