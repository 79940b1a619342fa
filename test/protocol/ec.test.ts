import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { activeEc, allEcs, ecdhFromPrivateKey, getNativeEc, getNobleEc } from '../../plugin/protocol/ec.js';
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
});
