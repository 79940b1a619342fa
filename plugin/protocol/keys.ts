// BOLT 4 key derivation and the ChaCha20 stream every onion layer uses. Shared by the sphinx
// packet code, route blinding and failure onions so the derivation exists once.
import { chacha20 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

export type KeyType = 'rho' | 'mu' | 'um' | 'pad' | 'ammag' | 'blinded_node_id';

const KEY_TYPES: readonly KeyType[] = ['rho', 'mu', 'um', 'pad', 'ammag', 'blinded_node_id'];

// Every onion layer derives several keys: key each HMAC once at load and clone the keyed state
// per call instead of re-encoding the name and re-hashing its padded key blocks every time.
const keyed = new Map(KEY_TYPES.map((t) => [t, hmac.create(sha256, new TextEncoder().encode(t))] as const));

/** BOLT 4 generate_key: HMAC-SHA256 keyed with the key type's ASCII name, over the shared secret. */
export function generateKey(type: KeyType, secret: Uint8Array): Uint8Array {
  const h = keyed.get(type);
  return h ? h.clone().update(secret).digest() : hmac(sha256, new TextEncoder().encode(type), secret);
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

export const CHACHA_BLOCK = 64;

/**
 * XOR `data` into `out` (the same array is fine) with the keystream from block `counter` on: a
 * stream split at a block boundary is the same as one call over the whole.
 */
export function xorStreamInto(key: Uint8Array, data: Uint8Array, out: Uint8Array, counter = 0): void {
  chacha20(key, ZERO_NONCE, data, out, counter);
}

export const hmacSha256 = (key: Uint8Array, msg: Uint8Array): Uint8Array => hmac(sha256, key, msg);

/** HMAC-SHA256 over the concatenation of `parts`, without building it (a packet is 1,300+ bytes). */
export function hmacSha256Parts(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = hmac.create(sha256, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** SHA256 over the concatenation of `parts`, without building it. */
export function sha256Parts(...parts: Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}
export { sha256 };
