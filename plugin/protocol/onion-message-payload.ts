// BOLT 4 onion messages on the wire: the `onionmsg_tlv` payload (with our async-payment message
// types) and the `onion_message` message (type 513) that carries the packet.
import { Reader } from './bigsize.js';
import { type BlindedPath, decodeBlindedPath, encodeBlindedPath } from './blinded-path.js';
import { codecError } from './errors.js';
import { type TlvRecord, decodeTlvStream, encodeTlvStream } from './tlv.js';

export const ONION_MESSAGE_TYPE = 513;

/** onionmsg_tlv type numbers of the async-payment messages; config values (the draft will renumber). */
export interface AsyncMessageTypes {
  heldHtlcAvailable: bigint;
  heldHtlcAvailableOdd: bigint;
  releaseHeldHtlc: bigint;
  releaseHeldHtlcOdd: bigint;
}

/** LDK's numbers (72/74) and our odd aliases (73/75) that CLN and LND hand to plugins. */
export const DEFAULT_ASYNC_MESSAGE_TYPES: Readonly<AsyncMessageTypes> = Object.freeze({
  heldHtlcAvailable: 72n,
  heldHtlcAvailableOdd: 73n,
  releaseHeldHtlc: 74n,
  releaseHeldHtlcOdd: 75n,
});

export const ONIONMSG_TYPES = {
  replyPath: 2n,
  encryptedRecipientData: 4n,
  invoiceRequest: 64n,
  invoice: 66n,
  invoiceError: 68n,
  /** LDK's static_invoice (async payments), kept opaque. */
  staticInvoice: 70n,
} as const;

export interface OnionMessagePayload {
  replyPath?: BlindedPath;
  encryptedRecipientData?: Uint8Array;
  invoiceRequest?: Uint8Array;
  invoice?: Uint8Array;
  invoiceError?: Uint8Array;
  staticInvoice?: Uint8Array;
  /**
   * Contents of held_htlc_available under its even / odd number, as received (0x00 from us and LDK,
   * empty from some senders); the record's presence is the message.
   */
  heldHtlcAvailable?: Uint8Array;
  heldHtlcAvailableOdd?: Uint8Array;
  releaseHeldHtlc?: Uint8Array;
  releaseHeldHtlcOdd?: Uint8Array;
  /** Unknown odd records (e.g. other applications' messages), kept as they came. */
  unknown?: TlvRecord[];
}

type PayloadKey = Exclude<keyof OnionMessagePayload, 'replyPath' | 'unknown'>;

interface PayloadLayout {
  fields: [PayloadKey, bigint][];
  byType: Map<bigint, PayloadKey>;
  known: Set<bigint>;
}

// Every payload encoded or decoded needs the checked type table; build it once per numbering
// (keyed by the numbers themselves, so a caller mutating its types object cannot get a stale one).
const layouts = new Map<string, PayloadLayout>();

// The frozen default numbering's layout, found without building the key string on every message.
let defaultLayout: PayloadLayout | undefined;

function layoutFor(t: AsyncMessageTypes): PayloadLayout {
  if (t === DEFAULT_ASYNC_MESSAGE_TYPES) return (defaultLayout ??= layoutOf(t));
  return layoutOf(t);
}

function layoutOf(t: AsyncMessageTypes): PayloadLayout {
  const nums = [t.heldHtlcAvailable, t.heldHtlcAvailableOdd, t.releaseHeldHtlc, t.releaseHeldHtlcOdd];
  const id = nums.map((n) => `${typeof n}:${String(n)}`).join(',');
  let l = layouts.get(id);
  if (!l) {
    const fixed = Object.values(ONIONMSG_TYPES) as bigint[];
    if (new Set(nums).size !== 4 || nums.some((n) => n < 64n || fixed.includes(n)))
      throw codecError('invalid', 'async message types: must be distinct, >= 64 and not BOLT-assigned');
    const fields = byteFields(t);
    const byType = new Map(fields.map(([k, n]) => [n, k]));
    l = { fields, byType, known: new Set([ONIONMSG_TYPES.replyPath, ...byType.keys()]) };
    layouts.set(id, l);
  }
  return l;
}

function byteFields(types: AsyncMessageTypes): [PayloadKey, bigint][] {
  const T = ONIONMSG_TYPES;
  return [
    ['encryptedRecipientData', T.encryptedRecipientData],
    ['invoiceRequest', T.invoiceRequest],
    ['invoice', T.invoice],
    ['invoiceError', T.invoiceError],
    ['staticInvoice', T.staticInvoice],
    ['heldHtlcAvailable', types.heldHtlcAvailable],
    ['heldHtlcAvailableOdd', types.heldHtlcAvailableOdd],
    ['releaseHeldHtlc', types.releaseHeldHtlc],
    ['releaseHeldHtlcOdd', types.releaseHeldHtlcOdd],
  ];
}

export function encodeOnionMessagePayload(
  p: OnionMessagePayload,
  types: AsyncMessageTypes = DEFAULT_ASYNC_MESSAGE_TYPES,
): Uint8Array {
  const { fields, known } = layoutFor(types);
  const recs: TlvRecord[] = [];
  if (p.replyPath) recs.push({ type: ONIONMSG_TYPES.replyPath, value: encodeBlindedPath(p.replyPath) });
  for (const [key, type] of fields) {
    const v = p[key];
    if (v) recs.push({ type, value: v });
  }
  for (const u of p.unknown ?? []) {
    if (known.has(u.type) || u.type % 2n === 0n)
      throw codecError('invalid', `onionmsg_tlv: unknown record type ${u.type} must be odd and unknown`);
    recs.push(u);
  }
  return encodeTlvStream(recs);
}

export function decodeOnionMessagePayload(
  buf: Uint8Array,
  types: AsyncMessageTypes = DEFAULT_ASYNC_MESSAGE_TYPES,
): OnionMessagePayload {
  const { byType, known } = layoutFor(types);
  const out: OnionMessagePayload = {};
  for (const { type, value } of decodeTlvStream(buf, known, 'onionmsg_tlv')) {
    const v = Uint8Array.from(value);
    if (type === ONIONMSG_TYPES.replyPath) out.replyPath = decodeBlindedPath(v);
    else {
      const key = byType.get(type);
      if (key) out[key] = v;
      else (out.unknown ??= []).push({ type, value: v });
    }
  }
  return out;
}

// --- the onion_message wire message --------------------------------------------------------

export interface OnionMessage {
  pathKey: Uint8Array;
  packet: Uint8Array;
}

/** `onion_message` bytes; with the 2-byte type 513 unless `withType` is false (LND custom messages). */
export function encodeOnionMessage(m: OnionMessage, withType = true): Uint8Array {
  if (m.packet.length > 0xffff) throw codecError('out_of_range', 'onion_message: packet too long');
  const out = new Uint8Array((withType ? 2 : 0) + m.pathKey.length + 2 + m.packet.length);
  let o = 0;
  if (withType) {
    out[o++] = ONION_MESSAGE_TYPE >> 8;
    out[o++] = ONION_MESSAGE_TYPE & 0xff;
  }
  out.set(m.pathKey, o);
  o += m.pathKey.length;
  out[o++] = m.packet.length >> 8;
  out[o++] = m.packet.length & 0xff;
  out.set(m.packet, o);
  return out;
}

/** Bytes of the onion_message header (type, path_key, packet length) before the packet. */
export const ONION_MESSAGE_HEADER = 2 + 33 + 2;

export function decodeOnionMessage(buf: Uint8Array, withType = true): OnionMessage {
  const r = new Reader(buf);
  if (withType) {
    const t = r.u16('message type');
    if (t !== ONION_MESSAGE_TYPE) throw codecError('invalid', `onion_message: type ${t}, expected 513`);
  }
  const pathKey = Uint8Array.from(r.bytes(33, 'path_key'));
  const len = r.u16('onion_message_packet length');
  const packet = Uint8Array.from(r.bytes(len, 'onion_message_packet'));
  if (r.remaining !== 0) throw codecError('trailing', `onion_message: ${r.remaining} trailing bytes`);
  return { pathKey, packet };
}
