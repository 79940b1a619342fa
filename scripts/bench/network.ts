// Real-network figures on the regtest 'bench' network (btcd + LND): S -> L -> RL -> R, L running the
// sidecar, and beside L a stock L' (no sidecar, no --requireinterceptor) with channels S -> L' -> RL:
// - release-to-settle of a held async payment (from the recipient agent handing its release to LND
//   to the sender seeing the payment settled) against a plain payment over S -> L -> RL -> R;
// - a plain (non-async) payment through L with the sidecar attached (--requireinterceptor, as an
//   operator runs it) against the same payment through L'.
// Medians of `n` payments each. The three kinds run interleaved, their order rotating each round,
// so load drift on this shared machine hits all alike.
import { performance } from 'node:perf_hooks';
import { RegtestNetwork, type LndVersion } from '../regtest/network.js';
import { Sidecar, addInvoice, clientsFor } from '../regtest/lsp.js';
import { recipientAgent, waitSenderKnowsRecipient } from '../regtest/recipient.js';
import { unary, type LndClients } from '../../plugin/backends/lnd/grpc.js';
import type { HtlcAttemptMsg, RouteMsg } from '../../plugin/backends/lnd/messages.js';
import { type LndRecipientAgent, newPathId } from '../../plugin/recipient/lnd-agent.js';
import { recipientMessagePath } from '../../plugin/recipient/message-path.js';
import { sendAsyncPayment } from '../../plugin/sender/lnd-sender.js';
import { median, type Figure } from './table.js';

const SAT = 1_000;
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** The three kinds of timed payment both network benches compare. */
export type Kind = 'with' | 'without' | 'held';

/**
 * Warms up (each kind once or twice), then runs every kind `n` times, interleaved with the order
 * rotating each round so load drift hits all alike; `round(i, got)` after each round.
 */
export async function interleaved(
  n: number,
  runs: Record<Kind, () => Promise<number>>,
  round: (i: number, got: Record<Kind, number[]>) => void,
): Promise<Record<Kind, number[]>> {
  for (const k of ['with', 'without', 'held', 'with', 'without'] as const) await runs[k]();
  const got: Record<Kind, number[]> = { with: [], without: [], held: [] };
  const order = ['with', 'without', 'held'] as const;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < order.length; j++) {
      const k = order[(i + j) % order.length]!;
      got[k].push(await runs[k]());
    }
    round(i, got);
  }
  return got;
}

export async function benchNetwork(n: number, log: (s: string) => void): Promise<Figure[]> {
  const version = (process.env.ASYNC_TRAMPOLINE_LND_VERSIONS?.split(/\s+/)[0] ??
    'v0.21.2-beta') as LndVersion;
  log(`network: starting regtest network (LND ${version})`);
  const net = await RegtestNetwork.start({ lndVersion: version, topology: 'bench', log: (l) => log(l) });
  let sidecar: Sidecar | undefined;
  let agent: LndRecipientAgent | undefined;
  let sender: LndClients | undefined;
  try {
    const pk: Record<string, Uint8Array> = {};
    for (const x of ['sender', 'lsp', 'lsp2', 'rlsp', 'recipient'] as const)
      pk[x] = fromHex(await net.node(x).pubkey());
    await waitSenderKnowsRecipient(net, pk.recipient!);
    const native = version.startsWith('v0.21.');
    if (!native) await net.connectPeers('lsp', 'recipient');
    sidecar = new Sidecar(net);
    await sidecar.start();
    sender = clientsFor(await net.nodeInfo('sender'));
    const s = sender;
    agent = recipientAgent(net.node('recipient'), 'recipient', native ? [pk.rlsp!] : []);
    let lastRelease = 0;
    agent.onRelease(() => {
      lastRelease = performance.now();
    });
    await agent.start();
    const hops = [pk.lsp!, pk.rlsp!, pk.recipient!];

    /** A plain payment S -> via -> RL -> R: route built first, then SendToRouteV2 timed alone. */
    async function plain(via: Uint8Array): Promise<number> {
      const inv = await addInvoice(net, 'recipient', SAT);
      const { route } = await unary<{ route: RouteMsg }>(s.router, 'BuildRoute', {
        amt_msat: String(SAT * 1000),
        final_cltv_delta: 80,
        hop_pubkeys: [via, pk.rlsp!, pk.recipient!].map((h) => Buffer.from(h)),
        payment_addr: Buffer.from(fromHex(inv.payment_addr)),
      });
      const t0 = performance.now();
      const a = await unary<HtlcAttemptMsg>(s.router, 'SendToRouteV2', {
        payment_hash: Buffer.from(fromHex(inv.r_hash)),
        route,
      });
      const ms = performance.now() - t0;
      if (a.status !== 'SUCCEEDED') throw new Error(`bench: plain payment ${a.status} (${a.failure?.code})`);
      return ms;
    }

    /** A held payment: the agent releases at the first held_htlc_available; timed from that release. */
    async function held(): Promise<number> {
      const inv = await addInvoice(net, 'recipient', SAT);
      lastRelease = 0;
      const r = await sendAsyncPayment(s, {
        paymentHash: fromHex(inv.r_hash),
        paymentAddr: fromHex(inv.payment_addr),
        amountMsat: BigInt(SAT) * 1000n,
        finalCltvDelta: 80,
        hops,
        asyncHold: {
          messagePaths: [
            recipientMessagePath({
              recipientNodeId: pk.recipient!,
              through: native ? [pk.rlsp!] : [],
              pathId: newPathId(),
            }),
          ],
        },
      });
      const end = performance.now();
      if (r.status !== 'SUCCEEDED') throw new Error(`bench: held payment ${r.status} (${r.failureCode})`);
      if (lastRelease === 0) throw new Error('bench: payment settled without a release from the agent');
      return end - lastRelease;
    }

    log('network: warm-up');
    const got = await interleaved(
      n,
      { with: () => plain(pk.lsp!), without: () => plain(pk.lsp2!), held },
      (i, g) =>
        log(
          `network: ${i + 1}/${n} plain via L ${Math.round(g.with[i]!)} ms, via L' (no sidecar) ${Math.round(g.without[i]!)} ms, release-to-settle ${Math.round(g.held[i]!)} ms`,
        ),
    );

    const withSidecar = median(got.with);
    const without = median(got.without);
    return [
      {
        name: `release-to-settle, held at L (median of ${n})`,
        value: median(got.held),
        unit: 'ms',
        baseline: { name: 'plain payment via L, same route, ms', value: withSidecar },
        target: { max: 1.2 * withSidecar },
      },
      {
        name: `plain payment via L, sidecar attached (median of ${n})`,
        value: withSidecar,
        unit: 'ms',
        baseline: { name: "via L' (LND without the sidecar), interleaved, ms", value: without },
        target: { max: 1.1 * without },
      },
    ];
  } finally {
    await agent?.stop();
    sender?.close();
    await sidecar?.kill('SIGTERM');
    await net.teardown();
  }
}
