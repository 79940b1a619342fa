// The BOLT 4 sphinx onion packet, generic over the routing-info size (1300 for payment onions;
// onion messages use 1300 or 32768). Building needs the session key; peeling needs only an ECDH
// oracle, so a node key can live in-process, in CLN or behind LND's DeriveSharedKey.

import { equalBytes } from '@noble/ciphers/utils.js'; // constant time: HMAC checks leak nothing
import { Reader, concatBytes, encodeBigSize } from './bigsize.js';
import { type Ec, type Ecdh, activeEc, ecdhOfPoint } from './ec.js';
import { codecError } from './errors.js';
import {
  CHACHA_BLOCK,
  cipherStream,
  generateKey,
  hmacSha256Parts,
  sha256Parts,
  xorStream,
  xorStreamInto,
} from './keys.js';

export const PAYMENT_ONION_PAYLOAD_SIZE = 1300;
export const LARGE_ONION_PAYLOAD_SIZE = 32768;
const VERSION = 0;
const HMAC_LEN = 32;

export interface SphinxHop {
  /** The key the layer is encrypted to (a node id, or a blinded node id). */
  pubkey: Uint8Array;
  /** The hop payload without its BigSize length prefix (the packet adds it). */
  payload: Uint8Array;
}

export interface BuildSphinxOptions {
  sessionKey: Uint8Array;
  hops: readonly SphinxHop[];
  /** Routing-info size in bytes; defaults to 1300. */
  payloadSize?: number;
  /** Bound into every HMAC (the payment hash for payment onions; empty for onion messages). */
  associatedData?: Uint8Array;
  ec?: Ec;
}

export interface SphinxBuildResult {
  packet: Uint8Array;
  /** Per-hop shared secrets (the sender needs them to decrypt failure onions). */
  sharedSecrets: Uint8Array[];
}

export interface PeeledSphinx {
  payload: Uint8Array;
  sharedSecret: Uint8Array;
  /** The packet to hand to the next hop, or null when this hop is the final one (next HMAC zero). */
  next: Uint8Array | null;
}

/** Bytes one hop occupies in the routing info: BigSize(length) ‖ payload ‖ HMAC. */
const hopSize = (payload: Uint8Array): number =>
  encodeBigSize(payload.length).length + payload.length + HMAC_LEN;

const blindingFactor = (ephemeral: Uint8Array, secret: Uint8Array): Uint8Array =>
  sha256Parts(ephemeral, secret);
const EMPTY = new Uint8Array(0);

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function buildSphinx(opts: BuildSphinxOptions): SphinxBuildResult {
  const ec = opts.ec ?? activeEc();
  const size = opts.payloadSize ?? PAYMENT_ONION_PAYLOAD_SIZE;
  const ad = opts.associatedData ?? new Uint8Array(0);
  const hops = opts.hops;
  if (hops.length === 0) throw codecError('invalid', 'sphinx: no hops');
  const total = hops.reduce((n, h) => n + hopSize(h.payload), 0);
  if (total > size)
    throw codecError('out_of_range', `sphinx: payloads need ${total} bytes, packet holds ${size}`);

  // Ephemeral keys and shared secrets, hop by hop (e_{i+1} = e_i · SHA256(E_i ‖ ss_i)).
  const secrets: Uint8Array[] = [];
  let e = opts.sessionKey;
  const firstEphemeral = ec.publicKey(e);
  for (let i = 0; i < hops.length; i++) {
    const E = i === 0 ? firstEphemeral : ec.publicKey(e);
    const ss = ec.ecdh(hops[i]!.pubkey, e);
    secrets.push(ss);
    if (i < hops.length - 1) e = ec.privMul(e, blindingFactor(E, ss));
  }

  const rhos = secrets.map((ss) => generateKey('rho', ss));

  // Filler: what the last hops' routing info tail will look like after earlier hops shift it. Hop
  // i's stream is needed only over [start, size + len), so it starts at that block, not at 0.
  let filler: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < hops.length - 1; i++) {
    const len = hopSize(hops[i]!.payload);
    const start = size - filler.length;
    filler = concatBytes(filler, new Uint8Array(len));
    const from = Math.floor(start / CHACHA_BLOCK) * CHACHA_BLOCK;
    const stream = new Uint8Array(size + len - from);
    xorStreamInto(rhos[i]!, stream, stream, from / CHACHA_BLOCK);
    for (let j = 0; j < filler.length; j++) filler[j]! ^= stream[start - from + j]!;
  }

  let routing = cipherStream(generateKey('pad', opts.sessionKey), size);
  let nextHmac: Uint8Array = new Uint8Array(HMAC_LEN);
  for (let i = hops.length - 1; i >= 0; i--) {
    const p = hops[i]!.payload;
    const head = concatBytes(encodeBigSize(p.length), p, nextHmac);
    routing = concatBytes(head, routing.subarray(0, size - head.length));
    routing = xorStream(rhos[i]!, routing);
    if (i === hops.length - 1) routing.set(filler, size - filler.length);
    nextHmac = hmacSha256Parts(generateKey('mu', secrets[i]!), routing, ad);
  }
  return {
    packet: concatBytes(Uint8Array.of(VERSION), firstEphemeral, routing, nextHmac),
    sharedSecrets: secrets,
  };
}

export interface SphinxParts {
  version: number;
  ephemeral: Uint8Array;
  routing: Uint8Array;
  hmac: Uint8Array;
}

/** Split a packet into its fields; the routing-info size is whatever the length implies. */
export function parseSphinx(packet: Uint8Array): SphinxParts {
  if (!(packet instanceof Uint8Array) || packet.length < 1 + 33 + 1 + HMAC_LEN)
    throw codecError('truncated', 'sphinx: packet too short');
  const version = packet[0]!;
  if (version !== VERSION) throw codecError('invalid', `sphinx: unknown version ${version}`);
  return {
    version,
    ephemeral: packet.subarray(1, 34),
    routing: packet.subarray(34, packet.length - HMAC_LEN),
    hmac: packet.subarray(packet.length - HMAC_LEN),
  };
}

/**
 * Peel one layer: ECDH via the oracle, verify the HMAC, return this hop's payload and the next
 * packet. Throws CodecError on a bad version, point, HMAC or payload length.
 */
export async function peelSphinx(
  packet: Uint8Array,
  ecdh: Ecdh,
  opts: {
    associatedData?: Uint8Array;
    ec?: Ec;
    /**
     * Free bytes before the next packet in its buffer (`next.byteOffset`), for the caller's message
     * header: the message is then written around the packet instead of copying it.
     */
    nextHeadroom?: number;
  } = {},
): Promise<PeeledSphinx> {
  const ec = opts.ec ?? activeEc();
  const { ephemeral, routing, hmac } = parseSphinx(packet);
  const ss = await ecdhOfPoint(ecdh, ephemeral, ec, 'sphinx: invalid ephemeral key');
  const mac = hmacSha256Parts(generateKey('mu', ss), routing, opts.associatedData ?? EMPTY);
  if (!equalBytes(mac, hmac)) throw codecError('invalid', 'sphinx: HMAC mismatch');

  const size = routing.length;
  const rho = generateKey('rho', ss);
  // Decrypt only this hop's bytes first (a BigSize is at most 9): a final hop, the usual case for a
  // node receiving a release, never needs the stream that shifting the packet takes.
  const r = new Reader(xorStream(rho, routing.subarray(0, Math.min(size, 9))));
  const len = r.bigSize('sphinx payload length');
  if (len === 0n) throw codecError('invalid', 'sphinx: zero-length (legacy) payload');
  if (len > BigInt(size - r.pos - HMAC_LEN))
    throw codecError('truncated', `sphinx: payload length ${len} exceeds the packet`);
  const start = r.pos;
  const end = start + Number(len);
  const hopLen = end + HMAC_LEN;
  // The shifted routing info is routing ‖ zeros(hopLen) decrypted (the zeros become the keystream
  // the shift brings in). Decrypt this hop's part first, in whole blocks, so a forward carries the
  // stream on from there and a final hop stops. Fresh buffers are 4-byte aligned, which keeps
  // ChaCha20 on its word path (the packet's subarrays are not).
  const total = size + hopLen;
  const headLen = Math.min(total, Math.ceil(hopLen / CHACHA_BLOCK) * CHACHA_BLOCK);
  const head = new Uint8Array(headLen);
  head.set(routing.subarray(0, Math.min(headLen, size)));
  xorStreamInto(rho, head, head);
  const payload = head.slice(start, end);
  const nextHmac = head.subarray(end, hopLen);
  if (isZero(nextHmac)) return { payload, sharedSecret: ss, next: null };
  const nextEphemeral = ec.pointMul(ephemeral, blindingFactor(ephemeral, ss));
  // next = version ‖ ephemeral ‖ (head ‖ tail)[hopLen, total) ‖ next HMAC
  const room = opts.nextHeadroom ?? 0;
  const next = new Uint8Array(room + 1 + 33 + size + HMAC_LEN).subarray(room);
  next[0] = VERSION;
  next.set(nextEphemeral, 1);
  next.set(head.subarray(hopLen), 34);
  if (headLen < total) {
    const tail = new Uint8Array(total - headLen);
    tail.set(routing.subarray(headLen));
    xorStreamInto(rho, tail, tail, headLen / CHACHA_BLOCK);
    next.set(tail, 34 + headLen - hopLen);
  }
  next.set(nextHmac, 34 + size);
  return { payload, sharedSecret: ss, next };
}
