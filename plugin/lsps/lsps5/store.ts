// Durable LSPS5 webhooks: one SQLite file of their own (WAL, synchronous=FULL), so a registration
// the client was told about survives a crash, as bLIP-55 requires ("persist ... before responding").
// Migrations as in hold/: PRAGMA user_version records the last applied; never edit a released one.
import Database from 'better-sqlite3';

interface Migration {
  version: number;
  sql: string;
}

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE lsps5_webhooks (
        client_node_id TEXT NOT NULL,
        app_name TEXT NOT NULL,
        url TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (client_node_id, app_name)
      ) WITHOUT ROWID;
    `,
  },
];

export interface Webhook {
  appName: string;
  url: string;
}

export type SetOutcome =
  { kind: 'added' | 'replaced' | 'unchanged'; count: number } | { kind: 'full'; count: number };

export class WebhookStore {
  private readonly db: Database.Database;
  private readonly setTx: (
    client: string,
    appName: string,
    url: string,
    max: number,
    now: number,
  ) => SetOutcome;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.migrate();
    const find = this.db.prepare<[string, string], { url: string }>(
      'SELECT url FROM lsps5_webhooks WHERE client_node_id = ? AND app_name = ?',
    );
    const count = this.db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM lsps5_webhooks WHERE client_node_id = ?',
    );
    const insert = this.db.prepare(
      'INSERT INTO lsps5_webhooks (client_node_id, app_name, url, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)',
    );
    const update = this.db.prepare(
      'UPDATE lsps5_webhooks SET url = ?, updated_ms = ? WHERE client_node_id = ? AND app_name = ?',
    );
    // Insert-or-replace with a cap, in one transaction: the count and the write cannot interleave.
    this.setTx = this.db.transaction(
      (client: string, appName: string, url: string, max: number, now: number) => {
        const n = count.get(client)!.n;
        const existing = find.get(client, appName);
        if (existing) {
          if (existing.url === url) return { kind: 'unchanged', count: n } as const;
          update.run(url, now, client, appName);
          return { kind: 'replaced', count: n } as const;
        }
        if (n >= max) return { kind: 'full', count: n } as const;
        insert.run(client, appName, url, now, now);
        return { kind: 'added', count: n + 1 } as const;
      },
    );
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.pragma(`user_version = ${m.version}`);
      })();
    }
  }

  set(client: string, appName: string, url: string, max: number, now: number): SetOutcome {
    return this.setTx(client, appName, url, max, now);
  }

  /** The client's webhooks, oldest registration first. */
  list(client: string): Webhook[] {
    return this.db
      .prepare<[string], { app_name: string; url: string }>(
        'SELECT app_name, url FROM lsps5_webhooks WHERE client_node_id = ? ORDER BY created_ms, app_name',
      )
      .all(client)
      .map((r) => ({ appName: r.app_name, url: r.url }));
  }

  get(client: string, appName: string): Webhook | undefined {
    const r = this.db
      .prepare<[string, string], { url: string }>(
        'SELECT url FROM lsps5_webhooks WHERE client_node_id = ? AND app_name = ?',
      )
      .get(client, appName);
    return r ? { appName, url: r.url } : undefined;
  }

  /** True when there was such a webhook. */
  remove(client: string, appName: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM lsps5_webhooks WHERE client_node_id = ? AND app_name = ?')
        .run(client, appName).changes > 0
    );
  }

  close(): void {
    this.db.close();
  }
}
