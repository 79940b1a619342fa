// BOLT 4 "returning errors": the erring node authenticates its failure_message with `um` and
// obfuscates it with `ammag`; each earlier hop adds its own `ammag` layer; the origin peels layer by
// layer until some hop's HMAC matches, which tells it who failed.

import { equalBytes } from '@noble/ciphers/utils.js'; // constant time: HMAC checks leak nothing
import { Reader, concatBytes, u16 } from './bigsize.js';
import { codecError } from './errors.js';
import { generateKey, hmacSha256, xorStream } from './keys.js';

/** failure_len + pad_len target: equal lengths hide which failure was sent. */
export const FAILURE_PAD_TARGET = 256;
const HMAC_LEN = 32;

/** The unauthenticated body: u16 failure_len, failure_message, u16 pad_len, pad (zeros). */
export function failurePayload(failureMessage: Uint8Array, padTarget = FAILURE_PAD_TARGET): Uint8Array {
  if (failureMessage.length > 0xffff)
    throw codecError('out_of_range', `failure message of ${failureMessage.length} bytes`);
  const padLen = Math.max(0, padTarget - failureMessage.length);
  return concatBytes(u16(failureMessage.length), failureMessage, u16(padLen), new Uint8Array(padLen));
}

/** At the erring node: the packet it returns to its upstream peer. */
export function createFailureOnion(sharedSecret: Uint8Array, failureMessage: Uint8Array): Uint8Array {
  const body = failurePayload(failureMessage);
  const mac = hmacSha256(generateKey('um', sharedSecret), body);
  return wrapFailureOnion(sharedSecret, concatBytes(mac, body));
}

/** At every earlier hop on the way back: add this hop's obfuscation layer. */
export const wrapFailureOnion = (sharedSecret: Uint8Array, packet: Uint8Array): Uint8Array =>
  xorStream(generateKey('ammag', sharedSecret), packet);

export interface DecodedFailureOnion {
  /** Index into the shared secrets (0 = first hop after the origin) of the node that failed. */
  hopIndex: number;
  failureMessage: Uint8Array;
}

/** At the origin: given the per-hop shared secrets of the route, find the erring hop and its message. */
export function decodeFailureOnion(
  sharedSecrets: readonly Uint8Array[],
  packet: Uint8Array,
): DecodedFailureOnion {
  if (packet.length < HMAC_LEN + 4)
    throw codecError('truncated', `failure onion: ${packet.length} bytes, too short`);
  let p = packet;
  for (const [hopIndex, secret] of sharedSecrets.entries()) {
    p = wrapFailureOnion(secret, p);
    const body = p.subarray(HMAC_LEN);
    if (!equalBytes(hmacSha256(generateKey('um', secret), body), p.subarray(0, HMAC_LEN))) continue;
    const r = new Reader(body);
    const failureMessage = r.bytes(r.u16('failure_len'), 'failuremsg').slice();
    r.bytes(r.u16('pad_len'), 'pad');
    return { hopIndex, failureMessage };
  }
  throw codecError('invalid', `failure onion: no HMAC matched any of ${sharedSecrets.length} hops`);
}
