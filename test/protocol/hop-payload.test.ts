import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeHopPayload,
  encodeHopPayload,
  stripPayloadLength,
  type HopPayload,
} from '../../plugin/protocol/hop-payload.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { parseScid } from '../../plugin/protocol/short-channel-id.js';
import { readVector } from '../helpers/paths.js';
import { RUNS, hex, mutated, onlyCodecErrors, toHex } from './codec-fuzz.js';

interface OnionVector {
  generate: { hops: { payload: string }[] };
}
interface BlindedPaymentVector {
  generate: {
    full_route: {
      hops: {
        alias: string;
        payload: string;
        tlvs: {
          outgoing_channel_id?: string;
          amt_to_forward?: number;
          outgoing_cltv_value?: number;
          total_amount_msat?: number;
          current_path_key?: string;
          encrypted_recipient_data?: unknown;
        };
      }[];
    };
  };
}

describe('hop_payload: bolt04/onion-test.json', () => {
  const file = 'bolt04/onion-test.json';
  const hops = readVector<OnionVector>(file).generate.hops;

  it('every hop payload decodes and re-encodes byte for byte', () => {
    hops.forEach((h, i) => {
      const tlv = stripPayloadLength(hex(h.payload));
      const p = decodeHopPayload(tlv);
      assert.equal(toHex(encodeHopPayload(p)), toHex(tlv), `${file} hops[${i}]`);
    });
  });

  it('reads the fields and keeps unknown odd records as custom records', () => {
    const h0 = decodeHopPayload(stripPayloadLength(hex(hops[0]!.payload)));
    assert.equal(h0.amtToForward, 15000n, `${file} hops[0] amt_to_forward`);
    assert.equal(h0.outgoingCltvValue, 1500, `${file} hops[0] outgoing_cltv_value`);
    assert.equal(h0.shortChannelId, parseScid('0x0x1'), `${file} hops[0] short_channel_id`);
    const h1 = decodeHopPayload(stripPayloadLength(hex(hops[1]!.payload)));
    assert.deepEqual([...h1.customRecords.keys()], [513n], `${file} hops[1] custom type 513`);
    assert.equal(h1.customRecords.get(513n)!.length, 60, `${file} hops[1] custom length`);
    const h4 = decodeHopPayload(stripPayloadLength(hex(hops[4]!.payload)));
    assert.equal(h4.paymentData?.totalMsat, 10000n, `${file} hops[4] payment_data.total_msat`);
    assert.equal(
      toHex(h4.paymentData!.paymentSecret),
      '24a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502f61704',
      `${file} hops[4] payment_secret`,
    );
    assert.equal(h4.shortChannelId, undefined, `${file} hops[4] is final: no scid`);
  });
});

describe('hop_payload: bolt04/blinded-payment-onion-test.json', () => {
  const file = 'bolt04/blinded-payment-onion-test.json';
  const hops = readVector<BlindedPaymentVector>(file).generate.full_route.hops;
  for (const [i, h] of hops.entries()) {
    it(`${h.alias} (full_route.hops[${i}]) matches the vector's tlvs`, () => {
      const where = `${file} full_route.hops[${i}] (${h.alias})`;
      const tlv = stripPayloadLength(hex(h.payload));
      const p = decodeHopPayload(tlv);
      const t = h.tlvs;
      assert.equal(
        p.amtToForward,
        t.amt_to_forward === undefined ? undefined : BigInt(t.amt_to_forward),
        where,
      );
      assert.equal(p.outgoingCltvValue, t.outgoing_cltv_value, where);
      assert.equal(
        p.totalAmountMsat,
        t.total_amount_msat === undefined ? undefined : BigInt(t.total_amount_msat),
        where,
      );
      assert.equal(p.shortChannelId, t.outgoing_channel_id && parseScid(t.outgoing_channel_id), where);
      assert.equal(p.currentPathKey && toHex(p.currentPathKey), t.current_path_key, where);
      assert.equal(p.encryptedRecipientData !== undefined, t.encrypted_recipient_data !== undefined, where);
      assert.equal(p.customRecords.size, 0, where);
      assert.equal(toHex(encodeHopPayload(p)), toHex(tlv), where);
    });
  }
});

describe('hop_payload rules', () => {
  it('an unknown even type is an error naming it, unless the caller declares it known', () => {
    const keysend = Uint8Array.of(0xff, 0, 0, 0, 1, 0x46, 0xc6, 0x61, 0x6c, 1, 0xaa); // 5482373484
    assert.throws(() => decodeHopPayload(keysend), {
      name: 'CodecError',
      code: 'unknown_even',
      message: /5482373484/,
    });
    const p = decodeHopPayload(keysend, { knownEven: [5482373484n] });
    assert.equal(toHex(p.customRecords.get(5482373484n)!), 'aa');
  });

  it('rejects non-minimal truncated integers and bad fixed-size fields', () => {
    const cases: [string, string][] = [
      ['02020001', 'non_minimal'], // amt_to_forward with a leading zero
      ['020900' + '01'.repeat(8), 'out_of_range'], // tu64 of 9 bytes
      ['040501' + '00'.repeat(4), 'out_of_range'], // tu32 of 5 bytes
      ['0607' + '00'.repeat(7), 'invalid'], // short_channel_id of 7 bytes
      ['081f' + '00'.repeat(31), 'invalid'], // payment_data shorter than the secret
      ['0c21' + '04' + '00'.repeat(32), 'invalid'], // current_path_key with a bad prefix
    ];
    for (const [h, code] of cases) assert.throws(() => decodeHopPayload(hex(h)), { code }, h);
  });

  it('refuses to encode a custom record under a BOLT 4 number', () => {
    assert.throws(() => encodeHopPayload({ customRecords: new Map([[2n, Uint8Array.of(1)]]) }), CodecError);
  });

  it('stripPayloadLength checks the prefix against the bytes that follow', () => {
    assert.equal(toHex(stripPayloadLength(hex('0302011e'))), '02011e');
    assert.throws(() => stripPayloadLength(hex('0402011e')), { code: 'invalid' });
    assert.throws(() => stripPayloadLength(new Uint8Array()), { code: 'truncated' });
  });
});

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: min, maxLength: max });
const point = fc.tuple(fc.constantFrom(2, 3), bytes(32, 32)).map(([p, b]) => Uint8Array.of(p, ...b));
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const customType = fc.oneof(fc.bigInt({ min: 19n, max: 1n << 40n }), fc.constantFrom(1n, 3n, 5n, 7n));

const hopPayloadArb: fc.Arbitrary<HopPayload> = fc
  .record(
    {
      amtToForward: u64,
      outgoingCltvValue: fc.nat({ max: 0xffffffff }),
      shortChannelId: u64,
      // fc.record builds null-prototype objects; spread so deepEqual compares like with like.
      paymentData: fc.record({ paymentSecret: bytes(32, 32), totalMsat: u64 }).map((d) => ({ ...d })),
      encryptedRecipientData: bytes(0, 60),
      currentPathKey: point,
      paymentMetadata: bytes(0, 40),
      totalAmountMsat: u64,
    },
    { requiredKeys: [] },
  )
  .chain((named) =>
    fc
      .uniqueArray(
        customType.filter((t) => t % 2n === 1n),
        { maxLength: 4 },
      )
      .chain((types) => fc.tuple(...types.map((t) => bytes(0, 20).map((v) => [t, v] as const))))
      .map((entries) => ({ ...named, customRecords: new Map(entries) }) as HopPayload),
  );

describe('hop_payload properties', () => {
  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(hopPayloadArb, (p) => assert.deepEqual(decodeHopPayload(encodeHopPayload(p)), p)),
      RUNS,
    );
  });

  it('random and mutated bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(hopPayloadArb.map(encodeHopPayload)), (b) =>
        onlyCodecErrors(() => decodeHopPayload(b)),
      ),
      RUNS,
    );
  });
});
