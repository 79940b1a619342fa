// The regtest network with Core Lightning + our plugin at one LSP, LND everywhere else:
//
//   clnAt 'lsp' (default): sender (S, LND) -> lsp (L, CLN) -> rlsp (RL, LND) -> recipient (R, LND)
//   clnAt 'rlsp':          sender (S, LND) -> lsp (L, LND) -> rlsp (RL, CLN) -> recipient (R, LND)
//
// Built from the same parts as network.ts (one btcd, LndNode, Daemon, free ports, run directory
// under .regtest/), with the CLN node a ClnNode whose chain backend is btcd through our bitcoin-cli shim.
// With `middle: true` (CLN at lsp) a stock LND X stands between the LSPs, so L and RL are not peers
// and onion messages between them take the graph:
//
//   middle:                sender (S, LND) -> lsp (L, CLN) -> middle (X, LND) -> rlsp (RL, LND) -> recipient (R, LND)
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
import { ClnNode, clnBinaries } from './cln-node.js';
import { LndNode, type NodeInfo } from './lnd-node.js';
import { CHANNEL_CAPACITY_SAT, CHANNEL_PUSH_SAT, repoRoot, versionArgs, type Channel } from './network.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait.js';

/** The four places of the network; `clnAt` names the one Core Lightning takes, LND runs the others. */
export type LndName = 'sender' | 'lsp' | 'rlsp' | 'recipient' | 'middle';
const ALL_NAMES: readonly LndName[] = ['sender', 'lsp', 'rlsp', 'recipient'];
/** Channels opened at start, opener first, one block each (see bringUp). */
const CHAIN: readonly (readonly [LndName, LndName])[] = [
  ['sender', 'lsp'],
  ['lsp', 'rlsp'],
  ['rlsp', 'recipient'],
];
/** With `middle`: X between L and RL. */
const MIDDLE_NAMES: readonly LndName[] = ['sender', 'lsp', 'middle', 'rlsp', 'recipient'];
const MIDDLE_CHAIN: readonly (readonly [LndName, LndName])[] = [
  ['sender', 'lsp'],
  ['lsp', 'middle'],
  ['middle', 'rlsp'],
  ['rlsp', 'recipient'],
];

/**
 * Where Core Lightning + our plugin runs: 'lsp' (the sender's LSP, L) or 'rlsp' (the recipient's
 * LSP, RL, for recipient-LSP mode; then L is an LND node for our sidecar, started with
 * --requireinterceptor).
 */
export type ClnPlace = 'lsp' | 'rlsp';

export interface ClnStartOptions {
  lndVersion: LndVersion;
  /** Default 'lsp': S (LND) -> L (CLN) -> RL (LND) -> R (LND). */
  clnAt?: ClnPlace;
  /** Extra lightningd flags for the CLN node (plugin options). */
  lspArgs?: string[];
  /** Node flags for the CLN node's plugins (e.g. --cpu-prof); see ClnNode.pluginNodeArgs. */
  lspPluginNodeArgs?: string[];
  /** Extra flags per LND node. */
  lndArgs?: Partial<Record<LndName, string[]>>;
  log?: (line: string) => void;
  baseDir?: string;
  /** Put X, a stock LND on its default onion-message settings, between L and RL (not peers then). */
  middle?: boolean;
}

export class ClnLspNetwork {
  private readonly steps: StepLog;
  private tornDown = false;
  /** The LND nodes, in network order. */
  private readonly lndNames: readonly LndName[];

  private constructor(
    readonly lndVersion: LndVersion,
    readonly runDir: string,
    readonly btcd: Btcd,
    /** The Core Lightning node, at `clnAt`. */
    readonly cln: ClnNode,
    readonly clnAt: ClnPlace,
    private readonly nodes: Partial<Record<LndName, LndNode>>,
    logFn: (line: string) => void,
    /** Every place of this run, in path order (X too with `middle`). */
    readonly names: readonly LndName[] = ALL_NAMES,
    private readonly chain: readonly (readonly [LndName, LndName])[] = CHAIN,
  ) {
    this.lndNames = names.filter((n) => n !== clnAt);
    this.steps = new StepLog(logFn);
  }

  /** X is between L and RL (ClnStartOptions.middle). */
  get hasMiddle(): boolean {
    return this.names.includes('middle');
  }

  /** The Core Lightning node when it is L (the default topology). */
  get lsp(): ClnNode {
    if (this.clnAt !== 'lsp') throw new Error(`Core Lightning runs at ${this.clnAt}, not lsp: use net.cln`);
    return this.cln;
  }

  log(msg: string): void {
    this.steps.log(msg);
  }

  private step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.steps.step(what, fn);
  }

  node(name: LndName): LndNode {
    const n = this.nodes[name];
    if (!n) throw new Error(`${name} is the Core Lightning node here, not an LND node`);
    return n;
  }

  /** What the sidecar helpers (scripts/regtest/lsp.ts) need to run against an LND node here. */
  async nodeInfo(name: LndName): Promise<NodeInfo> {
    return this.node(name).info();
  }

  async pubkey(name: LndName): Promise<string> {
    return name === this.clnAt ? this.cln.nodeId() : this.node(name).pubkey();
  }

  private p2pHost(name: LndName): string {
    return name === this.clnAt ? this.cln.p2pHost : this.node(name).p2pHost;
  }

  static async start(opts: ClnStartOptions): Promise<ClnLspNetwork> {
    const bins = nodeBinaries(opts.lndVersion);
    const cln = clnBinaries();
    const clnAt = opts.clnAt ?? 'lsp';
    if (opts.middle && clnAt !== 'lsp') throw new Error('middle: X goes between a CLN L and an LND RL');
    const names = opts.middle ? MIDDLE_NAMES : ALL_NAMES;
    const lndNames = names.filter((n) => n !== clnAt);
    const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const runDir = resolve(opts.baseDir ?? join(repoRoot(), '.regtest', `cln-${runId}`));
    mkdirSync(runDir, { recursive: true });
    const logFn = opts.log ?? ((line: string) => process.stderr.write(`[regtest] ${line}\n`));
    const ports = await freePorts(3 + 2 * lndNames.length);
    const btcd = new Btcd(bins, join(runDir, 'btcd'), { rpc: ports[0]!, p2p: ports[1]! });
    // R takes keysend payments; an LND L holds for our sidecar, so it waits for its interceptor.
    const roleArgs: Record<LndName, string[]> = {
      sender: [],
      lsp: ['--requireinterceptor'],
      rlsp: [],
      recipient: ['--accept-keysend'],
      middle: [],
    };
    const nodes: Partial<Record<LndName, LndNode>> = {};
    lndNames.forEach((name, i) => {
      nodes[name] = new LndNode(
        name,
        bins.lnd,
        runDir,
        { p2p: ports[3 + 2 * i]!, grpc: ports[4 + 2 * i]! },
        btcd.conn,
        [
          // X runs LND's defaults: 0.21 relays onion messages for peers with a channel (L and RL).
          ...(name === 'middle' ? [] : versionArgs(opts.lndVersion)),
          ...roleArgs[name],
          ...(opts.lndArgs?.[name] ?? []),
        ],
      );
    });
    const clnNode = new ClnNode(cln, {
      name: clnAt,
      baseDir: runDir,
      p2pPort: ports[2]!,
      btcd: btcd.conn,
      distDir: join(repoRoot(), 'dist'),
      withPlugin: true,
    });
    clnNode.extraArgs = opts.lspArgs ?? [];
    clnNode.pluginNodeArgs = opts.lspPluginNodeArgs ?? [];
    const net = new ClnLspNetwork(
      opts.lndVersion,
      runDir,
      btcd,
      clnNode,
      clnAt,
      nodes,
      logFn,
      names,
      opts.middle ? MIDDLE_CHAIN : CHAIN,
    );
    net.log(`CLN at ${clnAt} + LND ${opts.lndVersion} network in ${runDir}`);
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
    const { btcd, cln, clnAt } = this;
    // btcd wipes its chain on restart: lightningd starts only once the mining address is final.
    await startChainMiningTo(btcd, this.node('sender'), [], this.steps);
    await this.step(`start ${this.lndNames.length} lnd nodes`, () =>
      Promise.all(this.lndNames.map((n) => this.node(n).start([], 'rpc'))),
    );
    await this.step('mine 106 blocks and sync', async () => {
      await this.mine(105);
      await this.mine(1);
    });
    await this.step(`start lightningd (${clnAt})`, () => cln.start(105));

    // S funds the other two openers, L and RL.
    const fund = 5 * CHANNEL_CAPACITY_SAT;
    const funded: readonly LndName[] = this.hasMiddle ? ['lsp', 'middle', 'rlsp'] : ['lsp', 'rlsp'];
    await this.step('fund lsp and rlsp', async () => {
      const to: Record<string, number> = {};
      for (const n of funded) to[await this.newAddress(n)] = fund;
      const { txid } = await waitFor(
        'sender sendmany to lsp and rlsp',
        () => this.lncli<{ txid: string }>('sender', 'sendmany', JSON.stringify(to), '--sat_per_vbyte=2'),
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      await this.waitMempool([txid]);
      await this.mine(1);
      for (const n of funded) await this.waitFunds(n, fund);
    });

    // One channel per block, in the order lightningd learns them: lightningd v26.06.6 answers
    // query_channel_range with its scids in gossip-store order, and LND disconnects a peer whose
    // encoded_short_ids are not ascending ("isn't greater than last sid"), on every reconnect.
    await this.step('connect peers and open channels, one block each', async () => {
      for (const [i, [a, b]] of this.chain.entries()) {
        await this.waitMempool([await this.openChannel(a, b)]);
        if (a === 'middle') {
          // X-RL announced to lightningd before RL-R exists: it learns the remote channels in order.
          await this.mine(6);
          await this.waitClnGraph(3);
        } else if (i < this.chain.length - 1) await this.mine(1);
      }
    });
    // 6 confirmations for the last: channels are usable after 1, announced after 6.
    await this.step('confirm channels (6 blocks)', () => this.mine(6));
    await this.step('wait for active channels', async () => {
      await this.waitLspChannelsNormal(2);
      for (const [a, b] of this.chain) {
        for (const [x, y] of [
          [a, b],
          [b, a],
        ] as const) {
          if (x !== clnAt) await this.waitLndChannelActive(x, await this.pubkey(y));
        }
      }
    });
    await this.step('wait for the routing graphs to hold all channels', async () => {
      // S builds routes, the LSPs forward; R routes nothing.
      const edges = this.chain.length;
      for (const n of ['sender', 'lsp', 'middle', 'rlsp'] as const) {
        if (n === clnAt || !this.lndNames.includes(n)) continue;
        try {
          await this.waitLndGraph(n, edges);
        } catch (e) {
          await this.logGraph(n);
          throw e;
        }
      }
      await this.waitClnGraph(edges);
    });
    this.log('network ready');
  }

  /** Waits until lightningd's gossip holds `n` channels, both directions of each. */
  private async waitClnGraph(n: number): Promise<void> {
    await waitFor(
      `${this.clnAt} graph with ${n} channels`,
      async () => (await this.cln.rpc<{ channels: unknown[] }>('listchannels')).channels.length >= 2 * n,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  }

  /** What `name`'s graph holds (which channels, policies, node announcements), for a failed wait. */
  private async logGraph(name: LndName): Promise<void> {
    const g = await this.lncli<{
      nodes: { pub_key: string; alias: string; features?: Record<string, unknown> }[];
      edges: { node1_pub: string; node2_pub: string; node1_policy: unknown; node2_policy: unknown }[];
    }>(name, 'describegraph');
    const alias = (k: string): string => g.nodes.find((x) => x.pub_key === k)?.alias || k.slice(0, 8);
    const nodes = g.nodes.map((x) => `${alias(x.pub_key)}(${Object.keys(x.features ?? {}).length} features)`);
    const edges = g.edges.map(
      (e) =>
        `${alias(e.node1_pub)}-${alias(e.node2_pub)}(${e.node1_policy ? 1 : 0}${e.node2_policy ? 1 : 0})`,
    );
    this.log(`${name} graph: nodes ${nodes.join(' ')}; edges ${edges.join(' ')}`);
  }

  private async newAddress(name: LndName): Promise<string> {
    if (name !== this.clnAt)
      return (await this.lncli<{ address: string }>(name, 'newaddress', 'p2wkh')).address;
    const a = await this.cln.rpc<{ bech32?: string; p2tr?: string }>('newaddr', { addresstype: 'bech32' });
    const addr = a.bech32 ?? a.p2tr;
    if (!addr) throw new Error(`${name} newaddr gave no address: ${JSON.stringify(a)}`);
    return addr;
  }

  private async waitFunds(name: LndName, sat: number): Promise<void> {
    if (name === this.clnAt) {
      await waitFor(`${name} confirmed funds`, async () => {
        const f = await this.cln.rpc<{ outputs: { status: string; amount_msat: number }[] }>('listfunds');
        return f.outputs.some((o) => o.status === 'confirmed' && o.amount_msat >= sat * 1000);
      });
      return;
    }
    await waitFor(
      `${name} confirmed balance`,
      async () =>
        Number((await this.lncli<{ confirmed_balance: string }>(name, 'walletbalance')).confirmed_balance) >=
        sat,
      { timeoutMs: 60_000 },
    );
  }

  /** Connects a to b and opens a channel a -> b (LND openchannel or CLN fundchannel); its funding txid. */
  private async openChannel(a: LndName, b: LndName): Promise<string> {
    const peer = await this.pubkey(b);
    if (a === this.clnAt) {
      await this.cln.rpc('connect', { id: `${peer}@${this.p2pHost(b)}` });
      const r = await this.cln.rpc<{ txid: string }>('fundchannel', {
        id: peer,
        amount: CHANNEL_CAPACITY_SAT,
        push_msat: CHANNEL_PUSH_SAT * 1000,
        feerate: '2000perkb',
        announce: true,
      });
      return r.txid;
    }
    await this.connectLndTo(a, peer, this.p2pHost(b));
    const r = await this.lncli<{ funding_txid: string }>(
      a,
      'openchannel',
      `--node_key=${peer}`,
      `--local_amt=${CHANNEL_CAPACITY_SAT}`,
      `--push_amt=${CHANNEL_PUSH_SAT}`,
      '--sat_per_vbyte=2',
    );
    return r.funding_txid;
  }

  /** Mines `n` blocks and waits until every running node has synced them. */
  async mine(n: number): Promise<string[]> {
    return mineAndSync(this.btcd, n, [
      ...this.lndNames
        .filter((x) => this.node(x).isRunning)
        .map((x) => (h: number) => this.waitLndSynced(x, h)),
      ...(this.cln.isRunning ? [(h: number) => this.cln.waitSynced(h)] : []),
    ]);
  }

  async height(): Promise<number> {
    return this.btcd.height();
  }

  async waitLndSynced(name: LndName, height?: number): Promise<void> {
    await waitLndSynced(this.node(name), this.btcd, height);
  }

  private async waitMempool(txids: string[]): Promise<void> {
    await waitMempool(this.btcd, txids);
  }

  async connectLndTo(name: LndName, pubkey: string, host: string): Promise<void> {
    try {
      await this.lncli(name, 'connect', `${pubkey}@${host}`);
    } catch (e) {
      if (!(e instanceof Error) || !/already connected/i.test(e.message)) throw e;
    }
    await waitFor(`${name} peer ${pubkey.slice(0, 12)}`, async () =>
      (await this.lncli<{ peers: { pub_key: string }[] }>(name, 'listpeers')).peers.some(
        (p) => p.pub_key === pubkey,
      ),
    );
  }

  async channels(name: LndName): Promise<Channel[]> {
    return (await this.lncli<{ channels: Channel[] }>(name, 'listchannels')).channels;
  }

  async waitLndChannelActive(name: LndName, peer: string, timeoutMs = 120_000): Promise<Channel> {
    return waitFor(
      `active channel ${name}-${peer.slice(0, 12)}`,
      async () => (await this.channels(name)).find((c) => c.remote_pubkey === peer && c.active),
      { timeoutMs, intervalMs: 500 },
    );
  }

  async waitLspChannelsNormal(n: number, timeoutMs = 120_000): Promise<void> {
    await waitFor(
      `${this.clnAt} (CLN) with ${n} channels in CHANNELD_NORMAL, peers connected`,
      async () => {
        const r = await this.cln.rpc<{ channels: { state: string; peer_connected: boolean }[] }>(
          'listpeerchannels',
        );
        return r.channels.filter((c) => c.state === 'CHANNELD_NORMAL' && c.peer_connected).length >= n;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /**
   * Waits for `name`'s graph (chain.ts waitLndGraph) except the policies it can only learn through
   * lightningd from a node on lightningd's far side. lightningd was seen, in CI and with X, not to
   * relay within two minutes its LND peer's update of their channel, sent before the channel was
   * announced. The observer never routes over those directions: it pays away from itself, over the
   * policy of each channel's nearer end.
   */
  async waitLndGraph(name: LndName, edges: number, timeoutMs = 120_000): Promise<void> {
    const at = (n: LndName): number => this.names.indexOf(n);
    const o = at(name);
    const c = at(this.clnAt);
    const notNeeded: [string, string][] = [];
    for (const [a, b] of this.chain) {
      const [near, far] = Math.abs(at(a) - o) <= Math.abs(at(b) - o) ? [a, b] : [b, a];
      if (c > Math.min(o, at(far)) && c < Math.max(o, at(far)))
        notNeeded.push([await this.pubkey(far), await this.pubkey(near)]);
    }
    await waitLndGraph(this.node(name), edges, this.names.length, timeoutMs, notNeeded);
  }

  async lncli<T = Record<string, unknown>>(name: LndName, ...args: string[]): Promise<T> {
    return (await this.node(name).lncli(...args)) as T;
  }

  async stopLnd(name: LndName): Promise<void> {
    await this.step(`stop ${name}`, () => this.node(name).stop());
  }

  async startLnd(name: LndName): Promise<void> {
    await this.step(`start ${name}`, async () => {
      await this.node(name).start([], 'server');
      await this.waitLndSynced(name);
    });
  }

  /** Starts the CLN node again (after a stop, a kill, or an important plugin stopping it), synced. */
  async startCln(): Promise<void> {
    await this.step(`start ${this.clnAt}`, async () => this.cln.start(await this.btcd.height()));
  }

  /** startCln, by the name of the default topology, where the CLN node is L. */
  async startLsp(): Promise<void> {
    await this.startCln();
  }

  async teardown(opts: { keepLogs?: boolean } = {}): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all([...this.lndNames.map((n) => this.node(n).kill()), this.cln.kill(), this.btcd.kill()]);
    if (opts.keepLogs) {
      this.log(
        `logs kept in ${this.runDir} (lightningd: ${this.clnAt}/lightningd.log, plugin: ${this.clnAt}/lightningd.out.log)`,
      );
    } else {
      rmSync(this.runDir, { recursive: true, force: true });
    }
  }
}
