// Test data: encoded blinded_paths (BOLT 4 layout), built by hand so the splitter is checked
// against an independent writer, plus fast-check generators of well-formed ones (encoded, and as
// the codec's BlindedPath value).
import fc from 'fast-check';
import { concatBytes, u16 } from '../../plugin/protocol/bigsize.js';
import type { BlindedPath } from '../../plugin/protocol/blinded-path.js';
import { hex } from './codec-fuzz.js';

export interface PathParts {
  firstNodeId: Uint8Array; // 33-byte point or 9-byte sciddir
  firstPathKey: Uint8Array;
  hops: { blindedNodeId: Uint8Array; encryptedData: Uint8Array }[];
}

export function writeBlindedPath(p: PathParts): Uint8Array {
  return concatBytes(
    p.firstNodeId,
    p.firstPathKey,
    Uint8Array.of(p.hops.length),
    ...p.hops.flatMap((h) => [h.blindedNodeId, u16(h.encryptedData.length), h.encryptedData]),
  );
}

interface BlindedRouteVector {
  generate: {
    blinded_route: {
      first_node_id: string;
      first_path_key: string;
      hops: { blinded_node_id: string; encrypted_data: string }[];
    };
  };
}

/** The blinded route of bolt04/blinded-payment-onion-test.json as parts. */
export function vectorPathParts(v: BlindedRouteVector): PathParts {
  const r = v.generate.blinded_route;
  return {
    firstNodeId: hex(r.first_node_id),
    firstPathKey: hex(r.first_path_key),
    hops: r.hops.map((h) => ({
      blindedNodeId: hex(h.blinded_node_id),
      encryptedData: hex(h.encrypted_data),
    })),
  };
}

const point = fc
  .tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 }))
  .map(([p, b]) => Uint8Array.of(p, ...b));
const sciddir = fc
  .tuple(fc.constantFrom(0, 1), fc.uint8Array({ minLength: 8, maxLength: 8 }))
  .map(([d, b]) => Uint8Array.of(d, ...b));

export const blindedPathArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    firstNodeId: fc.oneof(point, sciddir),
    firstPathKey: point,
    hops: fc.array(fc.record({ blindedNodeId: point, encryptedData: fc.uint8Array({ maxLength: 40 }) }), {
      minLength: 1,
      maxLength: 3,
    }),
  })
  .map(writeBlindedPath);

/** A well-formed BlindedPath value (intro node by key or by sciddir, 1 to 4 hops). */
export const blindedPathValueArb: fc.Arbitrary<BlindedPath> = fc.record(
  {
    firstNode: fc.oneof(
      point.map((nodeId) => ({ nodeId })),
      fc.record(
        {
          scid: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          direction: fc.constantFrom(0 as const, 1 as const),
        },
        { noNullPrototype: true },
      ),
    ),
    firstPathKey: point,
    hops: fc.array(
      fc.record(
        { blindedNodeId: point, encryptedRecipientData: fc.uint8Array({ maxLength: 80 }) },
        { noNullPrototype: true },
      ),
      { minLength: 1, maxLength: 4 },
    ),
  },
  { noNullPrototype: true },
);
