// Our `async_hold` hop-payload record: tells L to hold the HTLC and how to reach the recipient
// (message_paths) or how the sender will release it (release_token). Type numbers are config values
// because the BOLT draft is unmerged; these are the defaults (docs/PROTOCOL.md).
import { Reader, decodeTu, encodeTu, concatBytes } from './bigsize.js';
import { codecError } from './errors.js';
import { readBlindedPath } from './blinded-path.js';
import { decodeTlvStream, encodeTlvStream, type TlvRecord } from './tlv.js';

export const DEFAULT_ASYNC_HOLD_TYPE = 4280151n;

export const ASYNC_HOLD_SUBTYPES = {
  messagePaths: 0n,
  releaseToken: 2n,
  maxHoldBlocks: 4n,
  totalAmountMsat: 6n,
} as const;

const KNOWN = new Set<bigint>(Object.values(ASYNC_HOLD_SUBTYPES));

export interface AsyncHold {
  /** Each entry is one encoded blinded_path (BOLT 4), as sent; parse with the blinded_path codec. */
  messagePaths?: Uint8Array[];
  /** 32 bytes; the path_id the sender put in its own reply path to L. */
  releaseToken?: Uint8Array;
  maxHoldBlocks?: number;
  /** Total of an MPP set, so L holds until the whole set has arrived. */
  totalAmountMsat?: bigint;
}

/** Decode the value of an async_hold record (its sub-TLV stream). */
export function decodeAsyncHold(value: Uint8Array): AsyncHold {
  const out: AsyncHold = {};
  for (const { type, value: v } of decodeTlvStream(value, KNOWN, 'async_hold')) {
    switch (type) {
      case ASYNC_HOLD_SUBTYPES.messagePaths:
        out.messagePaths = splitBlindedPaths(v);
        if (out.messagePaths.length === 0) throw codecError('invalid', 'async_hold message_paths: empty');
        break;
      case ASYNC_HOLD_SUBTYPES.releaseToken:
        out.releaseToken = checkToken(v).slice();
        break;
      case ASYNC_HOLD_SUBTYPES.maxHoldBlocks:
        out.maxHoldBlocks = Number(decodeTu(v, 4, 'async_hold max_hold_blocks'));
        break;
      case ASYNC_HOLD_SUBTYPES.totalAmountMsat:
        out.totalAmountMsat = decodeTu(v, 8, 'async_hold total_amount_msat');
        break;
      // unknown odd sub-types are ignored (it's OK to be odd)
    }
  }
  checkHasTarget(out);
  return out;
}

export function encodeAsyncHold(h: AsyncHold): Uint8Array {
  checkHasTarget(h);
  const recs: TlvRecord[] = [];
  if (h.messagePaths !== undefined) {
    if (h.messagePaths.length === 0) throw codecError('invalid', 'async_hold message_paths: empty');
    const joined = concatBytes(...h.messagePaths);
    // Re-split so we never send a list the recipient side could not parse back.
    if (splitBlindedPaths(joined).length !== h.messagePaths.length)
      throw codecError('invalid', 'async_hold message_paths: entries are not whole blinded paths');
    recs.push({ type: ASYNC_HOLD_SUBTYPES.messagePaths, value: joined });
  }
  if (h.releaseToken !== undefined)
    recs.push({ type: ASYNC_HOLD_SUBTYPES.releaseToken, value: checkToken(h.releaseToken) });
  if (h.maxHoldBlocks !== undefined)
    recs.push({ type: ASYNC_HOLD_SUBTYPES.maxHoldBlocks, value: encodeTu(h.maxHoldBlocks, 4) });
  if (h.totalAmountMsat !== undefined)
    recs.push({ type: ASYNC_HOLD_SUBTYPES.totalAmountMsat, value: encodeTu(h.totalAmountMsat, 8) });
  return encodeTlvStream(recs);
}

/** The async_hold in a hop payload's custom records, if any (undefined when absent). */
export function findAsyncHold(
  customRecords: ReadonlyMap<bigint, Uint8Array>,
  type: bigint = DEFAULT_ASYNC_HOLD_TYPE,
): AsyncHold | undefined {
  const v = customRecords.get(type);
  return v === undefined ? undefined : decodeAsyncHold(v);
}

/**
 * Split a concatenation of encoded blinded_paths into one slice per path (as sent), reading each
 * with the blinded_path codec so the two can never disagree about where a path ends.
 */
export function splitBlindedPaths(buf: Uint8Array): Uint8Array[] {
  const r = new Reader(buf);
  const out: Uint8Array[] = [];
  while (r.remaining > 0) {
    const start = r.pos;
    readBlindedPath(r);
    out.push(buf.slice(start, r.pos));
  }
  return out;
}

function checkToken(v: Uint8Array): Uint8Array {
  if (v.length !== 32)
    throw codecError('invalid', `async_hold release_token: ${v.length} bytes, expected 32`);
  return v;
}

function checkHasTarget(h: AsyncHold): void {
  if (h.messagePaths === undefined && h.releaseToken === undefined)
    throw codecError('missing_field', 'async_hold: needs message_paths (0) or release_token (2)');
}
