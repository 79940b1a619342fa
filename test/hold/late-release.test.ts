// A release that arrives at or after a hold's deadline fails the HTLC back instead of forwarding a
// doomed HTLC (issue #8). The engine fails due holds on every block, so a late release reaches
// releaseSet only when the deadline is the intake height itself (min-hold-blocks 0 and a sender
// max_hold_blocks of 0) and a release was already waiting: that is the case driven here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drain, offerNew, rig } from './setup.js';
import { HoldStore } from '../../plugin/hold/store.js';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

describe('hold engine: a release at or after the deadline', () => {
  it('fails back a hold whose early release applies at its deadline, logged with why, verdict stored first', async () => {
    const r = await rig({ config: { minHoldBlocks: 0 } });
    const token = new Uint8Array(32).fill(0x51);
    r.host.release(token);
    const h = await offerNew(r, { releaseToken: token, maxHoldBlocks: 0 });
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'fail', reason: 'expired', trampoline: false });
    const line = r.logger.lines.find((l) => l.msg.includes('release at or after the hold deadline'));
    assert.ok(line, 'logged why');
    assert.equal(line.fields.failAt, r.host.height);
    assert.equal(line.fields.height, r.host.height);
    assert.equal(r.host.htlcs.get(h.key)!.verdicts.length, 1);
    assert.deepEqual(r.host.violations, []);
    // The verdict the host got is the stored one (a replay is answered from it).
    await r.engine.stop();
    const store = HoldStore.open(r.dbPath);
    try {
      const rec = store.byKey(h.key);
      assert.equal(rec?.state, 'expired');
      assert.deepEqual(rec?.verdict, { kind: 'fail', reason: 'expired', trampoline: false });
    } finally {
      store.close();
    }
    rmSync(dirname(r.dbPath), { recursive: true, force: true });
  });

  it('trampoline: no onward payment is started for a release at the deadline', async () => {
    const r = await rig({ config: { minHoldBlocks: 0 } });
    const token = new Uint8Array(32).fill(0x52);
    r.host.release(token);
    const h = await offerNew(r, { releaseToken: token, maxHoldBlocks: 0, trampoline: true });
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'fail', reason: 'expired', trampoline: true });
    assert.equal(r.host.payRequests.length, 0, 'never paid onward');
    await r.done();
  });

  it('one block before the deadline a release still forwards', async () => {
    const r = await rig({ config: { minHoldBlocks: 0 } });
    const token = new Uint8Array(32).fill(0x53);
    r.host.release(token);
    const h = await offerNew(r, { releaseToken: token, maxHoldBlocks: 1 });
    await drain();
    assert.deepEqual(r.host.verdictOf(h.key), { kind: 'continue' });
    assert.ok(!r.logger.lines.some((l) => l.msg.includes('release at or after the hold deadline')));
    await r.done();
  });
});
