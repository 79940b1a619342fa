// Client message path ids, the release paths' idea applied to clients (PROTOCOL.md):
// path_id = client_id (16) ‖ HMAC-SHA256(key, "recipient-lsp client" ‖ client_id ‖ node_id)[0..16],
// client_id = HMAC-SHA256(key, "recipient-lsp client id" ‖ node_id)[0..16]. Deterministic, so asking
// for a client's path twice gives the same path_id; the tag binds it to the client's node id, so a
// path cannot be made to name another client without the node-local key.
import { equalBytes } from '@noble/ciphers/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, hexToBytes } from '@noble/hashes/utils.js';

export const CLIENT_ID_LEN = 16;
export const CLIENT_PATH_ID_LEN = 32;
const ID_LABEL = new TextEncoder().encode('recipient-lsp client id');
const TAG_LABEL = new TextEncoder().encode('recipient-lsp client');

const NODE_ID = /^0[23][0-9a-f]{64}$/;

export function isNodeId(s: string): boolean {
  return NODE_ID.test(s);
}

function nodeBytes(nodeId: string): Uint8Array {
  if (!isNodeId(nodeId)) throw new RangeError('client node id must be 33-byte compressed hex');
  return hexToBytes(nodeId);
}

export function clientId(key: Uint8Array, nodeId: string): Uint8Array {
  return hmac(sha256, key, concatBytes(ID_LABEL, nodeBytes(nodeId))).subarray(0, CLIENT_ID_LEN);
}

function tag(key: Uint8Array, id: Uint8Array, nodeId: string): Uint8Array {
  return hmac(sha256, key, concatBytes(TAG_LABEL, id, nodeBytes(nodeId))).subarray(0, 16);
}

export function clientPathId(key: Uint8Array, nodeId: string): Uint8Array {
  const id = clientId(key, nodeId);
  return concatBytes(id, tag(key, id, nodeId));
}

export type ClientPathCheck =
  { ok: true; nodeId: string } | { ok: false; why: 'missing' | 'length' | 'unknown' | 'hmac' };

/**
 * Check a path_id against the issued clients (`lookup`: client_id hex -> node id). Constant-time on
 * the tag, so its bytes cannot be probed one at a time.
 */
export function verifyClientPathId(
  key: Uint8Array,
  pathId: Uint8Array | undefined,
  lookup: (clientIdHex: string) => string | undefined,
): ClientPathCheck {
  if (pathId === undefined) return { ok: false, why: 'missing' };
  if (pathId.length !== CLIENT_PATH_ID_LEN) return { ok: false, why: 'length' };
  const id = pathId.subarray(0, CLIENT_ID_LEN);
  const nodeId = lookup(Buffer.from(id).toString('hex'));
  if (nodeId === undefined) return { ok: false, why: 'unknown' };
  return equalBytes(tag(key, id, nodeId), pathId.subarray(CLIENT_ID_LEN))
    ? { ok: true, nodeId }
    : { ok: false, why: 'hmac' };
}
