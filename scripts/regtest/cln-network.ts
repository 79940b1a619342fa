// The regtest network with Core Lightning as the sender's LSP:
//
//   sender (S, LND) --chan--> lsp (L, CLN + our plugin) --chan--> rlsp (RL, LND) --chan--> recipient (R, LND)
//
// Built from the same parts as network.ts (one btcd, LndNode, Daemon, free ports, run directory
// under .regtest/), with L a ClnNode whose chain backend is btcd through our bitcoin-cli shim.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nodeBinaries, type LndVersion } from './binaries.js';
import { BURN_ADDRESS, Btcd } from './btcd.js';
import { mineAndSync, waitLndSynced, waitMempool } from './chain.js';
import { ClnNode, clnBinaries } from './cln-node.js';
import { LndNode } from './lnd-node.js';
import { CHANNEL_CAPACITY_SAT, CHANNEL_PUSH_SAT, repoRoot, versionArgs, type Channel } from './network.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait.js';

export type LndName = 'sender' | 'rlsp' | 'recipient';
const LND_NAMES: readonly LndName[] = ['sender', 'rlsp', 'recipient'];

export interface ClnStartOptions {
  lndVersion: LndVersion;
  /** Extra lightningd flags for L (plugin options). */
  lspArgs?: string[];
  log?: (line: string) => void;
  baseDir?: string;
}

export class ClnLspNetwork {
  private readonly t0 = Date.now();
  private tornDown = false;

  private constructor(
    readonly lndVersion: LndVersion,
    readonly runDir: string,
    readonly btcd: Btcd,
    readonly lsp: ClnNode,
    private readonly nodes: Record<LndName, LndNode>,
    private readonly logFn: (line: string) => void,
  ) {}

  log(msg: string): void {
    this.logFn(`${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)}s ${msg}`);
  }

  private async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    this.log(`${what} ...`);
    const r = await fn();
    this.log(`${what}: ${((Date.now() - t) / 1000).toFixed(1)}s`);
    return r;
  }

  node(name: LndName): LndNode {
    return this.nodes[name];
  }

  static async start(opts: ClnStartOptions): Promise<ClnLspNetwork> {
    const bins = nodeBinaries(opts.lndVersion);
    const cln = clnBinaries();
    const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const runDir = resolve(opts.baseDir ?? join(repoRoot(), '.regtest', `cln-${runId}`));
    mkdirSync(runDir, { recursive: true });
    const logFn = opts.log ?? ((line: string) => process.stderr.write(`[regtest] ${line}\n`));
    const ports = await freePorts(3 + 2 * LND_NAMES.length);
    const btcd = new Btcd(bins, join(runDir, 'btcd'), { rpc: ports[0]!, p2p: ports[1]! });
    const nodes = {} as Record<LndName, LndNode>;
    LND_NAMES.forEach((name, i) => {
      nodes[name] = new LndNode(
        name,
        bins.lnd,
        runDir,
        { p2p: ports[3 + 2 * i]!, grpc: ports[4 + 2 * i]! },
        btcd.conn,
        [...versionArgs(opts.lndVersion), ...(name === 'recipient' ? ['--accept-keysend'] : [])],
      );
    });
    const lsp = new ClnNode(cln, {
      name: 'lsp',
      baseDir: runDir,
      p2pPort: ports[2]!,
      btcd: btcd.conn,
      distDir: join(repoRoot(), 'dist'),
      withPlugin: true,
    });
    lsp.extraArgs = opts.lspArgs ?? [];
    const net = new ClnLspNetwork(opts.lndVersion, runDir, btcd, lsp, nodes, logFn);
    net.log(`CLN LSP + LND ${opts.lndVersion} network in ${runDir}`);
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
    const { btcd, lsp } = this;
    await this.step('start btcd', () => btcd.start(BURN_ADDRESS));
    await this.step('start 3 lnd nodes', () =>
      Promise.all(LND_NAMES.map((n) => this.nodes[n].start([], 'rpc'))),
    );
    const senderAddr = (await this.lncli<{ address: string }>('sender', 'newaddress', 'p2wkh')).address;
    // btcd wipes its chain on restart: lightningd starts only once the mining address is final.
    await this.step(`restart btcd mining to sender ${senderAddr}`, () => btcd.restart(senderAddr));
    await this.step('mine 106 blocks and sync', async () => {
      await this.mine(105);
      await this.mine(1);
    });
    await this.step('start lightningd (lsp)', () => lsp.start(105));

    const fund = 5 * CHANNEL_CAPACITY_SAT;
    await this.step('fund lsp and rlsp', async () => {
      const a = await lsp.rpc<{ bech32?: string; p2tr?: string }>('newaddr', { addresstype: 'bech32' });
      const lspAddr = a.bech32 ?? a.p2tr;
      if (!lspAddr) throw new Error(`lsp newaddr gave no address: ${JSON.stringify(a)}`);
      const rlspAddr = (await this.lncli<{ address: string }>('rlsp', 'newaddress', 'p2wkh')).address;
      const { txid } = await waitFor(
        'sender sendmany to lsp and rlsp',
        () =>
          this.lncli<{ txid: string }>(
            'sender',
            'sendmany',
            JSON.stringify({ [lspAddr]: fund, [rlspAddr]: fund }),
            '--sat_per_vbyte=2',
          ),
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      await this.waitMempool([txid]);
      await this.mine(1);
      await waitFor('lsp confirmed funds', async () => {
        const f = await lsp.rpc<{ outputs: { status: string; amount_msat: number }[] }>('listfunds');
        return f.outputs.some((o) => o.status === 'confirmed' && o.amount_msat >= fund * 1000);
      });
      await waitFor(
        'rlsp confirmed balance',
        async () =>
          Number(
            (await this.lncli<{ confirmed_balance: string }>('rlsp', 'walletbalance')).confirmed_balance,
          ) >= fund,
      );
    });

    // One channel per block, in the order lightningd learns them: lightningd v26.06.6 answers
    // query_channel_range with its scids in gossip-store order, and LND disconnects a peer whose
    // encoded_short_ids are not ascending ("isn't greater than last sid"), on every reconnect.
    await this.step('connect peers and open channels, one block each', async () => {
      // S -> L: LND opens to CLN.
      await this.connectLndTo('sender', await lsp.nodeId(), lsp.p2pHost);
      const sl = await this.lncli<{ funding_txid: string }>(
        'sender',
        'openchannel',
        `--node_key=${await lsp.nodeId()}`,
        `--local_amt=${CHANNEL_CAPACITY_SAT}`,
        `--push_amt=${CHANNEL_PUSH_SAT}`,
        '--sat_per_vbyte=2',
      );
      await this.waitMempool([sl.funding_txid]);
      await this.mine(1);
      // L -> RL: CLN opens to LND.
      const rl = this.nodes.rlsp;
      await lsp.rpc('connect', { id: `${await rl.pubkey()}@${rl.p2pHost}` });
      const lr = await lsp.rpc<{ txid: string }>('fundchannel', {
        id: await rl.pubkey(),
        amount: CHANNEL_CAPACITY_SAT,
        push_msat: CHANNEL_PUSH_SAT * 1000,
        feerate: '2000perkb',
        announce: true,
      });
      await this.waitMempool([lr.txid]);
      await this.mine(1);
      // RL -> R.
      await this.connectLndTo('rlsp', await this.nodes.recipient.pubkey(), this.nodes.recipient.p2pHost);
      const rr = await this.lncli<{ funding_txid: string }>(
        'rlsp',
        'openchannel',
        `--node_key=${await this.nodes.recipient.pubkey()}`,
        `--local_amt=${CHANNEL_CAPACITY_SAT}`,
        `--push_amt=${CHANNEL_PUSH_SAT}`,
        '--sat_per_vbyte=2',
      );
      await this.waitMempool([rr.funding_txid]);
    });
    // 6 confirmations for the last: channels are usable after 1, announced after 6.
    await this.step('confirm channels (6 blocks)', () => this.mine(6));
    await this.step('wait for active channels', async () => {
      await this.waitLndChannelActive('sender', await lsp.nodeId());
      await this.waitLspChannelsNormal(2);
      await this.waitLndChannelActive('rlsp', await lsp.nodeId());
      await this.waitLndChannelActive('rlsp', await this.nodes.recipient.pubkey());
    });
    await this.step('wait for the routing graphs to hold all channels', async () => {
      // S builds routes, RL forwards; R routes nothing (its agent messages its peer RL directly).
      for (const n of ['sender', 'rlsp'] as const) await this.waitLndGraph(n, 3);
      await waitFor(
        'lsp graph with 3 channels',
        async () => (await lsp.rpc<{ channels: unknown[] }>('listchannels')).channels.length >= 6,
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    });
    this.log('network ready');
  }

  /** Mines `n` blocks and waits until every running node has synced them. */
  async mine(n: number): Promise<string[]> {
    return mineAndSync(this.btcd, n, [
      ...LND_NAMES.filter((x) => this.nodes[x].isRunning).map((x) => (h: number) => this.waitLndSynced(x, h)),
      ...(this.lsp.isRunning ? [(h: number) => this.lsp.waitSynced(h)] : []),
    ]);
  }

  async height(): Promise<number> {
    return this.btcd.height();
  }

  async waitLndSynced(name: LndName, height?: number): Promise<void> {
    await waitLndSynced(this.nodes[name], this.btcd, height);
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
      `lsp with ${n} channels in CHANNELD_NORMAL, peers connected`,
      async () => {
        const r = await this.lsp.rpc<{ channels: { state: string; peer_connected: boolean }[] }>(
          'listpeerchannels',
        );
        return r.channels.filter((c) => c.state === 'CHANNELD_NORMAL' && c.peer_connected).length >= n;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  async waitLndGraph(name: LndName, edges: number, timeoutMs = 120_000): Promise<void> {
    await waitFor(
      `${name} graph with ${edges} channels and every node announced`,
      async () => {
        const g = await this.lncli<{
          nodes: { features?: Record<string, unknown> }[];
          edges: { node1_policy: unknown; node2_policy: unknown }[];
        }>(name, 'describegraph');
        const announced = g.nodes.filter((x) => x.features && Object.keys(x.features).length > 0).length;
        return g.edges.filter((e) => e.node1_policy && e.node2_policy).length >= edges && announced >= 4;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  async lncli<T = Record<string, unknown>>(name: LndName, ...args: string[]): Promise<T> {
    return (await this.nodes[name].lncli(...args)) as T;
  }

  async stopLnd(name: LndName): Promise<void> {
    await this.step(`stop ${name}`, () => this.nodes[name].stop());
  }

  async startLnd(name: LndName): Promise<void> {
    await this.step(`start ${name}`, async () => {
      await this.nodes[name].start([], 'server');
      await this.waitLndSynced(name);
    });
  }

  /** Starts L again (after a stop, a kill, or an important plugin stopping it), synced to the tip. */
  async startLsp(): Promise<void> {
    await this.step('start lsp', async () => this.lsp.start(await this.btcd.height()));
  }

  async teardown(opts: { keepLogs?: boolean } = {}): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all([...LND_NAMES.map((n) => this.nodes[n].kill()), this.lsp.kill(), this.btcd.kill()]);
    if (opts.keepLogs) {
      this.log(
        `logs kept in ${this.runDir} (lightningd: lsp/lightningd.log, plugin: lsp/lightningd.out.log)`,
      );
    } else {
      rmSync(this.runDir, { recursive: true, force: true });
    }
  }
}
