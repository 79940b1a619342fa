// The durable mailbox: held_htlc_available notices kept for clients that are away, in SQLite (WAL,
// synchronous=FULL), so a notice stored before a crash is released after it. Every call is one
// transaction; a store and the evictions it causes commit together, so the caps hold at every commit.
import { sha256 } from '@noble/hashes/sha2.js';
import Database from 'better-sqlite3';
import { migrations } from './migrations/index.js';

export interface StoredNotice {
  id: number;
  nodeId: string;
  replyPath: Uint8Array;
  arrivedMs: number;
}

export interface Evicted {
  id: number;
  nodeId: string;
  reason: 'client_cap' | 'total_cap';
}

export type StoreResult = { stored: true; id: number; evicted: Evicted[] } | { stored: false };

export interface ClientRow {
  clientIdHex: string;
  nodeId: string;
  relay: boolean;
}

interface NoticeRow {
  id: number;
  node_id: string;
  reply_path: Buffer;
  arrived_ms: number;
}

const toNotice = (r: NoticeRow): StoredNotice => ({
  id: r.id,
  nodeId: r.node_id,
  replyPath: new Uint8Array(r.reply_path),
  arrivedMs: r.arrived_ms,
});

export class MailboxError extends Error {
  override readonly name = 'MailboxError';
}

export class Mailbox {
  private readonly s;

  private constructor(private readonly db: Database.Database) {
    this.s = {
      clientById: db.prepare(`SELECT node_id, relay FROM clients WHERE client_id = ?`),
      clientByNode: db.prepare(`SELECT client_id, relay FROM clients WHERE node_id = ?`),
      putClient: db.prepare(
        `INSERT INTO clients (client_id, node_id, relay, created_ms) VALUES (?, ?, 0, ?)
         ON CONFLICT (node_id) DO NOTHING`,
      ),
      setRelay: db.prepare(`UPDATE clients SET relay = ? WHERE node_id = ?`),
      insert: db.prepare(
        `INSERT INTO notices (node_id, reply_path, reply_hash, arrived_ms, state)
         VALUES (?, ?, ?, ?, 'stored') ON CONFLICT (node_id, reply_hash) DO NOTHING`,
      ),
      countClient: db.prepare(`SELECT count(*) AS n FROM notices WHERE node_id = ? AND state = 'stored'`),
      countAll: db.prepare(`SELECT count(*) AS n FROM notices WHERE state = 'stored'`),
      oldestClient: db.prepare(
        `SELECT id, node_id FROM notices WHERE node_id = ? AND state = 'stored' ORDER BY id LIMIT ?`,
      ),
      oldestAll: db.prepare(`SELECT id, node_id FROM notices WHERE state = 'stored' ORDER BY id LIMIT ?`),
      del: db.prepare(`DELETE FROM notices WHERE id = ?`),
      pending: db.prepare(
        `SELECT id, node_id, reply_path, arrived_ms FROM notices WHERE node_id = ? AND state = 'stored'
         ORDER BY id DESC`,
      ),
      done: db.prepare(`UPDATE notices SET state = ?, done_ms = ? WHERE id = ? AND state = 'stored'`),
      expired: db.prepare(`SELECT id, node_id FROM notices WHERE state = 'stored' AND arrived_ms < ?`),
      prune: db.prepare(`DELETE FROM notices WHERE state != 'stored' AND done_ms < ?`),
      withPending: db.prepare(`SELECT DISTINCT node_id FROM notices WHERE state = 'stored'`),
      perClient: db.prepare(
        `SELECT node_id, count(*) AS n FROM notices WHERE state = 'stored' GROUP BY node_id`,
      ),
    };
  }

  static open(path: string): Mailbox {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db);
    return new Mailbox(db);
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Record an issued client path (idempotent). */
  putClient(clientIdHex: string, nodeId: string, nowMs: number): void {
    this.s.putClient.run(Buffer.from(clientIdHex, 'hex'), nodeId, nowMs);
  }

  clientById(clientIdHex: string): ClientRow | undefined {
    const r = this.s.clientById.get(Buffer.from(clientIdHex, 'hex')) as
      { node_id: string; relay: number } | undefined;
    return r && { clientIdHex, nodeId: r.node_id, relay: r.relay === 1 };
  }

  clientByNode(nodeId: string): ClientRow | undefined {
    const r = this.s.clientByNode.get(nodeId) as { client_id: Buffer; relay: number } | undefined;
    return r && { clientIdHex: r.client_id.toString('hex'), nodeId, relay: r.relay === 1 };
  }

  setRelay(nodeId: string, relay: boolean): boolean {
    return this.s.setRelay.run(relay ? 1 : 0, nodeId).changes > 0;
  }

  /** Store a notice and evict the oldest over the caps, in one transaction. */
  store(
    nodeId: string,
    replyPath: Uint8Array,
    arrivedMs: number,
    caps: { perClient: number; total: number },
  ): StoreResult {
    let out: StoreResult = { stored: false };
    this.db.transaction(() => {
      const r = this.s.insert.run(nodeId, Buffer.from(replyPath), Buffer.from(sha256(replyPath)), arrivedMs);
      if (r.changes === 0) return;
      const evicted: Evicted[] = [];
      const over = (n: number, cap: number): number => Math.max(0, n - cap);
      const c = over((this.s.countClient.get(nodeId) as { n: number }).n, caps.perClient);
      for (const row of this.s.oldestClient.all(nodeId, c) as { id: number; node_id: string }[]) {
        this.s.del.run(row.id);
        evicted.push({ id: row.id, nodeId: row.node_id, reason: 'client_cap' });
      }
      const t = over((this.s.countAll.get() as { n: number }).n, caps.total);
      for (const row of this.s.oldestAll.all(t) as { id: number; node_id: string }[]) {
        this.s.del.run(row.id);
        evicted.push({ id: row.id, nodeId: row.node_id, reason: 'total_cap' });
      }
      out = { stored: true, id: Number(r.lastInsertRowid), evicted };
    })();
    return out;
  }

  /** A client's stored notices, newest first (the likeliest to still name a live hold). */
  pending(nodeId: string): StoredNotice[] {
    return (this.s.pending.all(nodeId) as NoticeRow[]).map(toNotice);
  }

  /** Mark a notice released or relayed; false when it was no longer stored (evicted, expired, done). */
  markDone(id: number, state: 'released' | 'relayed', nowMs: number): boolean {
    return this.s.done.run(state, nowMs, id).changes > 0;
  }

  /** Delete stored notices that arrived before `beforeMs`; returns them. */
  expire(beforeMs: number): { id: number; nodeId: string }[] {
    let rows: { id: number; node_id: string }[] = [];
    this.db.transaction(() => {
      rows = this.s.expired.all(beforeMs) as { id: number; node_id: string }[];
      for (const r of rows) this.s.del.run(r.id);
    })();
    return rows.map((r) => ({ id: r.id, nodeId: r.node_id }));
  }

  /** Forget released and relayed notices finished before `beforeMs`. */
  prune(beforeMs: number): number {
    return this.s.prune.run(beforeMs).changes;
  }

  clientsWithPending(): string[] {
    return (this.s.withPending.all() as { node_id: string }[]).map((r) => r.node_id);
  }

  storedCount(): number {
    return (this.s.countAll.get() as { n: number }).n;
  }

  storedPerClient(): Map<string, number> {
    const rows = this.s.perClient.all() as { node_id: string; n: number }[];
    return new Map(rows.map((r) => [r.node_id, r.n]));
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    db.close();
    throw new MailboxError(`mailbox database is at schema ${current}, this code knows up to ${latest}`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
