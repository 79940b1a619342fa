import type { Migration } from './index.js';

export const m001Initial: Migration = {
  version: 1,
  sql: `
CREATE TABLE holds (
  hold_id      BLOB PRIMARY KEY,            -- 16 random bytes, the first half of every release path id
  htlc_key     TEXT NOT NULL UNIQUE,        -- host's stable key: replays find the hold by it
  set_id       TEXT NOT NULL,               -- 'mpp:<payment hash>' or 'one:<hold id>'
  payment_hash BLOB NOT NULL,
  state        TEXT NOT NULL,
  htlc         TEXT NOT NULL,               -- the InterceptedHtlc as first seen (JSON)
  hold_start   INTEGER NOT NULL,
  fail_at      INTEGER NOT NULL,
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL,
  verdict      TEXT                         -- JSON; set exactly once, together with a final state
);
CREATE INDEX holds_state ON holds(state);
CREATE INDEX holds_set ON holds(set_id);
CREATE INDEX holds_hash ON holds(payment_hash);

-- Trampoline: one onward payment per hold set, recorded before the host is asked to pay, so a
-- restart looks the payment up instead of paying twice.
CREATE TABLE payments (
  set_id       TEXT PRIMARY KEY,
  payment_hash BLOB NOT NULL,
  state        TEXT NOT NULL,               -- pending | succeeded | failed
  preimage     BLOB,
  reason       TEXT,
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL
);
`,
};
