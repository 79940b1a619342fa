import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HoldError } from '../../plugin/hold/errors.js';
import {
  HoldStore,
  decodeHtlc,
  decodeHtlcBlob,
  encodeHtlcBlob,
  holdRecord,
  type StoredHold,
} from '../../plugin/hold/store.js';
import type { InterceptedHtlc } from '../../plugin/hold/backend.js';
import { migrations } from '../../plugin/hold/migrations/index.js';
import { migrate } from '../../plugin/hold/store-schema.js';
import { SimHost, makeHtlc } from '../helpers/sim-host.js';
import { encodeSchema2Htlc } from '../helpers/schema2-htlc.js';
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

  it('finds holds by key, set and id through an index, never a scan of the table', () => {
    const t = tmpDb();
    const s = HoldStore.open(t.path);
    const { db, stmts } = s as unknown as {
      db: Database.Database;
      stmts: Record<string, Database.Statement>;
    };
    const plan = (name: string): string => {
      const st = stmts[name]!;
      const args = Array.from(st.source.matchAll(/\?/g), () => 'x');
      return (db.prepare(`EXPLAIN QUERY PLAN ${st.source}`).all(...args) as { detail: string }[])
        .map((r) => r.detail)
        .join(' | ');
    };
    // Replay lookups at intake, the MPP set check, releases and the verdict write.
    assert.match(plan('byKey'), /^SEARCH holds USING INDEX holds_key_done/);
    assert.match(plan('storedKeys'), /SEARCH holds USING INDEX holds_key_done/);
    assert.match(plan('setFinished'), /^SEARCH holds USING INDEX holds_set_done/);
    assert.match(plan('byId'), /^SEARCH holds USING INDEX sqlite_autoindex_holds_1/);
    assert.match(plan('update'), /^SEARCH holds USING INDEX sqlite_autoindex_holds_1/);
    assert.match(plan('active'), /^SEARCH holds USING INDEX holds_state/);
    assert.match(plan('prune'), /^SEARCH holds USING INDEX holds_state/);
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
    assert.deepEqual(s.byHoldId(new Uint8Array(16).fill(3)), { ...rec, htlc });
    assert.deepEqual(s.active(), [rec], 'active holds come back as the same compact records');
    assert.equal(s.setFinished('mpp:x'), false);
    // By key the store finds finished holds only: the engine answers for active ones from memory.
    assert.equal(s.byKey(htlc.key), undefined);
    assert.deepEqual(s.storedKeys([htlc.key]), new Set());
    assert.throws(() =>
      s.transaction(() => {
        s.updateHold({ ...rec, state: 'settled', verdict: { kind: 'settle', preimage: new Uint8Array(32) } });
        throw new Error('crash');
      }),
    );
    assert.equal(s.byHoldId(new Uint8Array(16).fill(3))?.state, 'held');
    assert.equal(s.byKey(htlc.key), undefined, 'the rolled-back verdict left no trace');
    const settled: StoredHold = {
      htlc,
      ...rec,
      state: 'settled',
      verdict: { kind: 'settle', preimage: new Uint8Array(32).fill(9) },
      updatedMs: 2,
    };
    s.updateHold(settled);
    assert.deepEqual(s.byHoldId(new Uint8Array(16).fill(3)), settled);
    assert.deepEqual(s.byKey(htlc.key), settled);
    assert.deepEqual(s.storedKeys([]), new Set());
    assert.deepEqual(s.storedKeys(['nope', htlc.key, 'x"y']), new Set([htlc.key]));
    assert.equal(s.setFinished('mpp:x'), true);
    assert.deepEqual(s.active(), []);
    assert.equal(s.prune(2), 0);
    assert.equal(s.prune(3), 1);
    s.close();
    t.done();
  });

  it('encodes every HTLC field and decodes it back exactly, and reads the generic tagged JSON of older rows', () => {
    const full: InterceptedHtlc = {
      key: 'chan"9/1\\x',
      incomingChannel: '100x1x0',
      incomingPeer: undefined,
      paymentHash: new Uint8Array(32).fill(7),
      amountInMsat: 2n ** 70n,
      amountOutMsat: undefined,
      incomingExpiry: 900,
      outgoingExpiry: 850,
      outgoingChannel: '200x2x1',
      autoFailHeight: 880,
      holdFlag: false,
      asyncHold: {
        messagePaths: [new Uint8Array([1, 2]), new Uint8Array(0)],
        releaseToken: new Uint8Array(32).fill(4),
        maxHoldBlocks: 144,
        totalMsat: 10n,
      },
      trampoline: {
        invoice: undefined,
        amtToForwardMsat: 5n,
        outgoingNodeId: '02' + 'cd'.repeat(32),
        keysendPreimage: new Uint8Array(32).fill(8),
      },
    };
    assert.deepEqual(decodeHtlc(encodeSchema2Htlc(full)), full);
    const bare: InterceptedHtlc = { ...full, asyncHold: undefined, trampoline: undefined };
    assert.deepEqual(decodeHtlc(encodeSchema2Htlc(bare)), bare);
    // The binary column (schema 3): the same, every optional field present or absent, multi-byte text.
    const blob = (h: InterceptedHtlc): InterceptedHtlc =>
      decodeHtlcBlob(Buffer.from(encodeHtlcBlob(h)), h.key, h.paymentHash);
    const other: InterceptedHtlc = {
      ...full,
      incomingPeer: '03' + 'ef'.repeat(32),
      amountInMsat: 0n,
      amountOutMsat: 2n ** 64n - 1n,
      outgoingExpiry: undefined,
      outgoingChannel: undefined,
      autoFailHeight: undefined,
      holdFlag: true,
      asyncHold: {
        messagePaths: [],
        releaseToken: undefined,
        maxHoldBlocks: undefined,
        totalMsat: undefined,
      },
      trampoline: {
        invoice: 'lnbc1…ünïcode'.repeat(300),
        amtToForwardMsat: undefined,
        outgoingNodeId: undefined,
        keysendPreimage: undefined,
      },
    };
    for (const h of [full, bare, other]) assert.deepEqual(blob(h), h);
    const good = Buffer.from(encodeHtlcBlob(full));
    for (const broken of [
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.of(0)]),
      Buffer.of(9),
    ]) {
      assert.throws(
        () => decodeHtlcBlob(broken, full.key, full.paymentHash),
        (e: unknown) => e instanceof HoldError && e.code === 'store_version',
      );
    }
    // What the generic walk wrote before: same tags, the host's key order.
    const older =
      '{"key":"k1","incomingChannel":"1x1x1","incomingPeer":"02ab","paymentHash":{"$b":"' +
      '07'.repeat(32) +
      '"},"amountInMsat":{"$n":"1000"},"amountOutMsat":{"$n":"900"},"incomingExpiry":500,' +
      '"holdFlag":true,"asyncHold":{"messagePaths":[{"$b":"0102"}],"totalMsat":{"$n":"1000"}}}';
    const t = tmpDb();
    const db = new Database(t.path);
    migrate(db, 2); // the JSON column: migration 3 converts the row when the store opens
    db.prepare(
      `INSERT INTO holds (hold_id, htlc_key, set_id, payment_hash, state, htlc, hold_start, fail_at,
         created_ms, updated_ms, verdict) VALUES (?, 'k1', 'mpp:x', ?, 'held', ?, 1, 2, 3, 4, NULL)`,
    ).run(Buffer.alloc(16, 0xab), Buffer.alloc(32, 7), older);
    db.close();
    const s = HoldStore.open(t.path);
    const [rec] = s.active();
    assert.equal(rec?.holdIdHex, 'ab'.repeat(16));
    assert.equal(rec?.paymentHashHex, '07'.repeat(32));
    assert.equal(rec?.peer, 'peer:02ab');
    assert.equal(rec?.amountOutMsat, 900n);
    assert.equal(rec?.totalMsat, 1000n);
    assert.deepEqual(rec?.messagePaths, [new Uint8Array([1, 2])]);
    assert.equal(rec?.releaseToken, undefined);
    assert.equal(rec?.trampoline, undefined);
    s.close();
    t.done();
  });
});
