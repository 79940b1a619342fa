// The TLV stream of update_add_htlc as a host hands it to us: CLN `htlc.extra_tlvs` (raw bytes),
// LND `in_wire_custom_records` (a map of types >= 65536). The host has already accepted the HTLC,
// so records we don't name are kept, not rejected; we only look for the path key and hold_htlc.
import { codecError } from './errors.js';
import { checkCompressedPoint } from './point-prefix.js';
import { decodeTlvStream, encodeTlvStream, type TlvRecord } from './tlv.js';

/** BOLT 2 `blinding_point` (renamed `path_key`): set when this HTLC is inside a blinded route. */
export const PATH_KEY_TYPE = 0n;
/** LDK's `hold_htlc` number; the draft spec says 2, so callers may pass another. */
export const DEFAULT_HOLD_HTLC_TYPE = 75537n;

export interface UpdateAddTlvs {
  pathKey?: Uint8Array;
  holdHtlc: boolean;
  /** Every other record, by type. */
  otherRecords: Map<bigint, Uint8Array>;
}

export interface UpdateAddOptions {
  holdHtlcType?: bigint;
}

/** Decode raw update_add_htlc TLV bytes (e.g. CLN `htlc.extra_tlvs`, hex-decoded). */
export function decodeUpdateAddTlvs(bytes: Uint8Array, opts: UpdateAddOptions = {}): UpdateAddTlvs {
  return fromRecords(decodeTlvStream(bytes, undefined, 'update_add_htlc tlvs'), opts);
}

/** The same from a map of records (e.g. LND `in_wire_custom_records`, keys parsed to bigint). */
export function updateAddTlvsFromRecords(
  records: ReadonlyMap<bigint, Uint8Array>,
  opts: UpdateAddOptions = {},
): UpdateAddTlvs {
  for (const t of records.keys())
    if (t < 0n || t >= 1n << 64n) throw codecError('out_of_range', `update_add_htlc tlvs: type ${t}`);
  return fromRecords(
    [...records].map(([type, value]) => ({ type, value })),
    opts,
  );
}

/** Encode for the sender SDK; `otherRecords` may not reuse the path key or hold_htlc numbers. */
export function encodeUpdateAddTlvs(t: UpdateAddTlvs, opts: UpdateAddOptions = {}): Uint8Array {
  const holdType = opts.holdHtlcType ?? DEFAULT_HOLD_HTLC_TYPE;
  const recs: TlvRecord[] = [];
  if (t.pathKey)
    recs.push({ type: PATH_KEY_TYPE, value: checkCompressedPoint(t.pathKey, 'update_add_htlc path_key') });
  if (t.holdHtlc) recs.push({ type: holdType, value: new Uint8Array() });
  for (const [type, value] of t.otherRecords) {
    if (type === PATH_KEY_TYPE || type === holdType)
      throw codecError('invalid', `update_add_htlc tlvs: other record reuses type ${type}`);
    recs.push({ type, value });
  }
  return encodeTlvStream(recs);
}

function fromRecords(recs: readonly TlvRecord[], opts: UpdateAddOptions): UpdateAddTlvs {
  const holdType = opts.holdHtlcType ?? DEFAULT_HOLD_HTLC_TYPE;
  const out: UpdateAddTlvs = { holdHtlc: false, otherRecords: new Map() };
  for (const { type, value } of recs) {
    if (type === PATH_KEY_TYPE) out.pathKey = checkCompressedPoint(value, 'update_add_htlc path_key').slice();
    else if (type === holdType) {
      // hold_htlc is a flag; a value would mean a different, unknown record under our number.
      if (value.length !== 0)
        throw codecError('invalid', `update_add_htlc hold_htlc: ${value.length}-byte value`);
      out.holdHtlc = true;
    } else out.otherRecords.set(type, value.slice());
  }
  return out;
}
