// Lightning node message signatures (LSPS0.ln_signature, the `signmessage` of LND, CLN and Eclair):
//   zbase32(SigRec(SHA256(SHA256("Lightning Signed Message:" ‖ msg))))
// where SigRec is the byte 31 + recovery id followed by the 64-byte compact signature. A node signs
// with its host (LND SignMessage, CLN signmessage); verifying and in-process signing (tests, the
// simulated host) live here.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { activeEc, type Ec } from '../protocol/ec.js';
import { zbase32Decode, zbase32Encode } from './zbase32.js';

const PREFIX = utf8ToBytes('Lightning Signed Message:');
// 27 + 4: the "compressed key" header of Bitcoin's compact signatures, which LND and CLN write.
const HEADER_BASE = 31;

export function lnMessageDigest(message: Uint8Array): Uint8Array {
  return sha256(sha256(concatBytes(PREFIX, message)));
}

/** Signs like a node's `signmessage` with an in-process key. */
export function lnSign(message: Uint8Array, priv: Uint8Array, ec: Ec = activeEc()): string {
  const { signature, recid } = ec.signRecoverable(lnMessageDigest(message), priv);
  return zbase32Encode(concatBytes(Uint8Array.of(HEADER_BASE + recid), signature));
}

/**
 * The node id (33-byte compressed, hex) whose key made `signature` over `message`, or undefined when
 * the signature is malformed. Also takes the uncompressed-key headers 27..30, which some signers write.
 */
export function lnRecoverNodeId(
  message: Uint8Array,
  signature: string,
  ec: Ec = activeEc(),
): string | undefined {
  const raw = zbase32Decode(signature);
  if (!raw || raw.length !== 65) return undefined;
  const header = raw[0]!;
  if (header < 27 || header > 34) return undefined;
  try {
    return bytesToHex(ec.recover(lnMessageDigest(message), raw.subarray(1), (header - 27) & 3));
  } catch {
    return undefined;
  }
}

export function lnVerify(
  message: Uint8Array,
  signature: string,
  nodeIdHex: string,
  ec: Ec = activeEc(),
): boolean {
  return lnRecoverNodeId(message, signature, ec) === nodeIdHex.toLowerCase();
}
