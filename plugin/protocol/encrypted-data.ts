// BOLT 4 `encrypted_data_tlv`: what the creator of a blinded path tells each hop, encrypted to it.
import { Reader, beToBigint, bigintToBe, concatBytes, decodeTu, encodeTu, u16, u32 } from './bigsize.js';
import { codecError } from './errors.js';
import { checkCompressedPoint } from './point-prefix.js';
import { type TlvRecord, decodeTlvStream, encodeTlvStream } from './tlv.js';

export interface PaymentRelay {
  cltvExpiryDelta: number;
  feeProportionalMillionths: number;
  feeBaseMsat: bigint;
}

export interface PaymentConstraints {
  maxCltvExpiry: number;
  htlcMinimumMsat: bigint;
}

export interface EncryptedData {
  padding?: Uint8Array;
  shortChannelId?: bigint;
  nextNodeId?: Uint8Array;
  pathId?: Uint8Array;
  nextPathKeyOverride?: Uint8Array;
  paymentRelay?: PaymentRelay;
  paymentConstraints?: PaymentConstraints;
  allowedFeatures?: Uint8Array;
  /** Unknown odd records, kept so a re-encode is byte-identical. */
  unknown?: TlvRecord[];
}

export const ENCRYPTED_DATA_TYPES = {
  padding: 1n,
  shortChannelId: 2n,
  nextNodeId: 4n,
  pathId: 6n,
  nextPathKeyOverride: 8n,
  paymentRelay: 10n,
  paymentConstraints: 12n,
  allowedFeatures: 14n,
} as const;

const KNOWN = new Set<bigint>(Object.values(ENCRYPTED_DATA_TYPES));

export function encodeEncryptedData(d: EncryptedData): Uint8Array {
  const T = ENCRYPTED_DATA_TYPES;
  const recs: TlvRecord[] = [];
  if (d.padding) recs.push({ type: T.padding, value: d.padding });
  if (d.shortChannelId !== undefined)
    recs.push({ type: T.shortChannelId, value: bigintToBe(d.shortChannelId, 8) });
  if (d.nextNodeId)
    recs.push({ type: T.nextNodeId, value: checkCompressedPoint(d.nextNodeId, 'next_node_id') });
  if (d.pathId) recs.push({ type: T.pathId, value: d.pathId });
  if (d.nextPathKeyOverride)
    recs.push({
      type: T.nextPathKeyOverride,
      value: checkCompressedPoint(d.nextPathKeyOverride, 'next_path_key_override'),
    });
  if (d.paymentRelay) {
    const r = d.paymentRelay;
    recs.push({
      type: T.paymentRelay,
      value: concatBytes(
        u16(r.cltvExpiryDelta),
        u32(r.feeProportionalMillionths),
        encodeTu(r.feeBaseMsat, 4),
      ),
    });
  }
  if (d.paymentConstraints) {
    const c = d.paymentConstraints;
    recs.push({
      type: T.paymentConstraints,
      value: concatBytes(u32(c.maxCltvExpiry), encodeTu(c.htlcMinimumMsat, 8)),
    });
  }
  if (d.allowedFeatures) recs.push({ type: T.allowedFeatures, value: d.allowedFeatures });
  for (const u of d.unknown ?? []) {
    if (KNOWN.has(u.type) || u.type % 2n === 0n)
      throw codecError(
        'invalid',
        `encrypted_data_tlv: unknown record type ${u.type} must be odd and unknown`,
      );
    recs.push(u);
  }
  return encodeTlvStream(recs);
}

export function decodeEncryptedData(buf: Uint8Array): EncryptedData {
  const T = ENCRYPTED_DATA_TYPES;
  const out: EncryptedData = {};
  for (const { type, value } of decodeTlvStream(buf, KNOWN, 'encrypted_data_tlv')) {
    const v = Uint8Array.from(value);
    switch (type) {
      case T.padding:
        out.padding = v;
        break;
      case T.shortChannelId:
        if (v.length !== 8)
          throw codecError('invalid', 'encrypted_data_tlv: short_channel_id must be 8 bytes');
        out.shortChannelId = beToBigint(v);
        break;
      case T.nextNodeId:
        out.nextNodeId = checkCompressedPoint(v, 'encrypted_data_tlv next_node_id');
        break;
      case T.pathId:
        out.pathId = v;
        break;
      case T.nextPathKeyOverride:
        out.nextPathKeyOverride = checkCompressedPoint(v, 'encrypted_data_tlv next_path_key_override');
        break;
      case T.paymentRelay: {
        const r = new Reader(v);
        const cltvExpiryDelta = r.u16('payment_relay cltv_expiry_delta');
        const feeProportionalMillionths = r.u32('payment_relay fee_proportional_millionths');
        const feeBaseMsat = decodeTu(r.rest(), 4, 'payment_relay fee_base_msat');
        out.paymentRelay = { cltvExpiryDelta, feeProportionalMillionths, feeBaseMsat };
        break;
      }
      case T.paymentConstraints: {
        const r = new Reader(v);
        const maxCltvExpiry = r.u32('payment_constraints max_cltv_expiry');
        const htlcMinimumMsat = decodeTu(r.rest(), 8, 'payment_constraints htlc_minimum_msat');
        out.paymentConstraints = { maxCltvExpiry, htlcMinimumMsat };
        break;
      }
      case T.allowedFeatures:
        out.allowedFeatures = v;
        break;
      default:
        (out.unknown ??= []).push({ type, value: v });
    }
  }
  return out;
}
