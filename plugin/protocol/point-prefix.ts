// Wire-level shape check for a compressed secp256k1 point. Codecs use it to reject garbage early;
// whether the point is on the curve is the EC layer's question (ec.ts), asked where it is used.
import { codecError } from './errors.js';

export function checkCompressedPoint(b: Uint8Array, what: string): Uint8Array {
  if (b.length !== 33 || (b[0] !== 2 && b[0] !== 3))
    throw codecError('invalid', `${what}: not a 33-byte compressed point (02/03 prefix)`);
  return b;
}
