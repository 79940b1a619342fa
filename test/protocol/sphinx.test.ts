import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Reader } from '../../plugin/protocol/bigsize.js';
import { allEcs, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { buildSphinx, peelSphinx } from '../../plugin/protocol/sphinx.js';
import { readVector } from '../helpers/paths.js';
import { hex as h, toHex as hex } from './codec-fuzz.js';

const FILE = 'bolt04/onion-test.json';

interface Vector {
  generate: { session_key: string; associated_data: string; hops: { pubkey: string; payload: string }[] };
  onion: string;
  decode: string[];
}
const v = readVector<Vector>(FILE);
/** The vector's payloads carry their BigSize length; the packet API takes them bare. */
function bare(prefixed: string): Uint8Array {
  const r = new Reader(h(prefixed));
  const len = Number(r.bigSize());
  return Uint8Array.from(r.bytes(len));
}

for (const ec of allEcs()) {
  describe(`sphinx (${ec.name})`, () => {
    const ad = h(v.generate.associated_data);
    it('builds the exact onion of onion-test.json', () => {
      const { packet } = buildSphinx({
        sessionKey: h(v.generate.session_key),
        hops: v.generate.hops.map((x) => ({ pubkey: h(x.pubkey), payload: bare(x.payload) })),
        associatedData: ad,
        ec,
      });
      assert.equal(hex(packet), v.onion, `${FILE}: onion`);
    });

    it('peels every layer with each hop key', async () => {
      let packet: Uint8Array | null = h(v.onion);
      for (let i = 0; i < v.decode.length; i++) {
        const where = `${FILE} decode[${i}]`;
        assert.ok(packet, `${where}: packet present`);
        const r = await peelSphinx(packet, ecdhFromPrivateKey(h(v.decode[i]!), ec), {
          associatedData: ad,
          ec,
        });
        assert.equal(hex(r.payload), hex(bare(v.generate.hops[i]!.payload)), `${where}: payload`);
        assert.equal(r.next === null, i === v.decode.length - 1, `${where}: final marker`);
        packet = r.next;
      }
    });

    it('rejects wrong associated data, key, version and point with CodecError', async () => {
      const onion = h(v.onion);
      const key0 = ecdhFromPrivateKey(h(v.decode[0]!), ec);
      await assert.rejects(peelSphinx(onion, key0, { associatedData: new Uint8Array(32), ec }), CodecError);
      await assert.rejects(
        peelSphinx(onion, ecdhFromPrivateKey(h(v.decode[1]!), ec), { associatedData: ad, ec }),
        CodecError,
      );
      const v1 = Uint8Array.from(onion);
      v1[0] = 1;
      await assert.rejects(peelSphinx(v1, key0, { associatedData: ad, ec }), CodecError);
      const badPoint = Uint8Array.from(onion);
      badPoint[1] = 5;
      await assert.rejects(peelSphinx(badPoint, key0, { associatedData: ad, ec }), CodecError);
    });

    it('works with 32768-byte routing info and refuses oversized payloads', async () => {
      const keys = [1, 2, 3].map((n) => new Uint8Array(32).fill(n));
      const payloads = [2000, 3000, 4000].map((n, i) => new Uint8Array(n).fill(i + 1));
      const { packet } = buildSphinx({
        sessionKey: new Uint8Array(32).fill(9),
        hops: keys.map((k, i) => ({ pubkey: ec.publicKey(k), payload: payloads[i]! })),
        payloadSize: 32768,
        ec,
      });
      assert.equal(packet.length, 32834, 'large packet length');
      let p: Uint8Array | null = packet;
      for (let i = 0; i < 3; i++) {
        const r = await peelSphinx(p!, ecdhFromPrivateKey(keys[i]!, ec), { ec });
        assert.deepEqual(r.payload, payloads[i], `hop ${i} payload`);
        p = r.next;
      }
      assert.equal(p, null, 'last hop is final');
      assert.throws(
        () =>
          buildSphinx({
            sessionKey: keys[0]!,
            hops: [{ pubkey: ec.publicKey(keys[1]!), payload: new Uint8Array(1300) }],
          }),
        CodecError,
      );
    });
  });
}

describe('sphinx peel across ChaCha20 block boundaries', () => {
  // A forward peel decrypts this hop's bytes in whole 64-byte blocks, then carries the stream on
  // for the shifted routing info. Every hop's HMAC covers all of its routing info, so one wrong byte
  // anywhere in a forwarded packet fails the next hop: peel whole routes whose hop boundaries fall
  // everywhere in a block, with routing sizes that are and are not whole blocks.
  it('property: every hop of a random route peels to its payload, native and noble', async () => {
    const ecs = allEcs();
    const keys = [1, 2, 3, 4, 5].map((n) => new Uint8Array(32).fill(n));
    const route = fc
      .tuple(
        fc.constantFrom(1300, 64 * 5, 64 * 5 + 1, 64 * 5 + 63, 200, 1),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }),
      )
      .filter(([size, lens]) => lens.reduce((n, l) => n + l + (l < 0xfd ? 1 : 3) + 32, 0) <= size);
    // The exact fits: one hop filling the packet to its last byte, and a hop ending in a partial block.
    const examples: [number, number[]][] = [
      [1300, [1300 - 3 - 32]],
      [64 * 5 + 1, [64 * 5 + 1 - 3 - 32]],
      [1300, [64 - 1 - 32, 64 - 32 - 1, 1]],
      [1300, [31, 32, 95, 96, 97]],
    ];
    await fc.assert(
      fc.asyncProperty(route, fc.nat(ecs.length - 1), async ([size, lens], which) => {
        const ec = ecs[which]!;
        const payloads = lens.map((n, i) => new Uint8Array(n).fill(0x10 + i));
        const { packet } = buildSphinx({
          sessionKey: new Uint8Array(32).fill(9),
          hops: payloads.map((payload, i) => ({ pubkey: ec.publicKey(keys[i]!), payload })),
          payloadSize: size,
          associatedData: new Uint8Array(32).fill(7),
          ec,
        });
        let p: Uint8Array | null = packet;
        for (let i = 0; i < lens.length; i++) {
          const where = `${ec.name} size ${size} lens ${lens.join(',')} hop ${i}`;
          assert.ok(p, `${where}: packet present`);
          assert.equal(p.length, packet.length, `${where}: packet length`);
          const r = await peelSphinx(p, ecdhFromPrivateKey(keys[i]!, ec), {
            associatedData: new Uint8Array(32).fill(7),
            ec,
          });
          assert.deepEqual(r.payload, payloads[i], `${where}: payload`);
          p = r.next;
        }
        assert.equal(p, null, 'the last hop is final');
      }),
      { numRuns: 40, examples: examples.map((e) => [e, 0]) },
    );
  });
});

describe('sphinx fuzz', () => {
  it('property: random and mutated packets only ever raise CodecError', async () => {
    const ec = allEcs()[0]!;
    const onion = h(v.onion);
    const ecdh = ecdhFromPrivateKey(h(v.decode[0]!), ec);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 1400 }),
          fc.tuple(fc.nat(onion.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const m = Uint8Array.from(onion);
            m[i]! ^= x;
            return m;
          }),
        ),
        async (buf) => {
          try {
            await peelSphinx(buf, ecdh, { ec });
          } catch (e) {
            if (!(e instanceof CodecError)) throw e;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
