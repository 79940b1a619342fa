// Durable record of every hold: better-sqlite3 in WAL mode with synchronous=FULL, so a commit that
// returned survives a power cut. The engine batches one tick's writes into one transaction.
import Database from 'better-sqlite3';
import type { Height, InterceptedHtlc, Msat, TrampolineRequest, Verdict } from './backend.js';
import { HoldError } from './errors.js';
import { migrations } from './migrations/index.js';
import { peerKeyOf } from './policy.js';
import { HOLD_STATES, isHoldState, isTerminal, type HoldState } from './state.js';

/**
 * A hold as the engine keeps it in memory: what deciding it needs, ids as hex strings, and no copy
 * of the host's HTLC object. At 100,000 holds every kept object shows: a Uint8Array costs ~180 bytes
 * of heap before its contents, so the payment hash and hold id are kept once, as hex, and turned
 * back into bytes only for the rare call that needs them.
 */
export interface HoldRecord {
  holdIdHex: string;
  key: string;
  setId: string;
  paymentHashHex: string;
  state: HoldState;
  /** The cap bucket the hold counts against (policy peerKeyOf); the engine interns it per peer. */
  peer: string;
  amountInMsat: Msat;
  amountOutMsat: Msat | undefined;
  incomingExpiry: Height;
  /** From async_hold: where held_htlc_available goes, and the sender's release token. */
  messagePaths: Uint8Array[];
  releaseToken: Uint8Array | undefined;
  totalMsat: Msat | undefined;
  trampoline: TrampolineRequest | undefined;
  holdStart: Height;
  failAt: Height;
  createdMs: number;
  updatedMs: number;
  verdict: Verdict | undefined;
}

/** A hold read back with its HTLC as first seen (operator views, replays of finished holds). */
export interface StoredHold extends HoldRecord {
  htlc: InterceptedHtlc;
}

/** What a hold record carries besides the HTLC's own fields. */
export interface HoldMeta {
  holdIdHex: string;
  setId: string;
  paymentHashHex: string;
  state: HoldState;
  holdStart: Height;
  failAt: Height;
  createdMs: number;
  updatedMs: number;
  verdict: Verdict | undefined;
}

/** The in-memory record of a hold of this HTLC. */
export function holdRecord(h: InterceptedHtlc, m: HoldMeta): HoldRecord {
  const a = h.asyncHold;
  return makeRecord(
    m,
    h.key,
    peerKeyOf(h),
    h.amountInMsat,
    h.amountOutMsat,
    h.incomingExpiry,
    a?.messagePaths ?? [],
    a?.releaseToken,
    a?.totalMsat,
    h.trampoline,
  );
}

// One object literal for every record, so they all share one shape.
function makeRecord(
  m: HoldMeta,
  key: string,
  peer: string,
  amountInMsat: Msat,
  amountOutMsat: Msat | undefined,
  incomingExpiry: Height,
  messagePaths: Uint8Array[],
  releaseToken: Uint8Array | undefined,
  totalMsat: Msat | undefined,
  trampoline: TrampolineRequest | undefined,
): HoldRecord {
  return {
    holdIdHex: m.holdIdHex,
    key,
    setId: m.setId,
    paymentHashHex: m.paymentHashHex,
    state: m.state,
    peer,
    amountInMsat,
    amountOutMsat,
    incomingExpiry,
    messagePaths,
    releaseToken,
    totalMsat,
    trampoline,
    holdStart: m.holdStart,
    failAt: m.failAt,
    createdMs: m.createdMs,
    updatedMs: m.updatedMs,
    verdict: m.verdict,
  };
}

/** Bytes of a hex id kept in a record (a fresh copy; the record keeps only the string). */
export const bytesOfHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

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

/** An active hold's row: ids as hex from SQLite (no Buffer per id), no verdict (active holds have none). */
interface ActiveRow {
  hold_id: string;
  htlc_key: string;
  set_id: string;
  payment_hash: string;
  state: string;
  htlc: string;
  hold_start: number;
  fail_at: number;
  created_ms: number;
  updated_ms: number;
}

interface PaymentRow {
  set_id: string;
  payment_hash: Buffer;
  state: string;
  preimage: Buffer | null;
  reason: string | null;
}

const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/**
 * Lowercase hex as one flat string. @noble/hashes' bytesToHex appends a byte at a time, which leaves
 * a rope of one cons string per byte; ids kept for a hold's whole life would cost ~1.4 KB per hold.
 */
export function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

// JSON with tagged bigints and byte arrays, so the stored HTLC round-trips exactly. The tags are
// put in and taken out by a plain walk: a JSON replacer or reviver calls back for every key and
// made encoding and decoding the largest costs of intake and of a restart.
function tag(x: unknown): unknown {
  if (typeof x === 'bigint') return { $n: x.toString() };
  if (x instanceof Uint8Array) return { $b: hexOf(x) };
  if (Array.isArray(x)) return x.map(tag);
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown> & { toJSON?: unknown };
    if (typeof o.toJSON === 'function') return x;
    const out: Record<string, unknown> = {};
    for (const k in o) if (Object.hasOwn(o, k)) out[k] = tag(o[k]);
    return out;
  }
  return x;
}

function untag(x: unknown): unknown {
  if (x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) x[i] = untag(x[i]);
    return x;
  }
  const o = x as Record<string, unknown>;
  if (typeof o.$n === 'string') return BigInt(o.$n);
  if (typeof o.$b === 'string') return unhex(o.$b);
  for (const k in o) o[k] = untag(o[k]);
  return o;
}

function toJson(v: unknown): string {
  return JSON.stringify(tag(v));
}

function fromJson<T>(s: string): T {
  return untag(JSON.parse(s)) as T;
}

/** One value in the tagged JSON form; the common types without building a tagged copy first. */
function jv(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'bigint') return `{"$n":"${x.toString()}"}`;
  if (x instanceof Uint8Array) return `{"$b":"${hexOf(x)}"}`;
  if (Array.isArray(x)) return `[${x.map(jv).join(',')}]`;
  return JSON.stringify(tag(x)) ?? 'null';
}

/** Append `"name":value` to an object's JSON text; undefined is left out, as JSON.stringify does. */
function put(s: string, name: string, x: unknown): string {
  if (x === undefined) return s;
  return `${s}${s.length > 1 ? ',' : ''}"${name}":${jv(x)}`;
}

/**
 * The HTLC as tagged JSON (the format decodeHtlc reads), written field by field: the generic walk
 * built a tagged copy of every object before JSON.stringify saw it, a cost paid on every intake.
 */
export function encodeHtlc(h: InterceptedHtlc): string {
  let s = '{';
  s = put(s, 'key', h.key);
  s = put(s, 'incomingChannel', h.incomingChannel);
  s = put(s, 'incomingPeer', h.incomingPeer);
  s = put(s, 'paymentHash', h.paymentHash);
  s = put(s, 'amountInMsat', h.amountInMsat);
  s = put(s, 'amountOutMsat', h.amountOutMsat);
  s = put(s, 'incomingExpiry', h.incomingExpiry);
  s = put(s, 'outgoingExpiry', h.outgoingExpiry);
  s = put(s, 'outgoingChannel', h.outgoingChannel);
  s = put(s, 'autoFailHeight', h.autoFailHeight);
  s = put(s, 'holdFlag', h.holdFlag);
  const a = h.asyncHold;
  if (a) {
    let o = '{';
    o = put(o, 'messagePaths', a.messagePaths);
    o = put(o, 'releaseToken', a.releaseToken);
    o = put(o, 'maxHoldBlocks', a.maxHoldBlocks);
    o = put(o, 'totalMsat', a.totalMsat);
    s = `${s},"asyncHold":${o}}`;
  } else s = put(s, 'asyncHold', a);
  const t = h.trampoline;
  if (t) {
    let o = '{';
    o = put(o, 'invoice', t.invoice);
    o = put(o, 'amtToForwardMsat', t.amtToForwardMsat);
    o = put(o, 'outgoingNodeId', t.outgoingNodeId);
    o = put(o, 'keysendPreimage', t.keysendPreimage);
    s = `${s},"trampoline":${o}}`;
  } else s = put(s, 'trampoline', t);
  return `${s}}`;
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

/** A Buffer view of the bytes (no copy): better-sqlite3 binds Buffers as blobs. */
const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function rowToHold(r: HoldRow): StoredHold {
  if (!isHoldState(r.state)) throw new HoldError('store_version', `unknown hold state ${r.state}`);
  const htlc = decodeHtlc(r.htlc);
  return {
    ...holdRecord(htlc, {
      holdIdHex: r.hold_id.toString('hex'),
      setId: r.set_id,
      paymentHashHex: r.payment_hash.toString('hex'),
      state: r.state,
      holdStart: r.hold_start,
      failAt: r.fail_at,
      createdMs: r.created_ms,
      updatedMs: r.updated_ms,
      verdict: r.verdict === null ? undefined : fromJson<Verdict>(r.verdict),
    }),
    htlc,
  };
}

type Tagged = Record<string, unknown>;

const FINAL_STATES = HOLD_STATES.filter(isTerminal)
  .map((st) => `'${st}'`)
  .join(', ');

/**
 * An active hold from its row, decoding only what the record keeps: the payment hash (already a
 * column) and the fields a hold never reads again are left in the JSON text, not turned into bytes.
 */
function rowToActive(r: ActiveRow): HoldRecord {
  if (!isHoldState(r.state)) throw new HoldError('store_version', `unknown hold state ${r.state}`);
  const o = JSON.parse(r.htlc) as Tagged;
  const a = (o.asyncHold ?? undefined) as Tagged | undefined;
  const t = untag(o.trampoline ?? undefined) as TrampolineRequest | undefined;
  return makeRecord(
    {
      holdIdHex: r.hold_id,
      setId: r.set_id,
      paymentHashHex: r.payment_hash,
      state: r.state,
      holdStart: r.hold_start,
      failAt: r.fail_at,
      createdMs: r.created_ms,
      updatedMs: r.updated_ms,
      verdict: undefined,
    },
    r.htlc_key,
    peerKeyOf(o as Pick<InterceptedHtlc, 'incomingPeer' | 'incomingChannel'>),
    untag(o.amountInMsat) as Msat,
    untag(o.amountOutMsat) as Msat | undefined,
    o.incomingExpiry as Height,
    (untag(a?.messagePaths) as Uint8Array[] | undefined) ?? [],
    untag(a?.releaseToken) as Uint8Array | undefined,
    untag(a?.totalMsat) as Msat | undefined,
    t && {
      invoice: t.invoice,
      amtToForwardMsat: t.amtToForwardMsat,
      outgoingNodeId: t.outgoingNodeId,
      keysendPreimage: t.keysendPreimage,
    },
  );
}

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
      byKey: db.prepare(`SELECT * FROM holds WHERE htlc_key = ?`),
      storedKeys: db
        .prepare(`SELECT htlc_key FROM holds WHERE htlc_key IN (SELECT value FROM json_each(?))`)
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

  /** Insert a hold with the HTLC it was taken from (stored whole, as first seen). */
  insertHold(h: HoldRecord, htlc: InterceptedHtlc): void {
    // Positional parameters: binding a named-parameter object costs a property lookup per column.
    this.stmts.insert.run(
      Buffer.from(h.holdIdHex, 'hex'),
      h.key,
      h.setId,
      asBuffer(htlc.paymentHash),
      h.state,
      encodeHtlc(htlc),
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

  byKey(key: string): StoredHold | undefined {
    const r = this.stmts.byKey.get(key) as HoldRow | undefined;
    return r && rowToHold(r);
  }

  /** Which of these HTLC keys have a stored hold (one query for a whole batch). */
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
