// Migration 3 (binary HTLC column, key and set indexes over finished holds only) on databases a
// schema-2 store wrote: rows made by the real engine, rewritten in the schema-2 layout exactly as the
// schema-2 store wrote them (tagged JSON of the HTLC as the host gave it, from the host's own object).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { InterceptedHtlc, Verdict } from '../../plugin/hold/backend.js';
import { HoldError } from '../../plugin/hold/errors.js';
import { HoldStore, type StoredHold } from '../../plugin/hold/store.js';
import { encodeSchema2Htlc } from '../helpers/schema2-htlc.js';
import { migrate } from '../../plugin/hold/store-schema.js';
import { drain, offerNew, rig, tmpBase, type Rig } from './setup.js';

interface Row {
  rowid: number;
  hold_id: Buffer;
  htlc_key: string;
  set_id: string;
  payment_hash: Buffer;
  state: string;
  hold_start: number;
  fail_at: number;
  created_ms: number;
  updated_ms: number;
  verdict: string | null;
}

/** Rewrite the rig's database as the schema-2 store would have written the same holds. */
function rewriteAtSchema2(r: Rig): void {
  const src = new Database(r.dbPath, { readonly: true });
  const path2 = `${r.dbPath}.v2`;
  const dst = new Database(path2);
  dst.pragma('journal_mode = WAL');
  migrate(dst, 2);
  assert.equal(dst.pragma('user_version', { simple: true }), 2);
  const ins = dst.prepare(
    `INSERT INTO holds (rowid, hold_id, htlc_key, set_id, payment_hash, state, htlc, hold_start, fail_at,
       created_ms, updated_ms, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const rows = src.prepare(`SELECT rowid, * FROM holds ORDER BY rowid`).all() as Row[];
  for (const x of rows) {
    const htlc = r.host.htlcs.get(x.htlc_key)?.htlc;
    assert.ok(htlc, `the host has the HTLC of hold ${x.htlc_key}`);
    ins.run(
      x.rowid,
      x.hold_id,
      x.htlc_key,
      x.set_id,
      x.payment_hash,
      x.state,
      encodeSchema2Htlc(htlc),
      x.hold_start,
      x.fail_at,
      x.created_ms,
      x.updated_ms,
      x.verdict,
    );
  }
  for (const p of src.prepare(`SELECT * FROM payments`).all() as Record<string, unknown>[]) {
    dst
      .prepare(
        `INSERT INTO payments (set_id, payment_hash, state, preimage, reason, created_ms, updated_ms)
       VALUES (@set_id, @payment_hash, @state, @preimage, @reason, @created_ms, @updated_ms)`,
      )
      .run(p);
  }
  src.close();
  dst.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${r.dbPath}${suffix}`, { force: true });
  renameSync(path2, r.dbPath);
  for (const suffix of ['-wal', '-shm']) rmSync(`${path2}${suffix}`, { force: true });
}

function everything(path: string): { list: StoredHold[]; active: ReturnType<HoldStore['active']> } {
  const s = HoldStore.open(path);
  try {
    return { list: s.list(undefined, 1000), active: s.active() };
  } finally {
    s.close();
  }
}

describe('hold store migration 3', () => {
  it('converts a schema-2 database exactly, and recovery afterwards restores the same holds', async () => {
    const r = await rig({ config: { minHoldBlocks: 0 } });
    const h = r.host;
    // Held: a plain hold, a trampoline hold, and a complete two-part MPP set.
    const held = await offerNew(r, { releaseToken: new Uint8Array(32).fill(0x61) });
    const tramp = await offerNew(r, { trampoline: true, amtToForwardMsat: 90_000n });
    const mppA = await offerNew(r, { preimage: new Uint8Array(32).fill(0x62), totalMsat: 200_000n });
    const mppB = await offerNew(r, { preimage: new Uint8Array(32).fill(0x62), totalMsat: 200_000n });
    // Finished: released (continue), expired, refused at intake (too close to its expiry).
    const released = await offerNew(r);
    const expiring = await offerNew(r, { maxHoldBlocks: 2 });
    const refused = await offerNew(r, { incomingExpiry: h.height + 5 });
    const notice = (x: InterceptedHtlc): Uint8Array => {
      const path = x.asyncHold!.messagePaths[0]!;
      const n = h.notices.find((m) => Buffer.from(m.messagePath).equals(path));
      assert.ok(n, 'a notice went out for it');
      return n.replyPathId;
    };
    h.release(notice(released));
    h.mine(3);
    await drain();
    const before: Record<string, Verdict | undefined> = {};
    for (const x of [held, tramp, mppA, mppB, released, expiring, refused])
      before[x.key] = h.verdictOf(x.key);
    assert.deepEqual(before[released.key], { kind: 'continue' });
    assert.equal(before[expiring.key]?.kind, 'fail');
    assert.equal(before[refused.key]?.kind, 'fail');
    for (const x of [held, tramp, mppA, mppB]) assert.equal(before[x.key], undefined, 'still held');
    const activeBefore = r.engine.stats().activeHolds;
    assert.equal(activeBefore, 4);
    await r.engine.stop();

    const want = everything(r.dbPath); // what the store gives back today
    rewriteAtSchema2(r);
    const got = everything(r.dbPath); // opening runs migration 3 on the schema-2 rows
    assert.equal(got.list.length, 7);
    assert.deepEqual(got.list, want.list, 'every hold, its HTLC and verdict read back the same');
    assert.deepEqual(got.active, want.active, 'the active records recovery starts from are the same');
    for (const s of got.list)
      assert.deepEqual(s.htlc, h.htlcs.get(s.key)!.htlc, 'the HTLC as the host gave it');
    const db = new Database(r.dbPath, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), 3);
    const indexes = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index'`).pluck().all() as string[]
    )
      .filter((n) => !n.startsWith('sqlite_autoindex_payments'))
      .sort();
    assert.deepEqual(indexes, [
      'holds_key_done',
      'holds_set_done',
      'holds_state',
      'sqlite_autoindex_holds_1',
    ]);
    db.close();

    // Recovery on the migrated database: the same holds come back, answer the same, release the same.
    await r.restart();
    assert.equal(r.engine.stats().activeHolds, activeBefore);
    for (const x of [released, expiring, refused]) {
      assert.deepEqual(
        await h.events!.htlc(x),
        before[x.key],
        'a replay of a finished hold gets its verdict',
      );
    }
    h.release(notice(held));
    h.release(new Uint8Array(32).fill(0x61)); // the sender's token names the same hold: no second verdict
    await drain();
    assert.deepEqual(h.verdictOf(held.key), { kind: 'continue' });
    assert.equal(r.engine.stats().activeHolds, activeBefore - 1);
    assert.deepEqual(h.violations, []);
    await r.done();
  });

  it('stops loudly on a row it cannot read and leaves the database as it was', () => {
    const dir = mkdtempSync(join(tmpBase, 'hold-migration-'));
    const path = join(dir, 'h.sqlite');
    const db = new Database(path);
    migrate(db, 2);
    const ins = db.prepare(
      `INSERT INTO holds (hold_id, htlc_key, set_id, payment_hash, state, htlc, hold_start, fail_at,
         created_ms, updated_ms, verdict) VALUES (?, ?, 'one:x', ?, 'held', ?, 1, 2, 3, 4, NULL)`,
    );
    ins.run(
      Buffer.alloc(16, 1),
      'k-good',
      Buffer.alloc(32, 1),
      '{"incomingChannel":"1x1x1","incomingExpiry":9,"amountInMsat":{"$n":"5"}}',
    );
    ins.run(Buffer.alloc(16, 2), 'k-bad', Buffer.alloc(32, 2), '{"incomingChannel":');
    db.close();
    assert.throws(
      () => HoldStore.open(path),
      (e: unknown) =>
        e instanceof HoldError && e.code === 'store_version' && /hold 0202.*k-bad.*backup/.test(e.message),
    );
    const after = new Database(path, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), 2, 'still at schema 2');
    assert.equal(after.prepare(`SELECT count(*) FROM holds`).pluck().get(), 2, 'no row lost');
    assert.equal(
      typeof after.prepare(`SELECT htlc FROM holds WHERE htlc_key = 'k-good'`).pluck().get(),
      'string',
    );
    after.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
