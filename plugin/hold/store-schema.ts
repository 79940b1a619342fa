// The hold database's schema: opened in WAL mode with synchronous=FULL, so a commit that returned
// survives a power cut, then brought to the latest migration.
import Database from 'better-sqlite3';
import { HoldError } from './errors.js';
import { migrations } from './migrations/index.js';

/** Open (or create) the hold database at `path`, durable settings on, schema migrated. */
export function openHoldDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    db.close();
    throw new HoldError(
      'store_version',
      `hold database is at schema ${current}, this code knows up to ${latest}`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
