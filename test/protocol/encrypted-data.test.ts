import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type EncryptedData,
  decodeEncryptedData,
  encodeEncryptedData,
} from '../../plugin/protocol/encrypted-data.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { RUNS, hex as h, mutated, onlyCodecErrors } from './codec-fuzz.js';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const point = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((x) => Uint8Array.from([3, ...x]));
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const encryptedData: fc.Arbitrary<EncryptedData> = fc.record(
  {
    padding: bytes(40),
    shortChannelId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    nextNodeId: point,
    pathId: bytes(40),
    nextPathKeyOverride: point,
    paymentRelay: fc.record(
      {
        cltvExpiryDelta: fc.integer({ min: 0, max: 0xffff }),
        feeProportionalMillionths: u32,
        feeBaseMsat: fc.bigInt({ min: 0n, max: 0xffffffffn }),
      },
      { noNullPrototype: true },
    ),
    paymentConstraints: fc.record(
      { maxCltvExpiry: u32, htlcMinimumMsat: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
      { noNullPrototype: true },
    ),
    allowedFeatures: bytes(8),
    unknown: fc
      .uniqueArray(
        fc.bigInt({ min: 8n, max: 100000n }).map((n) => n * 2n + 1n),
        { minLength: 1, maxLength: 3 },
      )
      .chain((ts) => fc.tuple(...ts.map((type) => bytes(8).map((value) => ({ type, value })))))
      .map((rs) => rs.sort((a, b) => (a.type < b.type ? -1 : 1))),
  },
  { requiredKeys: [], noNullPrototype: true },
);

describe('encrypted_data_tlv', () => {
  it('property: decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(encryptedData, (d) => {
        assert.deepEqual(decodeEncryptedData(encodeEncryptedData(d)), d);
      }),
      { numRuns: 300 },
    );
  });

  it('property: mutated encodings only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(encryptedData.map(encodeEncryptedData)), (b) =>
        onlyCodecErrors(() => decodeEncryptedData(b)),
      ),
      RUNS,
    );
  });

  it('property: random bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(bytes(120), (b) => {
        try {
          decodeEncryptedData(b);
        } catch (e) {
          if (!(e instanceof CodecError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rejects malformed fields', () => {
    const bad = [
      '020800000000', // short_channel_id length 8, 4 bytes present
      '020700000000000001', // 7-byte short_channel_id
      '04020203', // short next_node_id
      '1000', // unknown even type 16
      '0a0700240000009600', // fee_base_msat with a leading zero
      '06000400', // path_id then next_node_id out of order
    ];
    for (const s of bad) assert.throws(() => decodeEncryptedData(h(s)), CodecError, s);
    assert.throws(
      () => encodeEncryptedData({ unknown: [{ type: 16n, value: new Uint8Array(0) }] }),
      CodecError,
    );
  });
});
