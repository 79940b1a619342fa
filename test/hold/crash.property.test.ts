// Crash property: the engine is killed between any two steps (a store write or a call to the host),
// reopened on the same database, and the host replays every unanswered HTLC. Over many seeded random
// schedules every HTLC must end with exactly one verdict, none after its deadline, none lost, never two
// different ones for a key, MPP parts alike, and no payment made twice.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { HoldEngine, type CrashStep } from '../../plugin/hold/engine.js';
import type { InterceptedHtlc } from '../../plugin/hold/backend.js';
import type { EngineConfigInput } from '../../plugin/hold/policy.js';
import { nullLogger } from '../../plugin/ops/log.js';
import { ManualClock, drain } from '../helpers/manual-clock.js';
import { SimHost, hex, makeHtlc } from '../helpers/sim-host.js';
import { tmpBase } from './setup.js';
import { prng } from '../helpers/prng.js';

const RUNS = Number(process.env.HOLD_PROPERTY_RUNS ?? 1500);

const config: EngineConfigInput = {
  maxHoldBlocks: 12,
  safetyBlocks: 2,
  downstreamMinBlocks: 2,
  minHoldBlocks: 2,
  mppTimeoutMs: 5_000,
  earlyReleaseMs: 3_000,
  notifyBaseMs: 1_000,
  notifyCapMs: 4_000,
  caps: { perPeerCount: 4, globalCount: 6 },
};

interface Payment {
  parts: InterceptedHtlc[];
  offered: number;
  token: Uint8Array | undefined;
}

interface Tally {
  crashes: number;
  crashSteps: Set<CrashStep>;
  verdicts: Map<string, number>;
}

async function runSchedule(seed: number, tally: Tally): Promise<void> {
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T | undefined =>
    xs.length === 0 ? undefined : xs[int(0, xs.length - 1)];
  const dir = mkdtempSync(join(tmpBase, 'hold-crash-'));
  const dbPath = join(dir, 'holds.sqlite');
  const host = new SimHost({ height: 1000 });
  const clock = new ManualClock();
  const ctx = `seed ${seed}`;

  let crashesLeft = int(0, 3);
  let stepsToCrash: number | undefined;
  const crashPoint = (step: CrashStep): boolean => {
    if (stepsToCrash === undefined) return false;
    stepsToCrash -= 1;
    if (stepsToCrash >= 0) return false;
    stepsToCrash = undefined;
    tally.crashes += 1;
    tally.crashSteps.add(step);
    return true;
  };
  const open = async (): Promise<HoldEngine> => {
    for (let attempt = 0; ; attempt++) {
      // Crashes are budgeted, so an engine that keeps dying on its own is a bug, not bad luck.
      if (attempt > 5) throw new Error(`${ctx}: engine dies at every start`);
      if (crashesLeft > 0) {
        crashesLeft -= 1;
        stepsToCrash = int(0, 12);
      } else stepsToCrash = undefined;
      const e = await HoldEngine.open({
        dbPath,
        backend: host,
        config,
        logger: nullLogger,
        clock,
        crashPoint,
      });
      await e.start();
      await drain();
      if (!e.stopped) return e;
    }
  };

  const payments: Payment[] = [];
  for (let i = 0, n = int(1, 4); i < n; i++) {
    const nparts = rnd() < 0.35 ? 2 : 1;
    const trampoline = rnd() < 0.3;
    const token = rnd() < 0.5 ? sha256(new TextEncoder().encode(`token ${seed} ${i}`)) : undefined;
    const preimage = sha256(new TextEncoder().encode(`pre ${seed} ${i}`));
    const incomingExpiry = host.height + int(3, 30);
    const parts = Array.from({ length: nparts }, (_, j) =>
      makeHtlc(host, {
        key: `s${seed}/${i}/${j}`,
        preimage,
        peer: pick(['02' + 'a1'.repeat(32), '02' + 'b2'.repeat(32)]),
        amountInMsat: 60_000n,
        amountOutMsat: trampoline ? undefined : 50_000n,
        incomingExpiry,
        outgoingExpiry: trampoline ? undefined : incomingExpiry - int(0, 6),
        releaseToken: token,
        totalMsat: nparts > 1 ? (trampoline ? 120_000n : 100_000n) : undefined,
        trampoline,
      }),
    );
    if (trampoline) host.payOutcome.set(hex(parts[0]!.paymentHash), rnd() < 0.7);
    payments.push({ parts, offered: 0, token });
  }

  let engine = await open();
  const offerNext = (): boolean => {
    const p = pick(payments.filter((x) => x.offered < x.parts.length));
    if (!p) return false;
    host.offer(p.parts[p.offered++]!);
    return true;
  };

  for (let step = 0, steps = int(8, 30); step < steps; step++) {
    const r = rnd();
    if (r < 0.3) offerNext();
    else if (r < 0.55) {
      const kind = rnd();
      const notice = pick(host.notices);
      if (kind < 0.5 && notice) host.release(notice.replyPathId);
      else if (kind < 0.75) {
        const t = pick(payments)?.token;
        if (t) host.release(t);
      } else if (kind < 0.9 && notice) {
        const forged = Uint8Array.from(notice.replyPathId);
        forged[20] = forged[20]! ^ 0xff;
        host.release(forged);
      } else host.release(sha256(new Uint8Array([seed & 0xff, step])));
    } else if (r < 0.75) host.mine();
    else if (r < 0.85) clock.advance(int(500, 6_000));
    else if (r < 0.92) {
      const held = pick(engine.listHolds({ state: 'held' }));
      if (held) engine.failHold(held.holdId);
    } else host.replay();
    await drain();
    if (engine.stopped) engine = await open();
  }

  // Wind down without crashes: everything must reach a verdict before its deadline.
  crashesLeft = 0;
  stepsToCrash = undefined;
  if (engine.stopped) engine = await open();
  while (offerNext());
  await drain();
  for (let i = 0; i < 100 && host.unresolved().length > 0; i++) {
    host.mine();
    clock.advance(5_000);
    await drain();
  }
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });

  assert.deepEqual(host.violations, [], ctx);
  const maxHold = config.maxHoldBlocks!;
  for (const p of payments) {
    const kinds = new Set<string>();
    for (const h of p.parts) {
      const rec = host.htlcs.get(h.key);
      assert.ok(rec, `${ctx}: ${h.key} was offered`);
      assert.equal(rec.verdicts.length, 1, `${ctx}: ${h.key} has exactly one verdict`);
      const seen = rec.verdicts[0]!;
      const deadline = Math.min(
        h.incomingExpiry - config.safetyBlocks!,
        h.outgoingExpiry === undefined ? Infinity : h.outgoingExpiry - config.downstreamMinBlocks!,
        rec.lastOfferHeight + maxHold,
      );
      // An HTLC that arrives already too close to its deadline is refused when first shown.
      const refused = seen.verdict.kind === 'fail' && seen.verdict.reason === 'not_holdable';
      const bound = refused ? Math.max(deadline, rec.firstOfferHeight) : deadline;
      assert.ok(seen.height <= bound, `${ctx}: ${h.key} verdict at ${seen.height}, deadline ${bound}`);
      if (seen.verdict.kind === 'settle') {
        assert.equal(hex(sha256(seen.verdict.preimage)), hex(h.paymentHash), `${ctx}: settle preimage`);
      }
      const label = seen.verdict.kind === 'fail' ? `fail:${seen.verdict.reason}` : seen.verdict.kind;
      kinds.add(label);
      tally.verdicts.set(label, (tally.verdicts.get(label) ?? 0) + 1);
    }
    // Parts of one set end alike (a late part refused after its set finished may differ, so only
    // compare when every part was held together: no not_holdable/cap_exceeded refusal among them).
    if (![...kinds].some((k) => k === 'fail:not_holdable' || k === 'fail:cap_exceeded')) {
      assert.equal(kinds.size, 1, `${ctx}: MPP parts ended alike (${[...kinds].join(', ')})`);
    }
  }
}

describe('hold engine: crash property', () => {
  it(`every HTLC gets exactly one verdict, in time, across ${RUNS} crash schedules`, async () => {
    const tally: Tally = { crashes: 0, crashSteps: new Set(), verdicts: new Map() };
    for (let seed = 1; seed <= RUNS; seed++) await runSchedule(seed, tally);
    // The property is only worth something if the schedules really crashed everywhere and reached
    // every kind of outcome.
    assert.ok(tally.crashes > RUNS / 3, `crashes: ${tally.crashes}`);
    if (process.env.HOLD_PROPERTY_VERBOSE)
      console.error(tally.crashes, [...tally.crashSteps], [...tally.verdicts]);
    for (const step of ['write', 'verdict', 'notice', 'pay', 'track'] as const) {
      assert.ok(tally.crashSteps.has(step), `crashed at least once at ${step}`);
    }
    for (const k of [
      'continue',
      'settle',
      'fail:expired',
      'fail:payment_failed',
      'fail:operator',
      'fail:cap_exceeded',
    ]) {
      assert.ok(
        (tally.verdicts.get(k) ?? 0) > 0,
        `some schedule ended in ${k}: ${JSON.stringify([...tally.verdicts])}`,
      );
    }
  });
});
