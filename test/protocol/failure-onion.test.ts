import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createFailureOnion,
  decodeFailureOnion,
  failurePayload,
  wrapFailureOnion,
} from '../../plugin/protocol/failure-onion.js';
import { FAILURE_CODES, decodeFailureMessage, failureName } from '../../plugin/protocol/failure.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { generateKey, hmacSha256 } from '../../plugin/protocol/keys.js';
import { readVector } from '../helpers/paths.js';
import { RUNS, hex, onlyCodecErrors, toHex } from './codec-fuzz.js';

interface ErrorVector {
  generate: {
    failure_message: string;
    hops: { hop_shared_secret: string; ammag_key: string; um_key?: string; payload?: string }[];
  };
  errorpacket: string;
}

const file = 'bolt04/onion-error-test.json';
const v = readVector<ErrorVector>(file);
const hops = v.generate.hops;
const secrets = hops.map((h) => hex(h.hop_shared_secret));
const failing = hops.length - 1;

describe(`failure onion: ${file}`, () => {
  it('derives each hop ammag key and the failing hop um key', () => {
    hops.forEach((h, i) => {
      assert.equal(toHex(generateKey('ammag', secrets[i]!)), h.ammag_key, `${file} hops[${i}].ammag_key`);
      if (h.um_key)
        assert.equal(toHex(generateKey('um', secrets[i]!)), h.um_key, `${file} hops[${i}].um_key`);
    });
  });

  it('builds the failing hop payload (length, message, pad to 256)', () => {
    const payload = failurePayload(hex(v.generate.failure_message));
    assert.equal(toHex(payload), hops[failing]!.payload, `${file} hops[${failing}].payload`);
  });

  it('builds the packet at the failing hop and wraps it hop by hop into errorpacket', () => {
    let packet = createFailureOnion(secrets[failing]!, hex(v.generate.failure_message));
    // The HMAC is over the payload with the um key (checked before obfuscation hides it).
    const plain = wrapFailureOnion(secrets[failing]!, packet);
    assert.equal(
      toHex(plain.subarray(0, 32)),
      toHex(hmacSha256(hex(hops[failing]!.um_key!), hex(hops[failing]!.payload!))),
      `${file} hops[${failing}] hmac`,
    );
    for (let i = failing - 1; i >= 0; i--) packet = wrapFailureOnion(secrets[i]!, packet);
    assert.equal(toHex(packet), v.errorpacket, `${file} errorpacket`);
  });

  it('decodes errorpacket back to the failing hop and its message', () => {
    const d = decodeFailureOnion(secrets, hex(v.errorpacket));
    assert.equal(d.hopIndex, failing, `${file} failing hop index`);
    assert.equal(toHex(d.failureMessage), v.generate.failure_message, `${file} failure_message`);
    assert.equal(failureName(decodeFailureMessage(d.failureMessage).code), 'temporary_node_failure', file);
    assert.equal(decodeFailureMessage(d.failureMessage).code, FAILURE_CODES.temporary_node_failure);
  });

  it('fails with CodecError when the erring hop is not among the secrets, or the packet is short', () => {
    assert.throws(() => decodeFailureOnion(secrets.slice(0, failing), hex(v.errorpacket)), {
      name: 'CodecError',
      code: 'invalid',
    });
    assert.throws(() => decodeFailureOnion(secrets, new Uint8Array(35)), { code: 'truncated' });
  });
});

const secret = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('failure onion properties', () => {
  it('the origin finds the failing hop and message for any route and failing position', () => {
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.uint8Array({ minLength: 2, maxLength: 300 }),
        (ss, k, msg) => {
          const at = k % ss.length;
          let p = createFailureOnion(ss[at]!, msg);
          for (let i = at - 1; i >= 0; i--) p = wrapFailureOnion(ss[i]!, p);
          assert.equal(p.length, 32 + 4 + Math.max(256, msg.length));
          const d = decodeFailureOnion(ss, p);
          assert.equal(d.hopIndex, at);
          assert.equal(toHex(d.failureMessage), toHex(msg));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('any single flipped byte makes the packet undecodable (CodecError)', () => {
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (ss, i, x) => {
          let p = createFailureOnion(ss[ss.length - 1]!, hex('2002'));
          for (let h = ss.length - 2; h >= 0; h--) p = wrapFailureOnion(ss[h]!, p);
          assert.equal(decodeFailureOnion(ss, p).hopIndex, ss.length - 1); // intact: decodes
          p[i % p.length]! ^= x;
          assert.throws(() => decodeFailureOnion(ss, p), CodecError);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('random bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(fc.array(secret, { maxLength: 3 }), fc.uint8Array({ maxLength: 400 }), (ss, b) =>
        onlyCodecErrors(() => decodeFailureOnion(ss, b)),
      ),
      RUNS,
    );
  });
});
