import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BADONION,
  FAILURE_CODES,
  NODE,
  PERM,
  UPDATE,
  decodeFailureMessage,
  encodeFailureMessage,
  failureName,
  hasFlag,
  incorrectOrUnknownPaymentDetails,
  invalidOnionBlinding,
  temporaryChannelFailure,
  temporaryNodeFailure,
  temporaryTrampolineFailure,
  type FailureMessage,
} from '../../plugin/protocol/failure.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { RUNS, hex, mutated, onlyCodecErrors, toHex } from './codec-fuzz.js';

const enc = (m: FailureMessage): string => toHex(encodeFailureMessage(m));

describe('failure messages', () => {
  it('uses the BOLT 4 code values and flag bits', () => {
    assert.deepEqual([BADONION, PERM, NODE, UPDATE], [0x8000, 0x4000, 0x2000, 0x1000]);
    assert.equal(FAILURE_CODES.temporary_node_failure, 0x2002);
    assert.equal(FAILURE_CODES.permanent_node_failure, 0x6002);
    assert.equal(FAILURE_CODES.temporary_channel_failure, 0x1007);
    assert.equal(FAILURE_CODES.incorrect_or_unknown_payment_details, 0x400f);
    assert.equal(FAILURE_CODES.invalid_onion_blinding, 0xc018);
    assert.equal(FAILURE_CODES.temporary_trampoline_failure, 0x2019);
    assert.equal(FAILURE_CODES.mpp_timeout, 23);
    assert.equal(failureName(0xc018), 'invalid_onion_blinding');
    assert.equal(failureName(0x1234), undefined);
    assert.ok(hasFlag(0xc018, BADONION) && hasFlag(0xc018, PERM) && !hasFlag(0xc018, NODE));
  });

  it('encodes the failures this project sends', () => {
    assert.equal(enc(temporaryNodeFailure()), '2002');
    assert.equal(enc(temporaryTrampolineFailure()), '2019');
    assert.equal(enc(temporaryChannelFailure()), '10070000');
    assert.equal(enc(temporaryChannelFailure(hex('0102aabb'))), '100700040102aabb');
    assert.equal(enc(incorrectOrUnknownPaymentDetails(100000n, 800000)), '400f00000000000186a0000c3500');
    assert.equal(enc(invalidOnionBlinding(new Uint8Array(32).fill(7))), 'c018' + '07'.repeat(32));
  });

  it('decodes fields, the optional TLV stream, and keeps a malformed tail raw', () => {
    const d = decodeFailureMessage(hex('400f00000000000186a0000c3500' + '0101ff'));
    assert.equal(d.htlcMsat, 100000n);
    assert.equal(d.height, 800000);
    assert.deepEqual(
      d.tlvs?.map((t) => [t.type, toHex(t.value)]),
      [[1n, 'ff']],
    );
    const odd = decodeFailureMessage(hex('2002' + '05'));
    assert.equal(toHex(odd.extra!), '05');
    assert.equal(odd.tlvs, undefined);
    const p = decodeFailureMessage(hex('4016' + 'fd0201' + '0007'));
    assert.deepEqual([p.payloadType, p.payloadOffset], [513n, 7]);
    const t = decodeFailureMessage(hex('201a' + '000003e8' + '00000064' + '0090'));
    assert.deepEqual([t.feeBaseMsat, t.feeProportionalMillionths, t.cltvExpiryDelta], [1000, 100, 144]);
  });

  it('keeps the body of an unknown code opaque', () => {
    const d = decodeFailureMessage(hex('1234abcd'));
    assert.equal(d.code, 0x1234);
    assert.equal(toHex(d.extra!), 'abcd');
  });

  it('rejects truncated fields, a missing code and missing required fields', () => {
    assert.throws(() => decodeFailureMessage(hex('20')), { code: 'truncated' });
    assert.throws(() => decodeFailureMessage(hex('400f0000')), { code: 'truncated' });
    assert.throws(() => decodeFailureMessage(hex('10070005aabb')), { code: 'truncated' }); // update len 5
    assert.throws(() => decodeFailureMessage(hex('c018' + '00'.repeat(31))), { code: 'truncated' });
    assert.throws(() => encodeFailureMessage({ code: FAILURE_CODES.fee_insufficient }), {
      code: 'missing_field',
    });
    assert.throws(() => encodeFailureMessage({ code: 0x10000 }), CodecError);
    assert.throws(
      () => encodeFailureMessage({ code: FAILURE_CODES.final_incorrect_cltv_expiry, cltvExpiry: -1 }),
      CodecError,
    );
  });
});

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const upd = fc.uint8Array({ maxLength: 40 });
const C = FAILURE_CODES;
// Field generators per code, mirroring BOLT 4 (written independently of the codec's table).
const knownFields: Record<number, fc.Arbitrary<Partial<FailureMessage>>> = {
  [C.invalid_onion_version]: fc.record({ sha256OfOnion: bytes32 }),
  [C.invalid_onion_hmac]: fc.record({ sha256OfOnion: bytes32 }),
  [C.invalid_onion_key]: fc.record({ sha256OfOnion: bytes32 }),
  [C.invalid_onion_blinding]: fc.record({ sha256OfOnion: bytes32 }),
  [C.temporary_channel_failure]: fc.record({ channelUpdate: upd }),
  [C.amount_below_minimum]: fc.record({ htlcMsat: u64, channelUpdate: upd }),
  [C.fee_insufficient]: fc.record({ htlcMsat: u64, channelUpdate: upd }),
  [C.incorrect_cltv_expiry]: fc.record({ cltvExpiry: u32, channelUpdate: upd }),
  [C.expiry_too_soon]: fc.record({ channelUpdate: upd }),
  [C.incorrect_or_unknown_payment_details]: fc.record({ htlcMsat: u64, height: u32 }),
  [C.final_incorrect_cltv_expiry]: fc.record({ cltvExpiry: u32 }),
  [C.final_incorrect_htlc_amount]: fc.record({ incomingHtlcAmt: u64 }),
  [C.channel_disabled]: fc.record({ disabledFlags: u16, channelUpdate: upd }),
  [C.invalid_onion_payload]: fc.record({ payloadType: u64, payloadOffset: u16 }),
  [C.trampoline_fee_or_expiry_insufficient]: fc.record({
    feeBaseMsat: u32,
    feeProportionalMillionths: u32,
    cltvExpiryDelta: u16,
  }),
};
const tlvs = fc
  .uniqueArray(fc.bigInt({ min: 0n, max: 1n << 33n }), { minLength: 1, maxLength: 3 })
  .chain((ts) =>
    fc.tuple(
      ...[...ts]
        .sort((a, b) => (a < b ? -1 : 1))
        .map((type) => fc.uint8Array({ maxLength: 8 }).map((value) => ({ type, value }))),
    ),
  );
const knownCodes = new Set<number>(Object.values(C));
const msgArb: fc.Arbitrary<FailureMessage> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...knownCodes), fc.option(tlvs, { nil: undefined }))
    .chain(([code, t]) =>
      (knownFields[code] ?? fc.constant({})).map((f) => ({ code, ...f, ...(t ? { tlvs: t } : {}) })),
    ),
  fc
    .tuple(
      u16.filter((c) => !knownCodes.has(c)),
      fc.uint8Array({ minLength: 1, maxLength: 20 }),
    )
    .map(([code, extra]) => ({ code, extra })),
);

describe('failure message properties', () => {
  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(msgArb, (m) => assert.deepEqual(decodeFailureMessage(encodeFailureMessage(m)), m)),
      RUNS,
    );
  });

  it('whatever decodes re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(mutated(msgArb.map(encodeFailureMessage)), (b) => {
        let m: FailureMessage;
        try {
          m = decodeFailureMessage(b);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
          return;
        }
        assert.equal(toHex(encodeFailureMessage(m)), toHex(b));
      }),
      RUNS,
    );
  });

  it('random and mutated bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(msgArb.map(encodeFailureMessage)), (b) =>
        onlyCodecErrors(() => decodeFailureMessage(b)),
      ),
      RUNS,
    );
  });
});
