// The wallet's one call: pay a BOLT 11 invoice asynchronously through an async-capable LSP, with a
// hold budget. Trampoline mode is the default: the LSP finds the route at release time, so fee and
// delta changes during a long hold cost nothing but the onward fee limit. Source routing (the
// sender builds the whole onion, with headroom for the hops after the LSP) on request, also MPP.
import type { LndClients, GrpcError } from '../backends/lnd/grpc.js';
import { unary } from '../backends/lnd/grpc.js';
import type { AsyncHold } from '../protocol/async-hold.js';
import { encodeTrampolineRequest } from '../protocol/trampoline-request.js';
import {
  buildAsyncRoute,
  buildTrampolineRoute,
  sendToRoute,
  type AsyncPaymentResult,
  type AsyncPaymentTypes,
} from './lnd-sender.js';
import { buildMppRoutes, sendMppParts } from './keysend-mpp.js';
import type { Headroom, TrampolineBudget } from './hold-budget.js';
import { senderError } from './errors.js';

export interface PayAsyncArgs {
  /** BOLT 11 invoice with an amount. */
  invoice: string;
  /** The sender's LSP (holds the HTLC): a direct channel peer. */
  lsp: Uint8Array;
  /** How the LSP reaches or hears from the recipient (async_hold without the budget fields). */
  asyncHold: Pick<AsyncHold, 'messagePaths' | 'releaseToken'>;
  /** The hold this payment may wait at the LSP, in blocks (default 144, one day). */
  holdBlocks?: number;
  marginBlocks?: number;
  /** 'trampoline' (default): the LSP routes at release time. 'source': we build the whole route. */
  routing?: 'trampoline' | 'source';
  /** Source routing: the nodes between the LSP and the recipient (e.g. the recipient's LSP). */
  via?: Uint8Array[];
  /** Source routing: headroom for the hops after the LSP. */
  headroom?: Partial<Headroom>;
  /** Source routing: split into this many parts (MPP). */
  parts?: number;
  /** Trampoline: the LSP's fee, the onward fee limit and timelock. */
  budget?: Partial<TrampolineBudget>;
  /** Trampoline: the LSP's virtual short channel id. */
  virtualChanId?: string;
  types?: AsyncPaymentTypes & { trampolineRequest: bigint };
}

/** What the payment costs and carries, known before anything is sent. */
export interface PayAsyncPlan {
  routing: 'trampoline' | 'source';
  holdBlocks: number;
  /** What we send, fees included (all parts together). */
  sentMsat: bigint;
  /** What the recipient gets. */
  deliverMsat: bigint;
  /** Everything beyond it: fees, headroom (source) or onward limit and LSP fee (trampoline). */
  totalFeesMsat: bigint;
  /** Source: the headroom's share of the fees. Trampoline: the onward fee limit. */
  headroomMsat: bigint;
  /** Our HTLC's timelock, in blocks from now (the largest part's). */
  routeCltvBlocks: number;
  /** The longest hold the same route would carry within LND's cap. */
  maxHoldBlocks: number;
}

interface DecodedInvoice {
  destination: string;
  payment_hash: string;
  num_msat: string;
  cltv_expiry: string;
  payment_addr: Buffer;
}

async function decodeInvoice(c: LndClients, invoice: string): Promise<DecodedInvoice> {
  try {
    return await unary<DecodedInvoice>(c.lightning, 'DecodePayReq', { pay_req: invoice });
  } catch (e) {
    throw senderError(
      'bad_argument',
      `invoice not understood: ${(e as GrpcError).details ?? (e as Error).message}`,
    );
  }
}

/** An active channel of ours to the LSP (the sidecar intercepts whichever one the HTLC comes in on). */
async function channelTo(c: LndClients, peer: Uint8Array): Promise<string> {
  let chans: { chan_id: string; remote_pubkey: string }[];
  try {
    chans = (
      await unary<{ channels: { chan_id: string; remote_pubkey: string }[] }>(c.lightning, 'ListChannels', {
        active_only: true,
      })
    ).channels;
  } catch (e) {
    throw senderError('route', `ListChannels failed: ${(e as GrpcError).details ?? (e as Error).message}`);
  }
  const id = Buffer.from(peer).toString('hex');
  const chan = chans.find((x) => x.remote_pubkey === id);
  if (!chan) throw senderError('route', `no active channel to the LSP ${id}`);
  return chan.chan_id;
}

/**
 * Plan the payment (routes built and checked, nothing sent yet), then send it. `result` resolves when
 * the HTLC does: after the recipient releases it, or when the LSP fails it at the budget.
 */
export async function payAsync(
  c: LndClients,
  a: PayAsyncArgs,
  timeoutMs = 24 * 3600_000,
): Promise<{ plan: PayAsyncPlan; paymentHash: Uint8Array; result: Promise<AsyncPaymentResult> }> {
  const inv = await decodeInvoice(c, a.invoice);
  const deliverMsat = BigInt(inv.num_msat || '0');
  if (deliverMsat <= 0n) throw senderError('bad_argument', 'the invoice has no amount');
  const paymentHash = new Uint8Array(Buffer.from(inv.payment_hash, 'hex'));
  const recipient = new Uint8Array(Buffer.from(inv.destination, 'hex'));
  const holdBlocks = a.holdBlocks ?? 144;
  const routing = a.routing ?? 'trampoline';

  if (routing === 'trampoline') {
    if (a.parts !== undefined && a.parts !== 1)
      throw senderError('bad_argument', 'trampoline mode pays in one part; the LSP splits onward if it must');
    const built = await buildTrampolineRoute(c, {
      paymentHash,
      deliverMsat,
      firstChanId: await channelTo(c, a.lsp),
      lsp: a.lsp,
      ...(a.virtualChanId !== undefined ? { virtualChanId: a.virtualChanId } : {}),
      holdBlocks,
      ...(a.marginBlocks !== undefined ? { marginBlocks: a.marginBlocks } : {}),
      ...(a.budget ? { budget: a.budget } : {}),
      trampolineRequest: encodeTrampolineRequest({ kind: 'invoice', invoice: a.invoice }),
      asyncHold: a.asyncHold,
      ...(a.types ? { types: a.types } : {}),
    });
    const p = built.plan;
    return {
      paymentHash,
      plan: {
        routing,
        holdBlocks,
        sentMsat: p.amountMsat,
        deliverMsat,
        totalFeesMsat: p.totalFeesMsat,
        headroomMsat: p.onwardFeeLimitMsat,
        routeCltvBlocks: p.routeCltvBlocks,
        maxHoldBlocks: p.maxHoldBlocks,
      },
      result: sendToRoute(c, paymentHash, built.route, built.firstHopRecords, timeoutMs),
    };
  }

  const common = {
    paymentHash,
    paymentAddr: new Uint8Array(inv.payment_addr),
    finalCltvDelta: Number(inv.cltv_expiry),
    hops: [a.lsp, ...(a.via ?? []), recipient],
    asyncHold: a.asyncHold,
    holdBlocks,
    ...(a.marginBlocks !== undefined ? { marginBlocks: a.marginBlocks } : {}),
    ...(a.headroom ? { headroom: a.headroom } : {}),
    ...(a.types ? { types: a.types } : {}),
  };
  const built =
    (a.parts ?? 1) > 1
      ? await buildMppRoutes(c, { ...common, totalMsat: deliverMsat, parts: a.parts! })
      : [await buildAsyncRoute(c, { ...common, amountMsat: deliverMsat })];
  const sent = built.reduce((s, b) => s + BigInt(b.route.total_amt_msat), 0n);
  const plan: PayAsyncPlan = {
    routing,
    holdBlocks,
    sentMsat: sent,
    deliverMsat,
    totalFeesMsat: sent - deliverMsat,
    headroomMsat: built.reduce((s, b) => s + b.plan.headroomFeeMsat, 0n),
    routeCltvBlocks: Math.max(...built.map((b) => b.plan.routeCltvBlocks)),
    maxHoldBlocks: Math.min(...built.map((b) => b.plan.maxHoldBlocks)),
  };
  const result: Promise<AsyncPaymentResult> =
    built.length === 1
      ? sendToRoute(c, paymentHash, built[0]!.route, built[0]!.firstHopRecords, timeoutMs)
      : sendMppParts(c, paymentHash, built, timeoutMs).then((m) => ({
          status: m.status,
          preimage: m.preimage,
          failureCode: m.failureCode,
          route: null,
        }));
  return { plan, paymentHash, result };
}
