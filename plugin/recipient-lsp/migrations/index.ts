// The mailbox's schema, in its own SQLite file next to the hold store (the two roles version apart).
// PRAGMA user_version records the last migration applied; never edit a released one, add the next.

export interface Migration {
  version: number;
  sql: string;
}

const m001: Migration = {
  version: 1,
  sql: `
CREATE TABLE clients (
  client_id  BLOB PRIMARY KEY,                -- 16 bytes, first half of the client's path_id
  node_id    TEXT NOT NULL UNIQUE,            -- hex
  relay      INTEGER NOT NULL DEFAULT 0,      -- 1: relay notices to the client instead of releasing
  created_ms INTEGER NOT NULL
);
CREATE TABLE notices (
  id         INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order: eviction drops the smallest
  node_id    TEXT NOT NULL,
  reply_path BLOB NOT NULL,                     -- encoded blinded_path back to the sender's LSP
  reply_hash BLOB NOT NULL,                     -- sha256(reply_path): the same message twice is one notice
  arrived_ms INTEGER NOT NULL,
  state      TEXT NOT NULL,                     -- stored | released | relayed
  done_ms    INTEGER,
  UNIQUE (node_id, reply_hash)
);
CREATE INDEX notices_client ON notices(node_id, state, id);
CREATE INDEX notices_state ON notices(state, id);
`,
};

export const migrations: readonly Migration[] = [m001];
