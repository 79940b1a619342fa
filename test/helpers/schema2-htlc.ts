// The schema-2 store's writer of the HTLC column, kept for tests only: schema 3 stores the HTLC in
// binary (store-blob.ts), and migration 3 must read what this wrote.
import type { InterceptedHtlc } from '../../plugin/hold/backend.js';
import { toJson } from '../../plugin/hold/store-json.js';
import { hexOf } from '../../plugin/hold/store-record.js';

/** One value in the tagged JSON form; the common types without building a tagged copy first. */
function jv(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'bigint') return `{"$n":"${x.toString()}"}`;
  if (x instanceof Uint8Array) return `{"$b":"${hexOf(x)}"}`;
  if (Array.isArray(x)) return `[${x.map(jv).join(',')}]`;
  return toJson(x) ?? 'null';
}

/** Append `"name":value` to an object's JSON text; undefined is left out, as JSON.stringify does. */
function put(s: string, name: string, x: unknown): string {
  if (x === undefined) return s;
  return `${s}${s.length > 1 ? ',' : ''}"${name}":${jv(x)}`;
}

/** The HTLC column as the schema-2 store wrote it: tagged JSON, field by field. */
export function encodeSchema2Htlc(h: InterceptedHtlc): string {
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
