// Schema migrations, applied in order; PRAGMA user_version records the last one applied.
// Never edit a released migration: add the next number instead.
import type Database from 'better-sqlite3';
import { m001Initial } from './001-initial.js';
import { m002DropHashIndex } from './002-drop-hash-index.js';
import { m003BinaryHtlc } from './003-binary-htlc.js';

/** SQL, or code where rows must be converted; either runs inside the migration's transaction. */
export type Migration = { version: number } & (
  { sql: string; apply?: undefined } | { sql?: undefined; apply: (db: Database.Database) => void }
);

export const migrations: readonly Migration[] = [m001Initial, m002DropHashIndex, m003BinaryHtlc];
