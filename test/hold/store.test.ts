import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HoldError } from '../../plugin/hold/errors.js';
import { HoldStore, holdRecord, type StoredHold } from '../../plugin/hold/store.js';
import { migrations } from '../../plugin/hold/migrations/index.js';
import { SimHost, makeHtlc } from '../helpers/sim-host.js';
import { tmpBase } from './setup.js';

function tmpDb(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpBase, 'hold-store-'));
  return { path: join(dir, 'h.sqlite'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('hold store', () => {
  it('opens in WAL mode with synchronous=FULL and applies every migration once', () => {
    const t = tmpDb();
    HoldStore.open(t.path).close();
    HoldStore.open(t.path).close();
    const db = new Database(t.path);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), migrations.at(-1)!.version);
    db.close();
    const s = HoldStore.open(t.path);
    // synchronous is per connection: check the store's own.
    assert.equal((s as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true }), 2);
    s.close();
    t.done();
  });

  it('refuses a database written by a newer schema', () => {
    const t = tmpDb();
    const db = new Database(t.path);
    db.pragma('user_version = 999');
    db.close();
    assert.throws(
      () => HoldStore.open(t.path),
      (e: unknown) => e instanceof HoldError && e.code === 'store_version',
    );
    t.done();
  });

  it('round-trips a hold exactly (bigints, bytes, verdict) and rolls back a failed transaction', () => {
    const t = tmpDb();
    const s = HoldStore.open(t.path);
    const host = new SimHost();
    const htlc = makeHtlc(host, {
      trampoline: true,
      amtToForwardMsat: 12_345_678_901_234_567n,
      totalMsat: 5n,
    });
    const rec = holdRecord(htlc, {
      holdIdHex: '03'.repeat(16),
      setId: 'mpp:x',
      paymentHashHex: Buffer.from(htlc.paymentHash).toString('hex'),
      state: 'held',
      holdStart: 10,
      failAt: 20,
      createdMs: 1,
      updatedMs: 1,
      verdict: undefined,
    });
    s.insertHold(rec, htlc);
    assert.deepEqual(s.byKey(htlc.key), { ...rec, htlc });
    assert.deepEqual(s.active(), [rec], 'active holds come back as the same compact records');
    assert.equal(s.setFinished('mpp:x'), false);
    assert.throws(() =>
      s.transaction(() => {
        s.updateHold({ ...rec, state: 'settled', verdict: { kind: 'settle', preimage: new Uint8Array(32) } });
        throw new Error('crash');
      }),
    );
    assert.equal(s.byKey(htlc.key)?.state, 'held');
    const settled: StoredHold = {
      htlc,
      ...rec,
      state: 'settled',
      verdict: { kind: 'settle', preimage: new Uint8Array(32).fill(9) },
      updatedMs: 2,
    };
    s.updateHold(settled);
    assert.deepEqual(s.byHoldId(new Uint8Array(16).fill(3)), settled);
    assert.equal(s.setFinished('mpp:x'), true);
    assert.deepEqual(s.active(), []);
    assert.equal(s.prune(2), 0);
    assert.equal(s.prune(3), 1);
    s.close();
    t.done();
  });
});
