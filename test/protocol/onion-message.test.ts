import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type BlindedPath,
  decodeBlindedPath,
  encodeBlindedPath,
} from '../../plugin/protocol/blinded-path.js';
import { type Ecdh, allEcs, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import {
  DEFAULT_ASYNC_MESSAGE_TYPES,
  type OnionMessagePayload,
  buildHeldHtlcAvailable,
  buildHeldHtlcAvailableVariants,
  buildOnionMessage,
  buildReleaseHeldHtlc,
  buildReleaseHeldHtlcVariants,
  buildReleasePath,
  decodeOnionMessage,
  decodeOnionMessagePayload,
  encodeOnionMessage,
  encodeOnionMessagePayload,
  peelOnionMessage,
  peelOnionMessageLayer,
} from '../../plugin/protocol/onion-message.js';
import { blindPath } from '../../plugin/protocol/route-blinding.js';
import { readVector } from '../helpers/paths.js';
import { blindedPathValueArb } from './blinded-path-arb.js';
import { hex as h, mutated, onlyCodecErrors, toHex as hex } from './codec-fuzz.js';

const FILE = 'bolt04/blinded-onion-message-onion-test.json';

interface GenHop {
  alias: string;
  path_key_secret: string;
  tlvs: Record<string, string>;
  encrypted_data_tlv: string;
  blinded_node_id: string;
  E: string;
  encrypted_recipient_data: string;
}
interface DecHop {
  alias: string;
  privkey: string;
  onion_message: string;
  next_node_id?: string;
  tlvs?: Record<string, string>;
}
interface Vector {
  generate: { session_key: string; hops: GenHop[] };
  route: {
    first_node_id: string;
    first_path_key: string;
    hops: { blinded_node_id: string; encrypted_recipient_data: string }[];
  };
  onionmessage: { unknown_tag_1: string; onion_message_packet: string };
  decrypt: { hops: DecHop[] };
}
const v = readVector<Vector>(FILE);

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);

for (const ec of allEcs()) {
  describe(`onion messages (${ec.name})`, () => {
    const g = v.generate.hops;
    const nodeIds = v.decrypt.hops.map((x) => ec.publicKey(h(x.privkey)));
    // Alice's one-hop prefix (sender-built) then Dave's Bob->Carol->Dave path.
    const prefix = blindPath(
      h(g[0]!.path_key_secret),
      [{ nodeId: nodeIds[0]!, data: h(g[0]!.encrypted_data_tlv) }],
      ec,
    );
    const dave = blindPath(
      h(g[1]!.path_key_secret),
      g.slice(1).map((x, i) => ({ nodeId: nodeIds[i + 1]!, data: h(x.encrypted_data_tlv) })),
      ec,
    );

    it('blinds the route as in the vector', () => {
      const hops = [...prefix.hops, ...dave.hops];
      assert.equal(hex(prefix.firstPathKey), v.route.first_path_key, `${FILE} route: first_path_key`);
      assert.equal(hex(dave.firstPathKey), g[1]!.E, `${FILE} generate Bob: E`);
      hops.forEach((hop, i) => {
        const want = v.route.hops[i]!;
        assert.equal(hex(hop.blindedNodeId), want.blinded_node_id, `${FILE} route hop ${i}: blinded_node_id`);
        assert.equal(
          hex(hop.encryptedRecipientData),
          want.encrypted_recipient_data,
          `${FILE} route hop ${i}: encrypted_recipient_data`,
        );
      });
    });

    it('builds the exact onion message packet', () => {
      const out = buildOnionMessage({
        destination: dave,
        via: [nodeIds[0]!],
        prefixSessionKey: h(g[0]!.path_key_secret),
        sessionKey: h(v.generate.session_key),
        payload: { unknown: [{ type: 1n, value: h(v.onionmessage.unknown_tag_1) }] },
        ec,
      });
      assert.equal(
        hex(out.packet),
        v.onionmessage.onion_message_packet,
        `${FILE} onionmessage: onion_message_packet`,
      );
      assert.equal(
        hex(out.wireMessage),
        v.decrypt.hops[0]!.onion_message,
        `${FILE} decrypt Alice: onion_message`,
      );
      assert.equal(hex(out.firstNodeId), v.route.first_node_id, `${FILE} route: first_node_id`);
    });

    it('peels the vector message at every hop', async () => {
      const hops = v.decrypt.hops;
      for (let i = 0; i < hops.length; i++) {
        const hop = hops[i]!;
        const where = `${FILE} decrypt ${hop.alias}`;
        const r = await peelOnionMessage(h(hop.onion_message), ecdhFromPrivateKey(h(hop.privkey), ec), {
          ec,
        });
        if (i < hops.length - 1) {
          assert.equal(r.kind, 'forward', `${where}: kind`);
          if (r.kind !== 'forward') return;
          assert.equal(hex(r.nextNodeId!), hop.next_node_id, `${where}: next_node_id`);
          assert.equal(hex(r.wireMessage), hops[i + 1]!.onion_message, `${where}: next onion_message`);
        } else {
          assert.equal(r.kind, 'receive', `${where}: kind`);
          if (r.kind !== 'receive') return;
          assert.deepEqual(
            r.payload.unknown,
            [{ type: 1n, value: h(hop.tlvs!.unknown_tag_1!) }],
            `${where}: unknown_tag_1`,
          );
          assert.equal(
            hex(r.payload.encryptedRecipientData!),
            hop.tlvs!.encrypted_recipient_data,
            `${where}: encrypted_recipient_data`,
          );
          assert.equal(hex(r.pathId!), g[3]!.tlvs.path_id, `${where}: path_id`);
          assert.equal(r.heldHtlcAvailable, false, `${where}: held_htlc_available`);
        }
      }
    });

    it('rejects the message at a node it is not for', async () => {
      await assert.rejects(
        peelOnionMessage(h(v.decrypt.hops[1]!.onion_message), ecdhFromPrivateKey(key(0x41), ec), { ec }),
        CodecError,
      );
    });

    // L (0x4c) holds; the recipient R (0x52) sits behind its LSP P (0x50); R's message path P -> R.
    const L = key(0x4c);
    const P = key(0x50);
    const R = key(0x52);
    const [lId, pId, rId] = [L, P, R].map((k) => ec.publicKey(k)) as [Uint8Array, Uint8Array, Uint8Array];
    const pathId = key(0xaa);

    it('rejects an invalid path key or ephemeral key alike with in-process and remote oracles', async () => {
      const recipientPath = blindPath(key(0x07), [{ nodeId: rId, data: { pathId: key(0x99) } }], ec);
      const held = buildHeldHtlcAvailable({
        messagePath: encodeBlindedPath(recipientPath),
        replyPathId: pathId,
        ourNodeId: lId,
        ec,
      });
      // A remote oracle (LND's, CLN's) does not check points itself: it must never see a bad one.
      const seen: string[] = [];
      const remote: Ecdh = (point) => {
        seen.push(hex(point));
        return Promise.resolve(ec.ecdh(point, R));
      };
      const notOnCurve = h('02' + '00'.repeat(31) + '05');
      const cases: [string, number, Uint8Array, RegExp][] = [
        ['path key off the curve', 2, notOnCurve, /onion_message: invalid path_key/],
        ['path key with prefix 04', 2, h('04' + hex(rId).slice(2)), /onion_message: invalid path_key/],
        ['ephemeral key off the curve', 38, notOnCurve, /sphinx: invalid ephemeral key/],
      ];
      for (const [what, at, bad, message] of cases) {
        const wire = Uint8Array.from(held.wireMessage);
        wire.set(bad, at);
        const expected = { name: 'CodecError', message };
        await assert.rejects(peelOnionMessage(wire, ecdhFromPrivateKey(R, ec), { ec }), expected, what);
        seen.length = 0;
        await assert.rejects(peelOnionMessage(wire, remote, { ec }), expected, `${what}, remote oracle`);
        assert.ok(!seen.includes(hex(bad)), `${what}: the remote oracle was not asked`);
      }
      // The untouched message peels with both.
      assert.equal(
        (await peelOnionMessage(held.wireMessage, ecdhFromPrivateKey(R, ec), { ec })).kind,
        'receive',
      );
      assert.equal((await peelOnionMessage(held.wireMessage, remote, { ec })).kind, 'receive');
    });

    it('round-trips held_htlc_available and release_held_htlc through L, P and R', async () => {
      const recipientPath = blindPath(
        key(0x07),
        [
          { nodeId: pId, data: { nextNodeId: rId } },
          { nodeId: rId, data: { pathId: key(0x99) } },
        ],
        ec,
      );
      const held = buildHeldHtlcAvailable({
        messagePath: encodeBlindedPath(recipientPath),
        replyPathId: pathId,
        ourNodeId: lId,
        prependOurNode: true,
        ec,
      });
      assert.equal(hex(held.firstNodeId), hex(lId), 'held_htlc_available starts at our node (CLN inject)');
      // L peels its own layer, P forwards, R receives.
      const atL = await peelOnionMessage(held.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
      assert.equal(atL.kind === 'forward' && hex(atL.nextNodeId!), hex(pId), 'L forwards to P');
      if (atL.kind !== 'forward') return;
      const atP = await peelOnionMessage(atL.wireMessage, ecdhFromPrivateKey(P, ec), { ec });
      assert.equal(atP.kind === 'forward' && hex(atP.nextNodeId!), hex(rId), 'P forwards to R');
      if (atP.kind !== 'forward') return;
      const atR = await peelOnionMessage(atP.wireMessage, ecdhFromPrivateKey(R, ec), { ec });
      assert.equal(atR.kind, 'receive', 'R receives');
      if (atR.kind !== 'receive') return;
      assert.equal(atR.heldHtlcAvailable, true, 'R sees held_htlc_available');
      assert.equal(atR.releaseHeldHtlc, false, 'no release at R');
      assert.equal(hex(atR.pathId!), hex(key(0x99)), 'R sees its own path_id');
      assert.ok(
        atR.payload.heldHtlcAvailableOdd && !atR.payload.heldHtlcAvailable,
        'odd by default: only 73',
      );
      assert.ok(atR.replyPath, 'reply path present');

      // R answers directly to L (L is the intro node of the reply path).
      const rel = buildReleaseHeldHtlc({ replyPath: encodeBlindedPath(atR.replyPath!), ec });
      assert.equal(hex(rel.firstNodeId), hex(lId), 'release goes to L');
      const back = await peelOnionMessage(rel.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
      assert.equal(back.kind, 'receive', 'L receives the release');
      if (back.kind !== 'receive') return;
      assert.equal(back.releaseHeldHtlc, true, 'release_held_htlc seen');
      assert.ok(back.payload.releaseHeldHtlcOdd && !back.payload.releaseHeldHtlc, 'odd by default: only 75');
      assert.equal(hex(back.pathId!), hex(pathId), 'L gets its reply path_id back');
    });

    it('does not prepend our node when we are the intro node, and reaches R via P', async () => {
      const toL = decodeBlindedPath(buildReleasePath(lId, pathId, { ec }));
      const rel = buildReleaseHeldHtlc({ replyPath: toL, ourNodeId: lId, prependOurNode: true, ec });
      const atL = await peelOnionMessage(rel.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
      assert.equal(atL.kind, 'receive', 'one layer: L is the intro node itself');
      const viaP = buildReleaseHeldHtlc({ replyPath: toL, via: [pId], ec });
      assert.equal(hex(viaP.firstNodeId), hex(pId), 'first hop is P');
      const atP = await peelOnionMessage(viaP.wireMessage, ecdhFromPrivateKey(P, ec), { ec });
      assert.equal(atP.kind === 'forward' && hex(atP.nextNodeId!), hex(lId), 'P forwards to L');
      if (atP.kind !== 'forward') return;
      const got = await peelOnionMessage(atP.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
      assert.equal(
        got.kind === 'receive' && got.releaseHeldHtlc && hex(got.pathId!),
        hex(pathId),
        'L receives',
      );
    });

    it('peels through dummy hops at our own node', async () => {
      const path = buildReleasePath(lId, pathId, { dummyHops: 2, ec });
      assert.equal(decodeBlindedPath(path).hops.length, 3, 'three hops');
      const rel = buildReleaseHeldHtlc({ replyPath: path, ec });
      const one = await peelOnionMessageLayer(
        decodeOnionMessage(rel.wireMessage),
        ecdhFromPrivateKey(L, ec),
        { ec },
      );
      assert.equal(one.kind, 'forward', 'a single layer is a forward to ourselves');
      const all = await peelOnionMessage(rel.wireMessage, ecdhFromPrivateKey(L, ec), { ec, ourNodeId: lId });
      assert.equal(all.kind === 'receive' && hex(all.pathId!), hex(pathId), 'peeled to the end');
    });

    it('uses configured type numbers', async () => {
      const types = {
        heldHtlcAvailable: 90n,
        heldHtlcAvailableOdd: 91n,
        releaseHeldHtlc: 92n,
        releaseHeldHtlcOdd: 93n,
      };
      const replyPath = buildReleasePath(lId, pathId, { ec });
      const ecdhL = ecdhFromPrivateKey(L, ec);
      const odd = buildReleaseHeldHtlc({ replyPath, types, ec });
      const got = await peelOnionMessage(odd.wireMessage, ecdhL, { ec, types });
      assert.equal(got.kind === 'receive' && got.releaseHeldHtlc, true, 'custom numbers understood');
      assert.ok(got.kind === 'receive' && got.payload.releaseHeldHtlcOdd, 'odd: 93');
      // Under the defaults 93 is an unknown odd type: accepted, but it is no release.
      const plain = await peelOnionMessage(odd.wireMessage, ecdhL, { ec });
      assert.equal(plain.kind === 'receive' && plain.releaseHeldHtlc, false, '93 is not 75');
      const even = buildReleaseHeldHtlc({ replyPath, types, variant: 'even', ec });
      const gotEven = await peelOnionMessage(even.wireMessage, ecdhL, { ec, types });
      assert.ok(gotEven.kind === 'receive' && gotEven.payload.releaseHeldHtlc, 'even: 92');
      // Under the defaults, 92 is an unknown even type: the message is rejected, as a peer would.
      await assert.rejects(peelOnionMessage(even.wireMessage, ecdhL, { ec }), CodecError);
    });

    it('the even variant carries only 72 out and only 74 back', async () => {
      const held = buildHeldHtlcAvailable({
        messagePath: buildReleasePath(rId, key(0x99), { ec }),
        replyPathId: pathId,
        ourNodeId: lId,
        variant: 'even',
        ec,
      });
      const atR = await peelOnionMessage(held.wireMessage, ecdhFromPrivateKey(R, ec), { ec });
      assert.ok(atR.kind === 'receive' && atR.heldHtlcAvailable, 'R sees held_htlc_available');
      assert.ok(atR.payload.heldHtlcAvailable && !atR.payload.heldHtlcAvailableOdd, 'only 72');
      const rel = buildReleaseHeldHtlc({ replyPath: atR.replyPath!, variant: 'even', ec });
      const back = await peelOnionMessage(rel.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
      assert.ok(back.kind === 'receive' && back.releaseHeldHtlc, 'release_held_htlc seen');
      assert.ok(back.payload.releaseHeldHtlc && !back.payload.releaseHeldHtlcOdd, 'only 74');
      assert.equal(hex(back.pathId!), hex(pathId), 'L gets its reply path_id back');
    });

    it('never puts both numbers (or two records >= 64) in one message', async () => {
      // CLN and LND drop a message with an unknown even TLV; LND 0.21 one with two final records >= 64.
      const messagePath = buildReleasePath(rId, key(0x99), { ec });
      const replyPath = buildReleasePath(lId, pathId, { ec });
      const heldArgs = { messagePath, replyPathId: pathId, ourNodeId: lId, ec };
      const built: [string, Uint8Array, Uint8Array][] = [
        ['held default', buildHeldHtlcAvailable(heldArgs).wireMessage, R],
        ['held odd', buildHeldHtlcAvailable({ ...heldArgs, variant: 'odd' }).wireMessage, R],
        ['held even', buildHeldHtlcAvailable({ ...heldArgs, variant: 'even' }).wireMessage, R],
        ...buildHeldHtlcAvailableVariants(heldArgs).map((m): [string, Uint8Array, Uint8Array] => [
          `held variants ${m.variant}`,
          m.wireMessage,
          R,
        ]),
        ['release default', buildReleaseHeldHtlc({ replyPath, ec }).wireMessage, L],
        ['release odd', buildReleaseHeldHtlc({ replyPath, variant: 'odd', ec }).wireMessage, L],
        ['release even', buildReleaseHeldHtlc({ replyPath, variant: 'even', ec }).wireMessage, L],
        ...buildReleaseHeldHtlcVariants({ replyPath, ec }).map((m): [string, Uint8Array, Uint8Array] => [
          `release variants ${m.variant}`,
          m.wireMessage,
          L,
        ]),
      ];
      assert.equal(built.length, 10);
      for (const [name, wire, priv] of built) {
        const got = await peelOnionMessage(wire, ecdhFromPrivateKey(priv, ec), { ec });
        assert.ok(got.kind === 'receive', name);
        const p = got.payload;
        const high = [
          p.invoiceRequest,
          p.invoice,
          p.invoiceError,
          p.staticInvoice,
          p.heldHtlcAvailable,
          p.heldHtlcAvailableOdd,
          p.releaseHeldHtlc,
          p.releaseHeldHtlcOdd,
          ...(p.unknown ?? []).filter((r) => r.type >= 64n),
        ].filter((v) => v !== undefined);
        assert.equal(high.length, 1, `${name}: exactly one record >= 64`);
        assert.ok(!(p.heldHtlcAvailable && p.heldHtlcAvailableOdd), `${name}: not both 72 and 73`);
        assert.ok(!(p.releaseHeldHtlc && p.releaseHeldHtlcOdd), `${name}: not both 74 and 75`);
      }
    });

    it('writes the contents as LDK does: one 0x00 byte under every number', async () => {
      // LDK reads these empty TLV streams length-prefixed and refuses a zero-length value.
      const messagePath = buildReleasePath(rId, key(0x99), { ec });
      const replyPath = buildReleasePath(lId, pathId, { ec });
      const heldArgs = { messagePath, replyPathId: pathId, ourNodeId: lId, ec };
      const cases: [string, Uint8Array, Uint8Array, keyof OnionMessagePayload][] = [
        ['held odd', buildHeldHtlcAvailable(heldArgs).wireMessage, R, 'heldHtlcAvailableOdd'],
        [
          'held even',
          buildHeldHtlcAvailable({ ...heldArgs, variant: 'even' }).wireMessage,
          R,
          'heldHtlcAvailable',
        ],
        ...buildHeldHtlcAvailableVariants(heldArgs).map(
          (m): [string, Uint8Array, Uint8Array, keyof OnionMessagePayload] => [
            `held variants ${m.variant}`,
            m.wireMessage,
            R,
            m.variant === 'odd' ? 'heldHtlcAvailableOdd' : 'heldHtlcAvailable',
          ],
        ),
        ['release odd', buildReleaseHeldHtlc({ replyPath, ec }).wireMessage, L, 'releaseHeldHtlcOdd'],
        [
          'release even',
          buildReleaseHeldHtlc({ replyPath, variant: 'even', ec }).wireMessage,
          L,
          'releaseHeldHtlc',
        ],
        ...buildReleaseHeldHtlcVariants({ replyPath, ec }).map(
          (m): [string, Uint8Array, Uint8Array, keyof OnionMessagePayload] => [
            `release variants ${m.variant}`,
            m.wireMessage,
            L,
            m.variant === 'odd' ? 'releaseHeldHtlcOdd' : 'releaseHeldHtlc',
          ],
        ),
      ];
      assert.equal(cases.length, 8);
      for (const [name, wire, priv, field] of cases) {
        const got = await peelOnionMessage(wire, ecdhFromPrivateKey(priv, ec), { ec });
        assert.ok(got.kind === 'receive', name);
        assert.equal(hex(got.payload[field] as Uint8Array), '00', `${name}: ${field} is 0x00`);
      }
    });

    it('accepts both the 0x00 and the zero-length contents under all four numbers', async () => {
      const toR = decodeBlindedPath(buildReleasePath(rId, key(0x99), { ec }));
      const replyPath = decodeBlindedPath(buildReleasePath(lId, pathId, { ec }));
      const fields = ['heldHtlcAvailable', 'heldHtlcAvailableOdd', 'releaseHeldHtlc', 'releaseHeldHtlcOdd'];
      for (const field of fields)
        for (const value of [new Uint8Array(0), Uint8Array.of(0)]) {
          const held = field.startsWith('held');
          const msg = buildOnionMessage({
            destination: toR,
            payload: held ? { replyPath, [field]: value } : { [field]: value },
            ec,
          });
          const got = await peelOnionMessage(msg.wireMessage, ecdhFromPrivateKey(R, ec), { ec });
          const what = `${field} with ${value.length}-byte contents`;
          assert.ok(got.kind === 'receive', what);
          assert.equal(got.heldHtlcAvailable, held, `${what}: held_htlc_available`);
          assert.equal(got.releaseHeldHtlc, !held, `${what}: release_held_htlc`);
          assert.equal(hex(got.payload[field as keyof OnionMessagePayload] as Uint8Array), hex(value), what);
          if (held) assert.ok(got.replyPath, `${what}: reply path kept`);
        }
    });

    it('rejects an unknown single variant with CodecError', () => {
      const bad = 'both' as unknown as 'odd';
      assert.throws(
        () =>
          buildHeldHtlcAvailable({
            messagePath: buildReleasePath(rId, key(0x99), { ec }),
            replyPathId: pathId,
            ourNodeId: lId,
            variant: bad,
            ec,
          }),
        { code: 'invalid', message: /held_htlc_available variant both/ },
      );
      assert.throws(
        () => buildReleaseHeldHtlc({ replyPath: buildReleasePath(lId, pathId, { ec }), variant: bad, ec }),
        { code: 'invalid', message: /release_held_htlc variant both/ },
      );
    });

    describe('release_held_htlc per encoding variant', () => {
      const replyPath = (): Uint8Array => buildReleasePath(lId, pathId, { ec });

      it('builds odd then even by default, each its own message with one number', async () => {
        const msgs = buildReleaseHeldHtlcVariants({ replyPath: replyPath(), ec });
        assert.deepEqual(
          msgs.map((m) => m.variant),
          ['odd', 'even'],
        );
        assert.notEqual(hex(msgs[0]!.packet), hex(msgs[1]!.packet), 'separate packets');
        const [odd, even] = [
          await peelOnionMessage(msgs[0]!.wireMessage, ecdhFromPrivateKey(L, ec), { ec }),
          await peelOnionMessage(msgs[1]!.wireMessage, ecdhFromPrivateKey(L, ec), { ec }),
        ];
        assert.ok(odd.kind === 'receive' && even.kind === 'receive');
        assert.ok(odd.payload.releaseHeldHtlcOdd && !odd.payload.releaseHeldHtlc, 'odd: only 75');
        assert.ok(even.payload.releaseHeldHtlc && !even.payload.releaseHeldHtlcOdd, 'even: only 74');
        assert.equal(odd.releaseHeldHtlc && even.releaseHeldHtlc, true);
        assert.equal(hex(odd.pathId!), hex(pathId));
        assert.equal(hex(even.pathId!), hex(pathId));
      });

      it('builds only the configured variants, in order, via the given hops', async () => {
        const [m, ...rest] = buildReleaseHeldHtlcVariants({
          replyPath: replyPath(),
          via: [pId],
          variants: ['even'],
          ec,
        });
        assert.equal(rest.length, 0);
        assert.equal(m!.variant, 'even');
        assert.equal(hex(m!.firstNodeId), hex(pId), 'first hop is P');
        const atP = await peelOnionMessage(m!.wireMessage, ecdhFromPrivateKey(P, ec), { ec });
        assert.ok(atP.kind === 'forward');
        const atL = await peelOnionMessage(atP.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
        assert.ok(atL.kind === 'receive' && atL.payload.releaseHeldHtlc && !atL.payload.releaseHeldHtlcOdd);
        assert.deepEqual(
          buildReleaseHeldHtlcVariants({ replyPath: replyPath(), variants: ['even', 'odd'], ec }).map(
            (x) => x.variant,
          ),
          ['even', 'odd'],
        );
        assert.deepEqual(buildReleaseHeldHtlcVariants({ replyPath: replyPath(), variants: [], ec }), []);
      });

      it('is byte for byte the single-variant builder with the same keys', () => {
        const path = replyPath();
        const sessionKeys = [key(0x31), key(0x32)];
        const msgs = buildReleaseHeldHtlcVariants({
          replyPath: path,
          via: [pId],
          prefixSessionKey: key(0x41),
          sessionKeys,
          ec,
        });
        const single = (['odd', 'even'] as const).map((variant, i) =>
          buildReleaseHeldHtlc({
            replyPath: path,
            via: [pId],
            prefixSessionKey: key(0x41),
            sessionKey: sessionKeys[i]!,
            variant,
            ec,
          }),
        );
        assert.deepEqual(
          msgs.map((m) => hex(m.wireMessage)),
          single.map((m) => hex(m.wireMessage)),
        );
      });

      it('rejects an unknown variant and a wrong number of session keys with CodecError', () => {
        assert.throws(
          () =>
            buildReleaseHeldHtlcVariants({
              replyPath: replyPath(),
              variants: ['odd', 'both' as unknown as 'odd'],
              ec,
            }),
          { code: 'invalid', message: /release_held_htlc variant both/ },
        );
        assert.throws(
          () => buildReleaseHeldHtlcVariants({ replyPath: replyPath(), sessionKeys: [key(1)], ec }),
          {
            code: 'invalid',
            message: /session key/,
          },
        );
      });
    });

    describe('held_htlc_available per encoding variant', () => {
      const recipientPath = (): BlindedPath =>
        blindPath(
          key(0x07),
          [
            { nodeId: pId, data: { nextNodeId: rId } },
            { nodeId: rId, data: { pathId: key(0x99) } },
          ],
          ec,
        );
      // A host that knows only the odd alias: 72 is an unknown even type to it.
      const oddOnly = { ...DEFAULT_ASYNC_MESSAGE_TYPES, heldHtlcAvailable: 100n };

      /** Peel a message L built (L, then P, then R) and return what R receives. */
      async function receiveAtR(wire: Uint8Array, types = DEFAULT_ASYNC_MESSAGE_TYPES) {
        const atL = await peelOnionMessage(wire, ecdhFromPrivateKey(L, ec), { ec, types });
        assert.ok(atL.kind === 'forward', 'L forwards');
        const atP = await peelOnionMessage(atL.wireMessage, ecdhFromPrivateKey(P, ec), { ec, types });
        assert.ok(atP.kind === 'forward', 'P forwards');
        const atR = await peelOnionMessage(atP.wireMessage, ecdhFromPrivateKey(R, ec), { ec, types });
        assert.ok(atR.kind === 'receive', 'R receives');
        return atR;
      }

      it('builds odd then even by default, each with one number, sharing one reply path', async () => {
        const msgs = buildHeldHtlcAvailableVariants({
          messagePath: encodeBlindedPath(recipientPath()),
          replyPathId: pathId,
          ourNodeId: lId,
          prependOurNode: true,
          ec,
        });
        assert.deepEqual(
          msgs.map((m) => m.variant),
          ['odd', 'even'],
        );
        assert.equal(hex(msgs[0]!.firstNodeId), hex(lId), 'starts at our node (CLN inject)');
        assert.notEqual(hex(msgs[0]!.packet), hex(msgs[1]!.packet), 'separate packets');
        const [odd, even] = [await receiveAtR(msgs[0]!.wireMessage), await receiveAtR(msgs[1]!.wireMessage)];
        assert.ok(odd.payload.heldHtlcAvailableOdd && !odd.payload.heldHtlcAvailable, 'odd: only 73');
        assert.ok(even.payload.heldHtlcAvailable && !even.payload.heldHtlcAvailableOdd, 'even: only 72');
        assert.equal(odd.heldHtlcAvailable && even.heldHtlcAvailable, true);
        assert.equal(hex(odd.pathId!), hex(key(0x99)), 'R sees its own path_id');
        const replies = [odd, even].map((m) => hex(encodeBlindedPath(m.replyPath!)));
        assert.equal(replies[0], replies[1], 'one reply path for all variants');
        assert.equal(replies[0], hex(encodeBlindedPath(msgs[0]!.replyPath)), 'the one returned');
        // A release over it reaches L with the path_id we chose.
        const rel = buildReleaseHeldHtlc({ replyPath: odd.replyPath!, ec });
        const back = await peelOnionMessage(rel.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
        assert.equal(back.kind === 'receive' && hex(back.pathId!), hex(pathId));
      });

      it('the odd variant passes a host that knows only 73; the even one is refused there', async () => {
        const [odd, even] = buildHeldHtlcAvailableVariants({
          messagePath: recipientPath(),
          replyPathId: pathId,
          ourNodeId: lId,
          prependOurNode: true,
          ec,
        });
        const got = await receiveAtR(odd!.wireMessage, oddOnly);
        assert.ok(got.payload.heldHtlcAvailableOdd, 'odd alias understood');
        const atL = await peelOnionMessage(even!.wireMessage, ecdhFromPrivateKey(L, ec), {
          ec,
          types: oddOnly,
        });
        assert.ok(atL.kind === 'forward');
        const atP = await peelOnionMessage(atL.wireMessage, ecdhFromPrivateKey(P, ec), {
          ec,
          types: oddOnly,
        });
        assert.ok(atP.kind === 'forward');
        await assert.rejects(
          peelOnionMessage(atP.wireMessage, ecdhFromPrivateKey(R, ec), { ec, types: oddOnly }),
          { code: 'unknown_even' },
        );
      });

      it('is byte for byte the message a backend built by hand before', () => {
        const dest = recipientPath();
        const sessionKeys = [key(0x31), key(0x32)];
        const common = {
          replyPathId: pathId,
          ourNodeId: lId,
          prependOurNode: true,
          prefixSessionKey: key(0x41),
          replyPathSessionKey: key(0x51),
          ec,
        };
        const msgs = buildHeldHtlcAvailableVariants({ ...common, messagePath: dest, sessionKeys });
        const replyPath = decodeBlindedPath(buildReleasePath(lId, pathId, { sessionKey: key(0x51), ec }));
        const c = Uint8Array.of(0);
        const byHand = [{ heldHtlcAvailableOdd: c }, { heldHtlcAvailable: c }].map((p, i) =>
          buildOnionMessage({
            destination: dest,
            via: [lId],
            payload: { replyPath, ...p },
            sessionKey: sessionKeys[i]!,
            prefixSessionKey: key(0x41),
            ec,
          }),
        );
        assert.deepEqual(
          msgs.map((m) => hex(m.wireMessage)),
          byHand.map((m) => hex(m.wireMessage)),
        );
        const again = buildHeldHtlcAvailableVariants({ ...common, messagePath: dest, sessionKeys });
        assert.deepEqual(
          again.map((m) => hex(m.wireMessage)),
          msgs.map((m) => hex(m.wireMessage)),
          'deterministic with injected keys',
        );
      });

      it('builds only the configured variants, in order', async () => {
        const base = { messagePath: recipientPath(), replyPathId: pathId, ourNodeId: lId, ec };
        const even = buildHeldHtlcAvailableVariants({ ...base, variants: ['even'] });
        assert.deepEqual(
          even.map((m) => m.variant),
          ['even'],
        );
        assert.equal(hex(even[0]!.firstNodeId), hex(pId), 'no prepend: first hop is the intro node P');
        const atP = await peelOnionMessage(even[0]!.wireMessage, ecdhFromPrivateKey(P, ec), { ec });
        assert.ok(atP.kind === 'forward');
        const atR = await peelOnionMessage(atP.wireMessage, ecdhFromPrivateKey(R, ec), { ec });
        assert.ok(
          atR.kind === 'receive' && atR.payload.heldHtlcAvailable && !atR.payload.heldHtlcAvailableOdd,
        );
        assert.deepEqual(
          buildHeldHtlcAvailableVariants({ ...base, variants: ['even', 'odd'] }).map((m) => m.variant),
          ['even', 'odd'],
        );
        assert.deepEqual(buildHeldHtlcAvailableVariants({ ...base, variants: [] }), []);
      });

      it('does not prepend our node when the message path starts at us', async () => {
        const toL = buildReleasePath(lId, key(0x77), { ec });
        const [m] = buildHeldHtlcAvailableVariants({
          messagePath: toL,
          replyPathId: pathId,
          ourNodeId: lId,
          prependOurNode: true,
          variants: ['odd'],
          ec,
        });
        const got = await peelOnionMessage(m!.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
        assert.equal(got.kind === 'receive' && hex(got.pathId!), hex(key(0x77)), 'one layer, at L');
      });

      it('takes the intro node id for a path that names it by scid', async () => {
        const byScid: BlindedPath = {
          ...recipientPath(),
          firstNode: { scid: 0x0102030000040005n, direction: 1 },
        };
        const args = { messagePath: byScid, replyPathId: pathId, ourNodeId: lId, prependOurNode: true, ec };
        assert.throws(() => buildHeldHtlcAvailableVariants(args), {
          code: 'invalid',
          message: /introNodeId/,
        });
        const [m] = buildHeldHtlcAvailableVariants({ ...args, introNodeId: pId, variants: ['odd'] });
        assert.equal(hex(m!.firstNodeId), hex(lId));
        const atR = await receiveAtR(m!.wireMessage);
        assert.ok(atR.payload.heldHtlcAvailableOdd);
      });

      it('rejects an unknown variant and a wrong number of session keys with CodecError', () => {
        const base = { messagePath: recipientPath(), replyPathId: pathId, ourNodeId: lId, ec };
        assert.throws(
          () =>
            buildHeldHtlcAvailableVariants({
              ...base,
              variants: ['odd', 'both' as unknown as 'odd'],
            }),
          { code: 'invalid', message: /variant both/ },
        );
        assert.throws(() => buildHeldHtlcAvailableVariants({ ...base, sessionKeys: [key(1)] }), {
          code: 'invalid',
          message: /session key/,
        });
      });
    });
  });
}

describe('onion message codecs', () => {
  it('exports the default type numbers', () => {
    assert.deepEqual(DEFAULT_ASYNC_MESSAGE_TYPES, {
      heldHtlcAvailable: 72n,
      heldHtlcAvailableOdd: 73n,
      releaseHeldHtlc: 74n,
      releaseHeldHtlcOdd: 75n,
    });
  });

  it('rejects a 16-byte path_id for release paths', () => {
    assert.throws(() => buildReleasePath(allEcs()[0]!.publicKey(key(1)), new Uint8Array(16)), CodecError);
  });

  it('wire message round trip, with and without the type', () => {
    const m = { pathKey: allEcs()[0]!.publicKey(key(3)), packet: new Uint8Array(1366).fill(7) };
    for (const withType of [true, false]) {
      const back = decodeOnionMessage(encodeOnionMessage(m, withType), withType);
      assert.deepEqual(back, m);
    }
    assert.throws(() => decodeOnionMessage(encodeOnionMessage(m, false)), CodecError);
  });

  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const oddType = fc.bigInt({ min: 38n, max: 10000n }).map((n) => n * 2n + 1n);
  const payload: fc.Arbitrary<OnionMessagePayload> = fc
    .record(
      {
        replyPath: blindedPathValueArb,
        encryptedRecipientData: bytes(60),
        invoiceRequest: bytes(60),
        invoice: bytes(60),
        invoiceError: bytes(20),
        staticInvoice: bytes(60),
        heldHtlcAvailable: bytes(4),
        heldHtlcAvailableOdd: bytes(4),
        releaseHeldHtlc: bytes(4),
        releaseHeldHtlcOdd: bytes(4),
        unknown: fc
          .uniqueArray(oddType, { maxLength: 3 })
          .chain((ts) => fc.tuple(...ts.map((t) => bytes(10).map((value) => ({ type: t, value }))))),
      },
      { requiredKeys: [], noNullPrototype: true },
    )
    .map((p) => {
      if (p.unknown)
        p.unknown = p.unknown
          .filter((u) => u.type > 75n || u.type < 64n)
          .sort((a, b) => (a.type < b.type ? -1 : 1));
      if (p.unknown?.length === 0) delete p.unknown;
      return p;
    });

  it('property: onionmsg_tlv decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(payload, (p) => {
        assert.deepEqual(decodeOnionMessagePayload(encodeOnionMessagePayload(p)), p);
      }),
      { numRuns: 200 },
    );
  });

  it('property: blinded_path decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(blindedPathValueArb, (p) => {
        assert.deepEqual(decodeBlindedPath(encodeBlindedPath(p)), p);
      }),
      { numRuns: 200 },
    );
  });

  const point = fc
    .tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 }))
    .map(([p, x]) => Uint8Array.of(p, ...x));
  const wireMessage = fc.record({ pathKey: point, packet: bytes(1400) }, { noNullPrototype: true });

  it('property: onion_message decode(encode(x)) = x, with and without the type', () => {
    fc.assert(
      fc.property(wireMessage, fc.boolean(), (m, withType) => {
        assert.deepEqual(decodeOnionMessage(encodeOnionMessage(m, withType), withType), m);
      }),
      { numRuns: 200 },
    );
  });

  it('property: mutated onionmsg_tlv and onion_message encodings only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(payload.map((p) => encodeOnionMessagePayload(p))), (b) =>
        onlyCodecErrors(() => decodeOnionMessagePayload(b)),
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(mutated(wireMessage.map((m) => encodeOnionMessage(m))), fc.boolean(), (b, withType) =>
        onlyCodecErrors(() => decodeOnionMessage(b, withType)),
      ),
      { numRuns: 300 },
    );
  });

  it('property: random and mutated bytes only ever raise CodecError', async () => {
    const ec = allEcs()[0]!;
    const good = h(v.decrypt.hops[3]!.onion_message);
    const ecdh = ecdhFromPrivateKey(h(v.decrypt.hops[3]!.privkey), ec);
    const onlyCodec = (e: unknown): void => {
      if (!(e instanceof CodecError)) throw e;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          bytes(400),
          fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const m = Uint8Array.from(good);
            m[i]! ^= x;
            return m;
          }),
        ),
        async (buf) => {
          try {
            await peelOnionMessage(buf, ecdh, { ec });
          } catch (e) {
            onlyCodec(e);
          }
          for (const f of [decodeOnionMessagePayload, decodeBlindedPath, decodeOnionMessage]) {
            try {
              f(buf);
            } catch (e) {
              onlyCodec(e);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
