// Real-node scenarios for recipient-LSP mode (scripts/regtest network S -> L -> RL -> R): L runs the
// sidecar (sender's LSP), RL runs it with --recipient-lsp (R's LSP), R is a stock LND with
// --accept-keysend and nothing of ours, offline before each payment starts. RL keeps the
// held_htlc_available L sends, and releases when R is back. One network per LND version; the
// scenarios run in order and share it. Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegtestNetwork } from '../../scripts/regtest/network.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { sendAsyncPayment, type AsyncPaymentResult } from '../../plugin/sender/lnd-sender.js';
import { keysendPreimage, sendKeysendAsync } from '../../plugin/sender/keysend-mpp.js';
import { buildHeldHtlcAvailableVariants, buildReleasePath } from '../../plugin/protocol/onion-message.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import { clientPathId } from '../../plugin/recipient-lsp/client-path.js';
import {
  type Sidecar,
  addInvoice,
  htlcsFor,
  invoiceState,
  type Invoice,
  type LogLine,
} from '../../scripts/regtest/lsp.js';
import {
  FailureFlag,
  assertComesTo,
  fromHex,
  hex,
  lndVersions,
  relaysOnionMessages,
} from './support/scenario.js';
import {
  assertChannelsOpen,
  assertFailed,
  assertSettled,
  payMppInvoice,
  payPlainInvoice,
  payTrampolineKeysend,
  said,
  sha256hex,
  waitHeldAtLsp,
} from './support/holds.js';
import {
  LspSidecars,
  senderOnionTransport,
  startRecipient,
  stopRecipient,
  storedNotices,
} from './support/network.js';

const versions = lndVersions();

const PER_CLIENT_CAP = 16;

for (const version of versions) {
  describe(
    `LND ${version}: recipient-LSP mode, recipient a stock LND that is offline`,
    { timeout: 40 * 60_000 },
    () => {
      let net: RegtestNetwork;
      let lsp: Sidecar;
      let rlsp: Sidecar;
      let sender: LndClients;
      const run = new FailureFlag();
      const native = relaysOnionMessages(version);
      const sidecars = new LspSidecars({
        senderLsp: true,
        rlspArgs: [`--recipient-lsp-max-per-client=${PER_CLIENT_CAP}`],
      });
      const pk: Record<string, Uint8Array> = {};
      /** R's message path, issued by RL (from its log). */
      let messagePath: Uint8Array;

      before(async () => {
        net = await RegtestNetwork.start({
          lndVersion: version,
          extraArgs: {
            rlsp: [
              '--requireinterceptor',
              // 0.21 rate-limits onion message ingress; scenario 3 floods RL on purpose.
              ...(native
                ? [
                    '--protocol.onion-msg-peer-kbps=0',
                    '--protocol.onion-msg-peer-burst-bytes=0',
                    '--protocol.onion-msg-global-kbps=0',
                    '--protocol.onion-msg-global-burst-bytes=0',
                  ]
                : []),
            ],
          },
        });
        for (const n of ['sender', 'lsp', 'rlsp', 'recipient'] as const)
          pk[n] = fromHex(await net.node(n).pubkey());
        const s = await sidecars.start(net, pk.recipient!);
        lsp = s.lsp!;
        ({ rlsp, sender, messagePath } = s);
      });

      after(async () => {
        await sidecars.stop();
        await net?.teardown({ keepLogs: run.failed });
      });

      const recipientOffline = (): Promise<void> => stopRecipient(net);
      const recipientReturns = (): Promise<void> => startRecipient(net);

      const isStoredForR = (l: LogLine): boolean =>
        l.message === 'held_htlc_available stored' && l.client === hex(pk.recipient!);

      const waitHeldAtL = (hash: string, parts = 1): Promise<void> =>
        waitHeldAtLsp(net, hash, { from: pk.sender!, parts });

      function keysend(sat: number, holdBlocks?: number) {
        const { preimage, paymentHash } = keysendPreimage();
        const result = sendKeysendAsync(sender, {
          preimage,
          amountMsat: BigInt(sat) * 1000n,
          hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
          asyncHold: { messagePaths: [messagePath] },
          ...(holdBlocks !== undefined ? { holdBlocks } : {}),
        });
        result.catch(() => {});
        return { preimage, hash: hex(paymentHash), result };
      }

      /** An async payment of R's invoice `inv` over S -> L -> RL -> R, L allowed `holdBlocks`. */
      function payInvoice(inv: Invoice, sat: number, holdBlocks: number): Promise<AsyncPaymentResult> {
        const result = sendAsyncPayment(sender, {
          paymentHash: fromHex(inv.r_hash),
          paymentAddr: fromHex(inv.payment_addr),
          amountMsat: BigInt(sat) * 1000n,
          finalCltvDelta: 80,
          hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
          asyncHold: { messagePaths: [messagePath] },
          holdBlocks,
        });
        result.catch(() => {});
        return result;
      }

      const storedAtRl = (): Map<string, number> => storedNotices(rlsp.dataDir);

      test(
        'scenario 6: a plain payment through RL passes untouched',
        run.guard(async () => {
          const m = rlsp.lines.length;
          await payPlainInvoice(net, 1000);
          // RL's interceptor saw it and let it through.
          await rlsp.waitLog('RL intercepted the forward', (l) => l.message === 'intercepted htlc', m);
          assert.equal(rlsp.count(said('holding htlc'), m), 0);
          assert.equal(lsp.count(said('holding htlc'), m), 0);
        }),
      );

      test(
        'scenario 1: keysend, source-routed: L holds, RL stores, R returns, RL releases, L forwards, R settles',
        run.guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rlsp.lines.length;
          const p = keysend(20_000);
          await lsp.waitLog('holding', said('holding htlc'), mL);
          await waitHeldAtL(p.hash);
          await rlsp.waitLog('stored for R', isStoredForR, mR);
          // Time passes during the hold; nothing moves until R is back.
          await net.mine(3);
          assert.deepEqual(await htlcsFor(net, 'rlsp', p.hash), [], 'nothing forwarded to RL yet');
          assert.equal(
            rlsp.count((l) => l.message === 'released for client', mR),
            0,
          );
          await recipientReturns();
          await assertSettled(net, await p.result, p.hash);
          assert.ok(
            rlsp.count((l) => l.message === 'released for client' && l.client === hex(pk.recipient!), mR) >=
              1,
          );
          assert.ok(lsp.count(said('hold released'), mL) >= 1);
        }),
      );

      test(
        'scenario 1: keysend, trampoline: on release L pays R by keysend with the sender preimage',
        run.guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rlsp.lines.length;
          const p = await payTrampolineKeysend(net, sender, {
            lsp: pk.lsp!,
            recipient: pk.recipient!,
            deliverMsat: 10_000_000n,
            messagePath,
          });
          await lsp.waitLog('holding', said('holding htlc'), mL);
          await rlsp.waitLog('stored for R', isStoredForR, mR);
          await net.mine(2);
          await recipientReturns();
          await assertSettled(net, await p.result, p.hash);
          await lsp.waitLog('settled by payment', said('trampoline payment succeeded; settling'), mL);
        }),
      );

      test(
        'scenario 3: forged path, non-client and 1,000 notices: dropped or capped, RL keeps working',
        run.guard(async () => {
          await recipientOffline();
          // S talks to RL directly, as any node on the network could.
          await net.connectPeers('sender', 'rlsp');
          const info = await net.nodeInfo('sender');
          const received = new Set<string>();
          const transport = senderOnionTransport(sender, {
            ourNodeId: pk.sender!,
            native,
            onMessage: (msg) => {
              if (msg.releaseHeldHtlc && msg.pathId) received.add(hex(msg.pathId));
            },
            label: info.grpcHost,
          });
          const notify = async (path: Uint8Array): Promise<string> => {
            const replyPathId = new Uint8Array(randomBytes(32));
            const [msg] = buildHeldHtlcAvailableVariants({
              messagePath: path,
              replyPathId,
              ourNodeId: pk.sender!,
              variants: ['odd'],
            });
            await transport.send(msg!);
            return hex(replyPathId);
          };

          // A forged path: R's client id with a wrong HMAC half (the key read from RL's data dir).
          const key = new Uint8Array(readFileSync(join(rlsp.dataDir, 'release.key')));
          const forgedId = clientPathId(key, hex(pk.recipient!));
          forgedId[31]! ^= 0x01;
          let m = rlsp.lines.length;
          await notify(buildReleasePath(pk.rlsp!, forgedId));
          const forged = await rlsp.waitLog('forged dropped', (l) => /does not verify/.test(l.message), m);
          assert.equal(forged.why, 'hmac');

          // A path RL issued (operator command) for S, which has no channel with RL.
          const asked = await rlsp.cli('message-path', hex(pk.sender!), '--json');
          assert.equal(asked.code, 0, asked.stderr);
          const issued = JSON.parse(asked.stdout) as { message_path: string; has_channel: boolean };
          assert.equal(issued.has_channel, false);
          m = rlsp.lines.length;
          await notify(fromHex(issued.message_path));
          await rlsp.waitLog('non-client dropped', (l) => /without a channel to us/.test(l.message), m);
          assert.equal(storedAtRl().get(hex(pk.sender!)) ?? 0, 0);

          // 1,000 notices for R, each with a fresh reply path: the mailbox keeps the newest 16. Sent in
          // batches that RL has taken in before the next: LND 0.21 drops onion messages at random
          // (RED) once more than 40 queue up for one peer, which would test LND, not us.
          m = rlsp.lines.length;
          const flood = new Set<string>();
          for (let sent = 0; sent < 1000;) {
            for (let j = 0; j < 20; j++, sent++) flood.add(await notify(messagePath));
            const want = sent;
            await rlsp.waitLog(`RL stored ${want}`, () => rlsp.count(isStoredForR, m) >= want, m, 60_000);
          }
          assert.equal(rlsp.count(isStoredForR, m), 1000);
          const stored = storedAtRl();
          assert.equal(stored.get(hex(pk.recipient!)), PER_CLIENT_CAP);
          assert.equal(
            rlsp.count((l) => /mailbox full/.test(l.message), m),
            1000 - PER_CLIENT_CAP,
          );

          // Scenario 5 in part (0.21, which relays onion messages): S is no longer RL's peer, so
          // RL's releases for the flood's notices reach S only when routed over the graph, RL -> L -> S.
          if (native) {
            await net.lncli('sender', 'disconnect', hex(pk.rlsp!));
            await waitFor(
              'S and RL disconnected',
              async () =>
                !(await net.lncli<{ peers: { pub_key: string }[] }>('sender', 'listpeers')).peers.some(
                  (x) => x.pub_key === hex(pk.rlsp!),
                ),
            );
            transport.start();
          }
          const mRoute = rlsp.lines.length;

          // RL keeps working: a real payment is stored and released (the flood's notices go to S).
          const mL = lsp.lines.length;
          const p = keysend(5_000);
          await lsp.waitLog('holding', said('holding htlc'), mL);
          await recipientReturns();
          await assertSettled(net, await p.result, p.hash);
          await waitFor('RL mailbox empty', () => (storedAtRl().get(hex(pk.recipient!)) ?? 0) === 0);
          if (native) {
            await waitFor('a flood release reached S over the graph', () =>
              [...received].some((x) => flood.has(x)),
            );
            assert.ok(
              rlsp.count((l) => l.message === 'onion message routed over the graph', mRoute) >= 1,
              'RL routed over the graph',
            );
            transport.stop();
          }
        }),
      );

      test(
        'scenario 2: RL and L SIGKILLed while the notice is stored; after restarts the release still happens',
        run.guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rlsp.lines.length;
          const p = keysend(7_000);
          await lsp.waitLog('holding', said('holding htlc'), mL);
          await rlsp.waitLog('stored for R', isStoredForR, mR);
          await rlsp.kill('SIGKILL');
          await lsp.kill('SIGKILL');
          await waitHeldAtL(p.hash);
          const mR2 = rlsp.lines.length;
          await rlsp.start();
          const started = await rlsp.waitLog(
            'RL restarted',
            (l) => l.message === 'recipient-lsp started',
            mR2,
          );
          assert.ok(Number(started.stored) >= 1, 'the notice survived the SIGKILL');
          await lsp.start();
          await net.mine(2);
          await waitHeldAtL(p.hash);
          await recipientReturns();
          await assertSettled(net, await p.result, p.hash);
          await assertChannelsOpen(net);
        }),
      );

      test(
        'scenario 4: a 3-part MPP async payment (invoice) held at L, released by RL, settled once',
        run.guard(async () => {
          if (!net.node('recipient').isRunning) await recipientReturns();
          const inv = await addInvoice(net, 'recipient', 30_000);
          await recipientOffline();
          const mL = lsp.lines.length;
          const result = payMppInvoice(sender, {
            hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
            inv,
            totalMsat: 30_000_000n,
            parts: 3,
            messagePath,
          });
          await lsp.waitLog('three parts held', () => lsp.count(said('holding htlc'), mL) >= 3, mL);
          await waitHeldAtL(inv.r_hash, 3);
          await net.mine(2);
          await recipientReturns();
          const r = await result;
          assert.equal(r.status, 'SUCCEEDED', `MPP failed: ${r.failureCode}`);
          assert.equal(sha256hex(r.preimage!), inv.r_hash);
          const settled = await net.lncli<{ state: string; amt_paid_sat: string; htlcs: unknown[] }>(
            'recipient',
            'lookupinvoice',
            inv.r_hash,
          );
          assert.equal(settled.state, 'SETTLED');
          assert.equal(settled.amt_paid_sat, '30000');
          assert.equal(settled.htlcs.length, 3);
          assert.equal(lsp.count(said('hold released'), mL), 1, 'one release for the set');
        }),
      );

      test(
        'scenario 7: asleep 100 blocks, then back: keysend and invoice both settle',
        run.guard(async () => {
          if (!net.node('recipient').isRunning) await recipientReturns();
          const inv = await addInvoice(net, 'recipient', 9_000);
          await recipientOffline();
          const mL = lsp.lines.length;
          const k = keysend(8_000, 144);
          const i = payInvoice(inv, 9_000, 144);
          await lsp.waitLog('two holds', () => lsp.count(said('holding htlc'), mL) >= 2, mL);
          await net.mine(100);
          await waitHeldAtL(k.hash);
          await waitHeldAtL(inv.r_hash);
          await recipientReturns();
          await assertSettled(net, await k.result, k.hash);
          await assertSettled(net, await i, inv.r_hash);
          await assertChannelsOpen(net);
        }),
      );

      test(
        'scenario 7: asleep past the hold budget: failed back at L, keysend and invoice, nothing closes',
        run.guard(async () => {
          if (!net.node('recipient').isRunning) await recipientReturns();
          const inv = await addInvoice(net, 'recipient', 4_000);
          await recipientOffline();
          const mL = lsp.lines.length;
          const k = keysend(3_000, 10);
          const i = payInvoice(inv, 4_000, 10);
          const holding = await lsp.waitLog('two holds', () => lsp.count(said('holding htlc'), mL) >= 2, mL);
          assert.ok(holding);
          const holds = lsp.lines.slice(mL).filter(said('holding htlc'));
          const start = await net.height();
          for (const h of holds) {
            const seen = lsp.lines
              .slice(mL)
              .find((l) => l.message === 'intercepted htlc' && l.key === h.key)!;
            // Failed before the next hop would refuse it, and within the sender's budget.
            assert.ok(Number(h.failAt) <= start + 10, `failAt ${h.failAt} within the 10-block budget`);
            assert.ok(Number(h.failAt) < Number(seen.outgoingExpiry), 'fails before the outgoing expiry');
          }
          const maxFail = Math.max(...holds.map((h) => Number(h.failAt)));
          await net.mine(maxFail - start);
          for (const r of [await k.result, await i]) assertFailed(r, 'TEMPORARY_CHANNEL_FAILURE');
          assert.ok(lsp.count(said('hold deadline reached; failing'), mL) >= 2);
          await assertComesTo(() => htlcsFor(net, 'lsp', k.hash), []);
          // R comes back later: RL's stale releases are no-ops at L, nothing is paid.
          await recipientReturns();
          assert.equal(await invoiceState(net, 'recipient', inv.r_hash), 'OPEN');
          await assertChannelsOpen(net);
        }),
      );
    },
  );
}
