// BOLT 4 payment hop payload (the TLV stream inside one onion hop). Records this module does not
// name are kept as custom records so the engine can find ours (async_hold, trampoline_request).
import { Reader, decodeTu, encodeTu, concatBytes, readBigSize } from './bigsize.js';
import { codecError } from './errors.js';
import { checkCompressedPoint as checkPoint } from './point-prefix.js';
import { decodeScid, encodeScid } from './short-channel-id.js';
import { decodeTlvStream, encodeTlvStream, type TlvRecord } from './tlv.js';

export const HOP_PAYLOAD_TYPES = {
  amtToForward: 2n,
  outgoingCltvValue: 4n,
  shortChannelId: 6n,
  paymentData: 8n,
  encryptedRecipientData: 10n,
  currentPathKey: 12n,
  paymentMetadata: 16n,
  totalAmountMsat: 18n,
} as const;

const NAMED = new Set<bigint>(Object.values(HOP_PAYLOAD_TYPES));

export interface PaymentData {
  paymentSecret: Uint8Array; // 32 bytes
  totalMsat: bigint;
}

export interface HopPayload {
  amtToForward?: bigint;
  outgoingCltvValue?: number;
  shortChannelId?: bigint;
  paymentData?: PaymentData;
  encryptedRecipientData?: Uint8Array;
  currentPathKey?: Uint8Array;
  paymentMetadata?: Uint8Array;
  totalAmountMsat?: bigint;
  /** Every other record, by type (odd ones, and even ones the caller declared known). */
  customRecords: Map<bigint, Uint8Array>;
}

export interface HopPayloadOptions {
  /** Even types beyond BOLT 4's that the caller understands (e.g. keysend 5482373484). */
  knownEven?: Iterable<bigint>;
}

/** Decode a hop payload TLV stream (without the onion's BigSize length prefix). */
export function decodeHopPayload(tlv: Uint8Array, opts: HopPayloadOptions = {}): HopPayload {
  const known = new Set<bigint>([...NAMED, ...(opts.knownEven ?? [])]);
  const out: HopPayload = { customRecords: new Map() };
  for (const { type, value } of decodeTlvStream(tlv, known, 'hop_payload')) {
    switch (type) {
      case HOP_PAYLOAD_TYPES.amtToForward:
        out.amtToForward = decodeTu(value, 8, 'amt_to_forward');
        break;
      case HOP_PAYLOAD_TYPES.outgoingCltvValue:
        out.outgoingCltvValue = Number(decodeTu(value, 4, 'outgoing_cltv_value'));
        break;
      case HOP_PAYLOAD_TYPES.shortChannelId:
        out.shortChannelId = decodeScid(value);
        break;
      case HOP_PAYLOAD_TYPES.paymentData:
        if (value.length < 32) throw codecError('invalid', `payment_data: ${value.length} bytes, needs 32+`);
        out.paymentData = {
          paymentSecret: value.slice(0, 32),
          totalMsat: decodeTu(value.subarray(32), 8, 'payment_data total_msat'),
        };
        break;
      case HOP_PAYLOAD_TYPES.encryptedRecipientData:
        out.encryptedRecipientData = value.slice();
        break;
      case HOP_PAYLOAD_TYPES.currentPathKey:
        out.currentPathKey = checkPoint(value, 'current_path_key').slice();
        break;
      case HOP_PAYLOAD_TYPES.paymentMetadata:
        out.paymentMetadata = value.slice();
        break;
      case HOP_PAYLOAD_TYPES.totalAmountMsat:
        out.totalAmountMsat = decodeTu(value, 8, 'total_amount_msat');
        break;
      default:
        out.customRecords.set(type, value.slice());
    }
  }
  return out;
}

export function encodeHopPayload(p: HopPayload): Uint8Array {
  const T = HOP_PAYLOAD_TYPES;
  const recs: TlvRecord[] = [];
  const add = (type: bigint, value: Uint8Array | undefined): void => {
    if (value !== undefined) recs.push({ type, value });
  };
  add(T.amtToForward, p.amtToForward === undefined ? undefined : encodeTu(p.amtToForward, 8));
  add(T.outgoingCltvValue, p.outgoingCltvValue === undefined ? undefined : encodeTu(p.outgoingCltvValue, 4));
  add(T.shortChannelId, p.shortChannelId === undefined ? undefined : encodeScid(p.shortChannelId));
  if (p.paymentData) {
    if (p.paymentData.paymentSecret.length !== 32)
      throw codecError('invalid', 'payment_data: payment_secret must be 32 bytes');
    add(T.paymentData, concatBytes(p.paymentData.paymentSecret, encodeTu(p.paymentData.totalMsat, 8)));
  }
  add(T.encryptedRecipientData, p.encryptedRecipientData);
  add(T.currentPathKey, p.currentPathKey && checkPoint(p.currentPathKey, 'current_path_key'));
  add(T.paymentMetadata, p.paymentMetadata);
  add(T.totalAmountMsat, p.totalAmountMsat === undefined ? undefined : encodeTu(p.totalAmountMsat, 8));
  for (const [type, value] of p.customRecords) {
    // A custom record under a BOLT 4 number would be silently read back as that field.
    if (NAMED.has(type)) throw codecError('invalid', `hop_payload: custom record uses BOLT 4 type ${type}`);
    recs.push({ type, value });
  }
  return encodeTlvStream(recs);
}

/**
 * Strip the onion's BigSize length prefix from a hop_payload (as the BOLT 4 vectors and some hosts
 * give it), checking the length covers exactly the rest of the buffer.
 */
export function stripPayloadLength(buf: Uint8Array): Uint8Array {
  const r = new Reader(buf);
  const len = readBigSize(r, 'hop_payload length');
  if (len !== BigInt(r.remaining))
    throw codecError('invalid', `hop_payload: length prefix ${len}, ${r.remaining} bytes follow`);
  return r.rest();
}
