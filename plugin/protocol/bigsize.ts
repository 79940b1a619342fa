// BOLT 1 fundamental types: BigSize and the truncated integers tu16/tu32/tu64.
import { codecError } from './errors.js';

/** A cursor over a byte buffer that never reads past its end (it throws CodecError 'truncated'). */
export class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  bytes(n: number, what = 'field'): Uint8Array {
    if (n < 0 || n > this.remaining)
      throw codecError('truncated', `${what}: needs ${n} bytes, ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(what = 'u8'): number {
    return this.bytes(1, what)[0]!;
  }
  u16(what = 'u16'): number {
    const b = this.bytes(2, what);
    return (b[0]! << 8) | b[1]!;
  }
  u32(what = 'u32'): number {
    const b = this.bytes(4, what);
    return ((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
  }
  u64(what = 'u64'): bigint {
    const b = this.bytes(8, what);
    return beToBigint(b);
  }
  bigSize(what = 'bigsize'): bigint {
    return readBigSize(this, what);
  }
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
}

export function beToBigint(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function bigintToBe(v: bigint, len: number): Uint8Array {
  if (v < 0n || v >= 1n << BigInt(8 * len))
    throw codecError('out_of_range', `${v} does not fit in ${len} bytes`);
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** number -> bigint that throws CodecError, not RangeError, for NaN or fractions (codecs throw only CodecError). */
export function toBigint(v: bigint | number, what = 'integer'): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw codecError('out_of_range', `${what}: ${v} is not a safe integer`);
  return BigInt(v);
}

export const u16 = (v: number): Uint8Array => bigintToBe(toBigint(v, 'u16'), 2);
export const u32 = (v: number): Uint8Array => bigintToBe(toBigint(v, 'u32'), 4);
export const u64 = (v: bigint): Uint8Array => bigintToBe(v, 8);

const MAX_U64 = (1n << 64n) - 1n;

export function encodeBigSize(v: bigint | number): Uint8Array {
  const n = toBigint(v, 'bigsize');
  if (n < 0n || n > MAX_U64) throw codecError('out_of_range', `bigsize ${n} out of range`);
  if (n < 0xfdn) return Uint8Array.of(Number(n));
  if (n <= 0xffffn) return concatBytes(Uint8Array.of(0xfd), bigintToBe(n, 2));
  if (n <= 0xffffffffn) return concatBytes(Uint8Array.of(0xfe), bigintToBe(n, 4));
  return concatBytes(Uint8Array.of(0xff), bigintToBe(n, 8));
}

export function readBigSize(r: Reader, what = 'bigsize'): bigint {
  const first = r.u8(what);
  if (first < 0xfd) return BigInt(first);
  const [len, min] = first === 0xfd ? [2, 0xfdn] : first === 0xfe ? [4, 0x10000n] : [8, 0x100000000n];
  const v = beToBigint(r.bytes(len, what));
  if (v < min) throw codecError('non_minimal', `${what}: non-minimal bigsize encoding`);
  return v;
}

export function decodeBigSize(buf: Uint8Array): bigint {
  const r = new Reader(buf);
  const v = r.bigSize();
  if (r.remaining !== 0) throw codecError('trailing', 'bigsize: trailing bytes');
  return v;
}

/** Truncated unsigned integer (tu16/tu32/tu64): big-endian with no leading zero bytes. */
export function encodeTu(v: bigint | number, maxBytes: 2 | 4 | 8 = 8): Uint8Array {
  let n = toBigint(v, `tu${8 * maxBytes}`);
  if (n < 0n || n >= 1n << BigInt(8 * maxBytes))
    throw codecError('out_of_range', `tu${8 * maxBytes} ${n} out of range`);
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return Uint8Array.from(bytes);
}

export function decodeTu(b: Uint8Array, maxBytes: 2 | 4 | 8 = 8, what = `tu${8 * maxBytes}`): bigint {
  if (b.length > maxBytes)
    throw codecError('out_of_range', `${what}: ${b.length} bytes, at most ${maxBytes}`);
  if (b.length > 0 && b[0] === 0) throw codecError('non_minimal', `${what}: leading zero byte`);
  return beToBigint(b);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
