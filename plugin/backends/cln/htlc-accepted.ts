// The htlc_accepted hook at the edge: CLN's JSON payload (doc/schemas/hook/htlc_accepted.json, v25.09+)
// in, an engine InterceptedHtlc out; an engine Verdict in, a hook answer lightningd accepts out.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { InterceptedHtlc, Msat, TrampolineRequest, Verdict } from '../../hold/backend.js';
import { findAsyncHold } from '../../protocol/async-hold.js';
import {
  encodeFailureMessage,
  temporaryNodeFailure,
  temporaryTrampolineFailure,
} from '../../protocol/failure.js';
import { decodeHopPayload, stripPayloadLength } from '../../protocol/hop-payload.js';
import { decodeTlvStream, encodeTlvStream } from '../../protocol/tlv.js';
import { findTrampolineRequest } from '../../protocol/trampoline-request.js';
import type { TypeNumbers } from './manifest.js';
import { isObject } from './jsonrpc.js';

/** bLIP-3 keysend preimage record: even, so it must be declared known to decode a final payload. */
export const KEYSEND_PREIMAGE_TYPE = 5482373484n;

// Encoded once: both are bare codes (2002 and 2019), the same for every HTLC.
const TEMPORARY_NODE_FAILURE = bytesToHex(encodeFailureMessage(temporaryNodeFailure()));
const TEMPORARY_TRAMPOLINE_FAILURE = bytesToHex(encodeFailureMessage(temporaryTrampolineFailure()));

export type HtlcAcceptedAnswer =
  | { result: 'continue'; payload?: string; extra_tlvs?: string }
  | { result: 'fail'; failure_message: string }
  | { result: 'resolve'; payment_key: string };

/** Why a hook payload could not become an InterceptedHtlc; the HTLC is failed at once. */
export class HtlcInputError extends Error {
  override readonly name = 'HtlcInputError';
  constructor(
    message: string,
    /** The onion asked for trampoline service: fail with temporary_trampoline_failure. */
    readonly trampoline = false,
  ) {
    super(message);
  }
}

export interface ParsedHtlc {
  htlc: InterceptedHtlc;
  /** Current block height as lightningd saw it (cltv_expiry − cltv_expiry_relative). */
  height: number | undefined;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function hex(v: unknown, what: string, len?: number): Uint8Array {
  if (typeof v !== 'string' || !HEX.test(v)) throw new HtlcInputError(`${what}: not hex`);
  if (len !== undefined && v.length !== 2 * len) throw new HtlcInputError(`${what}: expected ${len} bytes`);
  return hexToBytes(v);
}

function u32(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new HtlcInputError(`${what}: not a u32`);
  }
  return v;
}

function s32(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw new HtlcInputError(`${what}: not an s32`);
  }
  return v;
}

/** CLN writes msat as a JSON number (older versions: "123msat"). Above 2^53 a number is inexact: refuse. */
export function msat(v: unknown, what: string): Msat {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new HtlcInputError(`${what}: not an exact msat amount`);
    return BigInt(v);
  }
  if (typeof v === 'string') {
    const m = /^(\d+)(msat)?$/.exec(v);
    if (m) return BigInt(m[1] as string);
  }
  throw new HtlcInputError(`${what}: not an msat amount`);
}

function scid(v: unknown, what: string): string {
  if (typeof v !== 'string' || !/^\d+x\d+x\d+$/.test(v))
    throw new HtlcInputError(`${what}: not a short_channel_id`);
  return v;
}

/** Decode the hook payload; throws HtlcInputError on anything malformed. */
export function parseHtlcAccepted(params: unknown, types: TypeNumbers): ParsedHtlc {
  if (!isObject(params) || !isObject(params.onion) || !isObject(params.htlc)) {
    throw new HtlcInputError('htlc_accepted: missing onion or htlc');
  }
  const { onion, htlc } = params;
  const incomingChannel = scid(htlc.short_channel_id, 'htlc.short_channel_id');
  const id = htlc.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
    throw new HtlcInputError('htlc.id: not a u64');
  const incomingExpiry = u32(htlc.cltv_expiry, 'htlc.cltv_expiry');
  const relative =
    htlc.cltv_expiry_relative === undefined
      ? undefined
      : s32(htlc.cltv_expiry_relative, 'htlc.cltv_expiry_relative');
  const paymentHash = hex(htlc.payment_hash, 'htlc.payment_hash', 32);
  const amountInMsat = msat(htlc.amount_msat, 'htlc.amount_msat');
  const incomingPeer =
    typeof params.peer_id === 'string' && /^0[23][0-9a-fA-F]{64}$/.test(params.peer_id)
      ? params.peer_id.toLowerCase()
      : undefined;

  // hold_htlc rides in update_add_htlc's TLV stream, which CLN passes raw as extra_tlvs.
  let holdFlag = false;
  if (htlc.extra_tlvs !== undefined) {
    const raw = hex(htlc.extra_tlvs, 'htlc.extra_tlvs');
    try {
      // Every even type counts as known here: lightningd already accepted this stream from the peer.
      holdFlag = decodeTlvStream(raw, undefined, 'update_add_htlc_tlvs').some(
        (r) => r.type === types.holdHtlc,
      );
    } catch (e) {
      throw new HtlcInputError(`htlc.extra_tlvs: ${(e as Error).message}`);
    }
  }

  const outgoingChannel =
    onion.short_channel_id === undefined ? undefined : scid(onion.short_channel_id, 'onion.short_channel_id');
  const isForward = outgoingChannel !== undefined || typeof onion.next_node_id === 'string';
  const amountOutMsat =
    isForward && onion.forward_msat !== undefined
      ? msat(onion.forward_msat, 'onion.forward_msat')
      : undefined;
  const outgoingExpiry =
    isForward && onion.outgoing_cltv_value !== undefined
      ? u32(onion.outgoing_cltv_value, 'onion.outgoing_cltv_value')
      : undefined;

  const { asyncHold, trampoline } = ourRecords(onion.payload, onion.type, types);

  return {
    htlc: {
      key: `${incomingChannel}/${id}`,
      incomingChannel,
      incomingPeer,
      paymentHash,
      amountInMsat,
      amountOutMsat,
      incomingExpiry,
      outgoingExpiry,
      outgoingChannel,
      autoFailHeight: undefined,
      holdFlag,
      asyncHold,
      trampoline,
    },
    height: relative === undefined ? undefined : incomingExpiry - relative,
  };
}

function ourRecords(
  payload: unknown,
  type: unknown,
  types: TypeNumbers,
): Pick<InterceptedHtlc, 'asyncHold' | 'trampoline'> {
  // Without `type: "tlv"` lightningd could not parse the payload (e.g. the even keysend preimage
  // record, which its keysend plugin strips later in the chain); lightningd fails such an HTLC itself
  // if we answer continue, but a trampoline keysend needs our records, so read them anyway.
  void type;
  if (payload === undefined) return { asyncHold: undefined, trampoline: undefined };
  let records: ReadonlyMap<bigint, Uint8Array>;
  try {
    records = decodeHopPayload(stripPayloadLength(hex(payload, 'onion.payload')), {
      knownEven: [KEYSEND_PREIMAGE_TYPE],
    }).customRecords;
  } catch {
    // lightningd parsed it (type is "tlv"); our stricter codec did not. Not ours to judge: no records.
    return { asyncHold: undefined, trampoline: undefined };
  }
  const wantsTrampoline = records.has(types.trampolineRequest);
  let asyncHold: InterceptedHtlc['asyncHold'];
  let trampoline: TrampolineRequest | undefined;
  try {
    const h = findAsyncHold(records, types.asyncHold);
    asyncHold = h && {
      messagePaths: h.messagePaths ?? [],
      releaseToken: h.releaseToken,
      maxHoldBlocks: h.maxHoldBlocks,
      totalMsat: h.totalAmountMsat,
    };
    const t = findTrampolineRequest(records, types.trampolineRequest);
    if (t) {
      const preimage = records.get(KEYSEND_PREIMAGE_TYPE);
      trampoline = {
        invoice: t.kind === 'invoice' ? t.invoice : undefined,
        amtToForwardMsat: t.amtToForward,
        outgoingNodeId: t.kind === 'keysend' ? bytesToHex(t.outgoingNodeId) : undefined,
        keysendPreimage: preimage && preimage.length === 32 ? preimage : undefined,
      };
    }
  } catch (e) {
    throw new HtlcInputError(`async request: ${(e as Error).message}`, wantsTrampoline);
  }
  return { asyncHold, trampoline };
}

/** temporary_node_failure, or NODE|25 temporary_trampoline_failure in trampoline mode (BOLT 4). */
export function failAnswer(trampoline: boolean): HtlcAcceptedAnswer {
  return {
    result: 'fail',
    failure_message: trampoline ? TEMPORARY_TRAMPOLINE_FAILURE : TEMPORARY_NODE_FAILURE,
  };
}

/** Encode a verdict. A preimage that does not hash to the payment hash becomes a fail, not a resolve. */
export function answerFor(v: Verdict, paymentHash: Uint8Array | undefined): HtlcAcceptedAnswer {
  switch (v.kind) {
    case 'continue':
      return { result: 'continue' };
    case 'fail':
      return failAnswer(v.trampoline);
    case 'settle': {
      if (v.preimage.length !== 32) return failAnswer(true);
      if (paymentHash && bytesToHex(sha256(v.preimage)) !== bytesToHex(paymentHash)) return failAnswer(true);
      return { result: 'resolve', payment_key: bytesToHex(v.preimage) };
    }
  }
}

/**
 * `continue` for a released async HTLC, with our markers removed from what lightningd passes on:
 * `hold_htlc` from `extra_tlvs` (lightningd would otherwise copy the incoming stream onto the
 * outgoing HTLC, asking the next hop to hold again) and `async_hold` / `trampoline_request` from the
 * hop payload (the guard plugin after us fails anything still carrying them). lightningd re-parses
 * a returned payload (given without its length prefix) and uses a returned `extra_tlvs` as is.
 */
export function releasedAnswer(params: unknown, types: TypeNumbers): HtlcAcceptedAnswer {
  const answer: HtlcAcceptedAnswer = { result: 'continue' };
  if (!isObject(params) || !isObject(params.onion) || !isObject(params.htlc)) return answer;
  const strip = (raw: Uint8Array, drop: readonly bigint[]): string =>
    bytesToHex(encodeTlvStream(decodeTlvStream(raw).filter((r) => !drop.includes(r.type))));
  if (typeof params.onion.payload === 'string' && params.onion.type === 'tlv') {
    const payload = stripPayloadLength(hex(params.onion.payload, 'onion.payload'));
    answer.payload = strip(payload, [types.asyncHold, types.trampolineRequest]);
  }
  // Always given, even when the replayed hook payload has none: an empty stream replaces the default.
  const extra =
    typeof params.htlc.extra_tlvs === 'string' ? hex(params.htlc.extra_tlvs, 'htlc.extra_tlvs') : undefined;
  answer.extra_tlvs = extra ? strip(extra, [types.holdHtlc]) : '';
  return answer;
}

/**
 * True only for answers lightningd accepts: it exits on a missing result, a resolve without a
 * 32-byte payment_key, or bad hex; so nothing else is ever written.
 */
export function isValidHtlcAnswer(a: unknown): a is HtlcAcceptedAnswer {
  if (!isObject(a)) return false;
  const keys = Object.keys(a);
  switch (a.result) {
    case 'continue':
      return keys.every(
        (k) =>
          k === 'result' ||
          ((k === 'payload' || k === 'extra_tlvs') && typeof a[k] === 'string' && HEX.test(a[k])),
      );
    case 'fail':
      return (
        keys.length === 2 &&
        typeof a.failure_message === 'string' &&
        a.failure_message.length >= 4 &&
        HEX.test(a.failure_message)
      );
    case 'resolve':
      return keys.length === 2 && typeof a.payment_key === 'string' && /^[0-9a-f]{64}$/.test(a.payment_key);
    default:
      return false;
  }
}
