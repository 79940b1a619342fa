// BOLT 1 TLV streams. Decoding enforces: strictly increasing types, minimal BigSize, lengths that
// never read past the buffer, and (when the caller names its known types) no unknown even type.
import { Reader, concatBytes, encodeBigSize } from './bigsize.js';
import { codecError } from './errors.js';

export interface TlvRecord {
  type: bigint;
  value: Uint8Array;
}

/**
 * Decode a whole buffer as a TLV stream. `known` lists the types the caller understands; an unknown
 * even type is then an error that names it (BOLT 1). Without `known` every type is returned.
 */
export function decodeTlvStream(buf: Uint8Array, known?: ReadonlySet<bigint>, what = 'tlv'): TlvRecord[] {
  const r = new Reader(buf);
  const out: TlvRecord[] = [];
  let last = -1n;
  while (r.remaining > 0) {
    const type = r.bigSize(`${what} type`);
    if (type <= last)
      throw codecError('tlv_order', `${what}: type ${type} after ${last}, not strictly increasing`);
    last = type;
    const len = r.bigSize(`${what} length of type ${type}`);
    if (len > BigInt(r.remaining)) {
      throw codecError(
        'truncated',
        `${what}: type ${type} has length ${len}, only ${r.remaining} bytes left`,
      );
    }
    const value = r.bytes(Number(len), `${what} value of type ${type}`);
    if (known && !known.has(type) && type % 2n === 0n) {
      throw codecError('unknown_even', `${what}: unknown even type ${type}`);
    }
    out.push({ type, value });
  }
  return out;
}

/** Encode records as a TLV stream, sorted by type; duplicate types are an error. */
export function encodeTlvStream(records: readonly TlvRecord[]): Uint8Array {
  const sorted = [...records].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const rec = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.type === rec.type)
      throw codecError('tlv_order', `tlv: duplicate type ${rec.type}`);
    parts.push(encodeBigSize(rec.type), encodeBigSize(rec.value.length), rec.value);
  }
  return concatBytes(...parts);
}

/** Records as a map by type, for field lookup after decoding. */
export function tlvMap(records: readonly TlvRecord[]): Map<bigint, Uint8Array> {
  return new Map(records.map((r) => [r.type, r.value]));
}
