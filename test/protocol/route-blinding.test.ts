import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import { allEcs, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import {
  type EncryptedData,
  decodeEncryptedData,
  encodeEncryptedData,
} from '../../plugin/protocol/encrypted-data.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import {
  blindHops,
  blindPath,
  buildBlindedPath,
  padToEqualLength,
  unblindHop,
} from '../../plugin/protocol/route-blinding.js';
import { readVector } from '../helpers/paths.js';
import { hex as h, toHex as hex } from './codec-fuzz.js';

const FILE = 'bolt04/route-blinding-test.json';

type Tlvs = Record<string, unknown>;
interface GenHop {
  alias: string;
  session_key?: string;
  node_id: string;
  tlvs: Tlvs;
  encoded_tlvs: string;
  path_privkey: string;
  path_key: string;
  shared_secret: string;
  encrypted_data: string;
  blinded_node_id: string;
}
interface Vector {
  generate: { hops: GenHop[] };
  route: {
    first_node_id: string;
    first_path_key: string;
    hops: { blinded_node_id: string; encrypted_data: string }[];
  };
  unblind: {
    hops: {
      alias: string;
      node_privkey: string;
      path_key: string;
      blinded_privkey: string;
      decrypted_data: string;
      next_path_key: string;
      next_path_key_override?: string;
    }[];
  };
}
const v = readVector<Vector>(FILE);

/** "0x0x1729" -> the u64 short channel id. */
function scid(s: string): bigint {
  const [b, t, o] = s.split('x').map((x) => BigInt(x));
  return (b! << 40n) | (t! << 16n) | o!;
}
function features(bits: number[]): Uint8Array {
  if (bits.length === 0) return new Uint8Array(0);
  const len = Math.floor(Math.max(...bits) / 8) + 1;
  const out = new Uint8Array(len);
  for (const b of bits) out[len - 1 - Math.floor(b / 8)]! |= 1 << (b % 8);
  return out;
}
/** The vector's JSON description of an encrypted_data_tlv, as our type. */
function fromJson(t: Tlvs): EncryptedData {
  const d: EncryptedData = {};
  for (const [k, val] of Object.entries(t)) {
    if (k === 'padding') d.padding = h(val as string);
    else if (k === 'short_channel_id') d.shortChannelId = scid(val as string);
    else if (k === 'next_node_id') d.nextNodeId = h(val as string);
    else if (k === 'path_id') d.pathId = h(val as string);
    else if (k === 'next_path_key_override') d.nextPathKeyOverride = h(val as string);
    else if (k === 'payment_relay') {
      const r = val as {
        cltv_expiry_delta: number;
        fee_proportional_millionths: number;
        fee_base_msat?: number;
      };
      d.paymentRelay = {
        cltvExpiryDelta: r.cltv_expiry_delta,
        feeProportionalMillionths: r.fee_proportional_millionths,
        feeBaseMsat: BigInt(r.fee_base_msat ?? 0),
      };
    } else if (k === 'payment_constraints') {
      const c = val as { max_cltv_expiry: number; htlc_minimum_msat: number };
      d.paymentConstraints = {
        maxCltvExpiry: c.max_cltv_expiry,
        htlcMinimumMsat: BigInt(c.htlc_minimum_msat),
      };
    } else if (k === 'allowed_features')
      d.allowedFeatures = features((val as { features: number[] }).features);
    else if (k.startsWith('unknown_tag_'))
      (d.unknown ??= []).push({ type: BigInt(k.slice('unknown_tag_'.length)), value: h(val as string) });
    else throw new Error(`${FILE}: unexpected tlv ${k}`);
  }
  return d;
}

describe('encrypted_data_tlv against route-blinding-test.json', () => {
  for (const hop of v.generate.hops) {
    it(`${hop.alias}: encode(tlvs) = encoded_tlvs and back`, () => {
      const d = fromJson(hop.tlvs);
      assert.equal(
        hex(encodeEncryptedData(d)),
        hop.encoded_tlvs,
        `${FILE} generate ${hop.alias}: encoded_tlvs`,
      );
      assert.deepEqual(
        decodeEncryptedData(h(hop.encoded_tlvs)),
        d,
        `${FILE} generate ${hop.alias}: decoded tlvs`,
      );
    });
  }
});

for (const ec of allEcs()) {
  describe(`route blinding (${ec.name})`, () => {
    const g = v.generate.hops;
    // Bob's route Bob -> Carol (session 0202..) concatenated with Eve's route Dave -> Eve (0101..).
    const first = blindHops(
      h(g[0]!.session_key!),
      g.slice(0, 2).map((x) => ({ nodeId: h(x.node_id), data: fromJson(x.tlvs) })),
      ec,
    );
    const second = blindHops(
      h(g[2]!.session_key!),
      g.slice(2).map((x) => ({ nodeId: h(x.node_id), data: h(x.encoded_tlvs) })),
      ec,
    );

    it('generates every hop as in the vector', () => {
      [...first, ...second].forEach((d, i) => {
        const want = g[i]!;
        const where = `${FILE} generate ${want.alias}`;
        assert.equal(hex(d.pathKey), want.path_key, `${where}: path_key`);
        assert.equal(hex(d.sharedSecret), want.shared_secret, `${where}: shared_secret`);
        assert.equal(hex(d.blindedNodeId), want.blinded_node_id, `${where}: blinded_node_id`);
        assert.equal(hex(d.encryptedRecipientData), want.encrypted_data, `${where}: encrypted_data`);
        assert.equal(hex(ec.publicKey(h(want.path_privkey))), want.path_key, `${where}: path_privkey`);
      });
    });

    it('builds the route section via blindPath', () => {
      const p = blindPath(
        h(g[0]!.session_key!),
        g.slice(0, 2).map((x) => ({ nodeId: h(x.node_id), data: h(x.encoded_tlvs) })),
        ec,
      );
      assert.equal(
        hex((p.firstNode as { nodeId: Uint8Array }).nodeId),
        v.route.first_node_id,
        `${FILE} route: first_node_id`,
      );
      assert.equal(hex(p.firstPathKey), v.route.first_path_key, `${FILE} route: first_path_key`);
      p.hops.forEach((x, i) =>
        assert.equal(
          hex(x.blindedNodeId),
          v.route.hops[i]!.blinded_node_id,
          `${FILE} route hop ${i}: blinded_node_id`,
        ),
      );
    });

    it('unblinds every hop with its node key', async () => {
      for (const hop of v.unblind.hops) {
        const where = `${FILE} unblind ${hop.alias}`;
        const i = v.unblind.hops.indexOf(hop);
        const r = await unblindHop({
          pathKey: h(hop.path_key),
          encryptedRecipientData: h(v.route.hops[i]!.encrypted_data),
          ecdh: ecdhFromPrivateKey(h(hop.node_privkey), ec),
          ec,
        });
        assert.equal(hex(r.plaintext), hop.decrypted_data, `${where}: decrypted_data`);
        assert.equal(hex(r.derivedNextPathKey), hop.next_path_key, `${where}: next_path_key`);
        assert.equal(
          hex(r.nextPathKey),
          hop.next_path_key_override ?? hop.next_path_key,
          `${where}: path key handed on`,
        );
        assert.equal(
          hex(ec.privMul(h(hop.node_privkey), r.blindingTweak)),
          hop.blinded_privkey,
          `${where}: blinded_privkey`,
        );
      }
    });

    it('fails to decrypt with the wrong node key', async () => {
      await assert.rejects(
        unblindHop({
          pathKey: h(v.unblind.hops[0]!.path_key),
          encryptedRecipientData: h(v.route.hops[0]!.encrypted_data),
          ecdh: ecdhFromPrivateKey(h(v.unblind.hops[1]!.node_privkey), ec),
          ec,
        }),
        CodecError,
      );
    });

    it('builds paths with dummy hops and equal-length padding that unblind hop by hop', async () => {
      const keys = [0x51, 0x52, 0x53].map((n) => new Uint8Array(32).fill(n));
      const ids = keys.map((k) => ec.publicKey(k));
      const pathId = new Uint8Array(32).fill(0xee);
      const path = buildBlindedPath(ids, { pathId }, { dummyHops: 2, pad: true, ec });
      assert.equal(path.hops.length, 5, 'three nodes + two dummies');
      const lens = new Set(path.hops.map((x) => x.encryptedRecipientData.length));
      assert.equal(lens.size, 1, 'every hop the same length');
      const owner = [0, 1, 2, 2, 2];
      let pk = path.firstPathKey;
      for (let i = 0; i < 5; i++) {
        const r = await unblindHop({
          pathKey: pk,
          encryptedRecipientData: path.hops[i]!.encryptedRecipientData,
          ecdh: ecdhFromPrivateKey(keys[owner[i]!]!, ec),
          ec,
        });
        if (i < 4) assert.equal(hex(r.data.nextNodeId!), hex(ids[owner[i + 1]!]!), `hop ${i}: next_node_id`);
        else assert.equal(hex(r.data.pathId!), hex(pathId), 'final hop: path_id');
        pk = r.nextPathKey;
      }
      assert.ok(encodeBlindedPath(path).length > 0);
    });
  });
}

describe('padToEqualLength', () => {
  it('equalises lengths across the 253-byte padding header boundary', () => {
    const sizes = [0, 1, 5, 100, 251, 252, 253, 254, 300];
    for (const big of sizes) {
      const datas: EncryptedData[] = [{ pathId: new Uint8Array(big) }, {}, { shortChannelId: 1n }];
      const lens = new Set(padToEqualLength(datas).map((d) => encodeEncryptedData(d).length));
      assert.equal(lens.size, 1, `sizes with a ${big}-byte path_id`);
    }
  });
});
