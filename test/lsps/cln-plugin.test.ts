// The built CLN plugin with async-trampoline-lsps5 on, under the lightningd stand-in: a client's
// 37913 message arrives on the custommsg hook (answered continue), the answer goes out with
// sendcustommsg, and webhook_registered is POSTed signed with what signmessage returned.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { LightningdStandin, hex } from '../helpers/lightningd-standin.js';
import { lnSign, lnVerify } from '../../plugin/lsps/ln-signature.js';
import { signedMessage } from '../../plugin/lsps/lsps5/notification.js';
import { Receiver } from './sim-host.js';

const CLIENT = '02' + 'c1'.repeat(32);
const standins: LightningdStandin[] = [];
const receivers: Receiver[] = [];
after(async () => {
  for (const s of standins) await s.close();
  for (const r of receivers) await r.close();
});

test('LSPS0 over custommsg/sendcustommsg and a signed webhook call from the CLN plugin', async () => {
  const hook = await Receiver.start();
  receivers.push(hook);
  const s = new LightningdStandin({
    options: { 'async-trampoline-lsps5': true, 'async-trampoline-lsps5-allow-http': true },
  });
  standins.push(s);
  const sent: { node_id: string; msg: string }[] = [];
  // As CLN's signmessage: zbase is the LN signature by the node key.
  s.rpcHandlers.set('signmessage', (p) => ({ zbase: lnSign(utf8ToBytes(String(p.message)), s.nodeKey) }));
  s.rpcHandlers.set('sendcustommsg', (p) => {
    sent.push({ node_id: String(p.node_id), msg: String(p.msg) });
    return { status: 'Message sent to connectd for delivery' };
  });
  s.rpcHandlers.set('listpeers', () => ({ peers: [] }));
  await s.start();

  const request = (json: string): string => '9419' + Buffer.from(json, 'utf8').toString('hex');
  const answer = async (n: number): Promise<Record<string, unknown>> => {
    for (let i = 0; sent.length < n && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
    const m = sent[n - 1]!;
    assert.equal(m.node_id, CLIENT);
    assert.ok(m.msg.startsWith('9419'), 'type 37913 first');
    return JSON.parse(Buffer.from(m.msg.slice(4), 'hex').toString('utf8')) as Record<string, unknown>;
  };

  const r1 = await s.request('custommsg', {
    peer_id: CLIENT,
    payload: request('{"jsonrpc":"2.0","method":"lsps0.list_protocols","params":{},"id":"a1"}'),
  });
  assert.deepEqual(r1.result, { result: 'continue' });
  assert.deepEqual(await answer(1), { jsonrpc: '2.0', id: 'a1', result: { protocols: [5] } });

  const set = JSON.stringify({
    jsonrpc: '2.0',
    method: 'lsps5.set_webhook',
    params: { app_name: 'cln wallet', webhook: hook.url() },
    id: 'a2',
  });
  await s.request('custommsg', { peer_id: CLIENT, payload: request(set) });
  assert.deepEqual((await answer(2)).result, { num_webhooks: 1, max_webhooks: 4, no_change: false });
  await hook.waitCalls(1);
  const call = hook.calls[0]!;
  const ts = String(call.headers['x-lsps5-timestamp']);
  assert.ok(
    lnVerify(
      utf8ToBytes(signedMessage(ts, call.body)),
      String(call.headers['x-lsps5-signature']),
      hex(s.nodeId),
    ),
  );
  assert.equal(call.body, '{"jsonrpc":"2.0","method":"lsps5.webhook_registered","params":{}}');

  // Other custom messages pass on untouched and get no answer.
  assert.deepEqual((await s.request('custommsg', { peer_id: CLIENT, payload: '8001abcd' })).result, {
    result: 'continue',
  });
  assert.equal(s.stdoutGarbage.length, 0);
  // lightningd closing stdin stops the plugin cleanly, LSPS service included.
  assert.equal((await s.stop())?.code, 0);
});
