// Peeling a BOLT 4 onion message addressed to us: one layer at a time, or through our own dummy
// hops until it is received here or forwarded to another node.
import { equalBytes } from '@noble/ciphers/utils.js';
import type { BlindedPath } from './blinded-path.js';
import { type Ec, type Ecdh, activeEc, ecdhOfPoint } from './ec.js';
import type { EncryptedData } from './encrypted-data.js';
import { codecError } from './errors.js';
import { generateKey } from './keys.js';
import {
  DEFAULT_ASYNC_MESSAGE_TYPES,
  type AsyncMessageTypes,
  type OnionMessage,
  type OnionMessagePayload,
  decodeOnionMessage,
  decodeOnionMessagePayload,
  ONION_MESSAGE_HEADER,
  ONION_MESSAGE_TYPE,
  encodeOnionMessage,
} from './onion-message-payload.js';
import { blindedEcdh, unblindWithSecret } from './route-blinding.js';
import { peelSphinx } from './sphinx.js';

export interface ForwardOnionMessage {
  kind: 'forward';
  nextNodeId?: Uint8Array;
  shortChannelId?: bigint;
  nextPathKey: Uint8Array;
  packet: Uint8Array;
  wireMessage: Uint8Array;
}

export interface ReceivedOnionMessage {
  kind: 'receive';
  /** encrypted_data_tlv path_id of the final hop (absent if the path's creator set none). */
  pathId?: Uint8Array;
  payload: OnionMessagePayload;
  replyPath?: BlindedPath;
  encryptedData: EncryptedData;
  /** The message carries held_htlc_available (even or odd number). */
  heldHtlcAvailable: boolean;
  /** The message carries release_held_htlc (even or odd number). */
  releaseHeldHtlc: boolean;
}

export type PeeledOnionMessage = ForwardOnionMessage | ReceivedOnionMessage;

export interface PeelOptions {
  types?: AsyncMessageTypes;
  ec?: Ec;
}

/**
 * encodeOnionMessage(m) for a packet peelSphinx made with ONION_MESSAGE_HEADER bytes of headroom:
 * the header is written into that room, so the result shares the packet's buffer, uncopied.
 */
function wireAroundPacket(m: OnionMessage): Uint8Array {
  const h = ONION_MESSAGE_HEADER;
  if (m.pathKey.length !== 33 || m.packet.byteOffset < h) return encodeOnionMessage(m);
  const out = new Uint8Array(m.packet.buffer, m.packet.byteOffset - h, h + m.packet.length);
  out[0] = ONION_MESSAGE_TYPE >> 8;
  out[1] = ONION_MESSAGE_TYPE & 0xff;
  out.set(m.pathKey, 2);
  out[35] = m.packet.length >> 8;
  out[36] = m.packet.length & 0xff;
  return out;
}

/** Peel exactly one layer with the node-key ECDH oracle. Throws CodecError on any bad input. */
export async function peelOnionMessageLayer(
  msg: OnionMessage,
  ecdh: Ecdh,
  opts: PeelOptions = {},
): Promise<PeeledOnionMessage> {
  const ec = opts.ec ?? activeEc();
  const types = opts.types ?? DEFAULT_ASYNC_MESSAGE_TYPES;
  const ss = await ecdhOfPoint(ecdh, msg.pathKey, ec, 'onion_message: invalid path_key');
  // The layer is encrypted to our blinded key k·HMAC("blinded_node_id", ss).
  const tweak = generateKey('blinded_node_id', ss);
  const layer = await peelSphinx(msg.packet, blindedEcdh(ecdh, tweak, ec), {
    ec,
    nextHeadroom: ONION_MESSAGE_HEADER,
  });
  const payload = decodeOnionMessagePayload(layer.payload, types);
  if (!payload.encryptedRecipientData)
    throw codecError('missing_field', 'onionmsg_tlv: no encrypted_recipient_data');
  // path_key was checked above and ss is in hand: unblind without a second check or oracle call.
  const hop = unblindWithSecret(msg.pathKey, ss, payload.encryptedRecipientData, ec);
  if (layer.next) {
    const extra = Object.keys(payload).filter((k) => k !== 'encryptedRecipientData');
    if (extra.length > 0)
      throw codecError('invalid', `onion message: forward hop carries ${extra.join(', ')}`);
    const { nextNodeId, shortChannelId } = hop.data;
    if (!nextNodeId && shortChannelId === undefined)
      throw codecError(
        'missing_field',
        'onion message: forward hop without next_node_id or short_channel_id',
      );
    if (nextNodeId && !ec.isPoint(nextNodeId)) throw codecError('invalid', 'next_node_id: not a valid point');
    const next = { pathKey: hop.nextPathKey, packet: layer.next };
    const out: ForwardOnionMessage = {
      kind: 'forward',
      nextPathKey: hop.nextPathKey,
      packet: layer.next,
      wireMessage: wireAroundPacket(next),
    };
    if (nextNodeId) out.nextNodeId = nextNodeId;
    else out.shortChannelId = shortChannelId!;
    return out;
  }
  const out: ReceivedOnionMessage = {
    kind: 'receive',
    payload,
    encryptedData: hop.data,
    heldHtlcAvailable: payload.heldHtlcAvailable !== undefined || payload.heldHtlcAvailableOdd !== undefined,
    releaseHeldHtlc: payload.releaseHeldHtlc !== undefined || payload.releaseHeldHtlcOdd !== undefined,
  };
  if (hop.data.pathId) out.pathId = hop.data.pathId;
  if (payload.replyPath) out.replyPath = payload.replyPath;
  return out;
}

/** How many self-addressed layers (dummy hops) peelOnionMessage unwraps before giving up. */
const MAX_SELF_HOPS = 16;

/**
 * Peel an onion message addressed to us. Accepts the wire message (with type 513) or its parts.
 * With `ourNodeId`, layers forwarded to ourselves (dummy hops, or a path through us) are peeled
 * too, so the result is a `receive` or a `forward` to another node.
 */
export async function peelOnionMessage(
  input: Uint8Array | OnionMessage,
  ecdh: Ecdh,
  opts: PeelOptions & { ourNodeId?: Uint8Array } = {},
): Promise<PeeledOnionMessage> {
  let msg = input instanceof Uint8Array ? decodeOnionMessage(input) : input;
  for (let i = 0; ; i++) {
    const r = await peelOnionMessageLayer(msg, ecdh, opts);
    const self =
      r.kind === 'forward' && opts.ourNodeId && r.nextNodeId && equalBytes(r.nextNodeId, opts.ourNodeId);
    if (!self) return r;
    if (i >= MAX_SELF_HOPS) throw codecError('invalid', 'onion message: too many hops through ourselves');
    msg = { pathKey: r.nextPathKey, packet: r.packet };
  }
}
