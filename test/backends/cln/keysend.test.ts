import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { PayRequest } from '../../../plugin/hold/backend.js';
import {
  KEYSEND_PREIMAGE_TYPE,
  buildKeysendOnion,
  payKeysend,
  type RouteHop,
} from '../../../plugin/backends/cln/keysend.js';
import { ClnRpcError, type RpcCaller } from '../../../plugin/backends/cln/rpc-client.js';
import { activeEc, ecdhFromPrivateKey } from '../../../plugin/protocol/ec.js';
import { decodeHopPayload } from '../../../plugin/protocol/hop-payload.js';
import { peelPaymentOnion } from '../../../plugin/protocol/payment-onion.js';
import { parseScid } from '../../../plugin/protocol/short-channel-id.js';

const ec = activeEc();
const keyOf = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const RL = keyOf(0x11);
const R = keyOf(0x22);
const RL_ID = bytesToHex(ec.publicKey(RL));
const R_ID = bytesToHex(ec.publicKey(R));
const PREIMAGE = keyOf(0x5a);
const HASH = sha256(PREIMAGE);
const HEIGHT = 500;

const L_ID = bytesToHex(ec.publicKey(keyOf(0x33)));
// As getroutes answers for L -> RL -> R, 100000 msat to R, RL charging 1001 msat and 40 blocks.
const PATH = [
  {
    short_channel_id_dir: '103x1x0/0',
    node_id_in: L_ID,
    node_id_out: RL_ID,
    amount_in_msat: 101001,
    amount_out_msat: 101001,
    cltv_in: 80,
    cltv_out: 80,
  },
  {
    short_channel_id_dir: '110x2x1/1',
    node_id_in: RL_ID,
    node_id_out: R_ID,
    amount_in_msat: 101001,
    amount_out_msat: 100000,
    cltv_in: 80,
    cltv_out: 40,
  },
];
const HOPS: RouteHop[] = PATH.map((h) => ({
  id: h.node_id_out,
  channel: h.short_channel_id_dir.split('/')[0]!,
  amountMsat: BigInt(h.amount_out_msat),
  delay: h.cltv_out,
}));

/** Peels `onion` as RL, then as R, and checks every layer says what the route asked. */
async function checkOnion(onion: Uint8Array): Promise<void> {
  const known = { knownEven: [KEYSEND_PREIMAGE_TYPE] };
  const atRl = await peelPaymentOnion({ onion, paymentHash: HASH, ecdh: ecdhFromPrivateKey(RL) });
  assert.ok(atRl.next, 'RL is not the final hop');
  const p1 = decodeHopPayload(atRl.payload, known);
  assert.equal(p1.shortChannelId, parseScid('110x2x1'));
  assert.equal(p1.amtToForward, 100000n);
  assert.equal(p1.outgoingCltvValue, HEIGHT + 40);
  assert.equal(p1.customRecords.size, 0, 'no preimage for the intermediate hop');

  const atR = await peelPaymentOnion({ onion: atRl.next, paymentHash: HASH, ecdh: ecdhFromPrivateKey(R) });
  assert.equal(atR.next, null, 'R is the final hop');
  const p2 = decodeHopPayload(atR.payload, known);
  assert.equal(p2.amtToForward, 100000n);
  assert.equal(p2.outgoingCltvValue, HEIGHT + 40);
  assert.equal(p2.shortChannelId, undefined);
  assert.equal(p2.paymentData, undefined, 'keysend carries no payment_secret');
  assert.deepEqual(p2.customRecords.get(KEYSEND_PREIMAGE_TYPE), PREIMAGE);
}

function fakeRpc(answers: Record<string, (p: Record<string, unknown>) => unknown>): {
  rpc: RpcCaller;
  calls: { method: string; params: Record<string, unknown> }[];
} {
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  const rpc: RpcCaller = {
    call: async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
      calls.push({ method, params });
      const f = answers[method];
      if (!f) throw new Error(`unexpected ${method}`);
      return f(params) as T;
    },
  };
  return { rpc, calls };
}

const stdAnswers = (): Record<string, (p: Record<string, unknown>) => unknown> => ({
  getinfo: () => ({ blockheight: HEIGHT, id: L_ID }),
  getroutes: () => ({ probability_ppm: 900000, routes: [{ path: PATH }] }),
  sendonion: () => ({ status: 'pending' }),
  waitsendpay: () => ({ status: 'complete', payment_preimage: bytesToHex(PREIMAGE) }),
});

function req(over: Partial<PayRequest> = {}, preimage: Uint8Array = PREIMAGE): PayRequest {
  return {
    paymentHash: HASH,
    request: {
      invoice: undefined,
      amtToForwardMsat: 100000n,
      outgoingNodeId: R_ID,
      keysendPreimage: preimage,
    },
    maxAmountMsat: 102000n,
    maxExpiry: HEIGHT + 100,
    ...over,
  };
}

describe('CLN keysend delivery with the sender preimage', () => {
  it('builds an onion that peels at each hop to the route and the preimage record', async () => {
    const { onion, sharedSecrets } = buildKeysendOnion({
      route: HOPS,
      height: HEIGHT,
      preimage: PREIMAGE,
      paymentHash: HASH,
    });
    assert.equal(sharedSecrets.length, 2);
    await checkOnion(onion);
  });

  it('sends that onion with sendonion and returns the preimage from waitsendpay', async () => {
    const { rpc, calls } = fakeRpc(stdAnswers());
    const r = await payKeysend(rpc, req());
    assert.deepEqual(r, { ok: true, preimage: PREIMAGE });
    const route = calls.find((c) => c.method === 'getroutes')!.params;
    assert.equal(route.source, L_ID);
    assert.equal(route.destination, R_ID);
    assert.equal(route.amount_msat, '100000');
    assert.equal(route.maxfee_msat, '2000', 'the fee limit goes to the route search too');
    const send = calls.find((c) => c.method === 'sendonion')!.params;
    assert.deepEqual(send.first_hop, { id: RL_ID, amount_msat: '101001', delay: 80 });
    assert.equal(send.payment_hash, bytesToHex(HASH));
    assert.equal((send.shared_secrets as string[]).length, 2);
    await checkOnion(hexToBytes(send.onion as string));
    assert.equal(calls.find((c) => c.method === 'waitsendpay')!.params.payment_hash, bytesToHex(HASH));
  });

  it('never sends a route costing more than the fee limit', async () => {
    const { rpc, calls } = fakeRpc(stdAnswers());
    const r = await payKeysend(rpc, req({ maxAmountMsat: 101000n }));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /above the limit 101000/);
    assert.ok(!calls.some((c) => c.method === 'sendonion'));
  });

  it('never sends a route whose expiry passes maxExpiry', async () => {
    const { rpc, calls } = fakeRpc(stdAnswers());
    const r = await payKeysend(rpc, req({ maxExpiry: HEIGHT + 79 }));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /expiry 580/);
    assert.ok(!calls.some((c) => c.method === 'sendonion'));
  });

  it('refuses a preimage that does not match the hash, before any RPC', async () => {
    const { rpc, calls } = fakeRpc(stdAnswers());
    const r = await payKeysend(rpc, req({}, keyOf(0x01)));
    assert.equal(r.ok, false);
    assert.equal(calls.length, 0);
  });

  it('reports no route and a routing failure clearly; a lost connection throws', async () => {
    const noRoute = fakeRpc({
      ...stdAnswers(),
      getroutes: () => {
        throw new ClnRpcError('getroutes', 205, 'Could not find a route');
      },
    });
    const a = await payKeysend(noRoute.rpc, req());
    assert.match(!a.ok ? a.reason : '', /no route to .*Could not find a route/);

    const failed = fakeRpc({
      ...stdAnswers(),
      waitsendpay: () => {
        throw new ClnRpcError('waitsendpay', 203, 'failed', {
          failcodename: 'WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS',
          erring_node: R_ID,
        });
      },
    });
    const b = await payKeysend(failed.rpc, req());
    assert.match(!b.ok ? b.reason : '', /WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS at 0/);

    const lost = fakeRpc({
      ...stdAnswers(),
      waitsendpay: () => {
        throw new ClnRpcError('waitsendpay', -1, 'socket closed');
      },
    });
    await assert.rejects(payKeysend(lost.rpc, req()), ClnRpcError);
  });

  it('fails safely on a malformed getroutes answer', async () => {
    const { rpc, calls } = fakeRpc({
      ...stdAnswers(),
      getroutes: () => ({ routes: [{ path: [{ node_id_out: 'zz' }] }] }),
    });
    const r = await payKeysend(rpc, req());
    assert.equal(r.ok, false);
    assert.ok(!calls.some((c) => c.method === 'sendonion'));
  });
});
