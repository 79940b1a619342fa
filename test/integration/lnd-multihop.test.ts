// Issue 11, scenario 5 on real nodes: the two LSPs are not peers. The network is
// S -> L -> X -> RL -> R (scripts/regtest/network.ts 'five-node'): X is a stock LND on its default
// onion-message settings with nothing of ours, and L and RL have no p2p connection, so L's held_htlc_available reaches RL's mailbox only
// routed over the channel graph through X, and RL's release reaches L (the reply path's intro) only
// the same way back. R is a stock LND with --accept-keysend, offline before each payment.
// Only LND 0.21 relays onion messages; on 0.20 X would drop them, so the suite skips there.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RegtestNetwork, type LndVersion, type NodeName } from '../../scripts/regtest/network.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { sendTrampolinePayment, type AsyncPaymentResult } from '../../plugin/sender/lnd-sender.js';
import { KEYSEND_PREIMAGE_TYPE, keysendPreimage, sendKeysendAsync } from '../../plugin/sender/keysend-mpp.js';
import { encodeTrampolineRequest } from '../../plugin/protocol/trampoline-request.js';
import { outKey } from '../../plugin/backends/lnd/htlc-map.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import { Sidecar, clientsFor, htlcsFor, invoiceState, type LogLine } from '../../scripts/regtest/lsp.js';

const versions = (process.env.ASYNC_TRAMPOLINE_LND_VERSIONS ?? 'v0.21.2-beta v0.20.2-beta')
  .split(/\s+/)
  .filter(Boolean) as LndVersion[];

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Blocks mined while the payment is held (R asleep). */
const HOLD_MINED = 20;

for (const version of versions) {
  const native = version.startsWith('v0.21.');
  describe(
    `LND ${version}: L and RL not peers, onion messages routed over the graph via X`,
    {
      timeout: 20 * 60_000,
      skip: native ? false : 'LND 0.20 relays no onion messages: X cannot carry them between L and RL',
    },
    () => {
      let net: RegtestNetwork;
      let lsp: Sidecar;
      let rlsp: Sidecar;
      let sender: LndClients;
      let failed = false;
      const pk: Record<string, Uint8Array> = {};
      /** R's message path, issued by RL (from its log). */
      let messagePath: Uint8Array;

      const peersOf = async (n: NodeName): Promise<string[]> =>
        (await net.lncli<{ peers: { pub_key: string }[] }>(n, 'listpeers')).peers.map((p) => p.pub_key);

      async function assertLspsNotPeers(): Promise<void> {
        assert.ok(!(await peersOf('lsp')).includes(hex(pk.rlsp!)), 'L has no connection to RL');
        assert.ok(!(await peersOf('rlsp')).includes(hex(pk.lsp!)), 'RL has no connection to L');
      }

      before(async () => {
        net = await RegtestNetwork.start({
          lndVersion: version,
          topology: 'five-node',
          extraArgs: { rlsp: ['--requireinterceptor'] },
        });
        for (const n of net.names) pk[n] = fromHex(await net.node(n).pubkey());
        // X's own account of what it relays: LND 0.21 logs each onion message it forwards (OMSG).
        await net.lncli('middle', 'debuglevel', '--level=OMSG=debug');
        lsp = new Sidecar(net);
        rlsp = new Sidecar(net, ['--recipient-lsp=true'], 'rlsp');
        await lsp.start();
        await rlsp.start();
        const line = await rlsp.waitLog(
          'client message path for R',
          (l) => l.message === 'client message path' && l.client === hex(pk.recipient!),
        );
        messagePath = fromHex(String(line.messagePath));
        sender = clientsFor(await net.nodeInfo('sender'));
      });

      after(async () => {
        sender?.close();
        await lsp?.kill('SIGTERM');
        await rlsp?.kill('SIGTERM');
        await net?.teardown({ keepLogs: failed });
      });

      const guard = (fn: () => Promise<void>) => async (): Promise<void> => {
        try {
          await fn();
        } catch (e) {
          failed = true;
          throw e;
        }
      };

      async function recipientOffline(): Promise<void> {
        if (net.node('recipient').isRunning) await net.stopNode('recipient');
      }

      async function recipientReturns(): Promise<void> {
        await net.startNode('recipient');
        await net.waitChannelActive('rlsp', 'recipient');
      }

      /** Mines during the hold; mine() waits for every node of the topology, X included. */
      async function mineDuringHold(): Promise<void> {
        await net.mine(HOLD_MINED);
      }

      const isStoredForR = (l: LogLine): boolean =>
        l.message === 'held_htlc_available stored' && l.client === hex(pk.recipient!);

      /** The sidecar routed an onion message to `to` through exactly X. */
      const routedViaX =
        (to: NodeName) =>
        (l: LogLine): boolean =>
          l.message === 'onion message routed over the graph' &&
          l.to === hex(pk[to]!) &&
          Array.isArray(l.via) &&
          l.via.length === 1 &&
          l.via[0] === hex(pk.middle!);

      /** A sample of RL's /metrics (summed over labels that match `labels`). */
      async function rlMetric(name: string, labels = ''): Promise<number> {
        const { status, body } = await rlsp.scrape('/metrics');
        assert.equal(status, 200);
        return body
          .split('\n')
          .filter((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'))
          .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      }

      /** Lines of X's LND log where it forwarded an onion message from `from` on to `to`. */
      async function xForwarded(from: NodeName, to: NodeName): Promise<number> {
        const log = readFileSync((await net.nodeInfo('middle')).logFile, 'utf8');
        return log.split('\n').filter(
          (l) =>
            l.includes('Forwarding onion message') &&
            l.includes(`peer=${hex(pk[from]!)}`) &&
            // LND logs the next node's key shortened to its first 6 bytes.
            l.includes(`next_node_id=${hex(pk[to]!).slice(0, 12)}`),
        ).length;
      }

      async function waitHeldAtL(hash: string): Promise<void> {
        await waitFor(`htlc ${hash.slice(0, 8)} held at L`, async () => {
          const at = await htlcsFor(net, 'lsp', hash);
          return at.length === 1 && at[0]!.incoming && at[0]!.peer === hex(pk.sender!);
        });
      }

      async function assertSettled(r: AsyncPaymentResult, hash: string): Promise<void> {
        assert.equal(r.status, 'SUCCEEDED', `payment failed: ${r.failureCode}`);
        assert.ok(r.preimage, 'S has the preimage');
        assert.equal(sha(r.preimage), hash);
        assert.equal(await invoiceState(net, 'recipient', hash), 'SETTLED');
      }

      async function assertNoClosures(): Promise<void> {
        for (const n of net.names) {
          const closed = await net.lncli<{ channels: unknown[] }>(n, 'closedchannels');
          assert.equal(closed.channels.length, 0, `${n} closed no channel`);
          const p = await net.lncli<{
            pending_force_closing_channels?: unknown[];
            waiting_close_channels?: unknown[];
          }>(n, 'pendingchannels');
          assert.equal(
            (p.pending_force_closing_channels ?? []).length + (p.waiting_close_channels ?? []).length,
            0,
            `${n} is closing no channel`,
          );
        }
      }

      /**
       * The part both modes share, from the notice to R's return: L holds, L routes the notice to RL
       * via X, RL stores it, blocks pass, nothing reaches RL or a release; then R returns, RL routes
       * the release to L via X and L lets the payment go on.
       */
      async function holdStoreRelease(hash: string, mL: number, mR: number): Promise<void> {
        const noticesViaX = await xForwarded('lsp', 'rlsp');
        const releasesViaX = await xForwarded('rlsp', 'lsp');
        await lsp.waitLog('holding', (l) => l.message === 'holding htlc', mL);
        await waitHeldAtL(hash);
        await lsp.waitLog('L routed the notice via X', routedViaX('rlsp'), mL);
        await rlsp.waitLog('stored for R', isStoredForR, mR);
        assert.ok((await xForwarded('lsp', 'rlsp')) > noticesViaX, 'X forwarded the notice from L to RL');
        const releasesBefore = await rlMetric(
          'async_trampoline_recipient_lsp_sends_total',
          'kind="release",result="ok"',
        );
        assert.ok((await rlMetric('async_trampoline_recipient_lsp_mailbox_notices')) >= 1, 'in the mailbox');
        await mineDuringHold();
        await waitHeldAtL(hash);
        assert.deepEqual(await htlcsFor(net, 'rlsp', hash), [], 'nothing forwarded to RL yet');
        assert.equal(
          rlsp.count((l) => l.message === 'released for client', mR),
          0,
        );
        await recipientReturns();
        await rlsp.waitLog(
          'RL released for R',
          (l) => l.message === 'released for client' && l.client === hex(pk.recipient!),
          mR,
        );
        await rlsp.waitLog('RL routed the release via X', routedViaX('lsp'), mR);
        await lsp.waitLog('L got the release', (l) => l.message === 'hold released', mL);
        assert.ok((await xForwarded('rlsp', 'lsp')) > releasesViaX, 'X forwarded the release from RL to L');
        assert.ok(
          (await rlMetric('async_trampoline_recipient_lsp_sends_total', 'kind="release",result="ok"')) >
            releasesBefore,
          'RL counted the release as sent',
        );
      }

      test(
        'topology: S-L-X-RL-R, X a stock node, L and RL not peers, every graph holds all four channels',
        guard(async () => {
          assert.deepEqual(net.names, ['sender', 'lsp', 'middle', 'rlsp', 'recipient']);
          await assertLspsNotPeers();
          const edges = (
            await net.lncli<{ edges: { node1_pub: string; node2_pub: string }[] }>('lsp', 'describegraph')
          ).edges.map((e) => [e.node1_pub, e.node2_pub].sort().join('-'));
          assert.equal(edges.length, 4);
          assert.ok(!edges.includes([hex(pk.lsp!), hex(pk.rlsp!)].sort().join('-')), 'no L-RL channel');
          // X advertises onion messages (BOLT 9 bit 38/39): what L's and RL's route search needs.
          const x = await net.lncli<{ node: { features: Record<string, unknown> } }>(
            'lsp',
            'getnodeinfo',
            hex(pk.middle!),
          );
          assert.ok('38' in x.node.features || '39' in x.node.features, 'X advertises onion messages');
        }),
      );

      test(
        'keysend, source-routed: notice L -> X -> RL stored, 20 blocks, R back, release RL -> X -> L, R settles',
        guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rlsp.lines.length;
          const { preimage, paymentHash } = keysendPreimage();
          const result = sendKeysendAsync(sender, {
            preimage,
            amountMsat: 20_000_000n,
            hops: [pk.lsp!, pk.middle!, pk.rlsp!, pk.recipient!],
            asyncHold: { messagePaths: [messagePath] },
          });
          result.catch(() => {});
          await holdStoreRelease(hex(paymentHash), mL, mR);
          await assertSettled(await result, hex(paymentHash));
          await assertLspsNotPeers();
          await assertNoClosures();
        }),
      );

      test(
        'keysend, trampoline: the same notice and release via X; on release L pays R by keysend',
        guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rlsp.lines.length;
          const { preimage, paymentHash } = keysendPreimage();
          const chan = (await net.channels('sender')).find((c) => c.remote_pubkey === hex(pk.lsp!))!;
          const deliver = 10_000_000n;
          const result = sendTrampolinePayment(sender, {
            paymentHash,
            deliverMsat: deliver,
            firstChanId: (chan as { scid?: string }).scid ?? chan.chan_id,
            lsp: pk.lsp!,
            trampolineRequest: encodeTrampolineRequest({
              kind: 'keysend',
              outgoingNodeId: pk.recipient!,
              amtToForward: deliver,
            }),
            lspRecords: { [outKey(KEYSEND_PREIMAGE_TYPE)]: preimage },
            asyncHold: { messagePaths: [messagePath] },
          });
          result.catch(() => {});
          await holdStoreRelease(hex(paymentHash), mL, mR);
          await lsp.waitLog(
            'settled by payment',
            (l) => l.message === 'trampoline payment succeeded; settling',
            mL,
          );
          await assertSettled(await result, hex(paymentHash));
          await assertLspsNotPeers();
          await assertNoClosures();
        }),
      );
    },
  );
}
