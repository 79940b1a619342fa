import type { Migration } from './index.js';

// No query looks holds up by payment hash (MPP sets go by set_id), and the index cost a write to a
// random page for every hold taken in.
export const m002DropHashIndex: Migration = {
  version: 2,
  sql: `DROP INDEX IF EXISTS holds_hash;`,
};
