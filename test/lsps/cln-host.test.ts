// The CLN LSPS host's framing: custommsg payloads carry the 2-byte type first, sendcustommsg wants
// it back, the hook always answers continue (other types and garbage included) and hands 37913 on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClnLspsHost, parseCustomMsg } from '../../plugin/backends/cln/lsps-host.js';
import type { RpcCaller } from '../../plugin/backends/cln/rpc-client.js';
import { nullLogger } from '../../plugin/ops/log.js';

const PEER = '02' + 'ab'.repeat(32);

function rpc(answers: Record<string, unknown>): RpcCaller & { calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  return {
    calls,
    call: <T>(method: string, params?: Record<string, unknown>) => {
      calls.push([method, params]);
      return Promise.resolve(answers[method] as T);
    },
  };
}

test('parseCustomMsg splits off the type and refuses malformed payloads', () => {
  assert.deepEqual(parseCustomMsg({ peer_id: PEER, payload: '94197b7d' }), {
    peer: PEER,
    type: 37913,
    body: Uint8Array.of(0x7b, 0x7d),
  });
  for (const bad of [
    null,
    { peer_id: PEER },
    { peer_id: 'zz', payload: '9419' },
    { peer_id: PEER, payload: '94' },
    { peer_id: PEER, payload: '9419x' },
    { peer_id: PEER, payload: 123 },
  ])
    assert.equal(parseCustomMsg(bad), undefined, JSON.stringify(bad));
});

test('the hook answers continue to everything and delivers only 37913 after start', async () => {
  const host = new ClnLspsHost(rpc({}), 37913, nullLogger);
  const got: [string, string][] = [];
  assert.deepEqual(await host.custommsgHook.handle({ peer_id: PEER, payload: '94197b7d' }, 1), {
    result: 'continue',
  });
  await host.start((p, b) => got.push([p, new TextDecoder().decode(b)]));
  for (const payload of ['94197b7d', '01017b7d', 'zz'])
    assert.deepEqual(await host.custommsgHook.handle({ peer_id: PEER, payload }, 2), { result: 'continue' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [[PEER, '{}']]);
  assert.ok(host.custommsgHook.validate({ result: 'continue' }));
  assert.ok(!host.custommsgHook.validate({ result: 'continue', extra: 1 }));
});

test('send prefixes the type; signmessage yields the zbase field; listpeers tells presence', async () => {
  const r = rpc({
    signmessage: { signature: 'ab', recid: '00', zbase: 'd9tibmnic9' },
    listpeers: { peers: [{ id: PEER, connected: true }] },
  });
  const host = new ClnLspsHost(r, 37913, nullLogger);
  await host.send(PEER, new TextEncoder().encode('{}'));
  assert.deepEqual(r.calls[0], ['sendcustommsg', { node_id: PEER, msg: '94197b7d' }]);
  assert.equal(await host.signMessage('hello'), 'd9tibmnic9');
  assert.deepEqual(r.calls[1], ['signmessage', { message: 'hello' }]);
  assert.equal(await host.isConnected(PEER), true);
  assert.equal(
    await new ClnLspsHost(rpc({ listpeers: { peers: [] } }), 37913, nullLogger).isConnected(PEER),
    false,
  );
});
