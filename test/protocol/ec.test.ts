import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Ecdh,
  activeEc,
  allEcs,
  ecdhFromPrivateKey,
  ecdhOfPoint,
  getNativeEc,
  getNobleEc,
} from '../../plugin/protocol/ec.js';
import { blindedEcdh } from '../../plugin/protocol/route-blinding.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { hex as h, toHex as hex } from './codec-fuzz.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const scalar = fc.bigInt({ min: 1n, max: N - 1n }).map((n) => h(n.toString(16).padStart(64, '0')));

// Alice's key from the BOLT 4 vectors and her node id.
const ALICE = h('4141414141414141414141414141414141414141414141414141414141414141');
const ALICE_ID = '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619';

describe('ec', () => {
  it('loads the native libsecp256k1 binding here, and prefers it', () => {
    assert.ok(getNativeEc(), 'secp256k1/bindings loads in this environment');
    assert.equal(activeEc().name, 'native');
    assert.equal(getNobleEc().name, 'noble');
    assert.deepEqual(
      allEcs().map((e) => e.name),
      ['native', 'noble'],
    );
  });

  for (const ec of allEcs()) {
    it(`${ec.name}: public key of the vector key`, () => {
      assert.equal(hex(ec.publicKey(ALICE)), ALICE_ID);
    });

    it(`${ec.name}: invalid inputs raise CodecError`, () => {
      const zero = new Uint8Array(32);
      const order = h(N.toString(16));
      const notOnCurve = h('02' + '00'.repeat(31) + '05');
      assert.throws(() => ec.publicKey(zero), CodecError);
      assert.throws(() => ec.publicKey(order), CodecError);
      assert.throws(() => ec.ecdh(notOnCurve, ALICE), CodecError);
      assert.throws(() => ec.pointMul(h(ALICE_ID), zero), CodecError);
      assert.throws(() => ec.pointMul(new Uint8Array(33), ALICE), CodecError);
      assert.throws(() => ec.privMul(ALICE, order), CodecError);
      assert.equal(ec.isPoint(notOnCurve), false);
      assert.equal(ec.isPoint(h(ALICE_ID)), true);
      assert.equal(ec.isPrivateKey(order), false);
      assert.equal(ec.isPrivateKey(ALICE), true);
      assert.throws(
        () => ec.pointAdd(h(ALICE_ID), h('03' + ALICE_ID.slice(2))),
        CodecError,
        'P + (-P) is infinity',
      );
    });

    it(`${ec.name}: privMul does not modify its input`, () => {
      const k = Uint8Array.from(ALICE);
      ec.privMul(k, h('02'.padStart(64, '0')));
      assert.deepEqual(k, ALICE);
    });
  }

  it('property: native and noble agree on every operation', async () => {
    const nat = getNativeEc();
    if (!nat) return;
    const nob = getNobleEc();
    await fc.assert(
      fc.asyncProperty(scalar, scalar, async (a, b) => {
        const A = nat.publicKey(a);
        assert.deepEqual(nob.publicKey(a), A);
        assert.deepEqual(nob.ecdh(nat.publicKey(b), a), nat.ecdh(nat.publicKey(b), a));
        // ECDH is symmetric: a·B = b·A.
        assert.deepEqual(nat.ecdh(nat.publicKey(b), a), nat.ecdh(A, b));
        assert.deepEqual(nob.pointMul(A, b), nat.pointMul(A, b));
        assert.deepEqual(nob.privMul(a, b), nat.privMul(a, b));
        assert.deepEqual(nat.publicKey(nat.privMul(a, b)), nat.pointMul(A, b));
        // a + b = n makes B = -A and the sum the point at infinity: both must refuse it alike.
        if ((BigInt('0x' + hex(a)) + BigInt('0x' + hex(b))) % N === 0n) {
          assert.throws(() => nat.pointAdd(A, nat.publicKey(b)), CodecError);
          assert.throws(() => nob.pointAdd(A, nat.publicKey(b)), CodecError);
        } else assert.deepEqual(nob.pointAdd(A, nat.publicKey(b)), nat.pointAdd(A, nat.publicKey(b)));
        assert.deepEqual(await ecdhFromPrivateKey(a, nob)(nat.publicKey(b)), nat.ecdh(nat.publicKey(b), a));
      }),
      { numRuns: 50, examples: [[h('01'.padStart(64, '0')), h((N - 1n).toString(16))]] },
    );
  });

  it('the oracle rejects (never throws synchronously) on a bad point', async () => {
    const oracle = ecdhFromPrivateKey(ALICE);
    await assert.rejects(oracle(new Uint8Array(33)), CodecError);
    assert.throws(() => ecdhFromPrivateKey(new Uint8Array(32)), CodecError);
  });

  // ecdhOfPoint skips its own point check for an oracle that checks (in-process keys): every
  // oracle, checking or not, native or noble, must give the same secret or the same rejection.
  const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
  const edgePoints = [
    h(ALICE_ID),
    h('03' + ALICE_ID.slice(2)),
    h('02' + '00'.repeat(31) + '05'), // x not on the curve
    h('02' + '00'.repeat(32)), // x = 0 is not on the curve
    h('02' + P.toString(16)), // x = p: out of the field
    h('02' + (P + 1n).toString(16)), // x = p + 1: 1 reduced, not canonical
    h('04' + ALICE_ID.slice(2)), // wrong prefix
    h('00' + ALICE_ID.slice(2)),
    h(ALICE_ID).subarray(0, 32),
    new Uint8Array(33),
    new Uint8Array(65),
    new Uint8Array(0),
  ];
  const arbPoint = fc.oneof(
    scalar.map((k) => activeEc().publicKey(k)),
    fc.tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([p, x]) => {
      const b = new Uint8Array(33);
      b[0] = p;
      b.set(x, 1);
      return b;
    }),
    fc.uint8Array({ maxLength: 66 }),
    fc.constantFrom(...edgePoints),
  );

  it('property: ecdhOfPoint gives one answer for checking and non-checking oracles, native and noble', async () => {
    const ecs = allEcs();
    const outcome = async (f: () => Promise<Uint8Array>): Promise<string> => {
      try {
        return hex(await f());
      } catch (e) {
        assert.ok(e instanceof CodecError, `only CodecError, got ${String(e)}`);
        return `${e.code}: ${e.message}`;
      }
    };
    await fc.assert(
      fc.asyncProperty(scalar, scalar, arbPoint, async (k, t, point) => {
        const answers = new Set<string>();
        for (const ec of ecs) {
          const local = ecdhFromPrivateKey(k, ec);
          assert.equal(local.checksPoint, true, `${ec.name}: the in-process oracle checks its points`);
          // An oracle that does not say it checks (LND's or CLN's are like this): ecdhOfPoint checks.
          const remote: Ecdh = (p) => Promise.resolve(ec.ecdh(p, k));
          const blinded = blindedEcdh(local, t, ec);
          assert.equal(blinded.checksPoint, true, `${ec.name}: a tweaked in-process oracle checks too`);
          const tk = ec.privMul(k, t);
          const remoteBlinded: Ecdh = (p) => Promise.resolve(ec.ecdh(p, tk));
          for (const ec2 of ecs) {
            answers.add(await outcome(() => ecdhOfPoint(local, point, ec2, 'bad point')));
            answers.add(await outcome(() => ecdhOfPoint(remote, point, ec2, 'bad point')));
          }
          const blindAnswers = new Set([
            await outcome(() => ecdhOfPoint(blinded, point, ec, 'bad point')),
            await outcome(() => ecdhOfPoint(remoteBlinded, point, ec, 'bad point')),
            await outcome(() => ecdhOfPoint(blindedEcdh(remote, t, ec), point, ec, 'bad point')),
          ]);
          assert.equal(
            blindAnswers.size,
            1,
            `${ec.name}: blinded oracles agree: ${[...blindAnswers].join(' | ')}`,
          );
        }
        assert.equal(answers.size, 1, `oracles agree on ${hex(point)}: ${[...answers].join(' | ')}`);
        const [only] = answers;
        const valid = allEcs().every((ec) => ec.isPoint(point));
        assert.equal(only !== 'invalid: bad point', valid, `valid point ${hex(point)} gives a secret`);
      }),
      { numRuns: 60, examples: edgePoints.map((p) => [ALICE, h('02'.padStart(64, '0')), p]) },
    );
  });

  it('ecdhOfPoint asks a non-checking oracle nothing about an invalid point', async () => {
    let asked = 0;
    const remote: Ecdh = (p) => {
      asked++;
      return Promise.resolve(activeEc().ecdh(p, ALICE));
    };
    for (const ec of allEcs())
      for (const p of edgePoints.filter((x) => !ec.isPoint(x)))
        await assert.rejects(ecdhOfPoint(remote, p, ec, 'bad point'), {
          name: 'CodecError',
          message: /bad point/,
        });
    assert.equal(asked, 0);
  });
});
