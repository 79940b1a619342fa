// BOLT 4 key derivation and the ChaCha20 stream every onion layer uses. Shared by the sphinx
// packet code, route blinding and failure onions so the derivation exists once.
import { chacha20 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

export type KeyType = 'rho' | 'mu' | 'um' | 'pad' | 'ammag' | 'blinded_node_id';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** BOLT 4 generate_key: HMAC-SHA256 keyed with the key type's ASCII name, over the shared secret. */
export function generateKey(type: KeyType, secret: Uint8Array): Uint8Array {
  return hmac(sha256, utf8(type), secret);
}

const ZERO_NONCE = new Uint8Array(12);

/** `len` bytes of ChaCha20 keystream with a zero nonce and counter 0 (BOLT 4 generate_cipher_stream). */
export function cipherStream(key: Uint8Array, len: number): Uint8Array {
  return chacha20(key, ZERO_NONCE, new Uint8Array(len));
}

/** XOR `data` with the ChaCha20 keystream of `key` (zero nonce), returning a new array. */
export function xorStream(key: Uint8Array, data: Uint8Array): Uint8Array {
  return chacha20(key, ZERO_NONCE, data);
}

export const hmacSha256 = (key: Uint8Array, msg: Uint8Array): Uint8Array => hmac(sha256, key, msg);
export { sha256 };
