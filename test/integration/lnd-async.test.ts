// Real-node scenarios for the LND sidecar (scripts/regtest network S -> L -> RL -> R, L runs the
// sidecar with --requireinterceptor). One network per LND version; the scenarios run in order and
// share it. Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated), default both pinned tags.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { RegtestNetwork } from '../../scripts/regtest/network.js';
import { recipientAgent } from '../../scripts/regtest/recipient.js';
import type { LndRecipientAgent } from '../../plugin/recipient/lnd-agent.js';
import { recipientMessagePath } from '../../plugin/recipient/message-path.js';
import { sendAsyncPayment, type AsyncPaymentResult } from '../../plugin/sender/lnd-sender.js';
import { buildReleasePath } from '../../plugin/protocol/onion-message.js';
import { decodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import {
  Sidecar,
  addInvoice,
  htlcsFor,
  invoiceState,
  sidecarRefusal,
  type Invoice,
} from '../../scripts/regtest/lsp.js';
import { LspNetwork } from './support/network.js';
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
  assertStillHeldAtLsp,
  payPlainInvoice,
  payTrampolineInvoice,
  said,
  waitHeldAtLsp,
} from './support/holds.js';

const versions = lndVersions();
const isHolding = said('holding htlc');

for (const version of versions) {
  describe(`LND ${version}: async HTLCs held at the LSP`, { timeout: 30 * 60_000 }, () => {
    let net: RegtestNetwork;
    let sidecar: Sidecar;
    let sender: LndClients;
    const run = new FailureFlag();
    const native = relaysOnionMessages(version);
    const rig = new LspNetwork(version, { knowRecipient: true });
    const pk = rig.pk;

    before(async () => {
      ({ net, sidecar, sender } = await rig.start());
    });

    after(() => rig.stop(run.failed));

    // LND 0.20 relays no onion messages: there the recipient is its own intro node, reached over a
    // direct peer connection from L; on 0.21 the path goes through the recipient's LSP.
    const messagePath = (pathId: Uint8Array): Uint8Array =>
      recipientMessagePath({ recipientNodeId: pk.recipient!, through: native ? [pk.rlsp!] : [], pathId });

    async function startAgent(): Promise<LndRecipientAgent> {
      if (!native) await net.connectPeers('lsp', 'recipient');
      const agent = recipientAgent(net.node('recipient'), 'recipient', native ? [pk.rlsp!] : []);
      await agent.start();
      return agent;
    }

    async function payAsync(inv: Invoice, sat: number, maxHoldBlocks?: number) {
      const pathId = new Uint8Array(randomBytes(32));
      const result: Promise<AsyncPaymentResult> = sendAsyncPayment(sender, {
        paymentHash: fromHex(inv.r_hash),
        paymentAddr: fromHex(inv.payment_addr),
        amountMsat: BigInt(sat) * 1000n,
        finalCltvDelta: 80,
        hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
        asyncHold: { messagePaths: [messagePath(pathId)], ...(maxHoldBlocks ? { maxHoldBlocks } : {}) },
      });
      // Surface a rejected payment early instead of as a timeout somewhere else.
      result.catch(() => {});
      return { inv, result };
    }

    const waitHeld = (rHash: string): Promise<void> => waitHeldAtLsp(net, rHash, { from: pk.sender! });
    const assertStillHeld = (rHash: string): Promise<void> => assertStillHeldAtLsp(net, rHash, pk.sender!);

    run.scenario('a plain payment through the LSP is forwarded at once', async () => {
      const mark0 = sidecar.lines.length;
      await payPlainInvoice(net, 1000);
      assert.equal(sidecar.count(isHolding, mark0), 0, 'no hold for a plain payment');
    });

    run.scenario(
      'recipient offline: held, notified with retries, survives sidecar SIGKILL and an LSP restart, forged release ignored, released when the recipient returns',
      async () => {
        const inv = await addInvoice(net, 'recipient', 20_000);
        await net.stopNode('recipient');
        const mark = sidecar.lines.length;
        const { result } = await payAsync(inv, 20_000);
        const holding = await sidecar.waitLog('holding htlc', isHolding, mark);
        await waitHeld(inv.r_hash);
        // The incoming peer is named, so per-peer caps count per node, not per channel.
        const seen = await sidecar.waitLog(
          'intercepted',
          (l) => l.message === 'intercepted htlc' && l.key === holding.key,
          mark,
        );
        assert.equal(seen.incomingPeer, hex(pk.sender!));
        // held_htlc_available is retried while the recipient is away.
        await sidecar.waitLog(
          'third notice',
          () =>
            sidecar.count(
              (l) =>
                l.message === 'held_htlc_available sent' || l.message === 'held_htlc_available send failed',
              mark,
            ) >= 3,
          mark,
        );

        // A forged release: the real hold id, a wrong HMAC half, sent by S over a path to L.
        const forger = recipientAgent(net.node('sender'), 'forger');
        await forger.start();
        const holdId = Buffer.from(String(holding.holdId), 'hex');
        const forgedId = new Uint8Array(Buffer.concat([holdId, randomBytes(32 - holdId.length)]));
        const m1 = sidecar.lines.length;
        await forger.release(decodeBlindedPath(buildReleasePath(pk.lsp!, forgedId)));
        await sidecar.waitLog('forged release rejected', (l) => /HMAC does not verify/.test(l.message), m1);
        await forger.stop();
        await assertStillHeld(inv.r_hash);

        // The sidecar dies hard; LND keeps the HTLC (requireinterceptor) and replays it on restart.
        await sidecar.kill('SIGKILL');
        await assertStillHeld(inv.r_hash);
        await sidecar.start();
        await assertStillHeld(inv.r_hash);

        // L's LND restarts under the running sidecar: the interceptor reconnects, the HTLC stays held.
        const m2 = sidecar.lines.length;
        await net.stopNode('lsp');
        await net.startNode('lsp');
        await net.waitChannelActive('sender', 'lsp');
        await sidecar.waitLog('interceptor reconnected', said('interceptor connected'), m2);
        await assertStillHeld(inv.r_hash);

        // The recipient comes back online: its agent answers the next notice, L forwards, R settles.
        await net.startNode('recipient');
        await net.waitChannelActive('rlsp', 'recipient');
        const agent = await startAgent();
        try {
          await assertSettled(net, await result, inv.r_hash);
          assert.ok(sidecar.count(said('hold released'), m2) >= 1);
        } finally {
          await agent.stop();
        }
        await assertChannelsOpen(net);
      },
    );

    run.scenario(
      'no release: failed back at the deadline, before LND auto-fails it, no channel closes',
      async () => {
        if (!net.node('recipient').isRunning) await net.startNode('recipient');
        const inv = await addInvoice(net, 'recipient', 15_000);
        const mark = sidecar.lines.length;
        // More than the engine's min-hold-blocks (6), far less than the HTLC's timelocks.
        const { result } = await payAsync(inv, 15_000, 10);
        const holding = await sidecar.waitLog('holding htlc', isHolding, mark);
        await waitHeld(inv.r_hash);
        const failAt = Number(holding.failAt);
        const start = await net.height();
        assert.ok(failAt <= start + 10, `deadline ${failAt} honours max_hold_blocks (height ${start})`);
        const seen = await sidecar.waitLog(
          'intercepted',
          (l) => l.message === 'intercepted htlc' && l.key === holding.key,
          mark,
        );
        const autoFail = Number(seen.autoFailHeight ?? Infinity);
        assert.ok(failAt < autoFail, `deadline ${failAt} before LND's auto-fail ${autoFail}`);
        await net.mine(failAt - start);
        assertFailed(await result, 'TEMPORARY_CHANNEL_FAILURE');
        assert.equal(await invoiceState(net, 'recipient', inv.r_hash), 'OPEN');
        const failLine = await sidecar.waitLog('deadline line', said('hold deadline reached; failing'), mark);
        assert.ok(failLine);
        await assertComesTo(() => htlcsFor(net, 'lsp', inv.r_hash), []);
        await assertChannelsOpen(net);
      },
    );

    run.scenario(
      'trampoline: L holds an HTLC addressed to its virtual channel, pays the invoice itself on release and settles',
      async () => {
        if (!net.node('recipient').isRunning) await net.startNode('recipient');
        const inv = await addInvoice(net, 'recipient', 10_000);
        const agent = await startAgent();
        try {
          const mark = sidecar.lines.length;
          const r = await payTrampolineInvoice(net, sender, {
            lsp: pk.lsp!,
            inv,
            // invoice + room for RL's fee + L's trampoline fee (1000 msat + 0.1%)
            amountMsat: 10_000_000n + 100_000n,
            messagePath: messagePath(new Uint8Array(randomBytes(32))),
          });
          await assertSettled(net, r, inv.r_hash);
          await sidecar.waitLog('settled by payment', said('trampoline payment succeeded; settling'), mark);
        } finally {
          await agent.stop();
        }
      },
    );

    run.scenario('SIGTERM stops the sidecar cleanly', async () => {
      const code = await sidecar.kill('SIGTERM');
      assert.equal(code, 0);
      assert.ok(sidecar.count(said('hold engine stopped')) >= 1);
    });

    run.scenario(
      'refuses to start without --requireinterceptor or with a macaroon lacking permissions, one line per problem',
      async () => {
        const macaroon = `${net.runDir}/readonly.macaroon`;
        await net
          .node('lsp')
          .lncliRaw('bakemacaroon', `--save_to=${macaroon}`, 'info:read', 'macaroon:read', 'offchain:read');
        await net.stopNode('lsp');
        await net.startNode('lsp', { args: [] });
        const r = await sidecarRefusal(net, `${net.runDir}/refused`, [`--lnd-macaroon=${macaroon}`]);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /refusing to start/);
        assert.match(r.stderr, /\[interceptor_not_required\].*requireinterceptor/);
        assert.match(r.stderr, /\[macaroon_permission\].*HtlcInterceptor \(needs offchain:write\)/);
        assert.match(r.stderr, /\[macaroon_permission\].*DeriveSharedKey \(needs signer:generate\)/);
        assert.doesNotMatch(r.stderr, /GetInfo/, 'permissions the macaroon has are not reported');
      },
    );
  });
}
