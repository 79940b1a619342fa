// The HTLC column from schema 3 on: the InterceptedHtlc as first seen, in a compact binary form. The
// tagged JSON it replaces was twice the bytes and cost a parse per hold at every restart.
//
// Layout (format 1): u8 format, u16 flags (F_* below, which optional fields follow), then in order:
//   incomingChannel str, [incomingPeer str], amountInMsat big, [amountOutMsat big],
//   incomingExpiry f64, [outgoingExpiry f64], [outgoingChannel str], [autoFailHeight f64],
//   [asyncHold: path count varint, each path bytes; [releaseToken bytes]; [maxHoldBlocks f64];
//    [totalMsat big]],
//   [trampoline: [invoice str]; [amtToForwardMsat big]; [outgoingNodeId str]; [keysendPreimage bytes]]
// str and bytes are a varint length then the UTF-8 text or the bytes; big is one byte, the length of
// a big-endian magnitude, then the magnitude; numbers are float64 (any JS number, exactly). The key
// and the payment hash are columns of their own and are not repeated here.
import type { InterceptedHtlc, Msat, TrampolineRequest } from './backend.js';
import { HoldError } from './errors.js';

const FORMAT = 1;

const F_PEER = 1 << 0;
const F_AMOUNT_OUT = 1 << 1;
const F_OUT_EXPIRY = 1 << 2;
const F_OUT_CHANNEL = 1 << 3;
const F_AUTO_FAIL = 1 << 4;
const F_HOLD_FLAG = 1 << 5;
const F_ASYNC = 1 << 6;
const F_TOKEN = 1 << 7;
const F_MAX_HOLD = 1 << 8;
const F_TOTAL = 1 << 9;
const F_TRAMPOLINE = 1 << 10;
const F_INVOICE = 1 << 11;
const F_AMT_FORWARD = 1 << 12;
const F_NODE = 1 << 13;
const F_KEYSEND = 1 << 14;
const F_ALL = (1 << 15) - 1;

const U64_MAX = (1n << 64n) - 1n;

/**
 * One growing buffer for every encode: better-sqlite3 copies a bound blob, so intake allocates no
 * buffer per row. What encodeHtlcBlob returns is a view into it, valid until the next call.
 */
let scratch = Buffer.allocUnsafe(4096);
let pos = 0;

function room(n: number): void {
  if (pos + n <= scratch.length) return;
  const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + n));
  scratch.copy(next, 0, 0, pos);
  scratch = next;
}

function putVarint(n: number): void {
  room(5);
  while (n >= 0x80) {
    scratch[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  scratch[pos++] = n;
}

function putBytes(b: Uint8Array): void {
  putVarint(b.byteLength);
  room(b.byteLength);
  scratch.set(b, pos);
  pos += b.byteLength;
}

function putStr(s: string): void {
  const n = Buffer.byteLength(s);
  putVarint(n);
  room(n);
  pos += scratch.write(s, pos, n, 'utf8');
}

function putF64(x: number): void {
  room(8);
  pos = scratch.writeDoubleBE(x, pos);
}

function putBig(x: bigint): void {
  if (x >= 0n && x <= U64_MAX) {
    room(9);
    scratch[pos++] = 8;
    pos = scratch.writeBigUInt64BE(x, pos);
    return;
  }
  // Beyond what the wire carries (a u64): still stored exactly, never truncated.
  if (x < 0n) throw new HoldError('store_version', `cannot store a negative amount (${x})`);
  let hex = x.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (hex.length / 2 > 255) throw new HoldError('store_version', 'cannot store an amount over 255 bytes');
  room(1 + hex.length / 2);
  scratch[pos++] = hex.length / 2;
  pos += scratch.write(hex, pos, 'hex');
}

/** The HTLC in the binary form (a view into a shared buffer: bind or copy it before the next call). */
export function encodeHtlcBlob(h: InterceptedHtlc): Buffer {
  pos = 0;
  const a = h.asyncHold;
  const t = h.trampoline;
  let flags = 0;
  if (h.incomingPeer !== undefined) flags |= F_PEER;
  if (h.amountOutMsat !== undefined) flags |= F_AMOUNT_OUT;
  if (h.outgoingExpiry !== undefined) flags |= F_OUT_EXPIRY;
  if (h.outgoingChannel !== undefined) flags |= F_OUT_CHANNEL;
  if (h.autoFailHeight !== undefined) flags |= F_AUTO_FAIL;
  if (h.holdFlag) flags |= F_HOLD_FLAG;
  if (a) {
    flags |= F_ASYNC;
    if (a.releaseToken !== undefined) flags |= F_TOKEN;
    if (a.maxHoldBlocks !== undefined) flags |= F_MAX_HOLD;
    if (a.totalMsat !== undefined) flags |= F_TOTAL;
  }
  if (t) {
    flags |= F_TRAMPOLINE;
    if (t.invoice !== undefined) flags |= F_INVOICE;
    if (t.amtToForwardMsat !== undefined) flags |= F_AMT_FORWARD;
    if (t.outgoingNodeId !== undefined) flags |= F_NODE;
    if (t.keysendPreimage !== undefined) flags |= F_KEYSEND;
  }
  room(3);
  scratch[pos++] = FORMAT;
  pos = scratch.writeUInt16BE(flags, pos);
  putStr(h.incomingChannel);
  if (h.incomingPeer !== undefined) putStr(h.incomingPeer);
  putBig(h.amountInMsat);
  if (h.amountOutMsat !== undefined) putBig(h.amountOutMsat);
  putF64(h.incomingExpiry);
  if (h.outgoingExpiry !== undefined) putF64(h.outgoingExpiry);
  if (h.outgoingChannel !== undefined) putStr(h.outgoingChannel);
  if (h.autoFailHeight !== undefined) putF64(h.autoFailHeight);
  if (a) {
    putVarint(a.messagePaths.length);
    for (const p of a.messagePaths) putBytes(p);
    if (a.releaseToken !== undefined) putBytes(a.releaseToken);
    if (a.maxHoldBlocks !== undefined) putF64(a.maxHoldBlocks);
    if (a.totalMsat !== undefined) putBig(a.totalMsat);
  }
  if (t) {
    if (t.invoice !== undefined) putStr(t.invoice);
    if (t.amtToForwardMsat !== undefined) putBig(t.amtToForwardMsat);
    if (t.outgoingNodeId !== undefined) putStr(t.outgoingNodeId);
    if (t.keysendPreimage !== undefined) putBytes(t.keysendPreimage);
  }
  return scratch.subarray(0, pos);
}

/** Reads one blob front to back; every read checks the bounds, so a short or garbled blob throws. */
class Reader {
  private at = 3;
  readonly flags: number;

  constructor(private readonly b: Buffer) {
    if (b.length < 3 || b[0] !== FORMAT) {
      throw new HoldError('store_version', `hold htlc column in unknown format ${b[0] ?? 'none'}`);
    }
    this.flags = b.readUInt16BE(1);
    if ((this.flags & ~F_ALL) !== 0) {
      throw new HoldError('store_version', `hold htlc column has unknown fields (${this.flags})`);
    }
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  private need(n: number): number {
    const at = this.at;
    if (at + n > this.b.length) throw new HoldError('store_version', 'hold htlc column is truncated');
    this.at = at + n;
    return at;
  }

  varint(): number {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.b[this.need(1)]!;
      n += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return n;
    }
    throw new HoldError('store_version', 'hold htlc column has a bad length');
  }

  str(): string {
    const n = this.varint();
    const at = this.need(n);
    return this.b.toString('utf8', at, at + n);
  }

  /** A copy: a view would keep the whole row's buffer alive as long as the hold. */
  bytes(): Uint8Array {
    const n = this.varint();
    const at = this.need(n);
    return new Uint8Array(this.b.subarray(at, at + n));
  }

  skipBytes(): void {
    this.need(this.varint());
  }

  f64(): number {
    return this.b.readDoubleBE(this.need(8));
  }

  big(): bigint {
    const n = this.b[this.need(1)]!;
    const at = this.need(n);
    if (n === 8) return this.b.readBigUInt64BE(at);
    return n === 0 ? 0n : BigInt(`0x${this.b.toString('hex', at, at + n)}`);
  }

  end(): void {
    if (this.at !== this.b.length) throw new HoldError('store_version', 'hold htlc column has extra bytes');
  }
}

/** The HTLC back from its blob and the two columns kept apart, with every field the host gives. */
export function decodeHtlcBlob(b: Buffer, key: string, paymentHash: Uint8Array): InterceptedHtlc {
  const r = new Reader(b);
  const incomingChannel = r.str();
  const incomingPeer = r.has(F_PEER) ? r.str() : undefined;
  const amountInMsat = r.big();
  const amountOutMsat = r.has(F_AMOUNT_OUT) ? r.big() : undefined;
  const incomingExpiry = r.f64();
  const outgoingExpiry = r.has(F_OUT_EXPIRY) ? r.f64() : undefined;
  const outgoingChannel = r.has(F_OUT_CHANNEL) ? r.str() : undefined;
  const autoFailHeight = r.has(F_AUTO_FAIL) ? r.f64() : undefined;
  let asyncHold: InterceptedHtlc['asyncHold'];
  if (r.has(F_ASYNC)) {
    const n = r.varint();
    const messagePaths: Uint8Array[] = [];
    for (let i = 0; i < n; i++) messagePaths.push(r.bytes());
    asyncHold = {
      messagePaths,
      releaseToken: r.has(F_TOKEN) ? r.bytes() : undefined,
      maxHoldBlocks: r.has(F_MAX_HOLD) ? r.f64() : undefined,
      totalMsat: r.has(F_TOTAL) ? r.big() : undefined,
    };
  }
  const trampoline = r.has(F_TRAMPOLINE) ? readTrampoline(r) : undefined;
  r.end();
  return {
    key,
    incomingChannel,
    incomingPeer,
    paymentHash,
    amountInMsat,
    amountOutMsat,
    incomingExpiry,
    outgoingExpiry,
    outgoingChannel,
    autoFailHeight,
    holdFlag: r.has(F_HOLD_FLAG),
    asyncHold,
    trampoline,
  };
}

function readTrampoline(r: Reader): TrampolineRequest {
  return {
    invoice: r.has(F_INVOICE) ? r.str() : undefined,
    amtToForwardMsat: r.has(F_AMT_FORWARD) ? r.big() : undefined,
    outgoingNodeId: r.has(F_NODE) ? r.str() : undefined,
    keysendPreimage: r.has(F_KEYSEND) ? r.bytes() : undefined,
  };
}

/** What an active hold's record keeps of its HTLC (store-record.ts makeRecord's HTLC arguments). */
export interface ActiveHtlcFields {
  incomingChannel: string;
  incomingPeer: string | undefined;
  amountInMsat: Msat;
  amountOutMsat: Msat | undefined;
  incomingExpiry: number;
  messagePaths: Uint8Array[];
  releaseToken: Uint8Array | undefined;
  totalMsat: Msat | undefined;
  trampoline: TrampolineRequest | undefined;
}

/**
 * Only what an active hold's record keeps, for the restart: fields a hold never reads again are
 * stepped over, not turned into strings or bytes.
 */
export function readActiveHtlc(b: Buffer): ActiveHtlcFields {
  const r = new Reader(b);
  const incomingChannel = r.str();
  const incomingPeer = r.has(F_PEER) ? r.str() : undefined;
  const amountInMsat = r.big();
  const amountOutMsat = r.has(F_AMOUNT_OUT) ? r.big() : undefined;
  const incomingExpiry = r.f64();
  if (r.has(F_OUT_EXPIRY)) r.f64();
  if (r.has(F_OUT_CHANNEL)) r.skipBytes();
  if (r.has(F_AUTO_FAIL)) r.f64();
  const messagePaths: Uint8Array[] = [];
  let releaseToken: Uint8Array | undefined;
  let totalMsat: Msat | undefined;
  if (r.has(F_ASYNC)) {
    const n = r.varint();
    for (let i = 0; i < n; i++) messagePaths.push(r.bytes());
    releaseToken = r.has(F_TOKEN) ? r.bytes() : undefined;
    if (r.has(F_MAX_HOLD)) r.f64();
    totalMsat = r.has(F_TOTAL) ? r.big() : undefined;
  }
  const trampoline = r.has(F_TRAMPOLINE) ? readTrampoline(r) : undefined;
  r.end();
  return {
    incomingChannel,
    incomingPeer,
    amountInMsat,
    amountOutMsat,
    incomingExpiry,
    messagePaths,
    releaseToken,
    totalMsat,
    trampoline,
  };
}
