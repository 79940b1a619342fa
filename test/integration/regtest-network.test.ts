// The regtest network every integration test, the demo and the benchmarks stand on: for each pinned
// LND version it must come up with working channels, hold forwards at L while --requireinterceptor
// has no interceptor, survive a node restart, and route a plain payment S -> L -> RL -> R.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CHANNELS,
  CHANNEL_CAPACITY_SAT,
  start,
  type LndVersion,
  type RegtestNetwork,
} from '../../scripts/regtest/network.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { assertComesTo } from './support/scenario.js';

interface Invoice {
  r_hash: string;
  payment_request: string;
}
interface InvoiceState {
  state: string;
  amt_paid_sat: string;
}
interface Payment {
  payment_hash: string;
  status: string;
}

async function paymentStatus(net: RegtestNetwork, hash: string): Promise<string | undefined> {
  const r = await net.lncli<{ payments: Payment[] }>('sender', 'listpayments', '--include_incomplete');
  return r.payments.find((p) => p.payment_hash === hash)?.status;
}

for (const lndVersion of ['v0.21.2-beta', 'v0.20.2-beta'] as const satisfies readonly LndVersion[]) {
  describe(`regtest network on LND ${lndVersion}`, { timeout: 20 * 60_000 }, () => {
    let net: RegtestNetwork | undefined;
    let failed = false;
    const must = (): RegtestNetwork => {
      assert.ok(net, 'network did not start');
      return net;
    };
    // Logs stay on disk (and their path is printed) when anything here failed.
    const tracked = (fn: () => Promise<void>) => async () => {
      try {
        await fn();
      } catch (e) {
        failed = true;
        throw e;
      }
    };

    before(async () => {
      net = await start({ lndVersion });
    });
    after(async () => {
      await net?.teardown({ keepLogs: failed });
    });

    test(
      'nodes run the pinned version and every channel is active on both ends',
      tracked(async () => {
        const n = must();
        for (const name of ['sender', 'lsp', 'rlsp', 'recipient'] as const) {
          const info = await n.lncli<{ version: string; alias: string }>(name, 'getinfo');
          assert.match(info.version, new RegExp(`^${lndVersion.slice(1)} commit=${lndVersion}$`));
          assert.equal(info.alias, name);
        }
        for (const [a, b] of CHANNELS) {
          const pa = (await n.nodeInfo(a)).pubkey;
          const pb = (await n.nodeInfo(b)).pubkey;
          const fromA = (await n.channels(a)).find((c) => c.remote_pubkey === pb);
          const fromB = (await n.channels(b)).find((c) => c.remote_pubkey === pa);
          assert.ok(fromA?.active, `${a} sees an active channel to ${b}`);
          assert.ok(fromB?.active, `${b} sees an active channel to ${a}`);
          assert.equal(fromA.channel_point, fromB.channel_point);
          assert.equal(Number(fromA.capacity), CHANNEL_CAPACITY_SAT);
        }
        const info = await n.nodeInfo('lsp');
        assert.match(info.pubkey, /^0[23][0-9a-f]{64}$/);
        assert.match(info.grpcHost, /^127\.0\.0\.1:\d+$/);
        assert.ok(info.adminMacaroonPath.startsWith(info.lndDir));
      }),
    );

    test(
      'L with --requireinterceptor and no interceptor fails new forwards; restarted without it, L forwards',
      tracked(async () => {
        const n = must();
        assert.ok(n.nodeArgs('lsp').includes('--requireinterceptor'));
        const inv = await n.lncli<Invoice>('recipient', 'addinvoice', '--amt=21000', '--memo=no-interceptor');
        // LND fails a *new* forward back (TemporaryChannelFailure) while no interceptor is connected;
        // only forwards replayed after a restart are held for the interceptor.
        await assert.rejects(
          n.node('sender').lncliRaw('payinvoice', '--force', '--json', inv.payment_request),
        );
        assert.equal(await paymentStatus(n, inv.r_hash), 'FAILED');
        assert.equal((await n.lncli<InvoiceState>('recipient', 'lookupinvoice', inv.r_hash)).state, 'OPEN');
        const senderPk = (await n.nodeInfo('sender')).pubkey;
        await assertComesTo(
          async () => (await n.channels('lsp')).find((c) => c.remote_pubkey === senderPk)?.pending_htlcs,
          [],
        );

        await n.stopNode('lsp');
        assert.equal(n.node('lsp').isRunning, false);
        await assert.rejects(n.lncli('lsp', 'getinfo'));
        await n.startNode('lsp', { args: n.nodeArgs('lsp').filter((a) => a !== '--requireinterceptor') });
        await n.waitChannelActive('lsp', 'sender');
        await n.waitChannelActive('lsp', 'rlsp');
        await n.waitChannelActive('sender', 'lsp');

        // S's mission control remembers L's failures; forget them so S routes through L again.
        await n.lncli('sender', 'resetmc');
        await n.node('sender').lncliRaw('payinvoice', '--force', '--json', inv.payment_request);
        assert.equal(await paymentStatus(n, inv.r_hash), 'SUCCEEDED');
        const settled = await n.lncli<InvoiceState>('recipient', 'lookupinvoice', inv.r_hash);
        assert.equal(settled.state, 'SETTLED');
        assert.equal(settled.amt_paid_sat, '21000');
      }),
    );

    test(
      'a plain invoice payment S -> L -> RL -> R succeeds',
      tracked(async () => {
        const n = must();
        const inv = await n.lncli<Invoice>('recipient', 'addinvoice', '--amt=50000', '--memo=plain');
        await n.node('sender').lncliRaw('payinvoice', '--force', '--json', inv.payment_request);
        assert.equal(await paymentStatus(n, inv.r_hash), 'SUCCEEDED');
        const settled = await n.lncli<InvoiceState>('recipient', 'lookupinvoice', inv.r_hash);
        assert.equal(settled.state, 'SETTLED');
        assert.equal(settled.amt_paid_sat, '50000');
        // It went through L: L's forwarding history has it (LND writes it in batches, hence the wait),
        // carrying RL's fee on top and paying L one.
        const ours = await waitFor("the forward in L's history", async () => {
          const fwd = await n.lncli<{ forwarding_events: { amt_out: string; fee_msat: string }[] }>(
            'lsp',
            'fwdinghistory',
          );
          const hit = fwd.forwarding_events.filter(
            (e) => Number(e.amt_out) >= 50000 && Number(e.amt_out) < 50100,
          );
          return hit.length > 0 && hit;
        });
        assert.equal(ours.length, 1);
        assert.ok(Number(ours[0]!.fee_msat) > 0);
      }),
    );

    test(
      lndVersion === 'v0.20.2-beta'
        ? 'onion messages (type 513) travel as custom messages over a direct L-R connection'
        : "type 513 is LND's own onion message, not a custom message",
      tracked(async () => {
        const n = must();
        await n.connectPeers('lsp', 'recipient');
        const rPk = (await n.nodeInfo('recipient')).pubkey;
        const data = 'deadbeef0513';
        const send = () => n.lncli('lsp', 'sendcustom', `--peer=${rPk}`, '--type=513', `--data=${data}`);
        if (lndVersion === 'v0.21.2-beta') {
          // 0.21 parses onion messages itself (SubscribeOnionMessages / SendOnionMessage).
          await assert.rejects(send());
          return;
        }
        const sub = n.node('recipient').lncliStream('subscribecustom');
        let out = '';
        sub.stdout?.on('data', (b: Buffer) => (out += b.toString()));
        try {
          // The subscription is live once lncli is connected; resend until one arrives.
          await waitFor(
            'custom message 513 at R',
            async () => {
              await send();
              // lncli prints "Received from peer <pubkey>: type=513, data=<hex>".
              return out.includes(`type=513, data=${data}`);
            },
            { intervalMs: 1000, timeoutMs: 30_000 },
          );
          assert.ok(out.includes((await n.nodeInfo('lsp')).pubkey), out);
        } finally {
          sub.kill();
        }
      }),
    );

    test(
      'mine() advances every node to the new height',
      tracked(async () => {
        const n = must();
        const before = await n.height();
        await n.mine(3);
        assert.equal(await n.height(), before + 3);
        for (const name of ['sender', 'lsp', 'rlsp', 'recipient'] as const) {
          const info = await n.lncli<{ block_height: number }>(name, 'getinfo');
          assert.equal(info.block_height, before + 3);
        }
      }),
    );
  });
}
