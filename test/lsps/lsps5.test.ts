// The LSPS5 service end to end over a simulated host: registration over LSPS0 with the spec's
// results and errors, durability, signed webhook calls a verifier accepts, the rate limit, and
// delivery that a dead or hanging receiver cannot hold up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { lnVerify } from '../../plugin/lsps/ln-signature.js';
import { DEFAULT_LSPS5, startLsps, type Lsps5Config, type RunningLsps } from '../../plugin/lsps/lsps.js';
import { signedMessage } from '../../plugin/lsps/lsps5/notification.js';
import { memoryLogger } from '../../plugin/ops/log.js';
import { Receiver, SimLspsHost, deadUrl, type WebhookCall } from './sim-host.js';

const CLIENT = '02' + 'c1'.repeat(32);
const OTHER = '03' + 'd2'.repeat(32);
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+00:00$/;

/** What a notification delivery service must check (bLIP-55), over the bytes it received. */
function verifyCall(call: WebhookCall, lspNodeId: string): { method: string; params: unknown } {
  assert.equal(call.method, 'POST');
  assert.equal(call.headers['content-type'], 'application/json');
  const ts = call.headers['x-lsps5-timestamp'];
  const sig = call.headers['x-lsps5-signature'];
  assert.ok(typeof ts === 'string' && TS.test(ts), `timestamp ${String(ts)}`);
  assert.ok(
    typeof sig === 'string' && /^[ybndrfg8ejkmcpqxot1uwisza345h769]{104}$/.test(sig),
    `signature ${String(sig)}`,
  );
  assert.ok(
    lnVerify(utf8ToBytes(signedMessage(ts, call.body)), sig, lspNodeId),
    'signature verifies against the LSP',
  );
  const n = JSON.parse(call.body) as { jsonrpc: string; method: string; params: unknown };
  assert.equal(n.jsonrpc, '2.0');
  // LDK re-serialises the body before verifying: it must already be in that form.
  assert.equal(call.body, JSON.stringify({ jsonrpc: '2.0', method: n.method, params: n.params }));
  return { method: n.method, params: n.params };
}

describe('LSPS5 service', () => {
  let dir: string;
  let host: SimLspsHost;
  let lsps: RunningLsps | undefined;
  let log: ReturnType<typeof memoryLogger>;
  const receivers: Receiver[] = [];

  const start = async (over: Partial<Lsps5Config> = {}): Promise<RunningLsps> => {
    lsps = await startLsps({
      host,
      dataDir: dir,
      nodeId: host.nodeId,
      log,
      rateLimit: { burst: 1000, perSecond: 1000 },
      config: { ...DEFAULT_LSPS5, allowHttp: true, retryBaseMs: 20, retryMaxMs: 50, maxAttempts: 3, ...over },
    });
    return lsps;
  };
  const receiver = async (): Promise<Receiver> => {
    const r = await Receiver.start();
    receivers.push(r);
    return r;
  };
  const set = (appName: string, webhook: string, peer = CLIENT) =>
    host.call(peer, 'lsps5.set_webhook', { app_name: appName, webhook });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lsps5-'));
    host = new SimLspsHost();
    log = memoryLogger();
  });
  afterEach(async () => {
    await lsps?.stop();
    lsps = undefined;
    for (const r of receivers.splice(0)) await r.close();
    rmSync(dir, { recursive: true, force: true });
  });
  after(() => {});

  it('set, list and remove a webhook; the registration survives a restart', async () => {
    const r = await receiver();
    await start();
    assert.deepEqual((await set('My Wallet', r.url())).result, {
      num_webhooks: 1,
      max_webhooks: 4,
      no_change: false,
    });
    assert.deepEqual((await set('My Wallet', r.url())).result, {
      num_webhooks: 1,
      max_webhooks: 4,
      no_change: true,
    });
    assert.deepEqual((await set('Second', r.url('/b'))).result, {
      num_webhooks: 2,
      max_webhooks: 4,
      no_change: false,
    });
    assert.deepEqual((await host.call(CLIENT, 'lsps5.list_webhooks')).result, {
      app_names: ['My Wallet', 'Second'],
      max_webhooks: 4,
    });
    // Per client node: another peer sees none of them.
    assert.deepEqual((await host.call(OTHER, 'lsps5.list_webhooks')).result, {
      app_names: [],
      max_webhooks: 4,
    });

    await lsps!.stop();
    await start();
    assert.deepEqual((await host.call(CLIENT, 'lsps5.list_webhooks')).result?.app_names, [
      'My Wallet',
      'Second',
    ]);
    assert.deepEqual((await host.call(CLIENT, 'lsps5.remove_webhook', { app_name: 'My Wallet' })).result, {});
    assert.deepEqual((await host.call(CLIENT, 'lsps5.list_webhooks')).result?.app_names, ['Second']);
    assert.equal(
      (await host.call(CLIENT, 'lsps5.remove_webhook', { app_name: 'My Wallet' })).error?.code,
      1010,
    );
  });

  it("answers bad registrations with the spec's errors", async () => {
    await start({ allowHttp: false, maxWebhooks: 2 });
    const ok = 'https://push.example.org/hook?l=1234';
    const code = async (appName: unknown, webhook: unknown): Promise<number | undefined> =>
      (await host.call(CLIENT, 'lsps5.set_webhook', { app_name: appName, webhook })).error?.code;

    assert.equal(await code('a'.repeat(64), ok), undefined, '64 bytes is allowed');
    assert.equal(await code('a'.repeat(65), ok), 500);
    assert.equal(await code('€'.repeat(22), ok), 500, '66 UTF-8 bytes');
    assert.equal(
      await code('quote"'.repeat(10) + 'abcd', ok),
      500,
      'escapes count as written: 64 chars, 74 bytes',
    );
    assert.equal(
      await code('x', `https://e.org/${'a'.repeat(1024 - 14)}`),
      undefined,
      '1024 characters is allowed',
    );
    assert.equal(await code('y', `https://e.org/${'a'.repeat(1025 - 14)}`), 500);
    assert.equal(await code('z', 'not a url'), 501);
    assert.equal(await code('z', 'https://exa mple.org/'), 501);
    assert.equal(await code('z', 'https://ünicode.example/'), 501);
    assert.equal(await code('z', 'https:///no-host'), 501);
    assert.equal(await code('z', 'ftp://example.org/x'), 502);
    assert.equal(await code('z', 'http://example.org/x'), 502, 'http only when the operator allows it');
    const full = await host.call(CLIENT, 'lsps5.set_webhook', { app_name: 'third', webhook: ok });
    assert.equal(full.error?.code, 503);
    assert.deepEqual(full.error?.data, { max_webhooks: 2 });
    // Replacing under a known name is no insert, so the limit does not apply.
    assert.equal((await set('x', 'https://other.example.org/')).result?.num_webhooks, 2);

    assert.equal(await code(undefined, ok), -32602);
    assert.equal(await code('n', 5), -32602);
    const extra = await host.call(CLIENT, 'lsps5.set_webhook', { app_name: 'n', webhook: ok, colour: 'red' });
    assert.deepEqual(extra.error?.data, { unrecognized: ['colour'] });
    assert.equal(
      (await host.call(CLIENT, 'lsps5.remove_webhook', { app_name: 'b'.repeat(100) })).error?.code,
      1010,
    );
    assert.equal((await host.call(CLIENT, 'lsps5.list_webhooks', { x: 1 })).error?.code, -32602);
    assert.deepEqual(JSON.parse(await host.request(CLIENT, '{"method":')), {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'parse error' },
    });
    const rpc = (await host.call(CLIENT, 'lsps0.list_protocols')).result;
    assert.deepEqual(rpc, { protocols: [5] });
  });

  it('sends a signed lsps5.webhook_registered to a new or changed webhook only, and logs no token', async () => {
    const a = await receiver();
    const b = await receiver();
    await start();
    await set('wallet', a.url());
    await a.waitCalls(1);
    assert.deepEqual(verifyCall(a.calls[0]!, host.nodeId), {
      method: 'lsps5.webhook_registered',
      params: {},
    });
    assert.equal(a.calls[0]!.path, '/push?token=secret-token-123');

    await set('wallet', a.url()); // no_change: nothing sent
    await set('other', b.url());
    await b.waitCalls(1);
    await set('wallet', a.url('/changed'));
    await a.waitCalls(2);
    assert.equal(a.calls[1]!.path, '/changed');
    assert.equal(verifyCall(a.calls[1]!, host.nodeId).method, 'lsps5.webhook_registered');
    assert.equal(b.calls.length, 1, 'only the registered webhook is told');
    assert.equal(a.calls.length, 2);
    assert.ok(!JSON.stringify(log.lines).includes('secret-token'), 'webhook tokens never reach the log');
  });

  it('notifies every webhook of an offline client, once per cooldown, again after it was online', async () => {
    const a = await receiver();
    const b = await receiver();
    const svc = (await start({ cooldownMs: 3_600_000 })).service;
    assert.deepEqual(await svc.onionMessageIncoming(CLIENT), { kind: 'no_webhooks' });
    await set('a', a.url());
    await set('b', b.url());
    await Promise.all([a.waitCalls(1), b.waitCalls(1)]);

    assert.deepEqual(await svc.onionMessageIncoming(CLIENT), { kind: 'queued', webhooks: 2 });
    await Promise.all([a.waitCalls(2), b.waitCalls(2)]);
    for (const r of [a, b])
      assert.deepEqual(verifyCall(r.calls[1]!, host.nodeId), {
        method: 'lsps5.onion_message_incoming',
        params: {},
      });

    assert.equal((await svc.onionMessageIncoming(CLIENT)).kind, 'cooldown');
    // Another method has its own cooldown.
    assert.equal((await svc.expirySoon(CLIENT, 900_100)).kind, 'queued');
    await a.waitCalls(3);
    assert.deepEqual(verifyCall(a.calls[2]!, host.nodeId).params, { timeout: 900_100 });

    // Connected now: no webhook call, and the cooldown is reset for when it leaves.
    host.connected.add(CLIENT);
    assert.deepEqual(await svc.onionMessageIncoming(CLIENT), { kind: 'connected' });
    host.connected.delete(CLIENT);
    assert.equal((await svc.onionMessageIncoming(CLIENT)).kind, 'queued');
    await a.waitCalls(4);
    assert.equal((await svc.onionMessageIncoming(CLIENT)).kind, 'cooldown');
    // Any LSPS0 message from the client also shows it online.
    await host.call(CLIENT, 'lsps5.list_webhooks');
    assert.equal((await svc.onionMessageIncoming(CLIENT)).kind, 'queued');
    await a.waitCalls(5);
    // Every call is signed afresh: LDK's validator refuses a signature it has seen.
    const sigs = new Set(a.calls.map((c) => c.headers['x-lsps5-signature']));
    assert.equal(sigs.size, a.calls.length);
  });

  it('a dead and a hanging receiver hold up nothing else; the dead one is retried, then given up', async () => {
    const good = await receiver();
    const slow = await receiver();
    slow.behaviour = { kind: 'hang' };
    const down = await deadUrl();
    const svc = (await start({ timeoutMs: 600_000, maxAttempts: 3 })).service;
    await set('slow', slow.url());
    await set('down', down);
    await set('good', good.url());
    await slow.waitCalls(1); // its webhook_registered hangs and keeps hanging
    await good.waitCalls(1);

    assert.equal((await svc.onionMessageIncoming(CLIENT)).kind, 'queued');
    await good.waitCalls(2);
    assert.equal(verifyCall(good.calls[1]!, host.nodeId).method, 'lsps5.onion_message_incoming');
    // The LSPS0 service still answers while a webhook call hangs.
    assert.deepEqual((await host.call(CLIENT, 'lsps5.list_webhooks')).result?.app_names, [
      'slow',
      'down',
      'good',
    ]);
    assert.equal(slow.calls.length, 1, 'the hanging receiver has its first call still open');

    const gaveUp = (): boolean =>
      log.lines.some((l) => l.msg === 'webhook unreachable; giving up' && l.fields.appName === 'down');
    while (!gaveUp()) await new Promise((r) => setTimeout(r, 10));
    const retries = log.lines.filter(
      (l) => l.msg === 'webhook unreachable; retrying' && l.fields.appName === 'down',
    );
    assert.ok(retries.length >= 2, 'retried before giving up');
    assert.deepEqual(
      retries.slice(0, 2).map((l) => l.fields.retryMs),
      [20, 40],
      'backoff doubles',
    );
  });

  it('does not follow redirects and ignores answers other than 200', async () => {
    const target = await receiver();
    const redirecting = await receiver();
    redirecting.behaviour = { kind: 'answer', status: 302, location: target.url('/stolen') };
    await start();
    await set('r', redirecting.url());
    await redirecting.waitCalls(1);
    while (!log.lines.some((l) => l.msg === 'webhook answered other than 200 OK; ignored'))
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(target.calls.length, 0);
    assert.equal(redirecting.calls.length, 1, 'a non-200 answer is not retried');
  });

  it('a removed webhook gets nothing more, even a retry', async () => {
    const down = await deadUrl();
    await start({ retryBaseMs: 200, retryMaxMs: 200, maxAttempts: 50 });
    await set('gone', down);
    while (!log.lines.some((l) => l.msg === 'webhook unreachable; retrying'))
      await new Promise((r) => setTimeout(r, 10));
    await host.call(CLIENT, 'lsps5.remove_webhook', { app_name: 'gone' });
    while (!log.lines.some((l) => l.msg === 'webhook removed or changed; notification not sent'))
      await new Promise((r) => setTimeout(r, 10));
  });

  it('refuses to start when the host signs with another key', async () => {
    const other = new SimLspsHost(new Uint8Array(32).fill(7));
    await assert.rejects(
      startLsps({ host: other, dataDir: dir, nodeId: host.nodeId, log, config: DEFAULT_LSPS5 }),
      /do not verify against its node id/,
    );
  });
});
