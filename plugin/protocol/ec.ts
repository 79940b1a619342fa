// The few secp256k1 operations the onion code needs, behind one interface with two implementations:
// libsecp256k1 (native, fast) by default and @noble/curves when the native module cannot load.
// Every function throws only CodecError: an invalid point or scalar is bad input, not a crash.
import { createRequire } from 'node:module';
import { secp256k1 as noble } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { codecError } from './errors.js';

export interface Ec {
  readonly name: 'native' | 'noble';
  /** 33-byte compressed public key of a 32-byte private key. */
  publicKey(priv: Uint8Array): Uint8Array;
  /** BOLT 4 ECDH: SHA256 of the compressed point priv·point. */
  ecdh(point: Uint8Array, priv: Uint8Array): Uint8Array;
  /** point·tweak (tweak a 32-byte scalar), compressed. */
  pointMul(point: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** priv·tweak mod n (a new array; inputs untouched). */
  privMul(priv: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** a + b, compressed. */
  pointAdd(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** True for a valid 33-byte compressed point. */
  isPoint(p: Uint8Array): boolean;
  /** True for a 32-byte scalar in [1, n-1]. */
  isPrivateKey(k: Uint8Array): boolean;
  /** ECDSA over a 32-byte digest (RFC 6979 nonce, low-s): 64-byte r ‖ s and the recovery id 0..3. */
  signRecoverable(digest: Uint8Array, priv: Uint8Array): { signature: Uint8Array; recid: number };
  /** The 33-byte compressed key that made `signature` (r ‖ s) over `digest` with recovery id `recid`. */
  recover(digest: Uint8Array, signature: Uint8Array, recid: number): Uint8Array;
}

/** A node-key ECDH oracle: SHA256(compressed(k·point)) for the node's secret k (in-process, CLN, LND). */
export type Ecdh = ((point: Uint8Array) => Promise<Uint8Array>) & {
  /**
   * Only where the key is in-process: the oracle for k·tweak. A blinded layer's ECDH then costs one
   * scalar product, not a point multiplication (k·(tweak·P) = (k·tweak)·P).
   */
  readonly tweaked?: (tweak: Uint8Array) => Ecdh;
  /**
   * The oracle rejects an invalid point itself, with a CodecError and before any other work
   * (in-process keys: the EC layer parses the point anyway). ecdhOfPoint then skips its own check,
   * which would parse the same point a second time.
   */
  readonly checksPoint?: true;
};

/**
 * ECDH of a point from the wire: an invalid point is rejected as CodecError('invalid', `what`),
 * checked here before the oracle is asked, or by an oracle that checks its input itself (whose
 * CodecErrors are then all read as the point's: an in-process key has no other way to fail, short
 * of a blinding tweak out of range, which an HMAC output is with probability about 2^-128).
 */
export async function ecdhOfPoint(ecdh: Ecdh, point: Uint8Array, ec: Ec, what: string): Promise<Uint8Array> {
  if (!ecdh.checksPoint) {
    if (!ec.isPoint(point)) throw codecError('invalid', what);
    return ecdh(point);
  }
  try {
    return await ecdh(point);
  } catch (e) {
    throw e instanceof Error && e.name === 'CodecError' ? codecError('invalid', what) : e;
  }
}

const isBytes = (v: unknown, len: number): v is Uint8Array => v instanceof Uint8Array && v.length === len;

function checkPoint(p: Uint8Array, what: string): void {
  if (!isBytes(p, 33) || (p[0] !== 2 && p[0] !== 3))
    throw codecError('invalid', `${what}: not a 33-byte compressed point`);
}
function checkScalar(k: Uint8Array, what: string): void {
  if (!isBytes(k, 32)) throw codecError('invalid', `${what}: not a 32-byte scalar`);
}
function checkSignature(digest: Uint8Array, sig: Uint8Array, recid: number): void {
  if (!isBytes(digest, 32)) throw codecError('invalid', 'digest: not 32 bytes');
  if (!isBytes(sig, 64)) throw codecError('invalid', 'signature: not 64 bytes');
  if (!Number.isInteger(recid) || recid < 0 || recid > 3)
    throw codecError('invalid', 'recovery id: not 0..3');
}

// --- native (libsecp256k1 via the secp256k1 package's N-API binding) -------------------------

interface NativeSecp {
  publicKeyCreate(priv: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyVerify(p: Uint8Array): boolean;
  publicKeyTweakMul(p: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyCombine(ps: Uint8Array[], compressed?: boolean): Uint8Array;
  privateKeyVerify(k: Uint8Array): boolean;
  privateKeyTweakMul(k: Uint8Array, tweak: Uint8Array): Uint8Array;
  ecdh(p: Uint8Array, k: Uint8Array): Uint8Array;
  ecdsaSign(msg32: Uint8Array, k: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array;
}

// The package's wrapper throws plain Errors; re-throw them typed so callers see only CodecError.
function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && e.name === 'CodecError') throw e;
    throw codecError('invalid', `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function makeNative(lib: NativeSecp): Ec {
  return {
    name: 'native',
    publicKey: (priv) => {
      checkScalar(priv, 'private key');
      return wrap('public key', () => lib.publicKeyCreate(priv, true));
    },
    ecdh: (point, priv) => {
      checkPoint(point, 'ecdh point');
      checkScalar(priv, 'ecdh key');
      // libsecp256k1's default ECDH hash is SHA256(0x02|0x03 ‖ x): exactly BOLT 4's.
      return wrap('ecdh', () => lib.ecdh(point, priv));
    },
    pointMul: (point, tweak) => {
      checkPoint(point, 'point');
      checkScalar(tweak, 'tweak');
      return wrap('point tweak', () => lib.publicKeyTweakMul(point, tweak, true));
    },
    privMul: (priv, tweak) => {
      checkScalar(priv, 'private key');
      checkScalar(tweak, 'tweak');
      // The binding tweaks its argument in place: work on a copy.
      return wrap('private key tweak', () => lib.privateKeyTweakMul(Uint8Array.from(priv), tweak));
    },
    pointAdd: (a, b) => {
      checkPoint(a, 'point');
      checkPoint(b, 'point');
      return wrap('point add', () => lib.publicKeyCombine([a, b], true));
    },
    isPoint: (p) => isBytes(p, 33) && (p[0] === 2 || p[0] === 3) && lib.publicKeyVerify(p),
    isPrivateKey: (k) => isBytes(k, 32) && lib.privateKeyVerify(k),
    signRecoverable: (digest, priv) => {
      checkScalar(priv, 'signing key');
      if (!isBytes(digest, 32)) throw codecError('invalid', 'digest: not 32 bytes');
      const { signature, recid } = wrap('sign', () => lib.ecdsaSign(digest, priv));
      return { signature: Uint8Array.from(signature), recid };
    },
    recover: (digest, sig, recid) => {
      checkSignature(digest, sig, recid);
      return wrap('recover', () => lib.ecdsaRecover(sig, recid, digest, true));
    },
  };
}

// --- noble (pure JS fallback) --------------------------------------------------------------

const Point = noble.Point;
const Fn = Point.Fn;

function noblePoint(p: Uint8Array, what: string): InstanceType<typeof Point> {
  checkPoint(p, what);
  return wrap(what, () => Point.fromBytes(p));
}
function nobleScalar(k: Uint8Array, what: string): bigint {
  checkScalar(k, what);
  const v = Fn.fromBytes(k, true);
  if (v === 0n || v >= Fn.ORDER) throw codecError('invalid', `${what}: scalar out of range`);
  return v;
}

const nobleEc: Ec = {
  name: 'noble',
  publicKey: (priv) => Point.BASE.multiply(nobleScalar(priv, 'private key')).toBytes(true),
  ecdh: (point, priv) =>
    sha256(noblePoint(point, 'ecdh point').multiply(nobleScalar(priv, 'ecdh key')).toBytes(true)),
  pointMul: (point, tweak) => noblePoint(point, 'point').multiply(nobleScalar(tweak, 'tweak')).toBytes(true),
  privMul: (priv, tweak) => Fn.toBytes(Fn.mul(nobleScalar(priv, 'private key'), nobleScalar(tweak, 'tweak'))),
  pointAdd: (a, b) => {
    const s = noblePoint(a, 'point').add(noblePoint(b, 'point'));
    if (s.equals(Point.ZERO)) throw codecError('invalid', 'point add: result is infinity');
    return s.toBytes(true);
  },
  isPoint: (p) => {
    if (!isBytes(p, 33) || (p[0] !== 2 && p[0] !== 3)) return false;
    try {
      Point.fromBytes(p);
      return true;
    } catch {
      return false;
    }
  },
  isPrivateKey: (k) => {
    if (!isBytes(k, 32)) return false;
    const v = Fn.fromBytes(k, true);
    return v > 0n && v < Fn.ORDER;
  },
  signRecoverable: (digest, priv) => {
    nobleScalar(priv, 'signing key');
    if (!isBytes(digest, 32)) throw codecError('invalid', 'digest: not 32 bytes');
    // 'recovered' is recid ‖ r ‖ s.
    const out = noble.sign(digest, priv, { prehash: false, format: 'recovered' });
    return { signature: out.slice(1), recid: out[0]! };
  },
  recover: (digest, sig, recid) => {
    checkSignature(digest, sig, recid);
    const full = new Uint8Array(65);
    full[0] = recid;
    full.set(sig, 1);
    return wrap('recover', () => noble.recoverPublicKey(full, digest, { prehash: false }));
  },
};

// --- selection -------------------------------------------------------------------------------

let nativeEc: Ec | null | undefined;

/** The libsecp256k1 implementation, or null when the native module cannot load here. */
export function getNativeEc(): Ec | null {
  if (nativeEc === undefined) {
    try {
      // `secp256k1` alone silently falls back to elliptic; `secp256k1/bindings` is native or throws.
      const lib = createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp;
      nativeEc = makeNative(lib);
    } catch {
      nativeEc = null;
    }
  }
  return nativeEc;
}

/** The pure-JS implementation (always available). */
export function getNobleEc(): Ec {
  return nobleEc;
}

/** Both implementations that load here, native first: tests run every vector against each. */
export function allEcs(): Ec[] {
  const n = getNativeEc();
  return n ? [n, nobleEc] : [nobleEc];
}

/** The implementation to use: native when it loads, noble otherwise. */
export function activeEc(): Ec {
  return getNativeEc() ?? nobleEc;
}

/** An ECDH oracle over an in-process private key (tests, the recipient agent, LND-less setups). */
export function ecdhFromPrivateKey(priv: Uint8Array, ec: Ec = activeEc()): Ecdh {
  if (!ec.isPrivateKey(priv)) throw codecError('invalid', 'ecdh oracle: invalid private key');
  return oracleOf(Uint8Array.from(priv), ec);
}

function oracleOf(key: Uint8Array, ec: Ec): Ecdh {
  const oracle = (point: Uint8Array): Promise<Uint8Array> => {
    try {
      return Promise.resolve(ec.ecdh(point, key));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  };
  // privMul checks the tweak as pointMul would (a 32-byte scalar in range) and throws CodecError.
  // ec.ecdh checks the point exactly as ec.isPoint would (33 bytes, 02/03, on the curve).
  return Object.assign(oracle, {
    tweaked: (tweak: Uint8Array) => oracleOf(ec.privMul(key, tweak), ec),
    checksPoint: true as const,
  });
}
