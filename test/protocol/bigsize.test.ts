import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Reader,
  decodeBigSize,
  decodeTu,
  encodeBigSize,
  encodeTu,
  u16,
  u32,
} from '../../plugin/protocol/bigsize.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { RUNS, hex, onlyCodecErrors, toHex } from './codec-fuzz.js';

// BOLT 1 Appendix A (BigSize test vectors), transcribed from the spec text.
const BOLT1 = 'BOLT 1 appendix A';
const good: [string, bigint, string][] = [
  ['zero', 0n, '00'],
  ['one byte high', 252n, 'fc'],
  ['two byte low', 253n, 'fd00fd'],
  ['two byte high', 65535n, 'fdffff'],
  ['four byte low', 65536n, 'fe00010000'],
  ['four byte high', 4294967295n, 'feffffffff'],
  ['eight byte low', 4294967296n, 'ff0000000100000000'],
  ['eight byte high', 18446744073709551615n, 'ffffffffffffffffff'],
];
const bad: [string, string, string][] = [
  ['two byte not canonical', 'fd00fc', 'non_minimal'],
  ['four byte not canonical', 'fe0000ffff', 'non_minimal'],
  ['eight byte not canonical', 'ff00000000ffffffff', 'non_minimal'],
  ['two byte short read', 'fd00', 'truncated'],
  ['four byte short read', 'feffff', 'truncated'],
  ['eight byte short read', 'ffffffffff', 'truncated'],
  ['one byte no read', '', 'truncated'],
  ['two byte no read', 'fd', 'truncated'],
  ['four byte no read', 'fe', 'truncated'],
  ['eight byte no read', 'ff', 'truncated'],
];

describe('BigSize', () => {
  for (const [name, value, bytes] of good) {
    it(`${BOLT1} "${name}": ${value} <-> ${bytes}`, () => {
      assert.equal(toHex(encodeBigSize(value)), bytes, `${BOLT1} case "${name}" encode`);
      assert.equal(decodeBigSize(hex(bytes)), value, `${BOLT1} case "${name}" decode`);
    });
  }
  for (const [name, bytes, code] of bad) {
    it(`${BOLT1} "${name}" is rejected as ${code}`, () => {
      assert.throws(() => decodeBigSize(hex(bytes)), { name: 'CodecError', code }, `${BOLT1} case "${name}"`);
    });
  }

  it('rejects out-of-range and non-integer values when encoding, with CodecError', () => {
    for (const v of [-1n, 1n << 64n, 1.5, NaN, -1])
      assert.throws(() => encodeBigSize(v), CodecError, String(v));
    assert.throws(() => decodeBigSize(hex('0100')), { code: 'trailing' });
  });

  it('decode(encode(x)) = x and the encoding is the shortest form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        const b = encodeBigSize(v);
        assert.equal(decodeBigSize(b), v);
        const len = v < 0xfdn ? 1 : v <= 0xffffn ? 3 : v <= 0xffffffffn ? 5 : 9;
        assert.equal(b.length, len);
      }),
      RUNS,
    );
  });

  it('random bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => onlyCodecErrors(() => decodeBigSize(b))),
      RUNS,
    );
  });
});

describe('truncated integers (tu16/tu32/tu64)', () => {
  it('drop leading zeros; zero is empty', () => {
    assert.equal(toHex(encodeTu(0n)), '');
    assert.equal(toHex(encodeTu(1n)), '01');
    assert.equal(toHex(encodeTu(256n, 2)), '0100');
    assert.equal(toHex(encodeTu(0xffffffffn, 4)), 'ffffffff');
  });

  it('reject a leading zero byte (non-minimal) and too many bytes', () => {
    assert.throws(() => decodeTu(hex('0001')), { code: 'non_minimal' });
    assert.throws(() => decodeTu(hex('00')), { code: 'non_minimal' });
    assert.throws(() => decodeTu(hex('010000'), 2), { code: 'out_of_range' });
    assert.throws(() => encodeTu(1n << 32n, 4), { code: 'out_of_range' });
    assert.throws(() => encodeTu(0.5, 4), CodecError);
  });

  for (const bytes of [2, 4, 8] as const) {
    it(`tu${bytes * 8}: decode(encode(x)) = x, random bytes raise only CodecError`, () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: (1n << BigInt(bytes * 8)) - 1n }), (v) => {
          const b = encodeTu(v, bytes);
          assert.ok(b.length <= bytes && (b.length === 0 || b[0] !== 0));
          assert.equal(decodeTu(b, bytes), v);
        }),
        RUNS,
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 10 }), (b) => onlyCodecErrors(() => decodeTu(b, bytes))),
        RUNS,
      );
    });
  }
});

describe('Reader', () => {
  it('reads fixed-width big-endian integers', () => {
    const r = new Reader(hex('0102' + 'fffffffe' + '0000000000000100'));
    assert.equal(r.u16(), 0x0102);
    assert.equal(r.u32(), 0xfffffffe);
    assert.equal(r.u64(), 256n);
    assert.equal(r.remaining, 0);
    assert.equal(toHex(u16(0xabcd)), 'abcd');
    assert.equal(toHex(u32(0x80000001)), '80000001');
  });

  it('never reads past the end: it throws truncated and does not move', () => {
    const r = new Reader(hex('0102'));
    assert.throws(() => r.u32(), { code: 'truncated' });
    assert.equal(r.pos, 0);
    assert.throws(() => r.bytes(-1), { code: 'truncated' });
    assert.equal(r.u16(), 0x0102);
  });
});
