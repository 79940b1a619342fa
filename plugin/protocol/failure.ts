// BOLT 4 failure messages: a u16 failure_code, the fields that code defines, then an optional TLV
// stream. The hold engine sends these through CLN `fail`; the sender SDK reads them back.
import { Reader, concatBytes, encodeBigSize, u16, u32, u64 } from './bigsize.js';
import { codecError } from './errors.js';
import { decodeTlvStream, encodeTlvStream, type TlvRecord } from './tlv.js';

// The code's top bits are flags the origin uses to decide what to retry.
export const BADONION = 0x8000; // unparsable onion encrypted by the sending peer
export const PERM = 0x4000; // permanent failure (otherwise transient)
export const NODE = 0x2000; // node failure (otherwise channel)
export const UPDATE = 0x1000; // a channel_update is enclosed

export const FAILURE_CODES = {
  invalid_realm: PERM | 1,
  temporary_node_failure: NODE | 2,
  permanent_node_failure: PERM | NODE | 2,
  required_node_feature_missing: PERM | NODE | 3,
  invalid_onion_version: BADONION | PERM | 4,
  invalid_onion_hmac: BADONION | PERM | 5,
  invalid_onion_key: BADONION | PERM | 6,
  temporary_channel_failure: UPDATE | 7,
  permanent_channel_failure: PERM | 8,
  required_channel_feature_missing: PERM | 9,
  unknown_next_peer: PERM | 10,
  amount_below_minimum: UPDATE | 11,
  fee_insufficient: UPDATE | 12,
  incorrect_cltv_expiry: UPDATE | 13,
  expiry_too_soon: UPDATE | 14,
  incorrect_or_unknown_payment_details: PERM | 15,
  // 16 and 17 are retired (probing leak) but old nodes may still send them.
  incorrect_payment_amount: PERM | 16,
  final_expiry_too_soon: 17,
  final_incorrect_cltv_expiry: 18,
  final_incorrect_htlc_amount: 19,
  channel_disabled: UPDATE | 20,
  expiry_too_far: 21,
  invalid_onion_payload: PERM | 22,
  mpp_timeout: 23,
  invalid_onion_blinding: BADONION | PERM | 24,
  // Trampoline draft (lightning/bolts#836); what a trampoline node like L in trampoline mode sends.
  temporary_trampoline_failure: NODE | 25,
  trampoline_fee_or_expiry_insufficient: NODE | 26,
  unknown_next_trampoline: PERM | 27,
} as const;

export type FailureName = keyof typeof FAILURE_CODES;

/** The per-code fields; which ones a code carries is in FIELDS below. */
export interface FailureFields {
  sha256OfOnion?: Uint8Array;
  htlcMsat?: bigint;
  incomingHtlcAmt?: bigint;
  cltvExpiry?: number;
  height?: number;
  disabledFlags?: number;
  /** Raw, as sent (with its 0x0102 type prefix per the spec; historic nodes omit it). May be empty. */
  channelUpdate?: Uint8Array;
  payloadType?: bigint; // invalid_onion_payload: the offending TLV type
  payloadOffset?: number;
  feeBaseMsat?: number;
  feeProportionalMillionths?: number;
  cltvExpiryDelta?: number;
}

export interface FailureMessage extends FailureFields {
  code: number;
  /** The optional trailing TLV stream. */
  tlvs?: TlvRecord[];
  /** Trailing bytes that are not a TLV stream, or the whole body of an unknown code (kept, not parsed). */
  extra?: Uint8Array;
}

type Kind = 'sha256' | 'u64' | 'u32' | 'u16' | 'bigsize' | 'channel_update';
type Field = readonly [keyof FailureFields, Kind];

const C = FAILURE_CODES;
const onionHash: Field[] = [['sha256OfOnion', 'sha256']];
const update: Field = ['channelUpdate', 'channel_update'];
const FIELDS = new Map<number, readonly Field[]>(Object.values(C).map((code) => [code, [] as Field[]]));
FIELDS.set(C.invalid_onion_version, onionHash);
FIELDS.set(C.invalid_onion_hmac, onionHash);
FIELDS.set(C.invalid_onion_key, onionHash);
FIELDS.set(C.invalid_onion_blinding, onionHash);
FIELDS.set(C.temporary_channel_failure, [update]);
FIELDS.set(C.amount_below_minimum, [['htlcMsat', 'u64'], update]);
FIELDS.set(C.fee_insufficient, [['htlcMsat', 'u64'], update]);
FIELDS.set(C.incorrect_cltv_expiry, [['cltvExpiry', 'u32'], update]);
FIELDS.set(C.expiry_too_soon, [update]);
FIELDS.set(C.incorrect_or_unknown_payment_details, [
  ['htlcMsat', 'u64'],
  ['height', 'u32'],
]);
FIELDS.set(C.final_incorrect_cltv_expiry, [['cltvExpiry', 'u32']]);
FIELDS.set(C.final_incorrect_htlc_amount, [['incomingHtlcAmt', 'u64']]);
FIELDS.set(C.channel_disabled, [['disabledFlags', 'u16'], update]);
FIELDS.set(C.invalid_onion_payload, [
  ['payloadType', 'bigsize'],
  ['payloadOffset', 'u16'],
]);
FIELDS.set(C.trampoline_fee_or_expiry_insufficient, [
  ['feeBaseMsat', 'u32'],
  ['feeProportionalMillionths', 'u32'],
  ['cltvExpiryDelta', 'u16'],
]);

const NAMES = new Map<number, FailureName>(
  (Object.entries(C) as [FailureName, number][]).map(([n, c]) => [c, n]),
);

export const failureName = (code: number): FailureName | undefined => NAMES.get(code);
export const hasFlag = (code: number, flag: number): boolean => (code & flag) !== 0;

export function decodeFailureMessage(buf: Uint8Array): FailureMessage {
  const r = new Reader(buf);
  const code = r.u16('failure_code');
  const out: FailureMessage = { code };
  const fields = FIELDS.get(code);
  if (fields === undefined) {
    if (r.remaining > 0) out.extra = r.rest().slice();
    return out;
  }
  const f = out as Record<keyof FailureFields, unknown>;
  for (const [name, kind] of fields) {
    const what = `${failureName(code)} ${name}`;
    switch (kind) {
      case 'sha256':
        f[name] = r.bytes(32, what).slice();
        break;
      case 'u64':
        f[name] = r.u64(what);
        break;
      case 'u32':
        f[name] = r.u32(what);
        break;
      case 'u16':
        f[name] = r.u16(what);
        break;
      case 'bigsize':
        f[name] = r.bigSize(what);
        break;
      case 'channel_update':
        f[name] = r.bytes(r.u16(`${what} len`), what).slice();
        break;
    }
  }
  if (r.remaining > 0) {
    const rest = r.rest();
    // BOLT 4: the origin must ignore extra bytes, so a malformed tail is kept raw, not an error.
    try {
      out.tlvs = decodeTlvStream(rest, undefined, 'failure tlvs').map((t) => ({
        type: t.type,
        value: t.value.slice(),
      }));
    } catch {
      out.extra = rest.slice();
    }
  }
  return out;
}

export function encodeFailureMessage(m: FailureMessage): Uint8Array {
  if (!Number.isInteger(m.code) || m.code < 0 || m.code > 0xffff)
    throw codecError('out_of_range', `failure_code ${m.code}`);
  if (m.tlvs !== undefined && m.extra !== undefined)
    throw codecError('invalid', 'failure message: both tlvs and extra bytes');
  const parts: Uint8Array[] = [u16(m.code)];
  for (const [name, kind] of FIELDS.get(m.code) ?? []) {
    const v = m[name];
    if (v === undefined) throw codecError('missing_field', `${failureName(m.code)}: ${name} is required`);
    parts.push(encodeField(kind, v, `${failureName(m.code)} ${name}`));
  }
  if (m.tlvs !== undefined) parts.push(encodeTlvStream(m.tlvs));
  if (m.extra !== undefined) parts.push(m.extra);
  return concatBytes(...parts);
}

function encodeField(kind: Kind, v: Uint8Array | bigint | number, what: string): Uint8Array {
  const num = (): number => {
    if (typeof v !== 'number') throw codecError('invalid', `${what}: expected a number`);
    return v;
  };
  const big = (): bigint => {
    if (typeof v !== 'bigint') throw codecError('invalid', `${what}: expected a bigint`);
    return v;
  };
  switch (kind) {
    case 'sha256':
      if (!(v instanceof Uint8Array) || v.length !== 32)
        throw codecError('invalid', `${what}: expected 32 bytes`);
      return v;
    case 'channel_update':
      if (!(v instanceof Uint8Array)) throw codecError('invalid', `${what}: expected bytes`);
      return concatBytes(u16(v.length), v);
    case 'u64':
      return u64(big());
    case 'u32':
      return u32(num());
    case 'u16':
      return u16(num());
    case 'bigsize':
      return encodeBigSize(big());
  }
}

// The failures this project sends.
export const temporaryNodeFailure = (): FailureMessage => ({ code: C.temporary_node_failure });
export const temporaryTrampolineFailure = (): FailureMessage => ({ code: C.temporary_trampoline_failure });
/** An empty channel_update is allowed: recent nodes no longer rely on it and L may have none to give. */
export const temporaryChannelFailure = (channelUpdate: Uint8Array = new Uint8Array()): FailureMessage => ({
  code: C.temporary_channel_failure,
  channelUpdate,
});
export const incorrectOrUnknownPaymentDetails = (htlcMsat: bigint, height: number): FailureMessage => ({
  code: C.incorrect_or_unknown_payment_details,
  htlcMsat,
  height,
});
export const invalidOnionBlinding = (sha256OfOnion: Uint8Array): FailureMessage => ({
  code: C.invalid_onion_blinding,
  sha256OfOnion,
});
