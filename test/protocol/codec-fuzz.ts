// Shared property helpers for codec tests: bounded run counts (the machine is shared) and the
// "bad input only ever raises CodecError" check every decoder must pass.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodecError } from '../../plugin/protocol/errors.js';

export const RUNS = { numRuns: 300 };

/** Run `f`; it may return or throw CodecError, anything else fails the test. */
export function onlyCodecErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof CodecError)) assert.fail(`threw a non-CodecError: ${String(e)}`);
  }
}

/** Random bytes, and small mutations (flip, truncate, extend) of a valid encoding. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
      if (b.length === 0) return b;
      const c = b.slice();
      c[i % c.length]! ^= x;
      return c;
    }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 10 })).map(([b, x]) => {
      const c = new Uint8Array(b.length + x.length);
      c.set(b);
      c.set(x, b.length);
      return c;
    }),
  );
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
