// The sender's hold arithmetic: final CLTV for a hold, LND's 2016-block cap, fee and delta headroom
// for the hops after the LSP, and the trampoline amount and timelock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_TRAMPOLINE_BUDGET,
  LND_MAX_ROUTE_CLTV,
  addHeadroom,
  checkRoute,
  finalCltvDeltaFor,
  planTrampoline,
  type BudgetRoute,
} from '../../plugin/sender/hold-budget.js';
import { SenderError } from '../../plugin/sender/errors.js';
import { prng } from '../helpers/prng.js';

interface Policy {
  baseMsat: bigint;
  ppm: bigint;
  delta: number;
}
const fee = (p: Policy, amt: bigint): bigint => p.baseMsat + (amt * p.ppm) / 1_000_000n;

/**
 * A route as LND's BuildRoute makes it: `policies[i]` is the policy node i charges for forwarding
 * (hops 0..n-2 forward; the last hop is the recipient).
 */
function lndRoute(amt: bigint, finalDelta: number, height: number, policies: Policy[]): BudgetRoute {
  const n = policies.length + 1;
  const hops = Array.from({ length: n }, () => ({ amtToForwardMsat: 0n, feeMsat: 0n, expiry: 0 }));
  hops[n - 1] = { amtToForwardMsat: amt, feeMsat: 0n, expiry: height + finalDelta };
  let expiryIn = height + finalDelta;
  for (let i = n - 2; i >= 0; i--) {
    // Node i forwards what node i+1 receives and sends it with node i+1's incoming expiry.
    const next = hops[i + 1]!;
    hops[i]!.amtToForwardMsat = next.amtToForwardMsat + next.feeMsat;
    hops[i]!.expiry = expiryIn;
    hops[i]!.feeMsat = fee(policies[i]!, hops[i]!.amtToForwardMsat);
    expiryIn += policies[i]!.delta;
  }
  return { totalAmtMsat: hops[0]!.amtToForwardMsat + hops[0]!.feeMsat, totalTimeLock: expiryIn, hops };
}

const lndDefault: Policy = { baseMsat: 1000n, ppm: 1n, delta: 80 };
const throwsCode = (fn: () => unknown, code: string, re: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof SenderError && e.code === code && re.test(e.message));

describe('hold budget: final CLTV', () => {
  it("is the recipient's minimum + the hold + the margin", () => {
    assert.equal(finalCltvDeltaFor({ minFinalCltvDelta: 80, holdBlocks: 144, marginBlocks: 6 }), 230);
    assert.equal(finalCltvDeltaFor({ minFinalCltvDelta: 40, holdBlocks: 1, marginBlocks: 0 }), 41);
  });

  it('refuses at once a hold the final hop alone cannot carry, naming the longest it can', () => {
    throwsCode(
      () => finalCltvDeltaFor({ minFinalCltvDelta: 80, holdBlocks: 2000, marginBlocks: 6 }),
      'hold_budget',
      /2086 blocks.*caps a route at 2016.*hold at most 1930 blocks/,
    );
    // Exactly at the cap is allowed.
    assert.equal(finalCltvDeltaFor({ minFinalCltvDelta: 80, holdBlocks: 1930, marginBlocks: 6 }), 2016);
  });

  it('refuses holds that are not whole positive block counts', () => {
    for (const holdBlocks of [0, -1, 1.5, Number.NaN])
      throwsCode(
        () => finalCltvDeltaFor({ minFinalCltvDelta: 80, holdBlocks, marginBlocks: 6 }),
        'bad_argument',
        /holdBlocks/,
      );
  });
});

describe('hold budget: headroom for the hops after the LSP', () => {
  const h = 500;
  const plain = lndRoute(20_000_000n, 230, h, [lndDefault, lndDefault]);

  it('worked example: S -> L -> RL -> R, LND default policies, 20k sat', () => {
    assert.equal(plain.totalAmtMsat, 20_002_040n);
    assert.equal(plain.totalTimeLock, h + 390);
    const { route, feeMsat } = addHeadroom(plain, { feeBaseMsat: 1000n, feePpm: 500, cltvBlocks: 12 });
    // RL: its fee (1020) + 1000 + 0.05% of 20M (10 000); L's fee scaled up to the larger forward.
    assert.equal(route.hops[1]!.feeMsat, 12_020n);
    assert.equal(route.hops[0]!.amtToForwardMsat, 20_012_020n);
    assert.equal(route.hops[0]!.feeMsat, 1022n); // >= 1000 + 20 at 20 012 020
    assert.equal(route.totalAmtMsat, 20_013_042n);
    assert.equal(feeMsat, 11_002n);
    // RL's delta 80 -> 92; L's stays 80; the recipient's expiry and amount stay.
    assert.deepEqual(
      route.hops.map((x) => x.expiry),
      [h + 322, h + 230, h + 230],
    );
    assert.equal(route.totalTimeLock, h + 402);
    assert.equal(route.hops[2]!.amtToForwardMsat, 20_000_000n);
  });

  it('no headroom leaves the route as LND built it', () => {
    const { route, feeMsat } = addHeadroom(plain, { feeBaseMsat: 0n, feePpm: 0, cltvBlocks: 0 });
    assert.deepEqual(route, plain);
    assert.equal(feeMsat, 0n);
  });

  it('a two-hop route (LSP straight to the recipient) has no hop to give headroom to', () => {
    const r = lndRoute(5_000_000n, 100, h, [lndDefault]);
    const { route, feeMsat } = addHeadroom(r, { feeBaseMsat: 5000n, feePpm: 5000, cltvBlocks: 40 });
    assert.deepEqual(route, r);
    assert.equal(feeMsat, 0n);
  });

  it('over random routes: every hop after the LSP can raise its policy by the headroom and still forward', () => {
    const rnd = prng(8);
    for (let run = 0; run < 2000; run++) {
      const n = 2 + Math.floor(rnd() * 4); // forwarding nodes: L plus 1..4 more
      const policies = Array.from({ length: n }, () => ({
        baseMsat: BigInt(Math.floor(rnd() * 5000)),
        ppm: BigInt(Math.floor(rnd() * 5000)),
        delta: 18 + Math.floor(rnd() * 130),
      }));
      const amt = 1000n + BigInt(Math.floor(rnd() * 1e10));
      const head = {
        feeBaseMsat: BigInt(Math.floor(rnd() * 3000)),
        feePpm: Math.floor(rnd() * 3000),
        cltvBlocks: Math.floor(rnd() * 40),
      };
      const r = lndRoute(amt, 200, h, policies);
      const { route, feeMsat } = addHeadroom(r, head);
      const ctx = `run ${run}: ${JSON.stringify({ n, amt: String(amt), head: { ...head, feeBaseMsat: String(head.feeBaseMsat) } })}`;
      const hops = route.hops;
      const last = hops[hops.length - 1]!;
      assert.equal(last.amtToForwardMsat, amt, ctx);
      assert.equal(last.expiry, h + 200, ctx);
      for (let i = 0; i < n; i++) {
        const incoming = i === 0 ? route.totalAmtMsat : hops[i - 1]!.amtToForwardMsat;
        const incomingExpiry = i === 0 ? route.totalTimeLock : hops[i - 1]!.expiry;
        const kept = incoming - hops[i]!.amtToForwardMsat;
        assert.equal(kept, hops[i]!.feeMsat, `${ctx}: hop ${i} fee field matches amounts`);
        const raised: Policy =
          i === 0
            ? policies[0]!
            : {
                baseMsat: policies[i]!.baseMsat + head.feeBaseMsat,
                ppm: policies[i]!.ppm + BigInt(head.feePpm),
                delta: policies[i]!.delta + head.cltvBlocks,
              };
        assert.ok(
          kept >= fee(raised, hops[i]!.amtToForwardMsat),
          `${ctx}: hop ${i} fee covers its raised policy`,
        );
        assert.ok(
          incomingExpiry - hops[i]!.expiry >= raised.delta,
          `${ctx}: hop ${i} delta covers its raised policy`,
        );
      }
      assert.equal(feeMsat, route.totalAmtMsat - r.totalAmtMsat, ctx);
      assert.equal(route.totalTimeLock - r.totalTimeLock, head.cltvBlocks * (n - 1), ctx);
    }
  });

  it('refuses negative headroom', () => {
    throwsCode(
      () => addHeadroom(plain, { feeBaseMsat: -1n, feePpm: 0, cltvBlocks: 0 }),
      'bad_argument',
      /base/,
    );
    throwsCode(
      () => addHeadroom(plain, { feeBaseMsat: 0n, feePpm: -1, cltvBlocks: 0 }),
      'bad_argument',
      /ppm/,
    );
    throwsCode(
      () => addHeadroom(plain, { feeBaseMsat: 0n, feePpm: 0, cltvBlocks: -1 }),
      'bad_argument',
      /delta/,
    );
  });
});

describe("hold budget: LND's 2016-block cap on the whole route", () => {
  const h = 700;
  const budget = (holdBlocks: number) => ({ minFinalCltvDelta: 80, holdBlocks, marginBlocks: 6 });
  const build = (holdBlocks: number): BudgetRoute =>
    addHeadroom(lndRoute(1_000_000n, finalCltvDeltaFor(budget(holdBlocks)), h, [lndDefault, lndDefault]), {
      feeBaseMsat: 0n,
      feePpm: 0,
      cltvBlocks: 12,
    }).route;
  const extra = { headroomFeeMsat: 0n, headroomCltvBlocks: 12, amountMsat: 1_000_000n };

  it("the issue's case: a 144-block hold needs 402 blocks on S -> L -> RL -> R", () => {
    const plan = checkRoute(build(144), budget(144), h, extra);
    assert.equal(plan.finalCltvDelta, 230);
    assert.equal(plan.routeCltvBlocks, 402);
    assert.equal(plan.maxHoldBlocks, 144 + LND_MAX_ROUTE_CLTV - 402);
  });

  it('carries exactly up to the cap and refuses one block more, naming the longest hold', () => {
    // 80 + 6 + 80 + 92 = 258 blocks besides the hold.
    assert.equal(checkRoute(build(1758), budget(1758), h, extra).routeCltvBlocks, 2016);
    throwsCode(
      () => checkRoute(build(1759), budget(1759), h, extra),
      'hold_budget',
      /needs 2017 blocks.*caps a route at 2016.*at most 1758 blocks, or use trampoline mode/,
    );
  });

  it('a route that gave the final hop less than asked is refused', () => {
    const r = lndRoute(1_000_000n, 200, h, [lndDefault, lndDefault]);
    throwsCode(() => checkRoute(r, budget(144), h, extra), 'route', /200 blocks.*needs 230/);
  });

  it('reports what the route costs beyond the amount', () => {
    const r = lndRoute(1_000_000n, 230, h, [lndDefault, lndDefault]);
    assert.equal(checkRoute(r, budget(144), h, extra).totalFeesMsat, r.totalAmtMsat - 1_000_000n);
  });
});

describe('hold budget: trampoline mode', () => {
  const t = DEFAULT_TRAMPOLINE_BUDGET;
  const lspFee = (x: bigint): bigint => t.lspFeeBaseMsat + (x * BigInt(t.lspFeePpm)) / 1_000_000n;

  it("sends the least amount that leaves the onward fee limit after the LSP's own check", () => {
    const rnd = prng(3);
    for (let run = 0; run < 500; run++) {
      const deliver = 1n + BigInt(Math.floor(rnd() * 1e11));
      const p = planTrampoline(deliver, 144, 6, t);
      const onward = t.onwardFeeBaseMsat + (deliver * BigInt(t.onwardFeePpm) + 999_999n) / 1_000_000n;
      assert.ok(p.amountMsat - lspFee(p.amountMsat) >= deliver + onward, `run ${run}`);
      assert.ok(p.amountMsat - 1n - lspFee(p.amountMsat - 1n) < deliver + onward, `run ${run}: least`);
      assert.equal(p.onwardFeeLimitMsat, p.amountMsat - lspFee(p.amountMsat) - deliver);
      assert.equal(p.totalFeesMsat, p.amountMsat - deliver);
    }
  });

  it("timelock: hold + onward + the LSP's safety blocks + margin, capped at 2016", () => {
    const p = planTrampoline(10_000_000n, 144, 6, t);
    assert.equal(p.routeCltvBlocks, 144 + 288 + 12 + 6);
    assert.equal(p.maxHoldBlocks, 2016 - 306);
    assert.equal(planTrampoline(10_000_000n, 1710, 6, t).routeCltvBlocks, 2016);
    throwsCode(
      () => planTrampoline(10_000_000n, 1711, 6, t),
      'hold_budget',
      /2017 blocks.*caps a route at 2016.*hold at most 1710 blocks/,
    );
  });
});
