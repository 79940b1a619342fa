import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClnBackend, RELEASE_KEY_LABEL } from '../../../plugin/backends/cln/backend.js';
import { parseSettings } from '../../../plugin/backends/cln/manifest.js';
import { ClnRpcError, type RpcCaller } from '../../../plugin/backends/cln/rpc-client.js';
import type { HostEvents, InterceptedHtlc, Verdict } from '../../../plugin/hold/backend.js';
import { nullLogger } from '../../../plugin/ops/log.js';

const NODE = '02' + '11'.repeat(32);
const types = parseSettings({}, '/tmp').types;

function fakeRpc(handlers: Record<string, (p: Record<string, unknown>) => unknown>): RpcCaller & {
  calls: { method: string; params: Record<string, unknown> }[];
} {
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  return {
    calls,
    call: async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
      calls.push({ method, params });
      const h = handlers[method];
      if (!h) throw new Error(`no ${method}`);
      return (await h(params)) as T;
    },
  };
}

function recorder(verdict: () => Promise<Verdict> = () => new Promise(() => {})): HostEvents & {
  htlcs: InterceptedHtlc[];
  releases: string[];
  blocks: number[];
} {
  const htlcs: InterceptedHtlc[] = [];
  const releases: string[] = [];
  const blocks: number[] = [];
  return {
    htlcs,
    releases,
    blocks,
    htlc: (h) => (htlcs.push(h), verdict()),
    release: (p) => void releases.push(Buffer.from(p).toString('hex')),
    block: (b) => void blocks.push(b),
  };
}

const base = { getinfo: () => ({ id: NODE, blockheight: 100 }) };

test('backend: node id and height from getinfo, release key from makesecret with a fixed label', async () => {
  const rpc = fakeRpc({ ...base, makesecret: () => ({ secret: 'ab'.repeat(32) }) });
  const b = new ClnBackend({ rpc, types, logger: nullLogger });
  assert.equal(await b.currentHeight(), 100);
  assert.equal(await b.nodeId(), NODE);
  assert.equal(Buffer.from(await b.releaseKey()).toString('hex'), 'ab'.repeat(32));
  assert.deepEqual(rpc.calls.find((c) => c.method === 'makesecret')?.params, { string: RELEASE_KEY_LABEL });
  await assert.rejects(b.ecdh(new Uint8Array(33)), /no node-key ECDH/);
});

test('backend: release only for onion messages carrying a release type; heights only forward', async () => {
  const b = new ClnBackend({ rpc: fakeRpc(base), types, logger: nullLogger });
  const ev = recorder();
  await b.start(ev);
  const secret = 'cd'.repeat(32);
  const call = (fields: unknown): Promise<unknown> =>
    b.onionMessageHook.handle({ onion_message: { pathsecret: secret, unknown_fields: fields } }, 'x');
  assert.deepEqual(await call([{ number: 73, value: '' }]), { result: 'continue' });
  assert.deepEqual(await call([{ number: 75, value: '' }]), { result: 'continue' });
  assert.deepEqual(await call('junk'), { result: 'continue' });
  await b.onionMessageHook.handle({ onion_message: { pathsecret: 'zz' } }, 'x');
  assert.deepEqual(ev.releases, [secret]);
  b.onBlockAdded({ block_added: { hash: '00'.repeat(32), height: 101 } });
  b.onBlockAdded({ block_added: { hash: '00'.repeat(32), height: 99 } });
  b.onBlockAdded({ nonsense: true });
  b.onBlockAdded({ block_added: { hash: '00'.repeat(32), height: 102 } });
  assert.deepEqual(ev.blocks, [101, 102]);
});

/** pay() of invoice 'lnbc1' for at most 10 msat by block 150: for the xpay failure cases. */
const invoicePay = {
  paymentHash: new Uint8Array(32),
  request: {
    invoice: 'lnbc1',
    amtToForwardMsat: undefined,
    outgoingNodeId: undefined,
    keysendPreimage: undefined,
  },
  maxAmountMsat: 10n,
  maxExpiry: 150,
};

test('backend: xpay with the invoice, the amount, the fee budget and a relative maxdelay; a keysend whose preimage does not match the hash refused', async () => {
  const rpc = fakeRpc({ ...base, xpay: () => ({ payment_preimage: '11'.repeat(32) }) });
  const b = new ClnBackend({ rpc, types, logger: nullLogger });
  const hash = new Uint8Array(32);
  const ok = await b.pay({
    paymentHash: hash,
    request: {
      invoice: 'lnbc1',
      amtToForwardMsat: 9000n,
      outgoingNodeId: undefined,
      keysendPreimage: undefined,
    },
    maxAmountMsat: 9500n,
    maxExpiry: 150,
  });
  assert.deepEqual(ok, { ok: true, preimage: new Uint8Array(32).fill(0x11) });
  assert.deepEqual(rpc.calls.find((c) => c.method === 'xpay')?.params, {
    invstring: 'lnbc1',
    maxdelay: 50,
    amount_msat: 9000n,
    maxfee: 500n,
  });
  const ks = await b.pay({
    paymentHash: hash,
    request: {
      invoice: undefined,
      amtToForwardMsat: 1n,
      outgoingNodeId: NODE,
      keysendPreimage: new Uint8Array(32),
    },
    maxAmountMsat: 10n,
    maxExpiry: 150,
  });
  assert.deepEqual(ks, { ok: false, reason: "the sender's preimage does not match the payment hash" });
  const failing = new ClnBackend({
    rpc: fakeRpc({ ...base, xpay: () => Promise.reject(new ClnRpcError('xpay', 209, 'no route')) }),
    types,
    logger: nullLogger,
  });
  const r = await failing.pay(invoicePay);
  assert.deepEqual(r, { ok: false, reason: 'xpay failed (209): no route' });
  // A lost connection is not a failed payment: it may be in flight, so pay() throws.
  const cut = new ClnBackend({
    rpc: fakeRpc({ ...base, xpay: () => Promise.reject(new ClnRpcError('xpay', -1, 'rpc socket closed')) }),
    types,
    logger: nullLogger,
  });
  await assert.rejects(cut.pay(invoicePay), ClnRpcError);
});

test('backend: trackPayment reads listpays (none, complete, failed)', async () => {
  let pays: unknown[] = [];
  const b = new ClnBackend({
    rpc: fakeRpc({ ...base, listpays: () => ({ pays }) }),
    types,
    logger: nullLogger,
  });
  const h = new Uint8Array(32);
  assert.equal(await b.trackPayment(h), undefined);
  pays = [{ status: 'failed' }, { status: 'complete', preimage: '22'.repeat(32) }];
  assert.deepEqual(await b.trackPayment(h), { ok: true, preimage: new Uint8Array(32).fill(0x22) });
  pays = [{ status: 'failed' }];
  assert.equal((await b.trackPayment(h))?.ok, false);
});

test('backend: when the engine dies, waiting async HTLCs are failed and plain ones continue', async () => {
  const b = new ClnBackend({ rpc: fakeRpc(base), types, logger: nullLogger });
  await b.start(recorder());
  const params = (extra: boolean): Record<string, unknown> => ({
    onion: { payload: '00', next_onion: '', shared_secret: '00'.repeat(32) },
    htlc: {
      short_channel_id: '1x1x1',
      id: 1,
      amount_msat: 1000,
      cltv_expiry: 200,
      cltv_expiry_relative: 100,
      payment_hash: '00'.repeat(32),
      // hold_htlc (75537 = BigSize fe00012711), empty value
      ...(extra ? { extra_tlvs: 'fe00012711' + '00' } : {}),
    },
  });
  const waiting = b.htlcAcceptedHook.handle(params(true), 'a');
  b.engineDied();
  assert.deepEqual(await waiting, { result: 'fail', failure_message: '2002' });
  assert.deepEqual(await b.htlcAcceptedHook.handle(params(false), 'b'), { result: 'continue' });
  assert.deepEqual(await b.htlcAcceptedHook.handle(params(true), 'c'), {
    result: 'fail',
    failure_message: '2002',
  });
});
