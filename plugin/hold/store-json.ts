// Tagged JSON: bigints and byte arrays round-trip exactly. Verdicts are stored in it, and so was the
// HTLC column up to schema 2 (migration 003 reads it once to convert those rows to store-blob.ts;
// nothing writes an HTLC in it any more).
import type { InterceptedHtlc } from './backend.js';
import { hexOf } from './store-record.js';

const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

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

export function toJson(v: unknown): string {
  return JSON.stringify(tag(v));
}

export function fromJson<T>(s: string): T {
  return untag(JSON.parse(s)) as T;
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
