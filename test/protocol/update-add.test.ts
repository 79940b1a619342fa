import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_HOLD_HTLC_TYPE,
  decodeUpdateAddTlvs,
  encodeUpdateAddTlvs,
  updateAddTlvsFromRecords,
  type UpdateAddTlvs,
} from '../../plugin/protocol/update-add.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { RUNS, hex, mutated, onlyCodecErrors, toHex } from './codec-fuzz.js';

const pathKey = hex('024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766');

describe('update_add_htlc tlvs', () => {
  it('finds hold_htlc (75537 = fe00012711, empty) in raw bytes as CLN gives them', () => {
    const t = decodeUpdateAddTlvs(hex('fe0001271100'));
    assert.equal(t.holdHtlc, true);
    assert.equal(t.pathKey, undefined);
    assert.equal(decodeUpdateAddTlvs(new Uint8Array()).holdHtlc, false);
  });

  it('reads the path key and keeps other records', () => {
    const bytes = hex('0021' + toHex(pathKey) + '0101ff' + 'fe0001271100');
    const t = decodeUpdateAddTlvs(bytes);
    assert.equal(toHex(t.pathKey!), toHex(pathKey));
    assert.equal(t.holdHtlc, true);
    assert.deepEqual(
      [...t.otherRecords].map(([k, v]) => [k, toHex(v)]),
      [[1n, 'ff']],
    );
    assert.equal(toHex(encodeUpdateAddTlvs(t)), toHex(bytes));
  });

  it('honours a configured hold_htlc type (the draft spec uses 2)', () => {
    const t = decodeUpdateAddTlvs(hex('0200'), { holdHtlcType: 2n });
    assert.equal(t.holdHtlc, true);
    assert.equal(decodeUpdateAddTlvs(hex('fe0001271100'), { holdHtlcType: 2n }).holdHtlc, false);
    assert.equal(toHex(encodeUpdateAddTlvs(t, { holdHtlcType: 2n })), '0200');
  });

  it('reads LND in_wire_custom_records as a map', () => {
    const t = updateAddTlvsFromRecords(
      new Map([
        [65539n, hex('01')],
        [DEFAULT_HOLD_HTLC_TYPE, new Uint8Array()],
      ]),
    );
    assert.equal(t.holdHtlc, true);
    assert.deepEqual([...t.otherRecords.keys()], [65539n]);
    assert.equal(updateAddTlvsFromRecords(new Map()).holdHtlc, false);
    assert.throws(() => updateAddTlvsFromRecords(new Map([[-1n, hex('')]])), CodecError);
  });

  it('rejects a non-empty hold_htlc, a bad path key and broken streams', () => {
    assert.throws(() => decodeUpdateAddTlvs(hex('fe000127110100')), { code: 'invalid' });
    assert.throws(() => decodeUpdateAddTlvs(hex('0021' + '05' + toHex(pathKey.subarray(1)))), {
      code: 'invalid',
    });
    assert.throws(() => decodeUpdateAddTlvs(hex('0303')), { code: 'truncated' });
    assert.throws(() => decodeUpdateAddTlvs(hex('0300' + '0100')), { code: 'tlv_order' });
    assert.throws(
      () =>
        encodeUpdateAddTlvs({ holdHtlc: true, otherRecords: new Map([[DEFAULT_HOLD_HTLC_TYPE, hex('')]]) }),
      CodecError,
    );
  });
});

const point = fc
  .tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 }))
  .map(([p, b]) => Uint8Array.of(p, ...b));
const tlvsArb: fc.Arbitrary<UpdateAddTlvs> = fc
  .record({
    pathKey: fc.option(point, { nil: undefined }),
    holdHtlc: fc.boolean(),
    others: fc.uniqueArray(
      fc.bigInt({ min: 1n, max: 1n << 20n }).filter((t) => t !== DEFAULT_HOLD_HTLC_TYPE),
      {
        maxLength: 4,
      },
    ),
  })
  .chain(({ pathKey, holdHtlc, others }) =>
    fc.tuple(...others.map((t) => fc.uint8Array({ maxLength: 12 }).map((v) => [t, v] as const))).map((e) => {
      const t: UpdateAddTlvs = { holdHtlc, otherRecords: new Map(e) };
      if (pathKey) t.pathKey = pathKey;
      return t;
    }),
  );

describe('update_add_htlc tlvs properties', () => {
  it('decode(encode(x)) = x, and the map form agrees with the byte form', () => {
    fc.assert(
      fc.property(tlvsArb, (t) => {
        const bytes = encodeUpdateAddTlvs(t);
        assert.deepEqual(decodeUpdateAddTlvs(bytes), t);
        const map = new Map([...t.otherRecords]);
        if (t.holdHtlc) map.set(DEFAULT_HOLD_HTLC_TYPE, new Uint8Array());
        assert.equal(updateAddTlvsFromRecords(map).holdHtlc, t.holdHtlc);
      }),
      RUNS,
    );
  });

  it('random and mutated bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(tlvsArb.map((t) => encodeUpdateAddTlvs(t))), (b) =>
        onlyCodecErrors(() => decodeUpdateAddTlvs(b)),
      ),
      RUNS,
    );
  });
});
