// BOLT 7 short_channel_id: 3 bytes block height, 3 bytes tx index, 2 bytes output index. Hosts speak
// it three ways (CLN "BxTxO", LND uint64 chan_id, the onion's 8 bytes); all convert through bigint.
import { beToBigint, bigintToBe } from './bigsize.js';
import { codecError } from './errors.js';

export interface ScidParts {
  block: number;
  tx: number;
  out: number;
}

const MAX_SCID = (1n << 64n) - 1n;

export function scidFromParts({ block, tx, out }: ScidParts): bigint {
  if (!inRange(block, 0xffffff) || !inRange(tx, 0xffffff) || !inRange(out, 0xffff))
    throw codecError('out_of_range', `short_channel_id part out of range: ${block}x${tx}x${out}`);
  return (BigInt(block) << 40n) | (BigInt(tx) << 16n) | BigInt(out);
}

export function scidToParts(scid: bigint): ScidParts {
  checkScid(scid);
  return {
    block: Number(scid >> 40n),
    tx: Number((scid >> 16n) & 0xffffffn),
    out: Number(scid & 0xffffn),
  };
}

/** "BLOCKxTXxOUT", the form CLN prints and the BOLT vectors use. */
export function scidToString(scid: bigint): string {
  const { block, tx, out } = scidToParts(scid);
  return `${block}x${tx}x${out}`;
}

/** Parse "BLOCKxTXxOUT" (decimal parts, no signs or leading '+'). */
export function parseScid(s: string): bigint {
  const m = /^(\d{1,8})x(\d{1,8})x(\d{1,5})$/.exec(s);
  if (!m) throw codecError('invalid', `short_channel_id: cannot parse ${JSON.stringify(s.slice(0, 40))}`);
  return scidFromParts({ block: Number(m[1]), tx: Number(m[2]), out: Number(m[3]) });
}

export const encodeScid = (scid: bigint): Uint8Array => (checkScid(scid), bigintToBe(scid, 8));

export function decodeScid(b: Uint8Array): bigint {
  if (b.length !== 8) throw codecError('invalid', `short_channel_id: ${b.length} bytes, expected 8`);
  return beToBigint(b);
}

function checkScid(scid: bigint): void {
  if (scid < 0n || scid > MAX_SCID) throw codecError('out_of_range', `short_channel_id ${scid} out of range`);
}

const inRange = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
