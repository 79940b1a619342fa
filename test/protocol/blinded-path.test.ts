import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type BlindedPath,
  decodeBlindedPath,
  decodeBlindedPaths,
  encodeBlindedPath,
  encodeBlindedPaths,
  introNodeId,
} from '../../plugin/protocol/blinded-path.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { readVector } from '../helpers/paths.js';
import { blindedPathValueArb } from './blinded-path-arb.js';
import { RUNS, hex as h, mutated, onlyCodecErrors, toHex as hex } from './codec-fuzz.js';

const FILE = 'bolt04/route-blinding-test.json';

interface Route {
  first_node_id: string;
  first_path_key: string;
  hops: { blinded_node_id: string; encrypted_data: string }[];
}
const route = readVector<{ route: Route }>(FILE).route;
const vectorPath: BlindedPath = {
  firstNode: { nodeId: h(route.first_node_id) },
  firstPathKey: h(route.first_path_key),
  hops: route.hops.map((x) => ({
    blindedNodeId: h(x.blinded_node_id),
    encryptedRecipientData: h(x.encrypted_data),
  })),
};

describe('blinded_path', () => {
  it('encodes the vector route with the BOLT 4 layout', () => {
    const enc = encodeBlindedPath(vectorPath);
    assert.equal(hex(enc.subarray(0, 33)), route.first_node_id, `${FILE} route: first_node_id`);
    assert.equal(hex(enc.subarray(33, 66)), route.first_path_key, `${FILE} route: first_path_key`);
    assert.equal(enc[66], 4, `${FILE} route: num_hops`);
    assert.equal(
      hex(enc.subarray(67, 100)),
      route.hops[0]!.blinded_node_id,
      `${FILE} route hop 0: blinded_node_id`,
    );
    assert.equal(
      (enc[100]! << 8) | enc[101]!,
      route.hops[0]!.encrypted_data.length / 2,
      `${FILE} route hop 0: enclen`,
    );
    assert.deepEqual(decodeBlindedPath(enc), vectorPath, `${FILE} route: round trip`);
    assert.deepEqual(introNodeId(vectorPath), h(route.first_node_id));
  });

  it('sciddir first node ids and path lists', () => {
    const p: BlindedPath = { ...vectorPath, firstNode: { scid: 0x1234n, direction: 1 } };
    const enc = encodeBlindedPath(p);
    assert.equal(hex(enc.subarray(0, 9)), '010000000000001234');
    assert.equal(introNodeId(decodeBlindedPath(enc)), null);
    assert.deepEqual(decodeBlindedPaths(encodeBlindedPaths([p, vectorPath])), [p, vectorPath]);
  });

  it('rejects malformed paths with CodecError', () => {
    const enc = encodeBlindedPath(vectorPath);
    const zeroHops = Uint8Array.from(enc.subarray(0, 67));
    zeroHops[66] = 0;
    const badLead = Uint8Array.from(enc);
    badLead[0] = 4;
    for (const b of [
      enc.subarray(0, enc.length - 1),
      zeroHops,
      badLead,
      new Uint8Array(0),
      Uint8Array.of(...enc, 0),
    ])
      assert.throws(() => decodeBlindedPath(b), CodecError);
    assert.throws(() => encodeBlindedPath({ ...vectorPath, hops: [] }), CodecError);
    assert.throws(() => decodeBlindedPaths(new Uint8Array(0)), CodecError);
  });

  it('property: random and mutated bytes only ever raise CodecError', () => {
    const enc = encodeBlindedPath(vectorPath);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(fc.nat(enc.length - 1), fc.nat(255))
            .map(([i, x]) => Uint8Array.of(...enc.subarray(0, i), x)),
        ),
        (b) => {
          for (const f of [decodeBlindedPath, decodeBlindedPaths]) {
            try {
              f(b);
            } catch (e) {
              if (!(e instanceof CodecError)) throw e;
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: decode(encode(x)) = x, for one path and for a list', () => {
    fc.assert(
      fc.property(fc.array(blindedPathValueArb, { minLength: 1, maxLength: 3 }), (ps) => {
        assert.deepEqual(decodeBlindedPath(encodeBlindedPath(ps[0]!)), ps[0]);
        assert.deepEqual(decodeBlindedPaths(encodeBlindedPaths(ps)), ps);
      }),
      RUNS,
    );
  });

  it('property: mutated encodings of generated paths only ever raise CodecError', () => {
    const lists = fc.array(blindedPathValueArb, { minLength: 1, maxLength: 3 }).map(encodeBlindedPaths);
    fc.assert(
      fc.property(mutated(lists), (b) => {
        onlyCodecErrors(() => decodeBlindedPath(b));
        onlyCodecErrors(() => decodeBlindedPaths(b));
      }),
      RUNS,
    );
  });
});
