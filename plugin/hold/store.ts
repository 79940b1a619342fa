// Durable record of every hold: better-sqlite3 in WAL mode with synchronous=FULL, so a commit that
// returned survives a power cut. The engine batches one tick's writes into one transaction.
// The schema lives in store-schema.ts, the row codecs in store-codec.ts (HTLC column store-blob.ts,
// verdicts store-json.ts), the record in store-record.ts.
import type Database from 'better-sqlite3';
import type { InterceptedHtlc } from './backend.js';
import { encodeHtlcBlob } from './store-blob.js';
import {
  asBuffer,
  rowToActive,
  rowToHold,
  type ActiveRow,
  type HoldRow,
  type PaymentRow,
} from './store-codec.js';
import { toJson } from './store-json.js';
import type { HoldRecord, PaymentRecord, PaymentState, StoredHold } from './store-record.js';
import { openHoldDb } from './store-schema.js';
import { HOLD_STATES, isHoldState, isTerminal, type HoldState } from './state.js';

export { decodeHtlcBlob, encodeHtlcBlob } from './store-blob.js';
export { decodeHtlc } from './store-json.js';
export {
  bytesOfHex,
  hexOf,
  holdRecord,
  type HoldMeta,
  type HoldRecord,
  type PaymentRecord,
  type PaymentState,
  type StoredHold,
} from './store-record.js';

const FINAL_STATES = HOLD_STATES.filter(isTerminal)
  .map((st) => `'${st}'`)
  .join(', ');

export class HoldStore {
  private readonly stmts;

  private constructor(private readonly db: Database.Database) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO holds (hold_id, htlc_key, set_id, payment_hash, state, htlc, hold_start, fail_at,
           created_ms, updated_ms, verdict)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      update: db.prepare(`UPDATE holds SET state = ?, verdict = ?, updated_ms = ? WHERE hold_id = ?`),
      // Finished holds only, by the key index that covers them (migration 003 says why).
      byKey: db.prepare(`SELECT * FROM holds WHERE htlc_key = ? AND verdict IS NOT NULL`),
      storedKeys: db
        .prepare(
          `SELECT htlc_key FROM holds
           WHERE htlc_key IN (SELECT value FROM json_each(?)) AND verdict IS NOT NULL`,
        )
        .pluck(),
      byId: db.prepare(`SELECT * FROM holds WHERE hold_id = ?`),
      // Only what the engine keeps, ids as lowercase hex (SQLite makes the strings; no Buffer per id).
      active: db.prepare(
        `SELECT lower(hex(hold_id)) AS hold_id, htlc_key, set_id, lower(hex(payment_hash)) AS payment_hash,
           state, htlc, hold_start, fail_at, created_ms, updated_ms
         FROM holds WHERE state IN ('held', 'paying') ORDER BY created_ms, rowid`,
      ),
      list: db.prepare(`SELECT * FROM holds ORDER BY created_ms DESC, rowid DESC LIMIT ?`),
      listState: db.prepare(
        `SELECT * FROM holds WHERE state = ? ORDER BY created_ms DESC, rowid DESC LIMIT ?`,
      ),
      counts: db.prepare(`SELECT state, count(*) AS n FROM holds GROUP BY state`),
      // Finished holds are exactly those in a final state (the verdict is written with it): the state
      // index finds them without reading every row, as "verdict IS NOT NULL" did.
      prune: db.prepare(`DELETE FROM holds WHERE state IN (${FINAL_STATES}) AND updated_ms < ?`),
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
    return new HoldStore(openHoldDb(path));
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

  /**
   * Insert a hold with the HTLC it was taken from (stored whole, as first seen). Its key is not
   * checked for uniqueness here: the engine keeps every active hold in memory and never takes in a
   * key it holds; finished holds' keys are unique in the store (holds_key_done).
   */
  insertHold(h: HoldRecord, htlc: InterceptedHtlc): void {
    // Positional parameters: binding a named-parameter object costs a property lookup per column.
    this.stmts.insert.run(
      Buffer.from(h.holdIdHex, 'hex'),
      h.key,
      h.setId,
      asBuffer(htlc.paymentHash),
      h.state,
      encodeHtlcBlob(htlc),
      h.holdStart,
      h.failAt,
      h.createdMs,
      h.updatedMs,
      h.verdict === undefined ? null : toJson(h.verdict),
    );
  }

  /** Write a hold's state (and its verdict, once it has one). */
  updateHold(h: HoldRecord): void {
    this.stmts.update.run(
      h.state,
      h.verdict === undefined ? null : toJson(h.verdict),
      h.updatedMs,
      Buffer.from(h.holdIdHex, 'hex'),
    );
  }

  /**
   * The finished hold (one with its verdict) taken from this HTLC. Active holds are not found here:
   * the engine has every one of them in memory until its final write commits, and asks memory first.
   */
  byKey(key: string): StoredHold | undefined {
    const r = this.stmts.byKey.get(key) as HoldRow | undefined;
    return r && rowToHold(r);
  }

  /** Which of these HTLC keys have a finished hold in the store (one query for a whole batch; see byKey). */
  storedKeys(keys: readonly string[]): Set<string> {
    return new Set(this.stmts.storedKeys.all(JSON.stringify(keys)) as string[]);
  }

  byHoldId(holdId: Uint8Array): StoredHold | undefined {
    const r = this.stmts.byId.get(Buffer.from(holdId)) as HoldRow | undefined;
    return r && rowToHold(r);
  }

  /** Whether some hold of this set already has its verdict (the set was released or failed). */
  setFinished(setId: string): boolean {
    return this.stmts.setFinished.get(setId) !== undefined;
  }

  /** Holds that still need a decision or a payment result. */
  active(): HoldRecord[] {
    // Row by row: all() would keep every raw row (and its JSON) alive until the last one is decoded.
    const out: HoldRecord[] = [];
    for (const r of this.stmts.active.iterate() as IterableIterator<ActiveRow>) out.push(rowToActive(r));
    return out;
  }

  list(state: HoldState | undefined, limit: number): StoredHold[] {
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
