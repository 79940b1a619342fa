// BOLT 4 `blinded_path`: first_node_id (sciddir_or_pubkey), first_path_key, then the hops with
// their blinded node ids and encrypted_recipient_data.
import { Reader, beToBigint, bigintToBe, concatBytes, u16 } from './bigsize.js';
import { codecError } from './errors.js';
import { checkCompressedPoint } from './point-prefix.js';

/** `sciddir_or_pubkey`: a node id, or one end (direction 0/1) of a short channel id. */
export type SciddirOrPubkey = { nodeId: Uint8Array } | { scid: bigint; direction: 0 | 1 };

export interface BlindedHop {
  blindedNodeId: Uint8Array;
  encryptedRecipientData: Uint8Array;
}

export interface BlindedPath {
  firstNode: SciddirOrPubkey;
  firstPathKey: Uint8Array;
  hops: BlindedHop[];
}

export function encodeSciddirOrPubkey(n: SciddirOrPubkey): Uint8Array {
  if ('nodeId' in n) return checkCompressedPoint(n.nodeId, 'first_node_id');
  if (n.direction !== 0 && n.direction !== 1)
    throw codecError('invalid', 'sciddir: direction must be 0 or 1');
  return concatBytes(Uint8Array.of(n.direction), bigintToBe(n.scid, 8));
}

export function readSciddirOrPubkey(r: Reader): SciddirOrPubkey {
  const first = r.bytes(1, 'sciddir_or_pubkey')[0]!;
  if (first === 0 || first === 1)
    return { scid: beToBigint(r.bytes(8, 'sciddir_or_pubkey scid')), direction: first };
  if (first === 2 || first === 3)
    return { nodeId: concatBytes(Uint8Array.of(first), r.bytes(32, 'sciddir_or_pubkey point')) };
  throw codecError('invalid', `sciddir_or_pubkey: bad first byte ${first}`);
}

export function encodeBlindedPath(p: BlindedPath): Uint8Array {
  if (p.hops.length < 1 || p.hops.length > 255)
    throw codecError('out_of_range', `blinded_path: ${p.hops.length} hops (1..255)`);
  const parts = [
    encodeSciddirOrPubkey(p.firstNode),
    checkCompressedPoint(p.firstPathKey, 'first_path_key'),
    Uint8Array.of(p.hops.length),
  ];
  for (const h of p.hops) {
    if (h.encryptedRecipientData.length > 0xffff)
      throw codecError('out_of_range', 'blinded_path: encrypted_recipient_data too long');
    parts.push(
      checkCompressedPoint(h.blindedNodeId, 'blinded_node_id'),
      u16(h.encryptedRecipientData.length),
      h.encryptedRecipientData,
    );
  }
  return concatBytes(...parts);
}

/** Read one blinded_path from a cursor (paths are also concatenated, e.g. `...blinded_path`). */
export function readBlindedPath(r: Reader): BlindedPath {
  const firstNode = readSciddirOrPubkey(r);
  const firstPathKey = checkCompressedPoint(Uint8Array.from(r.bytes(33, 'first_path_key')), 'first_path_key');
  const n = r.u8('num_hops');
  if (n === 0) throw codecError('invalid', 'blinded_path: num_hops is 0');
  const hops: BlindedHop[] = [];
  for (let i = 0; i < n; i++) {
    const blindedNodeId = checkCompressedPoint(
      Uint8Array.from(r.bytes(33, 'blinded_node_id')),
      'blinded_node_id',
    );
    const len = r.u16('enclen');
    hops.push({
      blindedNodeId,
      encryptedRecipientData: Uint8Array.from(r.bytes(len, 'encrypted_recipient_data')),
    });
  }
  return { firstNode, firstPathKey, hops };
}

/** Decode exactly one blinded_path (no trailing bytes). */
export function decodeBlindedPath(buf: Uint8Array): BlindedPath {
  const r = new Reader(buf);
  const p = readBlindedPath(r);
  if (r.remaining !== 0) throw codecError('trailing', `blinded_path: ${r.remaining} trailing bytes`);
  return p;
}

/** Decode `...blinded_path` (one or more concatenated paths). */
export function decodeBlindedPaths(buf: Uint8Array): BlindedPath[] {
  const r = new Reader(buf);
  const out: BlindedPath[] = [];
  while (r.remaining > 0) out.push(readBlindedPath(r));
  if (out.length === 0) throw codecError('missing_field', 'blinded paths: none');
  return out;
}

export const encodeBlindedPaths = (ps: readonly BlindedPath[]): Uint8Array =>
  concatBytes(...ps.map(encodeBlindedPath));

/** The intro node's id when the path names it by key, else null (an scid needs a channel lookup). */
export const introNodeId = (p: BlindedPath): Uint8Array | null =>
  'nodeId' in p.firstNode ? p.firstNode.nodeId : null;
