import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { EarlyReleaseBuffer, releasePathId, verifyPathId } from '../../plugin/hold/release.js';
import { ManualClock } from '../helpers/manual-clock.js';

const key = new Uint8Array(32).fill(1);
const holdId = new Uint8Array(16).map((_, i) => i);

describe('release path ids', () => {
  it('is hold_id ‖ HMAC-SHA256(key, "release" ‖ hold_id)[0..16]', () => {
    const p = releasePathId(key, holdId);
    const mac = hmac(sha256, key, new Uint8Array([...new TextEncoder().encode('release'), ...holdId]));
    assert.deepEqual(p, new Uint8Array([...holdId, ...mac.subarray(0, 16)]));
    assert.deepEqual(verifyPathId(key, p), { ok: true, holdId });
  });

  it('gives every id its own tag when many are made in a row (one keyed state reused)', () => {
    const label = new TextEncoder().encode('release');
    for (let n = 0; n < 50; n++) {
      const id = new Uint8Array(16).map((_, i) => (i * 31 + n * 7) & 0xff);
      const mac = hmac(sha256, key, new Uint8Array([...label, ...id]));
      const p = releasePathId(key, id);
      assert.deepEqual(p, new Uint8Array([...id, ...mac.subarray(0, 16)]), `id ${n}`);
      assert.equal(verifyPathId(key, p).ok, true);
      assert.equal(verifyPathId(new Uint8Array(32).fill(3), p).ok, false, 'another key, then back');
    }
  });

  it('rejects a flipped bit, another key and a wrong length', () => {
    const p = releasePathId(key, holdId);
    for (let i = 0; i < 32; i++) {
      const q = Uint8Array.from(p);
      q[i] = q[i]! ^ 0x80;
      assert.equal(verifyPathId(key, q).ok, false, `bit flip at byte ${i}`);
    }
    assert.equal(verifyPathId(new Uint8Array(32).fill(2), p).ok, false);
    assert.deepEqual(verifyPathId(key, p.subarray(0, 31)), { ok: false, why: 'length', holdId: undefined });
    assert.throws(() => releasePathId(key, new Uint8Array(15)), RangeError);
  });
});

describe('early release buffer', () => {
  it('keeps entries until taken or expired, and evicts the oldest when full', () => {
    const clock = new ManualClock();
    const dropped: [string, string][] = [];
    const b = new EarlyReleaseBuffer(clock, 1000, 2, (p, why) => dropped.push([p, why]));
    b.add('a');
    b.add('b');
    b.add('c');
    assert.deepEqual(dropped, [['a', 'evicted']]);
    assert.equal(b.take('b'), true);
    assert.equal(b.take('b'), false);
    clock.advance(1000);
    assert.deepEqual(dropped, [
      ['a', 'evicted'],
      ['c', 'expired'],
    ]);
    assert.equal(b.size, 0);
    assert.equal(clock.pending, 0);
  });
});
