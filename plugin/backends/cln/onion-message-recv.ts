// The onion_message_recv_secret hook (doc/schemas/hook/onion_message_recv_secret.json): lightningd
// peeled an onion message that came over a blinded path ending at us and gives the path's 32-byte
// path_id as `pathsecret`, and the onion message TLVs it does not know in `unknown_fields`. Only odd
// ones ever arrive (CLN drops messages with unknown even TLVs), hence the odd release alias 75.
import { hexToBytes } from '@noble/hashes/utils.js';
import type { BlindedPath } from '../../protocol/blinded-path.js';
import { parseScid } from '../../protocol/short-channel-id.js';
import { isObject } from './jsonrpc.js';

export interface OnionMessageRecv {
  pathSecret: Uint8Array;
  /** TLV type numbers present among unknown_fields. */
  fieldTypes: bigint[];
  /** reply_blindedpath, when the message carried one we can read (recipient-LSP mode stores it). */
  replyPath: BlindedPath | undefined;
}

const POINT = /^0[23][0-9a-fA-F]{64}$/;

/** lightningd's JSON reply_blindedpath; undefined when absent or malformed. */
export function parseReplyBlindedPath(p: unknown): BlindedPath | undefined {
  if (!isObject(p) || typeof p.first_path_key !== 'string' || !POINT.test(p.first_path_key)) return undefined;
  let firstNode: BlindedPath['firstNode'];
  if (typeof p.first_node_id === 'string' && POINT.test(p.first_node_id))
    firstNode = { nodeId: hexToBytes(p.first_node_id) };
  else if (typeof p.first_scid === 'string' && (p.first_scid_dir === 0 || p.first_scid_dir === 1)) {
    try {
      firstNode = { scid: parseScid(p.first_scid), direction: p.first_scid_dir };
    } catch {
      return undefined;
    }
  } else return undefined;
  if (!Array.isArray(p.hops) || p.hops.length === 0 || p.hops.length > 255) return undefined;
  const hops: BlindedPath['hops'] = [];
  for (const h of p.hops) {
    if (!isObject(h) || typeof h.blinded_node_id !== 'string' || !POINT.test(h.blinded_node_id))
      return undefined;
    const data = h.encrypted_recipient_data;
    if (typeof data !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(data)) return undefined;
    hops.push({ blindedNodeId: hexToBytes(h.blinded_node_id), encryptedRecipientData: hexToBytes(data) });
  }
  return { firstNode, firstPathKey: hexToBytes(p.first_path_key), hops };
}

/** Parse the hook payload; undefined for anything malformed (the message is then ignored). */
export function parseOnionMessageRecv(params: unknown): OnionMessageRecv | undefined {
  if (!isObject(params) || !isObject(params.onion_message)) return undefined;
  const om = params.onion_message;
  if (typeof om.pathsecret !== 'string' || !/^[0-9a-fA-F]{64}$/.test(om.pathsecret)) return undefined;
  const fieldTypes: bigint[] = [];
  if (Array.isArray(om.unknown_fields)) {
    for (const f of om.unknown_fields) {
      if (!isObject(f)) continue;
      const n = f.number;
      if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) fieldTypes.push(BigInt(n));
      else if (typeof n === 'string' && /^\d+$/.test(n)) fieldTypes.push(BigInt(n));
    }
  }
  return {
    pathSecret: hexToBytes(om.pathsecret),
    fieldTypes,
    replyPath: parseReplyBlindedPath(om.reply_blindedpath),
  };
}

/** The block_added notification: params are `{"block_added": {"hash", "height"}}`. */
export function parseBlockAdded(params: unknown): number | undefined {
  if (!isObject(params)) return undefined;
  // Modern lightningd wraps notification fields in an object named after the notification.
  const b = isObject(params.block_added)
    ? params.block_added
    : isObject(params.block)
      ? params.block
      : params;
  const h = b.height;
  return typeof h === 'number' && Number.isInteger(h) && h >= 0 && h <= 0xffffffff ? h : undefined;
}

/** The hook answer: always continue, so other plugins (offers) still see messages meant for them. */
export const CONTINUE = { result: 'continue' } as const;

export function isValidOnionMessageAnswer(a: unknown): a is typeof CONTINUE {
  return isObject(a) && typeof a.result === 'string' && Object.keys(a).length === 1;
}
