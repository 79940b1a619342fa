// Converts LND's ForwardHtlcInterceptRequest into the engine's InterceptedHtlc and the engine's
// Verdict back into a ForwardHtlcInterceptResponse. The one place that knows both shapes.
import { bytesToHex } from '@noble/hashes/utils.js';
import type { InterceptedHtlc, Verdict, AsyncHoldRequest, TrampolineRequest } from '../../hold/backend.js';
import { findAsyncHold } from '../../protocol/async-hold.js';
import { findTrampolineRequest } from '../../protocol/trampoline-request.js';
import { scidToString } from '../../protocol/short-channel-id.js';
import { CodecError } from '../../protocol/errors.js';
import type {
  BytesMap,
  CircuitKey,
  ForwardHtlcInterceptRequest,
  ForwardHtlcInterceptResponse,
} from './messages.js';

export interface HtlcTypeNumbers {
  /** update_add_htlc TLV `hold_htlc` (default 75537). */
  holdHtlc: bigint;
  /** Hop payload `async_hold` (default 4280151). */
  asyncHold: bigint;
  /** Hop payload `trampoline_request` (default 4280153). */
  trampolineRequest: bigint;
  /** Keysend preimage record (bLIP-3, default 5482373484). */
  keysendPreimage: bigint;
}

export const DEFAULT_HTLC_TYPES: HtlcTypeNumbers = {
  holdHtlc: 75537n,
  asyncHold: 4280151n,
  trampolineRequest: 4280153n,
  keysendPreimage: 5482373484n,
};

/** Circuit key as the engine's stable HTLC key. */
export const circuitKeyString = (k: CircuitKey): string => `${k.chan_id}:${k.htlc_id}`;

/** Parse a uint64 that proto-loader delivered as a decimal string; throws on anything else. */
export function u64(s: string | number | undefined, what: string): bigint {
  const text = String(s ?? '0');
  if (!/^\d{1,20}$/.test(text))
    throw new CodecError('invalid', `${what}: not a uint64: ${text.slice(0, 24)}`);
  const v = BigInt(text);
  if (v >= 1n << 64n) throw new CodecError('out_of_range', `${what}: exceeds uint64`);
  return v;
}

/**
 * A uint64 map key as proto-loader (protobufjs) decodes it: an 8-character "hash" string, one char
 * per byte, little-endian. (Outgoing maps take decimal string keys instead: see `outKey`.)
 */
export function mapKeyU64(k: string): bigint {
  if (k.length !== 8)
    throw new CodecError('invalid', `uint64 map key: ${k.length} chars, expected an 8-byte hash`);
  let v = 0n;
  for (let i = 7; i >= 0; i--) {
    const c = k.charCodeAt(i);
    if (c > 255) throw new CodecError('invalid', 'uint64 map key: not a byte string');
    v = (v << 8n) | BigInt(c);
  }
  return v;
}

/** The same encoding, for tests that stand in for LND. */
export function u64MapKey(v: bigint): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += String.fromCharCode(Number((v >> BigInt(8 * i)) & 0xffn));
  return s;
}

/** Key for a uint64 map we send: protobufjs parses decimal strings when encoding. */
export const outKey = (v: bigint): string => v.toString();

/** A decoded `map<uint64, bytes>` keyed by bigint, for the codecs. */
export function recordMap(m: BytesMap | undefined): Map<bigint, Uint8Array> {
  const out = new Map<bigint, Uint8Array>();
  for (const [k, v] of Object.entries(m ?? {})) out.set(mapKeyU64(k), new Uint8Array(v));
  return out;
}

const chanString = (id: bigint): string => scidToString(id);

/**
 * Map one intercept request. Throws CodecError when our own records are malformed; the caller fails
 * such an HTLC (it asked for async handling we cannot give) and resumes one it cannot even key.
 */
export function toInterceptedHtlc(
  req: ForwardHtlcInterceptRequest,
  types: HtlcTypeNumbers = DEFAULT_HTLC_TYPES,
): InterceptedHtlc {
  const ck = req.incoming_circuit_key;
  if (!ck) throw new CodecError('missing_field', 'intercept request without incoming_circuit_key');
  const wire = recordMap(req.in_wire_custom_records);
  const hop = recordMap(req.custom_records);
  if (req.payment_hash.length !== 32) throw new CodecError('invalid', 'payment_hash is not 32 bytes');

  const hold = findAsyncHold(hop, types.asyncHold);
  const asyncHold: AsyncHoldRequest | undefined = hold && {
    messagePaths: hold.messagePaths ?? [],
    releaseToken: hold.releaseToken,
    maxHoldBlocks: hold.maxHoldBlocks,
    totalMsat: hold.totalAmountMsat,
  };
  const tr = findTrampolineRequest(hop, types.trampolineRequest);
  const trampoline: TrampolineRequest | undefined = tr && {
    invoice: tr.kind === 'invoice' ? tr.invoice : undefined,
    amtToForwardMsat: tr.amtToForward,
    outgoingNodeId: tr.kind === 'keysend' ? bytesToHex(tr.outgoingNodeId) : undefined,
    keysendPreimage: hop.get(types.keysendPreimage),
  };

  const outChan = u64(req.outgoing_requested_chan_id, 'outgoing_requested_chan_id');
  const autoFail = req.auto_fail_height;
  return {
    key: circuitKeyString(ck),
    incomingChannel: chanString(u64(ck.chan_id, 'chan_id')),
    incomingPeer: undefined,
    paymentHash: new Uint8Array(req.payment_hash),
    amountInMsat: u64(req.incoming_amount_msat, 'incoming_amount_msat'),
    amountOutMsat: u64(req.outgoing_amount_msat, 'outgoing_amount_msat'),
    incomingExpiry: req.incoming_expiry,
    outgoingExpiry: req.outgoing_expiry,
    outgoingChannel: outChan === 0n ? undefined : chanString(outChan),
    // LND sends 0 when it has no auto-fail height for this HTLC.
    autoFailHeight: autoFail > 0 ? autoFail : undefined,
    holdFlag: wire.has(types.holdHtlc),
    asyncHold,
    trampoline,
  };
}

/** Does this request ask for async handling at all (so a malformed one is failed, not resumed)? */
export function mentionsAsync(
  req: ForwardHtlcInterceptRequest,
  types: HtlcTypeNumbers = DEFAULT_HTLC_TYPES,
): boolean {
  const has = (m: BytesMap | undefined, t: bigint): boolean => m !== undefined && u64MapKey(t) in m;
  return (
    has(req.in_wire_custom_records, types.holdHtlc) ||
    has(req.custom_records, types.asyncHold) ||
    has(req.custom_records, types.trampolineRequest)
  );
}

/** The one response for a verdict. FAIL uses TEMPORARY_CHANNEL_FAILURE, the only free code LND takes. */
export function toInterceptResponse(key: CircuitKey, v: Verdict): ForwardHtlcInterceptResponse {
  const incoming_circuit_key = { chan_id: key.chan_id, htlc_id: key.htlc_id };
  switch (v.kind) {
    case 'continue':
      return { incoming_circuit_key, action: 'RESUME' };
    case 'fail':
      return { incoming_circuit_key, action: 'FAIL', failure_code: 'TEMPORARY_CHANNEL_FAILURE' };
    case 'settle':
      return { incoming_circuit_key, action: 'SETTLE', preimage: Buffer.from(v.preimage) };
  }
}
