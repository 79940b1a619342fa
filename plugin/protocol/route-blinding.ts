// BOLT 4 route blinding: building a blinded path to a node from public keys, and unblinding one
// hop (decrypting its encrypted_recipient_data) with a shared secret or a node-key ECDH oracle.
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { concatBytes, encodeBigSize } from './bigsize.js';
import type { BlindedPath } from './blinded-path.js';
import { type Ec, type Ecdh, activeEc } from './ec.js';
import { type EncryptedData, decodeEncryptedData, encodeEncryptedData } from './encrypted-data.js';
import { CodecError, codecError } from './errors.js';
import { generateKey, sha256 } from './keys.js';

const ZERO_NONCE = new Uint8Array(12);

export interface BlindingHopInput {
  nodeId: Uint8Array;
  /** The hop's encrypted_data_tlv, as fields or already encoded (vectors carry exact bytes). */
  data: EncryptedData | Uint8Array;
}

export interface BlindedHopDetail {
  pathKey: Uint8Array;
  sharedSecret: Uint8Array;
  blindedNodeId: Uint8Array;
  encryptedRecipientData: Uint8Array;
}

/** A fresh random scalar that is a valid private key. */
export function randomPrivateKey(ec: Ec = activeEc()): Uint8Array {
  for (;;) {
    const k = randomBytes(32);
    if (ec.isPrivateKey(k)) return k;
  }
}

export function encryptRecipientData(sharedSecret: Uint8Array, plain: Uint8Array): Uint8Array {
  return chacha20poly1305(generateKey('rho', sharedSecret), ZERO_NONCE).encrypt(plain);
}

export function decryptRecipientData(sharedSecret: Uint8Array, enc: Uint8Array): Uint8Array {
  if (enc.length < 16) throw codecError('truncated', 'encrypted_recipient_data: shorter than its tag');
  try {
    return chacha20poly1305(generateKey('rho', sharedSecret), ZERO_NONCE).decrypt(enc);
  } catch {
    throw codecError('invalid', 'encrypted_recipient_data: authentication failed');
  }
}

/** E_{i+1} = E_i · SHA256(E_i ‖ ss_i): the path key the next hop receives (absent an override). */
export const nextPathKeyOf = (pathKey: Uint8Array, ss: Uint8Array, ec: Ec = activeEc()): Uint8Array =>
  ec.pointMul(pathKey, sha256(concatBytes(pathKey, ss)));

/** Blind each hop in turn from `sessionKey` (the first path key's secret). */
export function blindHops(
  sessionKey: Uint8Array,
  hops: readonly BlindingHopInput[],
  ec: Ec = activeEc(),
): BlindedHopDetail[] {
  const out: BlindedHopDetail[] = [];
  let e = sessionKey;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i]!;
    const E = ec.publicKey(e);
    const ss = ec.ecdh(h.nodeId, e);
    const plain = h.data instanceof Uint8Array ? h.data : encodeEncryptedData(h.data);
    out.push({
      pathKey: E,
      sharedSecret: ss,
      blindedNodeId: ec.pointMul(h.nodeId, generateKey('blinded_node_id', ss)),
      encryptedRecipientData: encryptRecipientData(ss, plain),
    });
    if (i < hops.length - 1) e = ec.privMul(e, sha256(concatBytes(E, ss)));
  }
  return out;
}

/** The blinded_path through `hops` (intro node = hops[0]). */
export function blindPath(
  sessionKey: Uint8Array,
  hops: readonly BlindingHopInput[],
  ec: Ec = activeEc(),
): BlindedPath {
  if (hops.length === 0) throw codecError('invalid', 'blinded path: no hops');
  const d = blindHops(sessionKey, hops, ec);
  return {
    firstNode: { nodeId: Uint8Array.from(hops[0]!.nodeId) },
    firstPathKey: d[0]!.pathKey,
    hops: d.map((x) => ({
      blindedNodeId: x.blindedNodeId,
      encryptedRecipientData: x.encryptedRecipientData,
    })),
  };
}

const paddingRecordLen = (n: number): number => 1 + encodeBigSize(n).length + n;

/**
 * Give every hop a padding record so all encrypted_data_tlv encodings have the same length (so
 * the path's length does not tell hops apart). Existing padding is replaced.
 */
export function padToEqualLength(datas: readonly EncryptedData[]): EncryptedData[] {
  const bare = datas.map((d) => ({ ...d, padding: undefined }));
  const lens = bare.map((d) => encodeEncryptedData(d).length);
  for (let target = Math.max(...lens) + 2; ; target++) {
    const pads: number[] = [];
    for (const n of lens) {
      const need = target - n;
      // Padding length p with 1 + bigsize(p) + p === need; one of the two header sizes fits or neither.
      const p = [need - 2, need - 4, need - 6].find((x) => x >= 0 && paddingRecordLen(x) === need);
      if (p === undefined) break;
      pads.push(p);
    }
    if (pads.length === lens.length) return bare.map((d, i) => ({ ...d, padding: new Uint8Array(pads[i]!) }));
  }
}

export interface BuildBlindedPathOptions {
  /** The path's first secret; random when absent (inject it for test vectors). */
  sessionKey?: Uint8Array;
  /** Extra hops at the end that are the recipient itself, so the path length hides where it ends. */
  dummyHops?: number;
  /** Pad every hop's encrypted data to the same length. */
  pad?: boolean;
  ec?: Ec;
}

/**
 * A blinded path for onion messages through `route` (node ids, intro node first, recipient last)
 * ending with `finalData` (e.g. `{ pathId }`) at the recipient. Each hop before the recipient gets
 * `next_node_id`; dummy hops are the recipient pointing at itself.
 */
export function buildBlindedPath(
  route: readonly Uint8Array[],
  finalData: EncryptedData,
  opts: BuildBlindedPathOptions = {},
): BlindedPath {
  const ec = opts.ec ?? activeEc();
  if (route.length === 0) throw codecError('invalid', 'blinded path: empty route');
  const recipient = route[route.length - 1]!;
  const nodes = [...route];
  const datas: EncryptedData[] = route.slice(1).map((next) => ({ nextNodeId: next }));
  for (let i = 0; i < (opts.dummyHops ?? 0); i++) {
    datas.push({ nextNodeId: recipient });
    nodes.push(recipient);
  }
  datas.push(finalData);
  const padded = opts.pad ? padToEqualLength(datas) : datas;
  return blindPath(
    opts.sessionKey ?? randomPrivateKey(ec),
    nodes.map((nodeId, i) => ({ nodeId, data: padded[i]! })),
    ec,
  );
}

export interface UnblindedHop {
  sharedSecret: Uint8Array;
  /** HMAC("blinded_node_id", ss): the blinded key is nodeKey·tweak. */
  blindingTweak: Uint8Array;
  plaintext: Uint8Array;
  data: EncryptedData;
  /** E·SHA256(E ‖ ss), before any override. */
  derivedNextPathKey: Uint8Array;
  /** The path key to hand on: next_path_key_override when present, else the derived one. */
  nextPathKey: Uint8Array;
}

/**
 * Unblind one hop: ECDH of the path key with the node key (via the oracle, or a known shared
 * secret), decrypt and decode encrypted_recipient_data, and derive the next path key.
 */
export async function unblindHop(args: {
  pathKey: Uint8Array;
  encryptedRecipientData: Uint8Array;
  ecdh?: Ecdh;
  sharedSecret?: Uint8Array;
  ec?: Ec;
}): Promise<UnblindedHop> {
  const ec = args.ec ?? activeEc();
  if (!ec.isPoint(args.pathKey)) throw codecError('invalid', 'path key: not a valid point');
  let ss = args.sharedSecret;
  if (!ss) {
    if (!args.ecdh) throw codecError('missing_field', 'unblind: need an ecdh oracle or shared secret');
    ss = await args.ecdh(args.pathKey);
  }
  return unblindWithSecret(args.pathKey, ss, args.encryptedRecipientData, ec);
}

export function unblindWithSecret(
  pathKey: Uint8Array,
  ss: Uint8Array,
  encryptedRecipientData: Uint8Array,
  ec: Ec = activeEc(),
): UnblindedHop {
  const plaintext = decryptRecipientData(ss, encryptedRecipientData);
  const data = decodeEncryptedData(plaintext);
  if (data.nextPathKeyOverride && !ec.isPoint(data.nextPathKeyOverride))
    throw codecError('invalid', 'next_path_key_override: not a valid point');
  // The derived key costs a point multiplication that a final hop, or a hop with an override,
  // never uses: work it out (and the tweak) on first read only.
  let derived: Uint8Array | undefined;
  let tweak: Uint8Array | undefined;
  const override = data.nextPathKeyOverride;
  return {
    sharedSecret: ss,
    get blindingTweak() {
      return (tweak ??= generateKey('blinded_node_id', ss));
    },
    plaintext,
    data,
    get derivedNextPathKey() {
      return (derived ??= nextPathKeyOf(pathKey, ss, ec));
    },
    get nextPathKey() {
      return override ?? this.derivedNextPathKey;
    },
  };
}

/** An ECDH oracle for the blinded key nodeKey·tweak, built from the node-key oracle. */
export function blindedEcdh(ecdh: Ecdh, tweak: Uint8Array, ec: Ec = activeEc()): Ecdh {
  const tweaked = ecdh.tweaked;
  if (tweaked) {
    let inner: Ecdh | undefined;
    const oracle = (point: Uint8Array): Promise<Uint8Array> => {
      try {
        inner ??= tweaked(tweak);
        return inner(point);
      } catch (e) {
        return Promise.reject(e instanceof CodecError ? e : codecError('invalid', String(e)));
      }
    };
    // The tweaked oracle is the same kind as the one it came from.
    return ecdh.checksPoint ? Object.assign(oracle, { checksPoint: true as const }) : oracle;
  }
  return (point) => {
    try {
      return ecdh(ec.pointMul(point, tweak));
    } catch (e) {
      return Promise.reject(e instanceof CodecError ? e : codecError('invalid', String(e)));
    }
  };
}
