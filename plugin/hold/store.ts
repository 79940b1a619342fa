// Durable record of every hold: better-sqlite3 in WAL mode with synchronous=FULL, so a commit that
// returned survives a power cut. The engine batches one tick's writes into one transaction.
import { bytesToHex } from '@noble/hashes/utils.js';
import Database from 'better-sqlite3';
import type { Height, InterceptedHtlc, Verdict } from './backend.js';
import { HoldError } from './errors.js';
import { migrations } from './migrations/index.js';
import { isHoldState, type HoldState } from './state.js';

export interface HoldRecord {
  holdId: Uint8Array;
  holdIdHex: string;
  key: string;
  setId: string;
  paymentHashHex: string;
  state: HoldState;
  htlc: InterceptedHtlc;
  holdStart: Height;
  failAt: Height;
  createdMs: number;
  updatedMs: number;
  verdict: Verdict | undefined;
}

export type PaymentState = 'pending' | 'succeeded' | 'failed';

export interface PaymentRecord {
  setId: string;
  paymentHash: Uint8Array;
  state: PaymentState;
  preimage: Uint8Array | undefined;
  reason: string | undefined;
}

interface HoldRow {
  hold_id: Buffer;
  htlc_key: string;
  set_id: string;
  payment_hash: Buffer;
  state: string;
  htlc: string;
  hold_start: number;
  fail_at: number;
  created_ms: number;
  updated_ms: number;
  verdict: string | null;
}

interface PaymentRow {
  set_id: string;
  payment_hash: Buffer;
  state: string;
  preimage: Buffer | null;
  reason: string | null;
}

const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

// JSON with tagged bigints and byte arrays, so the stored HTLC round-trips exactly.
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return { $n: x.toString() };
    if (x instanceof Uint8Array) return { $b: bytesToHex(x) };
    return x;
  });
}

function fromJson<T>(s: string): T {
  return JSON.parse(s, (_k, x: unknown) => {
    if (x !== null && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (typeof o.$n === 'string') return BigInt(o.$n);
      if (typeof o.$b === 'string') return unhex(o.$b);
    }
    return x;
  }) as T;
}

export function encodeHtlc(h: InterceptedHtlc): string {
  return toJson(h);
}

/** Decode, restoring the optional fields JSON dropped as explicit undefined (the shape hosts give). */
export function decodeHtlc(s: string): InterceptedHtlc {
  const h = fromJson<InterceptedHtlc>(s);
  const a = h.asyncHold;
  const t = h.trampoline;
  return {
    key: h.key,
    incomingChannel: h.incomingChannel,
    incomingPeer: h.incomingPeer,
    paymentHash: h.paymentHash,
    amountInMsat: h.amountInMsat,
    amountOutMsat: h.amountOutMsat,
    incomingExpiry: h.incomingExpiry,
    outgoingExpiry: h.outgoingExpiry,
    outgoingChannel: h.outgoingChannel,
    autoFailHeight: h.autoFailHeight,
    holdFlag: h.holdFlag,
    asyncHold: a && {
      messagePaths: a.messagePaths,
      releaseToken: a.releaseToken,
      maxHoldBlocks: a.maxHoldBlocks,
      totalMsat: a.totalMsat,
    },
    trampoline: t && {
      invoice: t.invoice,
      amtToForwardMsat: t.amtToForwardMsat,
      outgoingNodeId: t.outgoingNodeId,
      keysendPreimage: t.keysendPreimage,
    },
  };
}

function rowToHold(r: HoldRow): HoldRecord {
  if (!isHoldState(r.state)) throw new HoldError('store_version', `unknown hold state ${r.state}`);
  const holdId = new Uint8Array(r.hold_id);
  return {
    holdId,
    holdIdHex: bytesToHex(holdId),
    key: r.htlc_key,
    setId: r.set_id,
    paymentHashHex: bytesToHex(r.payment_hash),
    state: r.state,
    htlc: decodeHtlc(r.htlc),
    holdStart: r.hold_start,
    failAt: r.fail_at,
    createdMs: r.created_ms,
    updatedMs: r.updated_ms,
    verdict: r.verdict === null ? undefined : fromJson<Verdict>(r.verdict),
  };
}

export class HoldStore {
  private readonly stmts;

  private constructor(private readonly db: Database.Database) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO holds (hold_id, htlc_key, set_id, payment_hash, state, htlc, hold_start, fail_at,
           created_ms, updated_ms, verdict)
         VALUES (@hold_id, @htlc_key, @set_id, @payment_hash, @state, @htlc, @hold_start, @fail_at,
           @created_ms, @updated_ms, @verdict)`,
      ),
      update: db.prepare(
        `UPDATE holds SET state = @state, verdict = @verdict, updated_ms = @updated_ms WHERE hold_id = @hold_id`,
      ),
      byKey: db.prepare(`SELECT * FROM holds WHERE htlc_key = ?`),
      byId: db.prepare(`SELECT * FROM holds WHERE hold_id = ?`),
      active: db.prepare(`SELECT * FROM holds WHERE state IN ('held', 'paying') ORDER BY created_ms, rowid`),
      list: db.prepare(`SELECT * FROM holds ORDER BY created_ms DESC, rowid DESC LIMIT ?`),
      listState: db.prepare(
        `SELECT * FROM holds WHERE state = ? ORDER BY created_ms DESC, rowid DESC LIMIT ?`,
      ),
      counts: db.prepare(`SELECT state, count(*) AS n FROM holds GROUP BY state`),
      prune: db.prepare(`DELETE FROM holds WHERE verdict IS NOT NULL AND updated_ms < ?`),
      prunePayments: db.prepare(`DELETE FROM payments WHERE state != 'pending' AND updated_ms < ?`),
      insertPayment: db.prepare(
        `INSERT INTO payments (set_id, payment_hash, state, created_ms, updated_ms)
         VALUES (?, ?, 'pending', ?, ?)`,
      ),
      updatePayment: db.prepare(
        `UPDATE payments SET state = ?, preimage = ?, reason = ?, updated_ms = ? WHERE set_id = ?`,
      ),
      payment: db.prepare(`SELECT * FROM payments WHERE set_id = ?`),
      setFinished: db.prepare(`SELECT 1 FROM holds WHERE set_id = ? AND verdict IS NOT NULL LIMIT 1`),
    };
  }

  static open(path: string): HoldStore {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return new HoldStore(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get open(): boolean {
    return this.db.open;
  }

  /** Run fn in one transaction: all its writes commit together or not at all. */
  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  insertHold(h: HoldRecord): void {
    this.stmts.insert.run({
      hold_id: Buffer.from(h.holdId),
      htlc_key: h.key,
      set_id: h.setId,
      payment_hash: Buffer.from(h.htlc.paymentHash),
      state: h.state,
      htlc: encodeHtlc(h.htlc),
      hold_start: h.holdStart,
      fail_at: h.failAt,
      created_ms: h.createdMs,
      updated_ms: h.updatedMs,
      verdict: h.verdict === undefined ? null : toJson(h.verdict),
    });
  }

  /** Write a hold's state (and its verdict, once it has one). */
  updateHold(h: HoldRecord): void {
    this.stmts.update.run({
      hold_id: Buffer.from(h.holdId),
      state: h.state,
      verdict: h.verdict === undefined ? null : toJson(h.verdict),
      updated_ms: h.updatedMs,
    });
  }

  byKey(key: string): HoldRecord | undefined {
    const r = this.stmts.byKey.get(key) as HoldRow | undefined;
    return r && rowToHold(r);
  }

  byHoldId(holdId: Uint8Array): HoldRecord | undefined {
    const r = this.stmts.byId.get(Buffer.from(holdId)) as HoldRow | undefined;
    return r && rowToHold(r);
  }

  /** Whether some hold of this set already has its verdict (the set was released or failed). */
  setFinished(setId: string): boolean {
    return this.stmts.setFinished.get(setId) !== undefined;
  }

  /** Holds that still need a decision or a payment result. */
  active(): HoldRecord[] {
    return (this.stmts.active.all() as HoldRow[]).map(rowToHold);
  }

  list(state: HoldState | undefined, limit: number): HoldRecord[] {
    const rows = state === undefined ? this.stmts.list.all(limit) : this.stmts.listState.all(state, limit);
    return (rows as HoldRow[]).map(rowToHold);
  }

  countsByState(): Partial<Record<HoldState, number>> {
    const out: Partial<Record<HoldState, number>> = {};
    for (const r of this.stmts.counts.all() as { state: string; n: number }[]) {
      if (isHoldState(r.state)) out[r.state] = r.n;
    }
    return out;
  }

  /** Delete finished holds and payments last touched before `beforeMs`. */
  prune(beforeMs: number): number {
    let n = 0;
    this.transaction(() => {
      n = this.stmts.prune.run(beforeMs).changes;
      this.stmts.prunePayments.run(beforeMs);
    });
    return n;
  }

  insertPayment(setId: string, paymentHash: Uint8Array, nowMs: number): void {
    this.stmts.insertPayment.run(setId, Buffer.from(paymentHash), nowMs, nowMs);
  }

  finishPayment(
    setId: string,
    state: 'succeeded' | 'failed',
    preimage: Uint8Array | undefined,
    reason: string | undefined,
    nowMs: number,
  ): void {
    this.stmts.updatePayment.run(
      state,
      preimage ? Buffer.from(preimage) : null,
      reason ?? null,
      nowMs,
      setId,
    );
  }

  payment(setId: string): PaymentRecord | undefined {
    const r = this.stmts.payment.get(setId) as PaymentRow | undefined;
    if (!r) return undefined;
    return {
      setId: r.set_id,
      paymentHash: new Uint8Array(r.payment_hash),
      state: r.state as PaymentState,
      preimage: r.preimage ? new Uint8Array(r.preimage) : undefined,
      reason: r.reason ?? undefined,
    };
  }
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
