// Payment onions (BOLT 4): build one, and peel one layer with the node-key ECDH oracle, including
// route blinding (the path key comes from update_add_htlc, or from current_path_key at the intro node).
import type { Ec, Ecdh } from './ec.js';
import { activeEc, ecdhOfPoint } from './ec.js';
import type { EncryptedData } from './encrypted-data.js';
import { codecError } from './errors.js';
import { generateKey } from './keys.js';
import { blindedEcdh, unblindHop } from './route-blinding.js';
import { PAYMENT_ONION_PAYLOAD_SIZE, type SphinxHop, buildSphinx, peelSphinx } from './sphinx.js';
import { decodeTlvStream, tlvMap } from './tlv.js';

export const PAYMENT_ONION_LENGTH = 1 + 33 + PAYMENT_ONION_PAYLOAD_SIZE + 32;

/** Hop payload types this layer reads itself (the rest is the hop-payload codec's job). */
const ENCRYPTED_RECIPIENT_DATA = 10n;
const CURRENT_PATH_KEY = 12n;

export function buildPaymentOnion(args: {
  sessionKey: Uint8Array;
  /** pubkey: node id, or blinded node id inside a blinded route; payload: hop payload TLV bytes. */
  hops: readonly SphinxHop[];
  paymentHash: Uint8Array;
  ec?: Ec;
}): { onion: Uint8Array; sharedSecrets: Uint8Array[] } {
  const r = buildSphinx({
    sessionKey: args.sessionKey,
    hops: args.hops,
    payloadSize: PAYMENT_ONION_PAYLOAD_SIZE,
    associatedData: args.paymentHash,
    ec: args.ec ?? activeEc(),
  });
  return { onion: r.packet, sharedSecrets: r.sharedSecrets };
}

export interface BlindedHopInfo {
  /** Where this hop's path key came from. */
  source: 'update_add_htlc' | 'current_path_key';
  pathKey: Uint8Array;
  encryptedData: EncryptedData;
  /** Path key for the next hop's update_add_htlc (next_path_key_override when present). */
  nextPathKey: Uint8Array;
}

export interface PeeledPaymentOnion {
  /** This hop's payload TLV stream, raw. */
  payload: Uint8Array;
  sharedSecret: Uint8Array;
  /** The onion for the next hop, or null when we are the final hop. */
  next: Uint8Array | null;
  blinded?: BlindedHopInfo;
}

export async function peelPaymentOnion(args: {
  onion: Uint8Array;
  paymentHash: Uint8Array;
  ecdh: Ecdh;
  /** update_add_htlc's path key (blinding point), when the HTLC came inside a blinded route. */
  pathKey?: Uint8Array;
  ec?: Ec;
}): Promise<PeeledPaymentOnion> {
  const ec = args.ec ?? activeEc();
  if (args.onion.length !== PAYMENT_ONION_LENGTH)
    throw codecError(
      'invalid',
      `payment onion: ${args.onion.length} bytes, expected ${PAYMENT_ONION_LENGTH}`,
    );
  let layerEcdh = args.ecdh;
  let blindSecret: Uint8Array | undefined;
  if (args.pathKey) {
    // Inside a blinded route the layer is encrypted to our blinded key k·HMAC("blinded_node_id", ss).
    blindSecret = await ecdhOfPoint(
      args.ecdh,
      args.pathKey,
      ec,
      'update_add_htlc path key: not a valid point',
    );
    layerEcdh = blindedEcdh(args.ecdh, generateKey('blinded_node_id', blindSecret), ec);
  }
  const layer = await peelSphinx(args.onion, layerEcdh, { associatedData: args.paymentHash, ec });
  const fields = tlvMap(decodeTlvStream(layer.payload, undefined, 'hop payload'));
  const enc = fields.get(ENCRYPTED_RECIPIENT_DATA);
  const current = fields.get(CURRENT_PATH_KEY);
  const out: PeeledPaymentOnion = {
    payload: layer.payload,
    sharedSecret: layer.sharedSecret,
    next: layer.next,
  };
  if (args.pathKey && current)
    throw codecError('invalid', 'hop payload: current_path_key with a path key from update_add_htlc');
  const pathKey = args.pathKey ?? current;
  if (!pathKey) {
    if (enc) throw codecError('missing_field', 'hop payload: encrypted_recipient_data without a path key');
    return out;
  }
  if (!enc) throw codecError('missing_field', 'hop payload: blinded hop without encrypted_recipient_data');
  const unblindArgs: Parameters<typeof unblindHop>[0] = { pathKey, encryptedRecipientData: enc, ec };
  if (blindSecret) unblindArgs.sharedSecret = blindSecret;
  else unblindArgs.ecdh = args.ecdh;
  const hop = await unblindHop(unblindArgs);
  out.blinded = {
    source: args.pathKey ? 'update_add_htlc' : 'current_path_key',
    pathKey: Uint8Array.from(pathKey),
    encryptedData: hop.data,
    nextPathKey: hop.nextPathKey,
  };
  return out;
}
