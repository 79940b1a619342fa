// The hold database's schema: opened in WAL mode with synchronous=FULL, so a commit that returned
// survives a power cut, then brought to the latest migration.
import Database from 'better-sqlite3';
import { HoldError } from './errors.js';
import { migrations } from './migrations/index.js';

const LATEST = migrations[migrations.length - 1]?.version ?? 0;

/** Open (or create) the hold database at `path`, durable settings on, schema migrated. */
export function openHoldDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Bring the database to schema `upTo` (default: the latest), one transaction per migration, so a
 * failed migration leaves the database at the last one that completed.
 */
export function migrate(db: Database.Database, upTo = LATEST): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > LATEST) {
    throw new HoldError(
      'store_version',
      `hold database is at schema ${current}, this code knows up to ${LATEST}`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current || m.version > upTo) continue;
    db.transaction(() => {
      if (m.apply) m.apply(db);
      else db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
