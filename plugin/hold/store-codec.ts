// Row codecs: a row of the holds table to the engine's record (the HTLC column is store-blob.ts's
// binary form, the verdict tagged JSON from store-json.ts).
import type { Verdict } from './backend.js';
import { HoldError } from './errors.js';
import { peerKeyOf } from './policy.js';
import { isHoldState } from './state.js';
import { decodeHtlcBlob, readActiveHtlc } from './store-blob.js';
import { fromJson } from './store-json.js';
import { holdRecord, makeRecord, type HoldRecord, type StoredHold } from './store-record.js';

export interface HoldRow {
  hold_id: Buffer;
  htlc_key: string;
  set_id: string;
  payment_hash: Buffer;
  state: string;
  htlc: Buffer;
  hold_start: number;
  fail_at: number;
  created_ms: number;
  updated_ms: number;
  verdict: string | null;
}

/** An active hold's row: ids as hex from SQLite (no Buffer per id), no verdict (active holds have none). */
export interface ActiveRow {
  hold_id: string;
  htlc_key: string;
  set_id: string;
  payment_hash: string;
  state: string;
  htlc: Buffer;
  hold_start: number;
  fail_at: number;
  created_ms: number;
  updated_ms: number;
}

export interface PaymentRow {
  set_id: string;
  payment_hash: Buffer;
  state: string;
  preimage: Buffer | null;
  reason: string | null;
}

/** A Buffer view of the bytes (no copy): better-sqlite3 binds Buffers as blobs. */
export const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function rowToHold(r: HoldRow): StoredHold {
  if (!isHoldState(r.state)) throw new HoldError('store_version', `unknown hold state ${r.state}`);
  const htlc = decodeHtlcBlob(r.htlc, r.htlc_key, new Uint8Array(r.payment_hash));
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

/**
 * An active hold from its row, decoding only what the record keeps: the payment hash (already a
 * column) and the fields a hold never reads again are stepped over in the blob.
 */
export function rowToActive(r: ActiveRow): HoldRecord {
  if (!isHoldState(r.state)) throw new HoldError('store_version', `unknown hold state ${r.state}`);
  const f = readActiveHtlc(r.htlc);
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
    peerKeyOf(f),
    f.amountInMsat,
    f.amountOutMsat,
    f.incomingExpiry,
    f.messagePaths,
    f.releaseToken,
    f.totalMsat,
    f.trampoline,
  );
}
