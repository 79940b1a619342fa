import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeTlvStream, encodeTlvStream, tlvMap, type TlvRecord } from '../../plugin/protocol/tlv.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { RUNS, hex, mutated, onlyCodecErrors, toHex } from './codec-fuzz.js';

const known = new Set([1n, 2n]);
const show = (recs: TlvRecord[]): [bigint, string][] => recs.map((r) => [r.type, toHex(r.value)]);

describe('TLV stream: BOLT 1 rules', () => {
  it('types must be strictly increasing (a repeat or a decrease is tlv_order)', () => {
    assert.throws(() => decodeTlvStream(hex('0100' + '0100')), { code: 'tlv_order' });
    assert.throws(() => decodeTlvStream(hex('0200' + '0100')), { code: 'tlv_order' });
    assert.throws(
      () =>
        encodeTlvStream([
          { type: 1n, value: hex('') },
          { type: 1n, value: hex('aa') },
        ]),
      {
        code: 'tlv_order',
      },
    );
  });

  it('an unknown even type is an error that names the type; unknown odd types are kept', () => {
    assert.throws(() => decodeTlvStream(hex('0400'), known), { code: 'unknown_even', message: /type 4\b/ });
    assert.throws(() => decodeTlvStream(hex('fe000100000100'), known), { message: /type 65536/ });
    assert.deepEqual(show(decodeTlvStream(hex('0101aa' + '0301bb'), known)), [
      [1n, 'aa'],
      [3n, 'bb'],
    ]);
    assert.deepEqual(
      show(decodeTlvStream(hex('0400'))),
      [[4n, '']],
      'without a known set, nothing is refused',
    );
  });

  it('lengths never read past the buffer', () => {
    assert.throws(() => decodeTlvStream(hex('0105aa')), { code: 'truncated', message: /length 5/ });
    assert.throws(() => decodeTlvStream(hex('01' + 'ffffffffffffffffff')), { code: 'truncated' });
    assert.throws(() => decodeTlvStream(hex('01')), { code: 'truncated' });
    assert.throws(() => decodeTlvStream(hex('fd01')), { code: 'truncated' });
  });

  it('non-minimal BigSize types and lengths are rejected', () => {
    assert.throws(() => decodeTlvStream(hex('fd0001' + '00')), { code: 'non_minimal' });
    assert.throws(() => decodeTlvStream(hex('01' + 'fd0001' + 'aa')), { code: 'non_minimal' });
  });

  it('an empty stream is valid; encode sorts by type', () => {
    assert.deepEqual(decodeTlvStream(new Uint8Array()), []);
    const enc = encodeTlvStream([
      { type: 3n, value: hex('bb') },
      { type: 1n, value: hex('aa') },
    ]);
    assert.equal(toHex(enc), '0101aa0301bb');
    assert.equal(toHex(tlvMap(decodeTlvStream(enc)).get(3n)!), 'bb');
  });
});

const streamArb = fc
  .uniqueArray(fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), {
    maxLength: 6,
  })
  .chain((types) =>
    fc.tuple(
      ...[...types]
        .sort((a, b) => (a < b ? -1 : 1))
        .map((type) => fc.uint8Array({ maxLength: 300 }).map((value) => ({ type, value }))),
    ),
  );

describe('TLV stream properties', () => {
  it('decode(encode(x)) = x for sorted unique types', () => {
    fc.assert(
      fc.property(streamArb, (recs) =>
        assert.deepEqual(show(decodeTlvStream(encodeTlvStream(recs))), show(recs)),
      ),
      RUNS,
    );
  });

  it('whatever decodes re-encodes to the same bytes (one canonical form)', () => {
    fc.assert(
      fc.property(mutated(streamArb.map(encodeTlvStream)), (b) => {
        let recs: TlvRecord[];
        try {
          recs = decodeTlvStream(b);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
          return;
        }
        assert.equal(toHex(encodeTlvStream(recs)), toHex(b));
      }),
      RUNS,
    );
  });

  it('random and mutated bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(streamArb.map(encodeTlvStream)), (b) =>
        onlyCodecErrors(() => decodeTlvStream(b, known)),
      ),
      RUNS,
    );
  });
});
