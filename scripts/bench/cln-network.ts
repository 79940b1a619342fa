// Real-network figures with Core Lightning as the LSP: S (LND) -> L (lightningd + cln.js + guard)
// -> RL (LND) -> R (LND), from scripts/regtest/cln-network.ts, plus a second lightningd L' started
// here without our plugins, with channels S -> L' -> RL, so S reaches R over either:
// - release-to-settle of a held async payment (from the recipient agent sending its release to S
//   seeing the payment settled) against a plain payment over S -> L -> RL -> R;
// - a plain payment through L (both plugins in its htlc_accepted chain, as deployed) against the
//   same payment through L' (no plugin: lightningd forwards without a hook round trip).
// The three kinds run interleaved, their order rotating each round, so load drift hits all alike.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { LndVersion } from '../regtest/binaries.js';
import { ClnLspNetwork } from '../regtest/cln-network.js';
import { ClnNode, clnBinaries } from '../regtest/cln-node.js';
import { CHANNEL_CAPACITY_SAT, CHANNEL_PUSH_SAT, repoRoot } from '../regtest/network.js';
import { freePorts } from '../regtest/ports.js';
import { clientsFor, type Invoice } from '../regtest/lsp.js';
import { recipientAgent } from '../regtest/recipient.js';
import { waitFor } from '../regtest/wait.js';
import { unary, type LndClients } from '../../plugin/backends/lnd/grpc.js';
import type { HtlcAttemptMsg, RouteMsg } from '../../plugin/backends/lnd/messages.js';
import { type LndRecipientAgent, newPathId } from '../../plugin/recipient/lnd-agent.js';
import { recipientMessagePath } from '../../plugin/recipient/message-path.js';
import { sendAsyncPayment } from '../../plugin/sender/lnd-sender.js';
import { median, type Figure } from './table.js';
import { interleaved } from './network.js';

const SAT = 1_000;
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

export interface ClnBenchOptions {
  payments: number;
  log: (s: string) => void;
  /** Write CPU profiles of L's plugins (cln.js and the guard) to this directory (node --cpu-prof). */
  pluginCpuProfDir?: string;
}

export async function benchClnNetwork(o: ClnBenchOptions): Promise<Figure[]> {
  const { payments: n, log } = o;
  const version = (process.env.ASYNC_TRAMPOLINE_CLN_LND_VERSION ?? 'v0.21.2-beta') as LndVersion;
  log(`cln network: starting S -> L (lightningd + plugin) -> RL -> R, LND ${version}`);
  const net = await ClnLspNetwork.start({
    lndVersion: version,
    // As an operator runs it: info, not the suite's debug (each log line is a write to stderr).
    lspArgs: ['--async-trampoline-log-level=info'],
    log: (l) => log(l),
    ...(o.pluginCpuProfDir
      ? { lspPluginNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.pluginCpuProfDir}`] }
      : {}),
  });
  let plainL: ClnNode | undefined;
  let agent: LndRecipientAgent | undefined;
  let sender: LndClients | undefined;
  try {
    plainL = await startPlainLsp(net, log);
    const pk = {
      lsp: fromHex(await net.lsp.nodeId()),
      plain: fromHex(await plainL.nodeId()),
      rlsp: fromHex(await net.node('rlsp').pubkey()),
      recipient: fromHex(await net.node('recipient').pubkey()),
    };
    sender = clientsFor(net.node('sender'));
    const s = sender;
    agent = recipientAgent(net.node('recipient'), 'recipient', [pk.rlsp]);
    let lastRelease = 0;
    agent.onRelease(() => {
      lastRelease = performance.now();
    });
    await agent.start();
    const addInvoice = (): Promise<Invoice> => net.lncli<Invoice>('recipient', 'addinvoice', `--amt=${SAT}`);

    /** Wall-clock windows of the timed plain payments, to find them in lightningd's log. */
    const windows = new Map<Uint8Array, { from: number; to: number }[]>([
      [pk.lsp, []],
      [pk.plain, []],
    ]);

    /** A plain payment S -> via -> RL -> R: route built first, then SendToRouteV2 timed alone. */
    async function plain(via: Uint8Array): Promise<number> {
      const inv = await addInvoice();
      const { route } = await unary<{ route: RouteMsg }>(s.router, 'BuildRoute', {
        amt_msat: String(SAT * 1000),
        final_cltv_delta: 80,
        hop_pubkeys: [via, pk.rlsp, pk.recipient].map((h) => Buffer.from(h)),
        payment_addr: Buffer.from(fromHex(inv.payment_addr)),
      });
      const from = Date.now();
      const t0 = performance.now();
      const a = await unary<HtlcAttemptMsg>(s.router, 'SendToRouteV2', {
        payment_hash: Buffer.from(fromHex(inv.r_hash)),
        route,
      });
      const ms = performance.now() - t0;
      windows.get(via)!.push({ from, to: Date.now() });
      if (a.status !== 'SUCCEEDED') throw new Error(`bench: plain payment ${a.status} (${a.failure?.code})`);
      return ms;
    }

    /** A payment held at L; the agent releases at the first held_htlc_available; timed from then. */
    async function held(): Promise<number> {
      const inv = await addInvoice();
      lastRelease = 0;
      const r = await sendAsyncPayment(s, {
        paymentHash: fromHex(inv.r_hash),
        paymentAddr: fromHex(inv.payment_addr),
        amountMsat: BigInt(SAT) * 1000n,
        finalCltvDelta: 80,
        hops: [pk.lsp, pk.rlsp, pk.recipient],
        asyncHold: {
          messagePaths: [
            recipientMessagePath({ recipientNodeId: pk.recipient, through: [pk.rlsp], pathId: newPathId() }),
          ],
        },
      });
      const end = performance.now();
      if (r.status !== 'SUCCEEDED') throw new Error(`bench: held payment ${r.status} (${r.failureCode})`);
      if (lastRelease === 0) throw new Error('bench: payment settled without a release from the agent');
      return end - lastRelease;
    }

    log('cln network: warm-up');
    const got = await interleaved(
      n,
      { with: () => plain(pk.lsp), without: () => plain(pk.plain), held },
      (i, g) =>
        log(
          `cln network: ${i + 1}/${n} plain via L ${Math.round(g.with[i]!)} ms, via L' (no plugin) ${Math.round(g.without[i]!)} ms, release-to-settle ${Math.round(g.held[i]!)} ms`,
        ),
    );

    const withPlugin = median(got.with);
    const without = median(got.without);
    // The timed windows of the warm-up payments go too: only the measured ones count.
    const inside = (node: ClnNode, via: Uint8Array): number[] => {
      const t = forwardTimes(node.logText(), windows.get(via)!.slice(-n));
      if (t.length < n) log(`cln network: only ${t.length} of ${n} forwards found in ${node.logFile}`);
      return t;
    };
    const inL = inside(net.lsp, pk.lsp);
    const inPlain = inside(plainL, pk.plain);
    const figures: Figure[] = [
      {
        name: `release-to-settle, held at L (median of ${n})`,
        value: median(got.held),
        unit: 'ms',
        baseline: { name: 'plain payment via L, same route, ms', value: withPlugin },
        target: { max: 1.2 * withPlugin },
      },
      {
        name: `plain payment via L, plugin attached (median of ${n})`,
        value: withPlugin,
        unit: 'ms',
        baseline: { name: "via L' without the plugin, ms", value: without },
        target: { max: 1.1 * without },
      },
    ];
    if (inL.length > 0 && inPlain.length > 0)
      figures.push({
        // No target: this is where the pass-through difference lives (the htlc_accepted hook chain).
        name: `  inside L: in committed to out committed (median of ${inL.length})`,
        value: median(inL),
        unit: 'ms',
        baseline: { name: `inside L' (median of ${inPlain.length}), ms`, value: median(inPlain) },
      });
    return figures;
  } finally {
    await agent?.stop();
    sender?.close();
    await plainL?.kill();
    // Profiles are written when the plugins exit: stop lightningd cleanly instead of killing it.
    if (o.pluginCpuProfDir) await net.lsp.stop();
    // KEEP_LOGS=1 keeps the run directory (lightningd logs of L and L'), as in the tests.
    await net.teardown({ keepLogs: process.env.KEEP_LOGS === '1' });
  }
}

/**
 * Time each plain payment spent inside a lightningd, from its lightningd.log (--log-level=debug):
 * from the incoming HTLC irrevocably committed (RCVD_ADD_ACK_REVOCATION, when lightningd runs the
 * htlc_accepted hook chain) to the outgoing HTLC's first commitment (SENT_ADD_COMMIT, after
 * channeld's commit timer). Payments run one at a time, so within a payment's window the first of
 * each is that payment's. Windows without both (a changed log format) are left out.
 */
export function forwardTimes(log: string, windows: readonly { from: number; to: number }[]): number[] {
  const ins: number[] = [];
  const outs: number[] = [];
  for (const line of log.split('\n')) {
    const m = /^(\S+Z) .*: HTLC (in|out) \d+ (\w+)->(\w+)$/.exec(line);
    if (!m) continue;
    const t = Date.parse(m[1]!);
    if (m[2] === 'in' && m[4] === 'RCVD_ADD_ACK_REVOCATION') ins.push(t);
    if (m[2] === 'out' && m[3] === 'SENT_ADD_HTLC' && m[4] === 'SENT_ADD_COMMIT') outs.push(t);
  }
  const out: number[] = [];
  for (const w of windows) {
    const i = ins.find((t) => t >= w.from && t <= w.to);
    const o = i === undefined ? undefined : outs.find((t) => t >= i && t <= w.to);
    if (i !== undefined && o !== undefined) out.push(o - i);
  }
  return out;
}

/**
 * L': lightningd as L is configured but without our plugins, funded by S, with channels S -> L'
 * (opened by S, as S -> L) and L' -> RL (opened by L', as L -> RL), one block each so that L'
 * learns channels in scid order (see cln-network.ts), then announced (6 confirmations).
 */
async function startPlainLsp(net: ClnLspNetwork, log: (s: string) => void): Promise<ClnNode> {
  const t = Date.now();
  const [port] = await freePorts(1);
  const node = new ClnNode(clnBinaries(), {
    name: 'lsp-plain',
    baseDir: net.runDir,
    p2pPort: port!,
    btcd: net.btcd.conn,
    distDir: join(repoRoot(), 'dist'),
    withPlugin: false,
  });
  const mine = async (k: number): Promise<void> => {
    await net.mine(k);
    await node.waitSynced(await net.height());
  };
  const inMempool = (txid: string): Promise<boolean> =>
    waitFor(`${txid} in btcd mempool`, async () =>
      (JSON.parse(await net.btcd.cli('getrawmempool')) as string[]).includes(txid),
    );
  try {
    await node.start(await net.height());
    const id = await node.nodeId();
    const a = await node.rpc<{ bech32?: string; p2tr?: string }>('newaddr', { addresstype: 'bech32' });
    const addr = a.bech32 ?? a.p2tr;
    if (!addr) throw new Error(`lsp-plain newaddr gave no address: ${JSON.stringify(a)}`);
    const fund = 2 * CHANNEL_CAPACITY_SAT;
    const { txid } = await waitFor(
      'sender funds lsp-plain',
      () =>
        net.lncli<{ txid: string }>(
          'sender',
          'sendcoins',
          `--addr=${addr}`,
          `--amt=${fund}`,
          '--sat_per_vbyte=2',
        ),
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    await inMempool(txid);
    await mine(1);
    await waitFor('lsp-plain confirmed funds', async () =>
      (await node.rpc<{ outputs: { status: string }[] }>('listfunds')).outputs.some(
        (x) => x.status === 'confirmed',
      ),
    );
    await net.connectLndTo('sender', id, node.p2pHost);
    const sl = await net.lncli<{ funding_txid: string }>(
      'sender',
      'openchannel',
      `--node_key=${id}`,
      `--local_amt=${CHANNEL_CAPACITY_SAT}`,
      `--push_amt=${CHANNEL_PUSH_SAT}`,
      '--sat_per_vbyte=2',
    );
    await inMempool(sl.funding_txid);
    await mine(1);
    const rl = net.node('rlsp');
    await node.rpc('connect', { id: `${await rl.pubkey()}@${rl.p2pHost}` });
    const lr = await node.rpc<{ txid: string }>('fundchannel', {
      id: await rl.pubkey(),
      amount: CHANNEL_CAPACITY_SAT,
      push_msat: CHANNEL_PUSH_SAT * 1000,
      feerate: '2000perkb',
      announce: true,
    });
    await inMempool(lr.txid);
    await mine(6);
    await net.waitLndChannelActive('sender', id);
    await net.waitLndChannelActive('rlsp', id);
    await waitFor(
      'lsp-plain with 2 channels in CHANNELD_NORMAL',
      async () =>
        (
          await node.rpc<{ channels: { state: string; peer_connected: boolean }[] }>('listpeerchannels')
        ).channels.filter((c) => c.state === 'CHANNELD_NORMAL' && c.peer_connected).length >= 2,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await net.waitLndGraph('sender', 5);
    log(`cln network: L' (lightningd without the plugin) ready in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    return node;
  } catch (e) {
    await node.kill();
    throw e;
  }
}
