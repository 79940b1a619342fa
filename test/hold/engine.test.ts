import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { releasePathId, verifyPathId } from '../../plugin/hold/release.js';
import { makeHtlc, hex } from '../helpers/sim-host.js';
import { drain, offerNew, rig, testConfig } from './setup.js';

const safety = testConfig.safetyBlocks ?? 0;

describe('hold engine: intake and verdicts', () => {
  it('passes a non-async HTLC through at once without storing it', async () => {
    const r = await rig();
    const h = await offerNew(r, { async: false });
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    assert.equal(r.engine.listHolds().length, 0);
    await r.done();
  });

  it('holds an async HTLC, notifies over every message path, and forwards on release', async () => {
    const r = await rig();
    const paths = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6])];
    const h = await offerNew(r, { messagePaths: paths });
    assert.equal(r.host.verdictOf(h.key), undefined, 'held: no verdict yet');
    assert.deepEqual(
      r.host.notices.map((n) => hex(n.messagePath)),
      paths.map(hex),
    );
    const [held] = r.engine.listHolds({ state: 'held' });
    assert.ok(held);
    const expected = releasePathId(r.host.key, Buffer.from(held.holdId, 'hex'));
    for (const n of r.host.notices) assert.equal(hex(n.replyPathId), hex(expected));
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    assert.equal(r.engine.listHolds({ state: 'forwarded' }).length, 1);
    await r.done();
  });

  it('retries held_htlc_available with capped exponential backoff until release', async () => {
    const r = await rig();
    await offerNew(r);
    const counts: number[] = [r.host.notices.length];
    // base 1s, cap 8s: retries at +1, +2, +4, +8, +8 ...
    for (const step of [999, 1, 2_000, 4_000, 8_000, 7_999, 1]) {
      r.clock.advance(step);
      counts.push(r.host.notices.length);
    }
    assert.deepEqual(counts, [1, 1, 2, 3, 4, 5, 5, 6]);
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    r.clock.advance(100_000);
    assert.equal(r.host.notices.length, 6, 'no notice after release');
    await r.done();
  });

  it('fails a hold exactly at its deadline, not before', async () => {
    const r = await rig();
    const h = await offerNew(r, { incomingExpiry: r.host.height + 40, outgoingExpiry: undefined });
    const failAt = r.host.height + 40 - safety;
    while (r.host.height < failAt - 1) r.host.mine();
    await drain();
    assert.equal(r.host.verdictOf(h.key), undefined);
    r.host.mine();
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'fail', reason: 'expired', trampoline: false });
    assert.equal(r.host.htlcs.get(h.key)!.verdicts[0]!.height, failAt);
    await r.done();
  });

  it('applies every term of the deadline rule (max hold, outgoing, auto-fail height)', async () => {
    const r = await rig();
    const base = r.host.height;
    const a = makeHtlc(r.host, { maxHoldBlocks: 8 });
    const b = makeHtlc(r.host, { outgoingExpiry: base + 20 });
    const c = makeHtlc(r.host, { autoFailHeight: base + 9 });
    for (const h of [a, b, c]) r.host.offer(h);
    await drain();
    const byKey = new Map(r.engine.listHolds().map((v) => [v.htlcKey, v.failAt]));
    assert.equal(byKey.get(a.key), base + 8);
    assert.equal(byKey.get(b.key), base + 20 - (testConfig.downstreamMinBlocks ?? 0));
    assert.equal(byKey.get(c.key), base + 8);
    await r.done();
  });

  it('refuses at intake an HTLC that cannot be held for the minimum', async () => {
    const r = await rig();
    const h = await offerNew(r, { incomingExpiry: r.host.height + safety + 5 });
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'fail', reason: 'not_holdable', trampoline: false });
    assert.ok(r.logger.lines.some((l) => l.msg.includes('deadline too close')));
    await r.done();
  });

  it('refuses hold_htlc without async_hold, and async_hold with no way to be released', async () => {
    const r = await rig();
    const a = makeHtlc(r.host, { async: false, holdFlag: true });
    const b = makeHtlc(r.host, { messagePaths: [] });
    r.host.offer(a);
    r.host.offer(b);
    await drain();
    assert.deepEqual(r.host.verdictOf(a.key), { kind: 'fail', reason: 'not_holdable', trampoline: false });
    assert.deepEqual(r.host.verdictOf(b.key), { kind: 'fail', reason: 'not_holdable', trampoline: false });
    await r.done();
  });
});

describe('hold engine: releases', () => {
  it('drops a release whose HMAC does not verify, with a log line, and keeps holding', async () => {
    const r = await rig();
    const h = await offerNew(r);
    const good = r.host.notices[0]!.replyPathId;
    const bad = Uint8Array.from(good);
    bad[31] = bad[31]! ^ 1;
    r.host.release(bad);
    // Right hold id, HMAC under another key.
    r.host.release(releasePathId(new Uint8Array(32).fill(9), good.subarray(0, 16)));
    await drain();
    assert.equal(r.host.verdictOf(h.key), undefined);
    assert.equal(r.logger.lines.filter((l) => l.msg.includes('HMAC does not verify')).length, 2);
    r.host.release(new Uint8Array(31));
    assert.ok(r.logger.lines.some((l) => l.msg.includes('not 32 bytes')));
    r.host.release(good);
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    await r.done();
  });

  it('keeps an unmatched (forged) release for a while, then drops it with a log line', async () => {
    const r = await rig();
    r.host.release(new Uint8Array(32).fill(0x42));
    assert.equal(r.engine.stats().earlyReleases, 1);
    r.clock.advance(testConfig.earlyReleaseMs! + 1);
    assert.equal(r.engine.stats().earlyReleases, 0);
    assert.ok(r.logger.lines.some((l) => l.msg.includes('matched no hold') && l.fields.why === 'expired'));
    await r.done();
  });

  it('ignores a duplicate release and a stale one (hold already finished)', async () => {
    const r = await rig();
    const h = await offerNew(r);
    const p = r.host.notices[0]!.replyPathId;
    r.host.release(p);
    r.host.release(p);
    await drain();
    assert.equal(r.host.htlcs.get(h.key)!.verdicts.length, 1);
    assert.ok(r.logger.lines.some((l) => l.msg.includes('duplicate release')));
    r.host.release(p);
    await drain();
    assert.ok(r.logger.lines.some((l) => l.msg.includes('finished hold')));
    assert.equal(r.host.htlcs.get(h.key)!.verdicts.length, 1);
    assert.deepEqual(r.host.violations, []);
    await r.done();
  });

  it('applies a release_token release that arrived before its HTLC', async () => {
    const r = await rig();
    const token = new Uint8Array(32).fill(0x33);
    r.host.release(token);
    const h = await offerNew(r, { releaseToken: token });
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    assert.equal(r.host.notices.length, 0, 'released before any notice was needed');
    await r.done();
  });

  it('does not apply an early release after it expired; a late token release still works', async () => {
    const r = await rig();
    const token = new Uint8Array(32).fill(0x34);
    r.host.release(token);
    r.clock.advance(testConfig.earlyReleaseMs! + 1);
    const h = await offerNew(r, { releaseToken: token });
    assert.equal(r.host.verdictOf(h.key), undefined);
    r.host.release(token);
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    await r.done();
  });
});

describe('hold engine: caps', () => {
  const cases = [
    { cap: 'per_peer_count', caps: { perPeerCount: 2 }, third: {} },
    { cap: 'per_peer_msat', caps: { perPeerMsat: 250_000n }, third: {} },
    { cap: 'global_count', caps: { globalCount: 2 }, third: { peer: '03' + 'bb'.repeat(32) } },
    { cap: 'global_msat', caps: { globalMsat: 250_000n }, third: { peer: '03' + 'bb'.repeat(32) } },
  ] as const;
  for (const c of cases) {
    it(`fails at once over ${c.cap}, logging the cap`, async () => {
      const r = await rig({ config: { caps: c.caps } });
      const hs = [makeHtlc(r.host), makeHtlc(r.host), makeHtlc(r.host, c.third)];
      for (const h of hs) r.host.offer(h);
      await drain();
      assert.equal(r.host.verdictOf(hs[0]!.key), undefined);
      assert.equal(r.host.verdictOf(hs[1]!.key), undefined);
      assert.deepEqual(r.host.verdictOf(hs[2]!.key), {
        kind: 'fail',
        reason: 'cap_exceeded',
        trampoline: false,
      });
      assert.ok(r.logger.lines.some((l) => l.msg.includes('cap exceeded') && l.fields.cap === c.cap));
      await r.done();
    });
  }

  it('counts per incoming channel when the host names no peer, and frees capacity when a hold ends', async () => {
    const r = await rig({ config: { caps: { perPeerCount: 1 } } });
    const a = makeHtlc(r.host, { peer: undefined, channel: '1x1x1' });
    const b = makeHtlc(r.host, { peer: undefined, channel: '2x2x2' });
    const c = makeHtlc(r.host, { peer: undefined, channel: '1x1x1' });
    for (const h of [a, b, c]) r.host.offer(h);
    await drain();
    assert.equal(r.host.verdictOf(a.key), undefined);
    assert.equal(r.host.verdictOf(b.key), undefined);
    assert.equal(r.host.verdictOf(c.key)?.kind, 'fail');
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    const d = await offerNew(r, { peer: undefined, channel: '1x1x1' });
    assert.equal(r.host.verdictOf(d.key), undefined, 'capacity came back');
    await r.done();
  });
});

describe('hold engine: MPP sets', () => {
  const mpp = (r: Awaited<ReturnType<typeof rig>>, n: number, extra = {}) => {
    const preimage = sha256(new TextEncoder().encode(`mpp ${Math.random()}`));
    return Array.from({ length: n }, () =>
      makeHtlc(r.host, { preimage, amountOutMsat: 50_000n, totalMsat: BigInt(n) * 50_000n, ...extra }),
    );
  };

  it('notifies only once the set is complete and releases all parts together', async () => {
    const r = await rig();
    const parts = mpp(r, 3);
    r.host.offer(parts[0]!);
    r.host.offer(parts[1]!);
    await drain();
    assert.equal(r.host.notices.length, 0);
    r.host.offer(parts[2]!);
    await drain();
    assert.equal(r.host.notices.length, 1, 'one notice for the whole set');
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    for (const p of parts) assert.deepEqual(r.host.verdictOf(p.key), { kind: 'continue' });
    await r.done();
  });

  it('fails all parts together (operator fail of one part)', async () => {
    const r = await rig();
    const parts = mpp(r, 2);
    for (const p of parts) r.host.offer(p);
    await drain();
    const one = r.engine.listHolds({ state: 'held' })[0]!;
    const res = r.engine.failHold(one.holdId);
    assert.equal(res.ok, true);
    await drain();
    for (const p of parts)
      assert.deepEqual(r.host.verdictOf(p.key), { kind: 'fail', reason: 'operator', trampoline: false });
    await r.done();
  });

  it('fails all parts together at the earliest part deadline', async () => {
    const r = await rig();
    const [a, b] = mpp(r, 2);
    r.host.offer({ ...a!, incomingExpiry: r.host.height + 30 });
    r.host.offer(b!);
    await drain();
    r.host.mine(30 - safety);
    await drain();
    assert.equal(r.host.verdictOf(a!.key)?.kind, 'fail');
    assert.equal(r.host.verdictOf(b!.key)?.kind, 'fail');
    await r.done();
  });

  it('times out an incomplete set', async () => {
    const r = await rig();
    const [a] = mpp(r, 2);
    r.host.offer(a!);
    await drain();
    r.clock.advance(testConfig.mppTimeoutMs! - 1);
    await drain();
    assert.equal(r.host.verdictOf(a!.key), undefined);
    r.clock.advance(1);
    await drain();
    assert.deepEqual(r.host.verdictOf(a!.key), { kind: 'fail', reason: 'mpp_timeout', trampoline: false });
    await r.done();
  });

  it('applies a release that came before the set was complete when it completes', async () => {
    const r = await rig();
    const token = new Uint8Array(32).fill(0x55);
    const parts = mpp(r, 2, { releaseToken: token });
    r.host.offer(parts[0]!);
    await drain();
    r.host.release(token);
    await drain();
    assert.equal(r.host.verdictOf(parts[0]!.key), undefined);
    r.host.offer(parts[1]!);
    await drain();
    for (const p of parts) assert.deepEqual(r.host.verdictOf(p.key), { kind: 'continue' });
    await r.done();
  });
});

describe('hold engine: replay and restart', () => {
  it('re-attaches a held HTLC after restart; the old release path still works', async () => {
    const r = await rig();
    const h = await offerNew(r);
    const path = r.host.notices[0]!.replyPathId;
    await r.engine.stop();
    await r.restart();
    assert.equal(r.host.htlcs.get(h.key)!.offers, 2, 'host replayed it');
    assert.equal(r.engine.stats().activeHolds, 1);
    r.host.release(path);
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    await r.done();
  });

  it('re-sends a stored verdict that died before reaching the host, never a different one', async () => {
    let kill = false;
    const r = await rig({ crashPoint: (s) => kill && s === 'verdict' });
    const h = await offerNew(r);
    kill = true;
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    assert.equal(r.engine.stopped, true);
    assert.equal(r.host.verdictOf(h.key), undefined);
    // After restart the deadline would fail it, but the stored decision (continue) stands.
    await r.restart();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    assert.equal(r.host.htlcs.get(h.key)!.verdicts.length, 1);
    await r.done();
  });

  it('answers only the latest offer when the host shows a pending HTLC again', async () => {
    const r = await rig();
    const h = await offerNew(r);
    r.host.replay();
    r.host.replay();
    await drain();
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    assert.equal(r.host.htlcs.get(h.key)!.verdicts.length, 1);
    assert.deepEqual(r.host.violations, []);
    await r.done();
  });
});

describe('hold engine: trampoline', () => {
  it('pays onward on release and settles with the preimage', async () => {
    const r = await rig();
    const h = await offerNew(r, { trampoline: true, amountInMsat: 1_000_000n, amtToForwardMsat: 990_000n });
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    const v = r.host.verdictOf(h.key);
    assert.equal(v?.kind, 'settle');
    assert.equal(hex(sha256((v as { preimage: Uint8Array }).preimage)), hex(h.paymentHash));
    const req = r.host.payRequests[0]!;
    // fee: 1000 base + 1000 ppm of 1_000_000
    assert.equal(req.maxAmountMsat, 1_000_000n - 2_000n);
    assert.equal(req.maxExpiry, h.incomingExpiry - safety);
    await r.done();
  });

  it('fails with the trampoline flag when paying onward fails', async () => {
    const r = await rig();
    const h = makeHtlc(r.host, { trampoline: true });
    r.host.payOutcome.set(hex(h.paymentHash), false);
    r.host.offer(h);
    await drain();
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'fail', reason: 'payment_failed', trampoline: true });
    await r.done();
  });

  it('refuses to pay when the incoming amount does not cover amount and fee', async () => {
    const r = await rig();
    const h = await offerNew(r, { trampoline: true, amountInMsat: 100_000n, amtToForwardMsat: 99_999n });
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'fail', reason: 'payment_failed', trampoline: true });
    assert.equal(r.host.payRequests.length, 0);
    await r.done();
  });

  it('after a restart mid-payment, looks the payment up instead of paying twice', async () => {
    const r = await rig();
    const h = makeHtlc(r.host, { trampoline: true });
    r.host.hangPayments = true;
    r.host.offer(h);
    await drain();
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    assert.equal(r.host.payRequests.length, 1);
    assert.equal(r.engine.listHolds({ state: 'paying' }).length, 1);
    await r.engine.stop();
    r.host.hangPayments = false;
    await r.restart();
    await drain();
    assert.equal(r.host.payRequests.length, 1, 'not paid again');
    assert.equal(r.host.verdictOf(h.key)?.kind, 'settle');
    await r.done();
  });

  it('pays once after a crash between storing the attempt and calling the host', async () => {
    let kill = false;
    const r = await rig({ crashPoint: (s) => kill && s === 'pay' });
    const h = await offerNew(r, { trampoline: true });
    kill = true;
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    assert.equal(r.engine.stopped, true);
    assert.equal(r.host.payRequests.length, 0);
    await r.restart();
    await drain();
    assert.equal(r.host.payRequests.length, 1);
    assert.equal(r.host.verdictOf(h.key)?.kind, 'settle');
    await r.done();
  });

  it('does not fail a payment in flight at the deadline', async () => {
    const r = await rig();
    const h = makeHtlc(r.host, { trampoline: true, incomingExpiry: r.host.height + 30 });
    r.host.hangPayments = true;
    r.host.offer(h);
    await drain();
    r.host.release(r.host.notices[0]!.replyPathId);
    await drain();
    r.host.mine(40);
    await drain();
    assert.equal(r.host.verdictOf(h.key), undefined);
    assert.equal(r.engine.listHolds({ state: 'paying' }).length, 1);
    await r.done();
  });
});

describe('hold engine: operator actions', () => {
  it('lists, releases, fails and counts holds', async () => {
    const r = await rig();
    const a = makeHtlc(r.host);
    const b = makeHtlc(r.host);
    r.host.offer(a);
    r.host.offer(b);
    await drain();
    const held = r.engine.listHolds({ state: 'held' });
    assert.equal(held.length, 2);
    const ha = held.find((v) => v.htlcKey === a.key)!;
    const hb = held.find((v) => v.htlcKey === b.key)!;
    assert.equal(r.engine.stats().activeHolds, 2);
    assert.equal(r.engine.stats().activeMsat, 200_000n);
    assert.deepEqual(r.engine.releaseHold(ha.holdId), { ok: true, holdIds: [ha.holdId] });
    assert.equal(r.engine.failHold(hb.holdId).ok, true);
    await drain();
    assert.deepEqual(r.host.verdictOf(a.key), { kind: 'continue' });
    assert.deepEqual(r.host.verdictOf(b.key), { kind: 'fail', reason: 'operator', trampoline: false });
    assert.equal(r.engine.releaseHold(ha.holdId).ok, false);
    const again = r.engine.failHold(hb.holdId);
    assert.equal(again.ok === false && again.error, 'not_active');
    const unknown = r.engine.releaseHold('00'.repeat(16));
    assert.equal(unknown.ok === false && unknown.error, 'unknown_hold');
    assert.equal(r.engine.releaseHold('not hex').ok, false);
    const s = r.engine.stats();
    assert.equal(s.activeHolds, 0);
    assert.equal(s.byState.forwarded, 1);
    assert.equal(s.byState.failed, 1);
    await r.done();
  });
});

describe('hold engine: scale', () => {
  it('holds and releases 10,000 concurrent HTLCs in one store', async () => {
    const n = 10_000;
    const r = await rig({ config: { caps: { perPeerCount: n, perPeerMsat: 10n ** 15n } } });
    const hs = Array.from({ length: n }, (_, i) => makeHtlc(r.host, { key: `big/${i}` }));
    for (const h of hs) r.host.offer(h);
    await drain();
    assert.equal(r.engine.stats().activeHolds, n);
    assert.equal(r.engine.stats().byState.held, n);
    assert.equal(r.host.notices.length, n);
    const seen = new Set(r.host.notices.map((x) => hex(x.replyPathId)));
    assert.equal(seen.size, n, 'one distinct release path per hold');
    for (const x of r.host.notices) assert.ok(verifyPathId(r.host.key, x.replyPathId).ok);
    for (const x of r.host.notices) r.host.release(x.replyPathId);
    await drain();
    for (const h of hs) assert.equal(r.host.htlcs.get(h.key)!.verdicts.length, 1);
    assert.equal(r.engine.stats().byState.forwarded, n);
    assert.deepEqual(r.host.violations, []);
    await r.done();
  });
});
