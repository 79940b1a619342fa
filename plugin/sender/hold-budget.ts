// The arithmetic of a hold the sender budgets: how much timelock the route must carry so the
// recipient can still accept the HTLC after `holdBlocks` blocks at the LSP, and the fee and delta
// headroom that lets the hops after the LSP raise their policy during the hold. Pure functions over
// a small route shape; lnd-sender.ts converts LND's Route to it and back.
import { senderError } from './errors.js';

/**
 * LND refuses to send or forward an HTLC whose expiry lies more than this many blocks ahead
 * (`max-cltv-expiry`, default 2016, and the same cap on every LND hop's outgoing HTLC).
 */
export const LND_MAX_ROUTE_CLTV = 2016;
/** One day of blocks: the hold a payment may wait when the caller says nothing. */
export const DEFAULT_HOLD_BLOCKS = 144;
/**
 * Blocks on top of the recipient's minimum: one or two may pass between building the route and the
 * LSP taking the HTLC, and between the release and the HTLC reaching the recipient.
 */
export const DEFAULT_MARGIN_BLOCKS = 6;

/** What the hops after the LSP may raise their policy by during the hold and still forward. */
export interface Headroom {
  /** Extra base fee per hop after the LSP. */
  feeBaseMsat: bigint;
  /** Extra proportional fee per hop after the LSP, on what it forwards. */
  feePpm: number;
  /** Extra cltv_expiry_delta per hop after the LSP. */
  cltvBlocks: number;
}

/** 1 sat + 0.05% per hop, and 12 blocks: what an automatic fee manager's usual step fits in. */
export const DEFAULT_HEADROOM: Headroom = { feeBaseMsat: 1_000n, feePpm: 500, cltvBlocks: 12 };

export interface HoldBudget {
  /** The hold a payment may wait at the LSP, in blocks; written into async_hold.max_hold_blocks. */
  holdBlocks: number;
  /** The recipient's min_final_cltv_expiry_delta (invoice), or what keysend needs. */
  minFinalCltvDelta: number;
  marginBlocks: number;
}

/** One hop as the budget sees it (LND's Route hop: the node it reaches, what it is told). */
export interface BudgetHop {
  /** What this hop forwards (or, the last one, receives). */
  amtToForwardMsat: bigint;
  /** What this hop keeps: what it receives minus amtToForwardMsat. */
  feeMsat: bigint;
  /** The expiry of the HTLC this hop sends on (the last one: the HTLC it receives). */
  expiry: number;
}

export interface BudgetRoute {
  /** What the sender sends the first hop (the LSP). */
  totalAmtMsat: bigint;
  /** The expiry of the HTLC the sender sends the LSP. */
  totalTimeLock: number;
  /** LSP first, recipient last. */
  hops: BudgetHop[];
}

/** What a budgeted route costs the sender beyond the plain route, and the timelock it carries. */
export interface HoldPlan {
  holdBlocks: number;
  /** Final hop's expiry minus the height the route was built at. */
  finalCltvDelta: number;
  /** The sender's HTLC expiry minus that height: checked against LND_MAX_ROUTE_CLTV. */
  routeCltvBlocks: number;
  /** The longest hold this route could carry within LND's cap. */
  maxHoldBlocks: number;
  /** msat the fee headroom adds (paid to the hops after the LSP if they do not raise fees). */
  headroomFeeMsat: bigint;
  /** Blocks of timelock the delta headroom adds. */
  headroomCltvBlocks: number;
  /** Everything the sender pays beyond the amount delivered. */
  totalFeesMsat: bigint;
}

function checkBlocks(n: number, what: string, min = 0): void {
  if (!Number.isSafeInteger(n) || n < min)
    throw senderError('bad_argument', `${what} must be a whole number of blocks >= ${min}, got ${n}`);
}

export function checkHeadroom(h: Headroom): void {
  if (h.feeBaseMsat < 0n) throw senderError('bad_argument', 'fee headroom base must not be negative');
  if (!Number.isSafeInteger(h.feePpm) || h.feePpm < 0)
    throw senderError('bad_argument', `fee headroom ppm must be a whole number >= 0, got ${h.feePpm}`);
  checkBlocks(h.cltvBlocks, 'delta headroom');
}

/**
 * The final_cltv_delta to ask the route for: recipient's minimum + hold + margin. Refuses at once a
 * budget that alone exceeds LND's cap (the hops' deltas only add to it).
 */
export function finalCltvDeltaFor(b: HoldBudget): number {
  checkBlocks(b.holdBlocks, 'holdBlocks', 1);
  checkBlocks(b.minFinalCltvDelta, "the recipient's min_final_cltv_expiry_delta");
  checkBlocks(b.marginBlocks, 'margin');
  const d = b.minFinalCltvDelta + b.holdBlocks + b.marginBlocks;
  if (d > LND_MAX_ROUTE_CLTV) {
    throw senderError(
      'hold_budget',
      `a hold of ${b.holdBlocks} blocks cannot be carried: the final hop alone would need ${d} blocks ` +
        `(recipient's minimum ${b.minFinalCltvDelta} + hold ${b.holdBlocks} + margin ${b.marginBlocks}), ` +
        `and LND caps a route at ${LND_MAX_ROUTE_CLTV}; ` +
        `hold at most ${LND_MAX_ROUTE_CLTV - b.minFinalCltvDelta - b.marginBlocks} blocks`,
    );
  }
  return d;
}

/** Fee of a hop whose forward grows from `oldAmt` to `newAmt`: an upper bound of base + rate·amt. */
function scaledFee(fee: bigint, oldAmt: bigint, newAmt: bigint): bigint {
  if (newAmt === oldAmt || fee === 0n) return fee;
  if (oldAmt <= 0n) throw senderError('route', 'route hop forwards nothing');
  // ceil(fee·new/old) bounds base·new/old + rate·new; +1 covers LND's rounding down of rate·old.
  return (fee * newAmt + oldAmt - 1n) / oldAmt + 1n;
}

/**
 * Adds headroom for every hop strictly between the LSP (hop 0) and the recipient (last hop): each
 * gets `feeBaseMsat + feePpm` of what it forwards on top of its fee, and `cltvBlocks` on top of its
 * delta. Amounts and expiries upstream grow to match; the recipient's amount and expiry stay.
 */
export function addHeadroom(r: BudgetRoute, h: Headroom): { route: BudgetRoute; feeMsat: bigint } {
  checkHeadroom(h);
  const n = r.hops.length;
  if (n < 2)
    throw senderError('bad_argument', 'a route through the LSP needs at least the LSP and the recipient');
  const hops = r.hops.map((x) => ({ ...x }));
  const between = (i: number): boolean => i >= 1 && i <= n - 2;
  // Walk back from the recipient: hop i receives hops[i-1].amtToForwardMsat (the total for i = 0),
  // and its incoming expiry is hops[i-1].expiry (the total time lock for i = 0).
  let shift = 0;
  for (let i = n - 1; i >= 1; i--) {
    const hop = hops[i]!;
    const was = r.hops[i]!;
    hop.feeMsat = scaledFee(was.feeMsat, was.amtToForwardMsat, hop.amtToForwardMsat);
    if (between(i)) hop.feeMsat += h.feeBaseMsat + ceilPpm(hop.amtToForwardMsat, h.feePpm);
    hops[i - 1]!.amtToForwardMsat = hop.amtToForwardMsat + hop.feeMsat;
    hop.expiry += shift;
    if (between(i)) shift += h.cltvBlocks;
  }
  const lsp = hops[0]!;
  lsp.feeMsat = scaledFee(r.hops[0]!.feeMsat, r.hops[0]!.amtToForwardMsat, lsp.amtToForwardMsat);
  lsp.expiry += shift;
  const total = lsp.amtToForwardMsat + lsp.feeMsat;
  return {
    route: { totalAmtMsat: total, totalTimeLock: r.totalTimeLock + shift, hops },
    feeMsat: total - r.totalAmtMsat,
  };
}

function ceilPpm(amt: bigint, ppm: number): bigint {
  return (amt * BigInt(ppm) + 999_999n) / 1_000_000n;
}

/**
 * Checks a built route against the budget and LND's cap, at the height it was built for. Throws a
 * clear error when the route cannot carry the hold.
 */
export function checkRoute(
  r: BudgetRoute,
  b: HoldBudget,
  height: number,
  extra: { headroomFeeMsat: bigint; headroomCltvBlocks: number; amountMsat: bigint },
): HoldPlan {
  const last = r.hops[r.hops.length - 1];
  if (!last) throw senderError('route', 'empty route');
  const finalCltvDelta = last.expiry - height;
  const wanted = b.minFinalCltvDelta + b.holdBlocks + b.marginBlocks;
  if (finalCltvDelta < wanted) {
    throw senderError(
      'route',
      `the route's final hop has ${finalCltvDelta} blocks of timelock, the hold budget needs ${wanted}`,
    );
  }
  const routeCltvBlocks = r.totalTimeLock - height;
  const maxHoldBlocks = b.holdBlocks + LND_MAX_ROUTE_CLTV - routeCltvBlocks;
  if (routeCltvBlocks > LND_MAX_ROUTE_CLTV) {
    const hopDeltas = routeCltvBlocks - finalCltvDelta;
    throw senderError(
      'hold_budget',
      `a hold of ${b.holdBlocks} blocks cannot be carried on this route: it needs ${routeCltvBlocks} blocks ` +
        `of timelock (final ${finalCltvDelta} = recipient's minimum ${b.minFinalCltvDelta} + hold ${b.holdBlocks} ` +
        `+ margin ${b.marginBlocks}, plus ${hopDeltas} of hop deltas and headroom), and LND caps a route at ` +
        `${LND_MAX_ROUTE_CLTV}; ` +
        (maxHoldBlocks >= 1
          ? `this route carries a hold of at most ${maxHoldBlocks} blocks, or use trampoline mode`
          : 'this route carries no hold at all; use trampoline mode or a shorter route'),
    );
  }
  return {
    holdBlocks: b.holdBlocks,
    finalCltvDelta,
    routeCltvBlocks,
    maxHoldBlocks,
    headroomFeeMsat: extra.headroomFeeMsat,
    headroomCltvBlocks: extra.headroomCltvBlocks,
    totalFeesMsat: r.totalAmtMsat - extra.amountMsat,
  };
}

/** What the sender gives the LSP in trampoline mode beyond the invoice, and the timelock for it. */
export interface TrampolineBudget {
  /** The LSP's trampoline fee (its trampoline-fee-base-msat / trampoline-fee-ppm). */
  lspFeeBaseMsat: bigint;
  lspFeePpm: number;
  /** The most the LSP may spend on routing fees onward (the fee headroom in this mode). */
  onwardFeeBaseMsat: bigint;
  onwardFeePpm: number;
  /** Blocks of timelock the LSP may give its onward route, counted from the release. */
  onwardCltvBlocks: number;
  /** The LSP's safety-blocks: it never uses the last ones before our HTLC's expiry. */
  lspSafetyBlocks: number;
}

/**
 * Defaults that match the LSP's (1 sat + 0.1%, 12 safety blocks); onward up to 1 sat + 0.5% in fees
 * and 288 blocks, which fits a few hops of LND's default delta (80) and the recipient's minimum.
 */
export const DEFAULT_TRAMPOLINE_BUDGET: TrampolineBudget = {
  lspFeeBaseMsat: 1_000n,
  lspFeePpm: 1_000,
  onwardFeeBaseMsat: 1_000n,
  onwardFeePpm: 5_000,
  onwardCltvBlocks: 288,
  lspSafetyBlocks: 12,
};

export interface TrampolinePlan {
  holdBlocks: number;
  /** Our HTLC's expiry minus the height we send at. */
  routeCltvBlocks: number;
  maxHoldBlocks: number;
  /** The onward routing fees the LSP may spend (what it keeps if it spends less). */
  onwardFeeLimitMsat: bigint;
  lspFeeMsat: bigint;
  /** What we send the LSP. */
  amountMsat: bigint;
  /** Everything beyond the amount delivered. */
  totalFeesMsat: bigint;
}

/**
 * What to send the LSP so that, after its trampoline fee, it may spend up to the onward fee limit,
 * and how much timelock our HTLC needs: hold + onward + the LSP's safety blocks + margin.
 */
export function planTrampoline(
  deliverMsat: bigint,
  holdBlocks: number,
  marginBlocks: number,
  t: TrampolineBudget,
): TrampolinePlan {
  if (deliverMsat <= 0n) throw senderError('bad_argument', 'amount to deliver must be positive');
  checkBlocks(holdBlocks, 'holdBlocks', 1);
  checkBlocks(marginBlocks, 'margin');
  checkBlocks(t.onwardCltvBlocks, 'onward cltv budget', 1);
  checkBlocks(t.lspSafetyBlocks, "the LSP's safety blocks");
  for (const [v, what] of [
    [t.lspFeePpm, "the LSP's fee ppm"],
    [t.onwardFeePpm, 'onward fee ppm'],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v >= 1_000_000)
      throw senderError('bad_argument', `${what} must be a whole number in [0, 1000000), got ${v}`);
  }
  if (t.lspFeeBaseMsat < 0n || t.onwardFeeBaseMsat < 0n)
    throw senderError('bad_argument', 'trampoline fee bases must not be negative');
  const onward = t.onwardFeeBaseMsat + ceilPpm(deliverMsat, t.onwardFeePpm);
  const need = deliverMsat + onward;
  const lspFee = (x: bigint): bigint => t.lspFeeBaseMsat + (x * BigInt(t.lspFeePpm)) / 1_000_000n;
  // Smallest x with x - lspFee(x) >= need (the LSP's own check; x - lspFee(x) never falls as x
  // grows), found from the closed form, which lands within a msat or two of it.
  let x = ((need + t.lspFeeBaseMsat) * 1_000_000n) / BigInt(1_000_000 - t.lspFeePpm);
  while (x - lspFee(x) < need) x += 1n;
  while (x - 1n - lspFee(x - 1n) >= need) x -= 1n;
  const fixed = t.onwardCltvBlocks + t.lspSafetyBlocks + marginBlocks;
  const routeCltvBlocks = holdBlocks + fixed;
  if (routeCltvBlocks > LND_MAX_ROUTE_CLTV) {
    throw senderError(
      'hold_budget',
      `a hold of ${holdBlocks} blocks cannot be carried in trampoline mode: our HTLC would need ` +
        `${routeCltvBlocks} blocks of timelock (hold ${holdBlocks} + onward ${t.onwardCltvBlocks} + the LSP's ` +
        `safety ${t.lspSafetyBlocks} + margin ${marginBlocks}), and LND caps a route at ${LND_MAX_ROUTE_CLTV}; ` +
        `hold at most ${LND_MAX_ROUTE_CLTV - fixed} blocks`,
    );
  }
  return {
    holdBlocks,
    routeCltvBlocks,
    maxHoldBlocks: LND_MAX_ROUTE_CLTV - fixed,
    onwardFeeLimitMsat: x - lspFee(x) - deliverMsat,
    lspFeeMsat: lspFee(x),
    amountMsat: x,
    totalFeesMsat: x - deliverMsat,
  };
}
