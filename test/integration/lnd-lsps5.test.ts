// Real nodes: LSPS5 webhooks from the recipient's LSP (issue #12). RL runs the sidecar with
// --recipient-lsp and --lsps5; R (a stock LND, RL's channel peer) is the client. Our small LSPS0
// client speaks from R's LND over custom message 37913, byte for byte as bLIP-50/55 write requests.
// Webhook receivers are loopback HTTP servers in this process; each notification's signature is
// checked against RL's node id by another node (S's LND VerifyMessage) over the exact header and
// body bytes received, and by LDK's own validator (interop harness `lsps5-verify`). L runs the hold
// engine as in lnd-async.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RegtestNetwork } from '../../scripts/regtest/network.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import {
  Sidecar,
  addInvoice,
  clientsFor,
  htlcsFor,
  invoiceState,
  testLog,
} from '../../scripts/regtest/lsp.js';
import { unary, type LndClients } from '../../plugin/backends/lnd/grpc.js';
import { sendAsyncPayment } from '../../plugin/sender/lnd-sender.js';
import { signedMessage } from '../../plugin/lsps/lsps5/notification.js';
import { Receiver, deadUrl, type WebhookCall } from '../lsps/sim-host.js';
import { Lsps0Client } from './lsps0-client.js';
import { harnessPath, ldk } from '../interop/ldk-harness.js';
import { FailureFlag, fromHex, lndVersions, relaysOnionMessages } from './support/scenario.js';

const versions = lndVersions();

for (const version of versions) {
  describe(`LND ${version}: LSPS5 webhooks from the recipient's LSP`, { timeout: 20 * 60_000 }, () => {
    let net: RegtestNetwork;
    let lspSidecar: Sidecar;
    let rlSidecar: Sidecar;
    let sender: LndClients;
    let recipient: LndClients;
    let client: Lsps0Client;
    const run = new FailureFlag();
    const pk: Record<string, string> = {};
    const receivers: Receiver[] = [];
    // LND 0.20 relays no onion messages, so L cannot reach RL's mailbox there.
    const native = relaysOnionMessages(version);

    /** S's LND checks the signature (VerifyMessage) over exactly what the receiver got. */
    async function verifiedByRl(call: WebhookCall): Promise<{ method: string; params: unknown }> {
      assert.equal(call.method, 'POST');
      const ts = call.headers['x-lsps5-timestamp'];
      const sig = call.headers['x-lsps5-signature'];
      assert.ok(typeof ts === 'string' && typeof sig === 'string', 'both LSPS5 headers present');
      assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+00:00$/);
      const v = await unary<{ valid: boolean; pubkey: string }>(sender.lightning, 'VerifyMessage', {
        msg: Buffer.from(signedMessage(ts, call.body), 'utf8'),
        signature: sig,
      });
      assert.equal(v.pubkey, pk.rlsp, 'signed by RL');
      assert.equal(v.valid, true, 'RL is a known node with channels');
      // And what an LDK wallet runs on it: lightning-liquidity's LSPS5Validator.
      const byLdk = ldk<{ accepted: boolean; error?: string }>('lsps5-verify', {
        'lsp-node-id': pk.rlsp,
        timestamp: ts,
        signature: sig,
        body: call.body,
      });
      assert.equal(byLdk.accepted, true, `LDK's validator: ${byLdk.error}`);
      const n = JSON.parse(call.body) as { jsonrpc: string; method: string; params: unknown };
      assert.equal(call.body, JSON.stringify({ jsonrpc: '2.0', method: n.method, params: n.params }));
      return { method: n.method, params: n.params };
    }

    const receiver = async (): Promise<Receiver> => {
      const r = await Receiver.start();
      receivers.push(r);
      return r;
    };

    before(async () => {
      harnessPath();
      net = await RegtestNetwork.start({
        lndVersion: version,
        extraArgs: { rlsp: ['--requireinterceptor'] },
      });
      for (const n of ['sender', 'lsp', 'rlsp', 'recipient'] as const) pk[n] = await net.node(n).pubkey();
      lspSidecar = new Sidecar(net);
      rlSidecar = new Sidecar(
        net,
        [
          '--recipient-lsp=true',
          '--lsps5=true',
          '--lsps5-allow-http=true',
          '--lsps5-retry-base-ms=200',
          '--lsps5-retry-max-ms=1000',
          '--lsps5-attempts=4',
          '--lsps5-webhook-timeout-ms=600000',
        ],
        'rlsp',
      );
      await lspSidecar.start();
      await rlSidecar.start();
      sender = clientsFor(await net.nodeInfo('sender'));
      recipient = clientsFor(await net.nodeInfo('recipient'));
      client = new Lsps0Client(recipient, pk.rlsp!);
    });

    after(async () => {
      client?.close();
      sender?.close();
      recipient?.close();
      for (const r of receivers) await r.close();
      await rlSidecar?.kill('SIGTERM');
      await lspSidecar?.kill('SIGTERM');
      await net?.teardown({ keepLogs: run.failed });
    });

    run.scenario(
      'a client registers, lists and removes a webhook over LSPS0; bad requests get the spec errors',
      async () => {
        const hook = await receiver();
        // bLIP-50's list_protocols example, byte for byte (its id included).
        const listProtocols = `{
  "method": "lsps0.list_protocols",
  "jsonrpc": "2.0",
  "id": "example#3cad6a54d302edba4c9ade2f7ffac098",
  "params": {}
}`;
        const lp = await client.send(
          listProtocols,
          (a) => a.id === 'example#3cad6a54d302edba4c9ade2f7ffac098',
        );
        assert.deepEqual(lp.result, { protocols: [5] });

        // bLIP-55's set_webhook parameters, with our receiver as the URL.
        const set = await client.call('lsps5.set_webhook', {
          app_name: 'My LSPS-Compliant Lightning Client',
          webhook: hook.url('/push?l=1234567890abcdefghijklmnopqrstuv&c=best'),
        });
        assert.deepEqual(set.result, { num_webhooks: 1, max_webhooks: 4, no_change: false });
        await hook.waitCalls(1);
        assert.deepEqual(await verifiedByRl(hook.calls[0]!), {
          method: 'lsps5.webhook_registered',
          params: {},
        });
        assert.equal(hook.calls[0]!.path, '/push?l=1234567890abcdefghijklmnopqrstuv&c=best');

        const again = await client.call('lsps5.set_webhook', {
          app_name: 'My LSPS-Compliant Lightning Client',
          webhook: hook.url('/push?l=1234567890abcdefghijklmnopqrstuv&c=best'),
        });
        assert.equal(again.result?.no_change, true);
        assert.deepEqual((await client.call('lsps5.list_webhooks')).result, {
          app_names: ['My LSPS-Compliant Lightning Client'],
          max_webhooks: 4,
        });
        assert.deepEqual(
          (await client.call('lsps5.remove_webhook', { app_name: 'My LSPS-Compliant Lightning Client' }))
            .result,
          {},
        );
        assert.deepEqual((await client.call('lsps5.list_webhooks')).result, {
          app_names: [],
          max_webhooks: 4,
        });

        const code = async (method: string, params: Record<string, unknown>): Promise<number | undefined> =>
          (await client.call(method, params)).error?.code;
        assert.equal(await code('lsps5.set_webhook', { app_name: 'x'.repeat(65), webhook: hook.url() }), 500);
        assert.equal(
          await code('lsps5.set_webhook', { app_name: 'x', webhook: `https://e.org/${'a'.repeat(1020)}` }),
          500,
        );
        assert.equal(
          await code('lsps5.set_webhook', { app_name: 'x', webhook: 'https://exa mple.org/' }),
          501,
        );
        assert.equal(await code('lsps5.set_webhook', { app_name: 'x', webhook: 'ftp://example.org/' }), 502);
        assert.equal(await code('lsps5.remove_webhook', { app_name: 'never registered' }), 1010);
        assert.equal(await code('lsps5.set_webhook', { app_name: 'x' }), -32602);
        assert.equal(await code('lsps9.nothing', {}), -32601);
        const bad = await client.send('{"jsonrpc":"2.0","method":', (a) => a.id === null);
        assert.deepEqual(bad.error, { code: -32700, message: 'parse error' });
        assert.equal(hook.calls.length, 1, 'nothing but the one webhook_registered was sent');
      },
    );

    test(
      'recipient offline: a notice wakes its webhooks, a dead and a hanging receiver delay nothing, the payment settles when it returns',
      { skip: native ? false : 'LND 0.20 relays no onion messages: L cannot reach the mailbox at RL' },
      run.guard(async () => {
        const good = await receiver();
        const slow = await receiver();
        slow.behaviour = { kind: 'hang' };
        const down = await deadUrl();
        for (const [name, url] of [
          ['hanging', slow.url()],
          ['down', down],
          ['good', good.url('/wake?device=r')],
        ] as const)
          assert.equal(
            (await client.call('lsps5.set_webhook', { app_name: name, webhook: url })).result?.no_change,
            false,
          );
        await good.waitCalls(1);
        await slow.waitCalls(1); // its webhook_registered hangs from here on

        const pathLine = await rlSidecar.waitLog(
          "R's message path",
          (l) => l.message === 'client message path' && l.client === pk.recipient,
        );
        const inv = await addInvoice(net, 'recipient', 20_000);
        await net.stopNode('recipient');
        const mark = rlSidecar.lines.length;
        const result = sendAsyncPayment(sender, {
          paymentHash: fromHex(inv.r_hash),
          paymentAddr: fromHex(inv.payment_addr),
          amountMsat: 20_000_000n,
          finalCltvDelta: 80,
          hops: [fromHex(pk.lsp!), fromHex(pk.rlsp!), fromHex(pk.recipient!)],
          asyncHold: { messagePaths: [fromHex(pathLine.messagePath as string)] },
        });
        result.catch(() => {});
        await rlSidecar.waitLog('notice stored', (l) => l.message === 'held_htlc_available stored', mark);

        await good.waitCalls(2);
        assert.deepEqual(await verifiedByRl(good.calls[1]!), {
          method: 'lsps5.onion_message_incoming',
          params: {},
        });
        assert.equal(good.calls[1]!.path, '/wake?device=r');
        // The hanging receiver still has its first call open; the dead one is retried on its own.
        assert.equal(slow.calls.length, 1);
        await rlSidecar.waitLog(
          'dead webhook retried',
          (l) => l.message === 'webhook unreachable; retrying' && l.appName === 'down',
        );
        // L keeps the HTLC; the mailbox keeps the notice while the receivers misbehave.
        await waitFor('held at L', async () => (await htlcsFor(net, 'lsp', inv.r_hash)).length === 1);
        // L sends again while R is away: the same method within the cooldown wakes nobody twice.
        await lspSidecar.waitLog(
          'another notice',
          () => lspSidecar.count((l) => l.message === 'held_htlc_available sent') >= 2,
        );
        await net.mine(2);
        assert.equal(good.calls.length, 2, 'the notice is stored once, so one wake');

        await net.startNode('recipient');
        await net.waitChannelActive('rlsp', 'recipient');
        const r = await result;
        assert.equal(r.status, 'SUCCEEDED');
        assert.equal(createHash('sha256').update(r.preimage!).digest('hex'), inv.r_hash);
        assert.equal(await invoiceState(net, 'recipient', inv.r_hash), 'SETTLED');
        assert.equal(slow.calls.length, 1, 'the hanging receiver never held up the release');
        testLog.info('lsps5 scenario done', { webhookCalls: good.calls.length });
      }),
    );
  });
}
