import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeScid,
  encodeScid,
  parseScid,
  scidFromParts,
  scidToParts,
  scidToString,
} from '../../plugin/protocol/short-channel-id.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { RUNS, onlyCodecErrors, toHex } from './codec-fuzz.js';

describe('short_channel_id', () => {
  it('packs block, tx and output index as 3+3+2 bytes', () => {
    const scid = parseScid('700000x1234x1');
    assert.equal(toHex(encodeScid(scid)), '0aae600004d20001');
    assert.deepEqual(scidToParts(scid), { block: 700000, tx: 1234, out: 1 });
    assert.equal(scidToString(scid), '700000x1234x1');
    assert.equal(scidToString(10n), '0x0x10');
  });

  it('rejects malformed strings and out-of-range parts with CodecError', () => {
    for (const s of ['', '1x2', '1x2x3x4', '-1x2x3', '16777216x0x0', '0x16777216x0', '0x0x65536', '1x2x3 ']) {
      assert.throws(() => parseScid(s), CodecError, s);
    }
    assert.throws(() => decodeScid(new Uint8Array(7)), CodecError);
    assert.throws(() => encodeScid(1n << 64n), CodecError);
    assert.throws(() => scidFromParts({ block: 1.5, tx: 0, out: 0 }), CodecError);
  });

  it('round-trips bytes, bigint and string', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        assert.equal(decodeScid(encodeScid(v)), v);
        assert.equal(parseScid(scidToString(v)), v);
        assert.equal(scidFromParts(scidToParts(v)), v);
      }),
      RUNS,
    );
  });

  it('never throws anything but CodecError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => onlyCodecErrors(() => decodeScid(b))),
      RUNS,
    );
  });

  it('never throws anything but CodecError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => onlyCodecErrors(() => parseScid(s))),
      RUNS,
    );
  });
});
