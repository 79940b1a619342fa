// Keysend and MPP helpers of the sender SDK (the routes themselves run on real LND in
// test/integration/lnd-long-hold.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { SenderError } from '../../plugin/sender/errors.js';
import { keysendPreimage, splitParts } from '../../plugin/sender/keysend-mpp.js';

const throwsCode = (fn: () => unknown, code: string, re: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof SenderError && e.code === code && re.test(e.message));

describe('keysend and MPP helpers', () => {
  it('keysend: the payment hash is the preimage hash; a fresh preimage each time', () => {
    const a = keysendPreimage();
    assert.deepEqual(a.paymentHash, sha256(a.preimage));
    assert.notDeepEqual(keysendPreimage().preimage, a.preimage);
    throwsCode(() => keysendPreimage(new Uint8Array(31)), 'bad_argument', /32 bytes/);
  });

  it('MPP: even split with the remainder in the first part; given parts must add up', () => {
    assert.deepEqual(splitParts(10_000_001n, 3), [3_333_335n, 3_333_333n, 3_333_333n]);
    assert.deepEqual(splitParts(9n, 1), [9n]);
    assert.deepEqual(splitParts(10n, [4n, 6n]), [4n, 6n]);
    throwsCode(() => splitParts(10n, [4n, 5n]), 'bad_argument', /add up to 9/);
    throwsCode(() => splitParts(10n, 0), 'bad_argument', /part count/);
    throwsCode(() => splitParts(2n, 3), 'bad_argument', /cannot split/);
  });
});
