import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_ASYNC_HOLD_TYPE,
  decodeAsyncHold,
  encodeAsyncHold,
  findAsyncHold,
  splitBlindedPaths,
  type AsyncHold,
} from '../../plugin/protocol/async-hold.js';
import { concatBytes } from '../../plugin/protocol/bigsize.js';
import { decodeBlindedPaths, encodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { encodeTlvStream } from '../../plugin/protocol/tlv.js';
import { readVector } from '../helpers/paths.js';
import { blindedPathArb, vectorPathParts, writeBlindedPath } from './blinded-path-arb.js';
import { RUNS, hex, mutated, onlyCodecErrors, toHex } from './codec-fuzz.js';

const file = 'bolt04/blinded-payment-onion-test.json';
const vectorPath = writeBlindedPath(vectorPathParts(readVector(file)));
const token = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('async_hold', () => {
  it(`splits a list holding the ${file} blinded_route, a sciddir path and it again`, () => {
    const scidPath = writeBlindedPath({
      firstNodeId: hex('01' + '00000000000a0001'),
      firstPathKey: vectorPath.subarray(33, 66),
      hops: [{ blindedNodeId: vectorPath.subarray(0, 33), encryptedData: new Uint8Array() }],
    });
    const parts = splitBlindedPaths(concatBytes(vectorPath, scidPath, vectorPath));
    assert.deepEqual(
      parts.map(toHex),
      [vectorPath, scidPath, vectorPath].map(toHex),
      `${file} blinded_route`,
    );
  });

  it('splits exactly where the full blinded_path codec does', () => {
    const list = concatBytes(vectorPath, vectorPath);
    const full = decodeBlindedPaths(list).map((p) => toHex(encodeBlindedPath(p)));
    assert.deepEqual(splitBlindedPaths(list).map(toHex), full, `${file} blinded_route twice`);
  });

  it('decodes the sub-TLVs into a typed object', () => {
    const value = encodeTlvStream([
      { type: 0n, value: vectorPath },
      { type: 2n, value: token },
      { type: 4n, value: hex('0390') },
      { type: 6n, value: hex('0186a0') },
      { type: 7n, value: hex('ff') }, // unknown odd: ignored
    ]);
    const h = decodeAsyncHold(value);
    assert.deepEqual(h.messagePaths?.map(toHex), [toHex(vectorPath)]);
    assert.equal(toHex(h.releaseToken!), toHex(token));
    assert.equal(h.maxHoldBlocks, 912);
    assert.equal(h.totalAmountMsat, 100000n);
    assert.equal(findAsyncHold(new Map([[DEFAULT_ASYNC_HOLD_TYPE, value]]))?.maxHoldBlocks, 912);
    assert.equal(findAsyncHold(new Map([[DEFAULT_ASYNC_HOLD_TYPE, value]]), 99n), undefined);
    assert.equal(findAsyncHold(new Map([[99n, value]]), 99n)?.maxHoldBlocks, 912, 'caller-chosen type');
  });

  it('rejects a stream with neither message_paths nor release_token', () => {
    assert.throws(() => decodeAsyncHold(hex('04020390')), { code: 'missing_field' });
    assert.throws(() => encodeAsyncHold({ maxHoldBlocks: 5 }), { code: 'missing_field' });
  });

  it('rejects an unknown even sub-type, naming it', () => {
    const v = encodeTlvStream([
      { type: 2n, value: token },
      { type: 8n, value: new Uint8Array() },
    ]);
    assert.throws(() => decodeAsyncHold(v), { code: 'unknown_even', message: /type 8/ });
  });

  it('rejects malformed fields', () => {
    const bad: [Uint8Array, string][] = [
      [encodeTlvStream([{ type: 2n, value: token.subarray(1) }]), 'invalid'], // 31-byte token
      [encodeTlvStream([{ type: 0n, value: new Uint8Array() }]), 'invalid'], // empty path list
      [encodeTlvStream([{ type: 0n, value: vectorPath.subarray(0, vectorPath.length - 1) }]), 'truncated'],
      [encodeTlvStream([{ type: 0n, value: concatBytes(hex('04'), vectorPath.subarray(1)) }]), 'invalid'],
      [
        encodeTlvStream([
          { type: 2n, value: token },
          { type: 4n, value: hex('0001') },
        ]),
        'non_minimal',
      ],
    ];
    for (const [v, code] of bad) assert.throws(() => decodeAsyncHold(v), { code }, toHex(v));
    const zeroHops = concatBytes(vectorPath.subarray(0, 66), Uint8Array.of(0));
    assert.throws(() => splitBlindedPaths(zeroHops), { code: 'invalid', message: /num_hops/ });
    assert.throws(() => encodeAsyncHold({ messagePaths: [vectorPath.subarray(0, 40)] }), CodecError);
    assert.throws(() => encodeAsyncHold({ messagePaths: [] }), CodecError);
  });
});

const holdArb: fc.Arbitrary<AsyncHold> = fc
  .record(
    {
      messagePaths: fc.array(blindedPathArb, { minLength: 1, maxLength: 3 }),
      releaseToken: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      maxHoldBlocks: fc.nat({ max: 0xffffffff }),
      totalAmountMsat: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    },
    { requiredKeys: [] },
  )
  .map((h) => ({ ...h }))
  .filter((h) => h.messagePaths !== undefined || h.releaseToken !== undefined);

describe('async_hold properties', () => {
  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(holdArb, (h) => assert.deepEqual(decodeAsyncHold(encodeAsyncHold(h)), h)),
      RUNS,
    );
  });

  it('random and mutated bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(holdArb.map(encodeAsyncHold)), (b) => onlyCodecErrors(() => decodeAsyncHold(b))),
      RUNS,
    );
    fc.assert(
      fc.property(mutated(fc.array(blindedPathArb).map((a) => concatBytes(...a))), (b) =>
        onlyCodecErrors(() => splitBlindedPaths(b)),
      ),
      RUNS,
    );
  });
});
