// Release path ids (PROTOCOL.md): path_id = hold_id (16) ‖ HMAC-SHA256(key, "release" ‖ hold_id)[0..16],
// and the buffer for releases that arrive before their HTLC.
import { hmac, type _HMAC } from '@noble/hashes/hmac.js';
import { sha256, type _SHA256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { timingSafeEqual } from 'node:crypto';
import type { Clock, TimerHandle } from './clock.js';

export const HOLD_ID_LEN = 16;
export const PATH_ID_LEN = 32;
const LABEL = new TextEncoder().encode('release');

// The engine uses one key for its life: keep the HMAC keyed with it and copy that state into one
// scratch instance per tag, instead of hashing the padded key blocks again for every path id (a
// restart tags every held set) or allocating two fresh hash objects per tag with clone().
interface Keyed {
  key: Uint8Array;
  h: _HMAC<_SHA256>;
  scratch: _HMAC<_SHA256>;
  out: Uint8Array;
}
let keyed: Keyed | undefined;

/** The 16-byte tag, as a view of a buffer the next call overwrites: use it at once or copy it. */
function tag(key: Uint8Array, holdId: Uint8Array): Uint8Array {
  if (!keyed || !equalBytes(keyed.key, key)) {
    const h = hmac.create(sha256, key) as _HMAC<_SHA256>;
    keyed = { key: Uint8Array.from(key), h, scratch: h.clone(), out: new Uint8Array(32) };
  }
  const k: Keyed = keyed;
  k.h._cloneInto(k.scratch).update(LABEL).update(holdId).digestInto(k.out);
  return k.out.subarray(0, 16);
}

export function releasePathId(key: Uint8Array, holdId: Uint8Array): Uint8Array {
  if (holdId.length !== HOLD_ID_LEN) throw new RangeError(`hold id must be ${HOLD_ID_LEN} bytes`);
  const out = new Uint8Array(PATH_ID_LEN);
  out.set(holdId, 0);
  out.set(tag(key, holdId), HOLD_ID_LEN);
  return out;
}

export type ParsedPathId =
  { ok: true; holdId: Uint8Array } | { ok: false; why: 'length' | 'hmac'; holdId: Uint8Array | undefined };

/** Check a release path id; the comparison is constant-time so the HMAC half cannot be probed. */
export function verifyPathId(key: Uint8Array, pathId: Uint8Array): ParsedPathId {
  if (pathId.length !== PATH_ID_LEN) return { ok: false, why: 'length', holdId: undefined };
  const holdId = pathId.slice(0, HOLD_ID_LEN);
  const good = timingSafeEqual(tag(key, holdId), pathId.subarray(HOLD_ID_LEN));
  return good ? { ok: true, holdId } : { ok: false, why: 'hmac', holdId };
}

/**
 * Releases we could not match yet (a sender's release_token may come back before its HTLC reaches
 * us). Kept in memory only: a lost early release costs one retry by the recipient, nothing more.
 */
export class EarlyReleaseBuffer {
  private readonly entries = new Map<string, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly onDrop: (pathIdHex: string, why: 'expired' | 'evicted') => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  add(pathIdHex: string): void {
    if (this.entries.has(pathIdHex)) return;
    if (this.entries.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
      this.onDrop(oldest, 'evicted');
    }
    const t = this.clock.setTimeout(() => {
      if (this.entries.delete(pathIdHex)) this.onDrop(pathIdHex, 'expired');
    }, this.ttlMs);
    this.entries.set(pathIdHex, t);
  }

  /** Remove and report whether this path id was waiting. */
  take(pathIdHex: string): boolean {
    return this.remove(pathIdHex);
  }

  clear(): void {
    for (const t of this.entries.values()) this.clock.clearTimeout(t);
    this.entries.clear();
  }

  private remove(k: string): boolean {
    const t = this.entries.get(k);
    if (t === undefined) return false;
    this.clock.clearTimeout(t);
    this.entries.delete(k);
    return true;
  }
}
