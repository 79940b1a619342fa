// The recipient's message path for held_htlc_available: a blinded path through its LSP (the intro
// node, always online and a channel peer of the sender's LSP in practice) to the recipient, ending
// with a path_id the recipient chose. The recipient publishes it (static invoice, or out of band) and
// the sender puts it in async_hold.message_paths.
import { encodeBlindedPath } from '../protocol/blinded-path.js';
import { buildBlindedPath } from '../protocol/route-blinding.js';

export interface MessagePathArgs {
  /** 33-byte node id of the recipient. */
  recipientNodeId: Uint8Array;
  /** Node ids in front of the recipient, intro node first (typically just its LSP); empty: R is the intro. */
  through: Uint8Array[];
  /** 32 bytes, echoed back to the recipient in its hop's encrypted data. */
  pathId: Uint8Array;
}

/** The encoded `blinded_path`. */
export function recipientMessagePath(a: MessagePathArgs): Uint8Array {
  return encodeBlindedPath(buildBlindedPath([...a.through, a.recipientNodeId], { pathId: a.pathId }));
}
