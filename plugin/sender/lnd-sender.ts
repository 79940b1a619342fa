// The sender SDK on LND: pays through an async-capable LSP by building the route itself
// (routerrpc.BuildRoute), marking the HTLC async for the LSP, and sending it with SendToRouteV2:
// - `hold_htlc` (75537, empty) in update_add_htlc, through first_hop_custom_records;
// - `async_hold` in the LSP's hop payload (hop 0 custom_records): the recipient's message paths
//   and/or a release token, and max_hold_blocks: the hold the sender budgeted.
// The route carries the hold (hold-budget.ts): the final hop's CLTV is the recipient's minimum plus
// the hold plus a margin, and the hops after the LSP get fee and delta headroom.
// SendToRouteV2 returns only when the HTLC resolves, which for a held HTLC can be hours later.
import { bytesToHex } from '@noble/hashes/utils.js';
import { encodeAsyncHold, type AsyncHold } from '../protocol/async-hold.js';
import { parseScid } from '../protocol/short-channel-id.js';
import { unary, type GrpcError, type LndClients } from '../backends/lnd/grpc.js';
import { lndError } from '../backends/lnd/errors.js';
import type { HtlcAttemptMsg, RouteMsg } from '../backends/lnd/messages.js';
import { outKey, recordMap } from '../backends/lnd/htlc-map.js';
import {
  DEFAULT_HEADROOM,
  DEFAULT_HOLD_BLOCKS,
  DEFAULT_MARGIN_BLOCKS,
  DEFAULT_TRAMPOLINE_BUDGET,
  LND_MAX_ROUTE_CLTV,
  addHeadroom,
  checkRoute,
  finalCltvDeltaFor,
  planTrampoline,
  type BudgetRoute,
  type Headroom,
  type HoldPlan,
  type TrampolineBudget,
  type TrampolinePlan,
} from './hold-budget.js';
import { senderError } from './errors.js';

export interface AsyncPaymentTypes {
  holdHtlc: bigint;
  asyncHold: bigint;
}

export const DEFAULT_ASYNC_PAYMENT_TYPES: AsyncPaymentTypes = { holdHtlc: 75537n, asyncHold: 4280151n };

export interface AsyncPaymentArgs {
  paymentHash: Uint8Array;
  /** BOLT 11 payment secret of the recipient's invoice; absent for keysend. */
  paymentAddr: Uint8Array | undefined;
  /** What the recipient gets from this HTLC (one part's share for MPP). */
  amountMsat: bigint;
  /** The recipient's min_final_cltv_expiry_delta (the invoice's). */
  finalCltvDelta: number;
  /** Node ids after us: the LSP first, the recipient last. */
  hops: Uint8Array[];
  /** What the LSP needs to hold and release: message paths and/or a release token. */
  asyncHold: AsyncHold;
  /**
   * The hold this payment may wait at the LSP, in blocks (default asyncHold.maxHoldBlocks, else
   * 144). Written into async_hold.max_hold_blocks; the route is built to carry it.
   */
  holdBlocks?: number;
  /** Blocks on top of the recipient's minimum and the hold (default 6). */
  marginBlocks?: number;
  /** Fee and delta headroom for the hops after the LSP (default DEFAULT_HEADROOM). */
  headroom?: Partial<Headroom>;
  /** MPP: the whole payment's amount (MPP record and async_hold total_amount_msat). */
  totalMsat?: bigint;
  /** Records for the recipient's final payload (keysend: the preimage record). */
  finalRecords?: Record<string, Uint8Array>;
  /** Set false to send only async_hold (no update_add_htlc flag). */
  holdFlag?: boolean;
  types?: AsyncPaymentTypes;
}

export interface AsyncPaymentResult {
  status: 'SUCCEEDED' | 'FAILED' | 'IN_FLIGHT';
  preimage: Uint8Array | undefined;
  failureCode: string | undefined;
  route: RouteMsg | null;
}

export interface BuiltAsyncRoute {
  route: RouteMsg;
  firstHopRecords: Record<string, Buffer>;
  plan: HoldPlan;
}

/** Our node's best height, as LND's router builds routes from it. */
export async function currentHeight(c: LndClients): Promise<number> {
  try {
    return (await unary<{ block_height: number }>(c.lightning, 'GetInfo', {})).block_height;
  } catch (e) {
    throw lndError('rpc', `GetInfo failed: ${(e as GrpcError).details ?? (e as Error).message}`);
  }
}

const toBudget = (r: RouteMsg): BudgetRoute => ({
  totalAmtMsat: BigInt(r.total_amt_msat),
  totalTimeLock: r.total_time_lock,
  hops: r.hops.map((h) => ({
    amtToForwardMsat: BigInt(h.amt_to_forward_msat),
    feeMsat: BigInt(h.fee_msat),
    expiry: h.expiry,
  })),
});

function fromBudget(r: RouteMsg, b: BudgetRoute): void {
  r.total_amt_msat = b.totalAmtMsat.toString();
  r.total_time_lock = b.totalTimeLock;
  r.total_fees_msat = b.hops.reduce((s, h) => s + h.feeMsat, 0n).toString();
  b.hops.forEach((h, i) => {
    const hop = r.hops[i]!;
    hop.amt_to_forward_msat = h.amtToForwardMsat.toString();
    hop.fee_msat = h.feeMsat.toString();
    hop.expiry = h.expiry;
  });
}

/**
 * Build the route for the hold budget, add headroom and our records, and check it against LND's
 * timelock cap before anything is sent (exported for tests that inspect or tamper with it).
 */
export async function buildAsyncRoute(c: LndClients, a: AsyncPaymentArgs): Promise<BuiltAsyncRoute> {
  if (a.hops.length < 2)
    throw senderError('bad_argument', 'an async payment needs the LSP and at least one hop after it');
  const t = a.types ?? DEFAULT_ASYNC_PAYMENT_TYPES;
  const headroom: Headroom = { ...DEFAULT_HEADROOM, ...a.headroom };
  const budget = {
    holdBlocks: a.holdBlocks ?? a.asyncHold.maxHoldBlocks ?? DEFAULT_HOLD_BLOCKS,
    minFinalCltvDelta: a.finalCltvDelta,
    marginBlocks: a.marginBlocks ?? DEFAULT_MARGIN_BLOCKS,
  };
  const finalCltvDelta = finalCltvDeltaFor(budget);
  if (a.totalMsat !== undefined && (a.totalMsat < a.amountMsat || a.paymentAddr === undefined))
    throw senderError('bad_argument', 'an MPP part needs a payment address and a total >= its amount');
  const height = await currentHeight(c);
  let route: RouteMsg;
  try {
    const r = await unary<{ route: RouteMsg }>(c.router, 'BuildRoute', {
      amt_msat: a.amountMsat.toString(),
      final_cltv_delta: finalCltvDelta,
      hop_pubkeys: a.hops.map((h) => Buffer.from(h)),
      ...(a.paymentAddr ? { payment_addr: Buffer.from(a.paymentAddr) } : {}),
    });
    route = r.route;
  } catch (e) {
    const why = (e as GrpcError).details ?? (e as Error).message;
    // LND reads the recipient's features from its graph; without its node announcement it refuses
    // the payment secret.
    const hint = /payment addr/.test(why) ? " (our graph lacks the recipient's node announcement)" : '';
    throw senderError('route', `BuildRoute failed: ${why}${hint}`);
  }
  const base = toBudget(route);
  const grown = addHeadroom(base, headroom);
  fromBudget(route, grown.route);
  const plan = checkRoute(grown.route, budget, height, {
    headroomFeeMsat: grown.feeMsat,
    headroomCltvBlocks: grown.route.totalTimeLock - base.totalTimeLock,
    amountMsat: a.amountMsat,
  });

  const lspHop = route.hops[0]!;
  // Records BuildRoute returned come keyed by hash strings; re-key everything as decimal to send.
  const records: Record<string, Buffer> = {};
  for (const [k, v] of recordMap(lspHop.custom_records)) records[outKey(k)] = Buffer.from(v);
  records[outKey(t.asyncHold)] = Buffer.from(
    encodeAsyncHold({
      ...a.asyncHold,
      maxHoldBlocks: budget.holdBlocks,
      ...(a.totalMsat !== undefined ? { totalAmountMsat: a.totalMsat } : {}),
    }),
  );
  lspHop.custom_records = records;
  for (const hop of route.hops.slice(1)) {
    const rest: Record<string, Buffer> = {};
    for (const [k, v] of recordMap(hop.custom_records)) rest[outKey(k)] = Buffer.from(v);
    hop.custom_records = rest;
  }
  const last = route.hops[route.hops.length - 1]!;
  for (const [k, v] of Object.entries(a.finalRecords ?? {})) last.custom_records[k] = Buffer.from(v);
  if (a.totalMsat !== undefined) {
    if (!last.mpp_record) throw senderError('route', 'BuildRoute returned no MPP record for the part');
    last.mpp_record = { ...last.mpp_record, total_amt_msat: a.totalMsat.toString() };
  }
  const firstHopRecords: Record<string, Buffer> =
    a.holdFlag === false ? {} : { [outKey(t.holdHtlc)]: Buffer.alloc(0) };
  return { route, firstHopRecords, plan };
}

/** Send the async HTLC and wait for it to resolve. */
export async function sendAsyncPayment(
  c: LndClients,
  a: AsyncPaymentArgs,
  timeoutMs = 24 * 3600_000,
): Promise<AsyncPaymentResult & { plan: HoldPlan }> {
  const { route, firstHopRecords, plan } = await buildAsyncRoute(c, a);
  return { ...(await sendToRoute(c, a.paymentHash, route, firstHopRecords, timeoutMs)), plan };
}

/** The virtual short channel id (1x1x1) the tests and demo configure nowhere: LND intercepts any unknown one. */
export const DEFAULT_VIRTUAL_CHAN_ID = ((1n << 40n) | (1n << 16n) | 1n).toString();

export interface TrampolinePaymentArgs {
  /** The invoice's payment hash (the LSP settles our HTLC with the preimage it gets back). */
  paymentHash: Uint8Array;
  /**
   * What the recipient must get. The SDK adds the onward fee limit and the LSP's fee
   * (TrampolineBudget) to get what we send; or give amountMsat to send exactly that.
   */
  deliverMsat?: bigint;
  /** What we send the LSP, fees included (overrides the plan's amount). */
  amountMsat?: bigint;
  /** Our channel to the LSP (LND's decimal chan_id, or "BLOCKxTXxOUT") and the LSP's node id. */
  firstChanId: string;
  lsp: Uint8Array;
  /** The LSP's virtual short channel id (either form), which LND intercepts (default 1x1x1). */
  virtualChanId?: string;
  /** The hold this payment may wait, in blocks (default asyncHold.maxHoldBlocks, else 144). */
  holdBlocks?: number;
  marginBlocks?: number;
  budget?: Partial<TrampolineBudget>;
  /** Blocks of timelock for our HTLC (overrides the plan's: hold + onward + safety + margin). */
  cltvBudget?: number;
  /** Default: our node's height now. */
  currentHeight?: number;
  trampolineRequest: Uint8Array;
  asyncHold: AsyncHold;
  /** More records for the LSP's hop payload (keysend delivery: the preimage record). */
  lspRecords?: Record<string, Uint8Array>;
  types?: AsyncPaymentTypes & { trampolineRequest: bigint };
}

/**
 * Trampoline mode: one hop to the LSP, addressed to its virtual channel (LND intercepts forwards
 * only, never final-hop HTLCs), with trampoline_request and async_hold in its hop payload. The
 * layer after the LSP is never read (the LSP settles instead of forwarding), so it is addressed to
 * the LSP's own key. The LSP pays onward at release time with a fresh CLTV, bounded by our HTLC's
 * expiry minus its safety blocks: that expiry is what carries the hold here.
 */
export async function sendTrampolinePayment(
  c: LndClients,
  a: TrampolinePaymentArgs,
  timeoutMs = 24 * 3600_000,
): Promise<AsyncPaymentResult & { plan: TrampolinePlan }> {
  const built = await buildTrampolineRoute(c, a);
  const r = await sendToRoute(c, a.paymentHash, built.route, built.firstHopRecords, timeoutMs);
  return { ...r, plan: built.plan };
}

export async function buildTrampolineRoute(
  c: LndClients,
  a: TrampolinePaymentArgs,
): Promise<{ route: object; firstHopRecords: Record<string, Buffer>; plan: TrampolinePlan }> {
  const t = a.types ?? { ...DEFAULT_ASYNC_PAYMENT_TYPES, trampolineRequest: 4280153n };
  const holdBlocks = a.holdBlocks ?? a.asyncHold.maxHoldBlocks ?? DEFAULT_HOLD_BLOCKS;
  const deliver = a.deliverMsat ?? a.amountMsat;
  if (deliver === undefined) throw senderError('bad_argument', 'trampoline payment needs deliverMsat');
  const planned = planTrampoline(deliver, holdBlocks, a.marginBlocks ?? DEFAULT_MARGIN_BLOCKS, {
    ...DEFAULT_TRAMPOLINE_BUDGET,
    ...a.budget,
  });
  const amountMsat = a.amountMsat ?? planned.amountMsat;
  const cltvBudget = a.cltvBudget ?? planned.routeCltvBlocks;
  if (!Number.isSafeInteger(cltvBudget) || cltvBudget < 1 || cltvBudget > LND_MAX_ROUTE_CLTV)
    throw senderError(
      'hold_budget',
      `trampoline cltv budget ${cltvBudget} is outside 1..${LND_MAX_ROUTE_CLTV}`,
    );
  const plan: TrampolinePlan =
    a.amountMsat === undefined && a.cltvBudget === undefined
      ? planned
      : { ...planned, amountMsat, routeCltvBlocks: cltvBudget, totalFeesMsat: amountMsat - deliver };
  const height = a.currentHeight ?? (await currentHeight(c));
  const expiry = height + cltvBudget;
  // The onion's outgoing_cltv_value sits below our HTLC's expiry like a real forward's would.
  const outgoing = expiry - 40;
  const amt = amountMsat.toString();
  // Newer lncli prints channel ids as BLOCKxTXxOUT; gRPC wants the uint64.
  const chanId = (id: string): string => {
    if (id.includes('x')) return parseScid(id).toString();
    if (!/^\d{1,20}$/.test(id))
      throw senderError('bad_argument', `not a short channel id: ${id.slice(0, 70)}`);
    return id;
  };
  const lspRecords: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(a.lspRecords ?? {})) lspRecords[k] = Buffer.from(v);
  const route = {
    total_time_lock: expiry,
    total_amt_msat: amt,
    total_fees_msat: '0',
    hops: [
      {
        chan_id: chanId(a.firstChanId),
        pub_key: bytesToHex(a.lsp),
        amt_to_forward_msat: amt,
        fee_msat: '0',
        expiry: outgoing,
        custom_records: {
          ...lspRecords,
          [outKey(t.asyncHold)]: Buffer.from(encodeAsyncHold({ ...a.asyncHold, maxHoldBlocks: holdBlocks })),
          [outKey(t.trampolineRequest)]: Buffer.from(a.trampolineRequest),
        },
      },
      {
        chan_id: chanId(a.virtualChanId ?? DEFAULT_VIRTUAL_CHAN_ID),
        pub_key: bytesToHex(a.lsp),
        amt_to_forward_msat: amt,
        fee_msat: '0',
        expiry: outgoing,
      },
    ],
  };
  return { route, firstHopRecords: { [outKey(t.holdHtlc)]: Buffer.alloc(0) }, plan };
}

/** One SendToRouteV2 attempt with our first-hop records, waited for until it resolves. */
export async function sendToRoute(
  c: LndClients,
  paymentHash: Uint8Array,
  /** A Route as BuildRoute returns it, or one we assembled (fields LND fills in may be absent). */
  route: object,
  firstHopRecords: Record<string, Buffer>,
  timeoutMs: number,
): Promise<AsyncPaymentResult> {
  let attempt: HtlcAttemptMsg;
  try {
    attempt = await unary<HtlcAttemptMsg>(
      c.router,
      'SendToRouteV2',
      {
        payment_hash: Buffer.from(paymentHash),
        route,
        skip_temp_err: false,
        first_hop_custom_records: firstHopRecords,
      },
      timeoutMs,
    );
  } catch (e) {
    throw lndError('rpc', `SendToRouteV2 failed: ${(e as GrpcError).details ?? (e as Error).message}`);
  }
  return {
    status: attempt.status,
    preimage: attempt.preimage.length === 32 ? new Uint8Array(attempt.preimage) : undefined,
    failureCode: attempt.failure?.code,
    route: attempt.route,
  };
}
