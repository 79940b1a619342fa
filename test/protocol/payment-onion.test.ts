import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Reader } from '../../plugin/protocol/bigsize.js';
import { allEcs, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import {
  PAYMENT_ONION_LENGTH,
  buildPaymentOnion,
  peelPaymentOnion,
} from '../../plugin/protocol/payment-onion.js';
import { readVector } from '../helpers/paths.js';
import { hex as h, mutated, toHex as hex } from './codec-fuzz.js';

const FILE = 'bolt04/blinded-payment-onion-test.json';
function bare(prefixed: string): Uint8Array {
  const r = new Reader(h(prefixed));
  return Uint8Array.from(r.bytes(Number(r.bigSize())));
}

interface Vector {
  generate: {
    session_key: string;
    associated_data: string;
    full_route: { hops: { alias: string; pubkey: string; payload: string; tlvs: Record<string, unknown> }[] };
    onion: string;
  };
  decrypt: { hops: { alias: string; onion: string; node_privkey: string; next_path_key?: string }[] };
}
const v = readVector<Vector>(FILE);

for (const ec of allEcs()) {
  describe(`payment onion with route blinding (${ec.name})`, () => {
    const ad = h(v.generate.associated_data);
    const route = v.generate.full_route.hops;

    it('builds the exact onion for the partially blinded route', () => {
      const { onion } = buildPaymentOnion({
        sessionKey: h(v.generate.session_key),
        hops: route.map((x) => ({ pubkey: h(x.pubkey), payload: bare(x.payload) })),
        paymentHash: ad,
        ec,
      });
      assert.equal(hex(onion), v.generate.onion, `${FILE} generate: onion`);
    });

    it('peels every hop, unblinding from current_path_key and from update_add_htlc', async () => {
      const hops = v.decrypt.hops;
      let pathKey: Uint8Array | undefined;
      for (let i = 0; i < hops.length; i++) {
        const hop = hops[i]!;
        const where = `${FILE} decrypt ${hop.alias}`;
        const args: Parameters<typeof peelPaymentOnion>[0] = {
          onion: h(hop.onion),
          paymentHash: ad,
          ecdh: ecdhFromPrivateKey(h(hop.node_privkey), ec),
          ec,
        };
        if (pathKey) args.pathKey = pathKey;
        const r = await peelPaymentOnion(args);
        assert.equal(hex(r.payload), hex(bare(route[i]!.payload)), `${where}: payload`);
        if (i < hops.length - 1) assert.equal(hex(r.next!), hops[i + 1]!.onion, `${where}: next onion`);
        else assert.equal(r.next, null, `${where}: final`);
        if (hop.next_path_key) {
          assert.ok(r.blinded, `${where}: blinded`);
          assert.equal(
            r.blinded.source,
            i === 1 ? 'current_path_key' : 'update_add_htlc',
            `${where}: path key source`,
          );
          assert.equal(hex(r.blinded.nextPathKey), hop.next_path_key, `${where}: next_path_key`);
          pathKey = r.blinded.nextPathKey;
        } else {
          assert.equal(r.blinded, undefined, `${where}: not blinded`);
        }
      }
    });

    it('decodes the blinded hops encrypted data (Eve gets her path_id)', async () => {
      const eve = v.decrypt.hops[4]!;
      const r = await peelPaymentOnion({
        onion: h(eve.onion),
        paymentHash: ad,
        ecdh: ecdhFromPrivateKey(h(eve.node_privkey), ec),
        pathKey: h(v.decrypt.hops[3]!.next_path_key!),
        ec,
      });
      const want = (route[4]!.tlvs.encrypted_recipient_data as { path_id: string }).path_id;
      assert.equal(hex(r.blinded!.encryptedData.pathId!), want, `${FILE} decrypt Eve: path_id`);
      assert.deepEqual(r.blinded!.encryptedData.paymentConstraints, {
        maxCltvExpiry: 750000,
        htlcMinimumMsat: 50n,
      });
    });

    it('rejects a blinded hop peeled without its path key, and a wrong path key', async () => {
      const carol = v.decrypt.hops[2]!;
      const base = {
        onion: h(carol.onion),
        paymentHash: ad,
        ecdh: ecdhFromPrivateKey(h(carol.node_privkey), ec),
        ec,
      };
      await assert.rejects(peelPaymentOnion(base), CodecError);
      await assert.rejects(
        peelPaymentOnion({ ...base, pathKey: ec.publicKey(new Uint8Array(32).fill(5)) }),
        CodecError,
      );
    });
  });
}

describe('payment onion peel on bad input', () => {
  it('property: random and mutated onions only ever raise CodecError', async () => {
    const ec = allEcs()[0]!;
    const carol = v.decrypt.hops[2]!;
    const ecdh = ecdhFromPrivateKey(h(carol.node_privkey), ec);
    // Carol is inside the blinded route: the path key Bob hands on is hers.
    const pathKey = h(v.decrypt.hops[1]!.next_path_key!);
    const onions = fc.oneof(
      mutated(fc.constant(h(carol.onion))),
      fc.uint8Array({ minLength: PAYMENT_ONION_LENGTH, maxLength: PAYMENT_ONION_LENGTH }),
    );
    await fc.assert(
      fc.asyncProperty(onions, fc.boolean(), async (onion, withKey) => {
        try {
          await peelPaymentOnion({
            onion,
            paymentHash: h(v.generate.associated_data),
            ecdh,
            ec,
            ...(withKey ? { pathKey } : {}),
          });
        } catch (e) {
          if (!(e instanceof CodecError)) throw e;
        }
      }),
      { numRuns: 150 },
    );
  });
});
