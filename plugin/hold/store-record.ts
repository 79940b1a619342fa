// The in-memory form of a hold and the small id helpers the engine shares with the store.
import type { Height, InterceptedHtlc, Msat, TrampolineRequest, Verdict } from './backend.js';
import { peerKeyOf } from './policy.js';
import type { HoldState } from './state.js';

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
export function makeRecord(
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

/**
 * Lowercase hex as one flat string. @noble/hashes' bytesToHex appends a byte at a time, which leaves
 * a rope of one cons string per byte; ids kept for a hold's whole life would cost ~1.4 KB per hold.
 */
export function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export type PaymentState = 'pending' | 'succeeded' | 'failed';

export interface PaymentRecord {
  setId: string;
  paymentHash: Uint8Array;
  state: PaymentState;
  preimage: Uint8Array | undefined;
  reason: string | undefined;
}
