import type Database from 'better-sqlite3';
import { HoldError } from '../errors.js';
import { encodeHtlcBlob } from '../store-blob.js';
import { decodeHtlc } from '../store-json.js';
import type { Migration } from './index.js';

/**
 * Intake was bound by SQLite's writes, and most of them went to the htlc_key index: a host's keys
 * start with the channel, so one batch of new holds dirtied a page of that index per channel, each
 * written in full to the fsync'd WAL (about 4 KB per hold). Memory answers replays of active holds
 * (the engine keeps each one until its final write commits), so only finished holds need finding
 * by key in the store: the key and set indexes now cover finished holds only and are written with the
 * verdict, not at intake. The HTLC column becomes the binary form of store-blob.ts (half the bytes of
 * the tagged JSON, and no JSON parse per hold at a restart). The table is rebuilt because a column
 * UNIQUE constraint cannot be dropped; rowids are kept, so the order holds load in is unchanged.
 */
export const m003BinaryHtlc: Migration = {
  version: 3,
  apply(db: Database.Database): void {
    db.function('hold_htlc_blob', { deterministic: true }, (json: unknown, key: unknown, id: unknown) => {
      try {
        return Buffer.from(encodeHtlcBlob(decodeHtlc(String(json))));
      } catch (err) {
        const hex = Buffer.isBuffer(id) ? id.toString('hex') : String(id);
        throw new HoldError(
          'store_version',
          `migration 3: hold ${hex} (htlc ${String(key)}) has an htlc column this code cannot read ` +
            `(${String(err)}); the database is unchanged: restore it from a backup or remove that row`,
        );
      }
    });
    db.exec(`
CREATE TABLE holds_v3 (
  hold_id      BLOB PRIMARY KEY,            -- 16 bytes: a millisecond timestamp, then random bytes
  htlc_key     TEXT NOT NULL,               -- host's stable key; unique among finished holds (index below)
  set_id       TEXT NOT NULL,               -- 'mpp:<payment hash>' or 'one:<hold id>'
  payment_hash BLOB NOT NULL,
  state        TEXT NOT NULL,
  htlc         BLOB NOT NULL,               -- the InterceptedHtlc as first seen (store-blob.ts), key and hash apart
  hold_start   INTEGER NOT NULL,
  fail_at      INTEGER NOT NULL,
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL,
  verdict      TEXT                         -- JSON; set exactly once, together with a final state
);
INSERT INTO holds_v3 (rowid, hold_id, htlc_key, set_id, payment_hash, state, htlc, hold_start, fail_at,
    created_ms, updated_ms, verdict)
  SELECT rowid, hold_id, htlc_key, set_id, payment_hash, state, hold_htlc_blob(htlc, htlc_key, hold_id),
    hold_start, fail_at, created_ms, updated_ms, verdict
  FROM holds ORDER BY rowid;
DROP TABLE holds;
ALTER TABLE holds_v3 RENAME TO holds;
-- Recovery (active states), prune (final states) and counts.
CREATE INDEX holds_state ON holds(state);
-- Replays of finished holds, found by key (store.byKey, storedKeys).
CREATE UNIQUE INDEX holds_key_done ON holds(htlc_key) WHERE verdict IS NOT NULL;
-- Whether an MPP set already has its verdict (store.setFinished).
CREATE INDEX holds_set_done ON holds(set_id) WHERE verdict IS NOT NULL;
`);
  },
};
