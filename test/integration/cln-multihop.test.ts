// Issue 11, scenario 5 with the sender's LSP on real Core Lightning: the two LSPs are not peers.
// The network is S (LND) -> L (lightningd v26.06.6 + our plugin) -> X (stock LND) -> RL (LND + our
// sidecar with --recipient-lsp) -> R (stock LND, --accept-keysend), built by
// scripts/regtest/cln-network.ts with `middle: true`. L has no p2p connection to RL, so the plugin's
// held_htlc_available reaches RL's mailbox only routed over lightningd's gossip through X
// (injectonionmessage hands the packet to a connected next hop only), and RL's release reaches L
// (the reply path's intro) only the same way back. R is offline before each payment.
// Only LND 0.21 relays onion messages; on 0.20 X would drop them, so the suite skips there.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ClnLspNetwork, type LndName } from '../../scripts/regtest/cln-network.js';
import type { LndVersion } from '../../scripts/regtest/binaries.js';
import type { PluginLogLine } from '../../scripts/regtest/cln-node.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { Sidecar, clientsFor, type LogLine } from '../../scripts/regtest/lsp.js';
import { sendTrampolinePayment, type AsyncPaymentResult } from '../../plugin/sender/lnd-sender.js';
import { keysendPreimage, sendKeysendAsync } from '../../plugin/sender/keysend-mpp.js';
import { encodeTrampolineRequest } from '../../plugin/protocol/trampoline-request.js';
import { hexFeaturesHaveOnionMessages } from '../../plugin/backends/onion-route.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';

const versions = (process.env.ASYNC_TRAMPOLINE_LND_VERSIONS ?? 'v0.21.2-beta v0.20.2-beta')
  .split(/\s+/)
  .filter(Boolean) as LndVersion[];

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Blocks mined while the payment is held (R asleep). */
const HOLD_MINED = 20;
/** The virtual channel trampoline HTLCs are addressed to (1x1x1). */
const TRAMPOLINE_SCID = '1x1x1';

type Name = LndName;

for (const version of versions) {
  const native = version.startsWith('v0.21.');
  describe(
    `CLN L (real lightningd), LND ${version} around it: L and RL not peers, onion messages routed via X`,
    {
      timeout: 30 * 60_000,
      skip: native ? false : 'LND 0.20 relays no onion messages: X cannot carry them between L and RL',
    },
    () => {
      let net: ClnLspNetwork;
      let rlsp: Sidecar;
      let sender: LndClients;
      let failed = false;
      const pk: Partial<Record<Name, Uint8Array>> = {};
      const id = (n: Name): string => hex(pk[n]!);
      /** R's message path, issued by RL (from its log). */
      let messagePath: Uint8Array;

      before(async () => {
        net = await ClnLspNetwork.start({
          lndVersion: version,
          middle: true,
          lspArgs: [
            `--async-trampoline-trampoline-scid=${TRAMPOLINE_SCID}`,
            '--async-trampoline-log-level=debug',
          ],
          lndArgs: { rlsp: ['--requireinterceptor'] },
        });
        pk.lsp = fromHex(await net.lsp.nodeId());
        for (const n of net.names) pk[n] = fromHex(await net.pubkey(n));
        // X's own account of what it relays: LND 0.21 logs each onion message it forwards (OMSG).
        await net.lncli('middle', 'debuglevel', '--level=OMSG=debug');
        rlsp = new Sidecar(net, ['--recipient-lsp=true'], 'rlsp');
        await rlsp.start();
        const line = await rlsp.waitLog(
          'client message path for R',
          (l) => l.message === 'client message path' && l.client === id('recipient'),
        );
        messagePath = fromHex(String(line.messagePath));
        sender = clientsFor(await net.nodeInfo('sender'));
      });

      after(async () => {
        sender?.close();
        await rlsp?.kill('SIGTERM');
        await net?.teardown({ keepLogs: failed || process.env.KEEP_LOGS === '1' });
      });

      const guard = (fn: () => Promise<void>) => async (): Promise<void> => {
        try {
          await fn();
        } catch (e) {
          failed = true;
          throw e;
        }
      };

      // --- L's plugin log -------------------------------------------------------------------
      const lLines = (): PluginLogLine[] => net.lsp.pluginLines();
      const waitL = (
        what: string,
        pred: (l: PluginLogLine) => boolean,
        from: number,
      ): Promise<PluginLogLine> =>
        waitFor(`plugin log: ${what}`, () => lLines().slice(from).find(pred), {
          timeoutMs: 120_000,
          intervalMs: 300,
        });

      async function assertLspsNotPeers(): Promise<void> {
        const lPeers = await net.lsp.rpc<{ peers: { id: string }[] }>('listpeers');
        assert.ok(!lPeers.peers.some((p) => p.id === id('rlsp')), 'L has no connection to RL');
        const rPeers = await net.lncli<{ peers: { pub_key: string }[] }>('rlsp', 'listpeers');
        assert.ok(!rPeers.peers.some((p) => p.pub_key === id('lsp')), 'RL has no connection to L');
      }

      async function recipientOffline(): Promise<void> {
        if (net.node('recipient').isRunning) await net.stopLnd('recipient');
      }

      async function recipientReturns(): Promise<void> {
        await net.startLnd('recipient');
        await net.waitLndChannelActive('rlsp', id('recipient'));
      }

      /** Exactly one HTLC at L with this hash, incoming, none out. */
      async function assertHeldAtL(hash: string): Promise<void> {
        const r = await net.lsp.rpc<{
          channels: { peer_id: string; htlcs?: { direction: string; payment_hash: string }[] }[];
        }>('listpeerchannels');
        const at = r.channels.flatMap((c) =>
          (c.htlcs ?? []).filter((h) => h.payment_hash === hash).map((h) => `${h.direction}:${c.peer_id}`),
        );
        assert.deepEqual(at, [`in:${id('sender')}`], 'exactly one HTLC at L, incoming from S');
      }

      async function htlcsAt(n: LndName, hash: string): Promise<unknown[]> {
        return (await net.channels(n)).flatMap((c) =>
          (c.pending_htlcs ?? []).filter((h) => h.hash_lock === hash),
        );
      }

      const isStoredForR = (l: LogLine): boolean =>
        l.message === 'held_htlc_available stored' && l.client === id('recipient');

      /** A node (L's plugin or RL's sidecar) routed an onion message to `to` through exactly X. */
      const routedViaX =
        (to: Name) =>
        (l: LogLine): boolean =>
          l.message === 'onion message routed over the graph' &&
          l.to === id(to) &&
          Array.isArray(l.via) &&
          l.via.length === 1 &&
          l.via[0] === id('middle');

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
      async function xForwarded(from: Name, to: Name): Promise<number> {
        const log = readFileSync((await net.nodeInfo('middle')).logFile, 'utf8');
        return log.split('\n').filter(
          (l) =>
            l.includes('Forwarding onion message') &&
            l.includes(`peer=${id(from)}`) &&
            // LND logs the next node's key shortened to its first 6 bytes.
            l.includes(`next_node_id=${id(to).slice(0, 12)}`),
        ).length;
      }

      async function assertSettled(r: AsyncPaymentResult, hash: string): Promise<void> {
        assert.equal(r.status, 'SUCCEEDED', `payment failed: ${r.failureCode}`);
        assert.ok(r.preimage, 'S has the preimage');
        assert.equal(sha(r.preimage), hash);
        const inv = await net.lncli<{ state: string }>('recipient', 'lookupinvoice', hash);
        assert.equal(inv.state, 'SETTLED');
      }

      async function assertNoClosures(): Promise<void> {
        for (const n of net.names.filter((x) => x !== net.clnAt)) {
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
        const r = await net.lsp.rpc<{ channels: { state: string }[] }>('listpeerchannels');
        assert.deepEqual(
          r.channels.map((c) => c.state),
          ['CHANNELD_NORMAL', 'CHANNELD_NORMAL'],
          'L closed no channel',
        );
        const closed = await net.lsp.rpc<{ closedchannels: unknown[] }>('listclosedchannels');
        assert.deepEqual(closed.closedchannels, [], 'L has no closed channel');
      }

      /**
       * The part both modes share, from the notice to R's return: L holds, L routes the notice to RL
       * via X, RL stores it, blocks pass, nothing reaches RL or a release; then R returns, RL routes
       * the release to L via X and L lets the payment go on.
       */
      async function holdStoreRelease(hash: string, mL: number, mR: number): Promise<void> {
        const noticesViaX = await xForwarded('lsp', 'rlsp');
        const releasesViaX = await xForwarded('rlsp', 'lsp');
        await waitL('holding', (l) => l.message === 'holding htlc', mL);
        await assertHeldAtL(hash);
        await waitL('L routed the notice via X', routedViaX('rlsp'), mL);
        await waitL('notice injected', (l) => l.message === 'held_htlc_available sent', mL);
        await rlsp.waitLog('stored for R', isStoredForR, mR);
        assert.ok((await xForwarded('lsp', 'rlsp')) > noticesViaX, 'X forwarded the notice from L to RL');
        const releasesBefore = await rlMetric(
          'async_trampoline_recipient_lsp_sends_total',
          'kind="release",result="ok"',
        );
        assert.ok((await rlMetric('async_trampoline_recipient_lsp_mailbox_notices')) >= 1, 'in the mailbox');
        await net.mine(HOLD_MINED);
        await assertHeldAtL(hash);
        assert.deepEqual(await htlcsAt('rlsp', hash), [], 'nothing forwarded to RL yet');
        assert.equal(
          rlsp.count((l) => l.message === 'released for client', mR),
          0,
        );
        assert.equal(
          lLines()
            .slice(mL)
            .filter((l) => l.message === 'hold released').length,
          0,
        );
        await recipientReturns();
        await rlsp.waitLog(
          'RL released for R',
          (l) => l.message === 'released for client' && l.client === id('recipient'),
          mR,
        );
        await rlsp.waitLog('RL routed the release via X', routedViaX('lsp'), mR);
        await waitL('L got the release', (l) => l.message === 'hold released', mL);
        assert.ok((await xForwarded('rlsp', 'lsp')) > releasesViaX, 'X forwarded the release from RL to L');
        assert.ok(
          (await rlMetric('async_trampoline_recipient_lsp_sends_total', 'kind="release",result="ok"')) >
            releasesBefore,
          'RL counted the release as sent',
        );
      }

      test(
        "topology: S-L-X-RL-R, L and RL not peers, L's gossip holds all four channels and X's onion-message bit",
        guard(async () => {
          assert.deepEqual(net.names, ['sender', 'lsp', 'middle', 'rlsp', 'recipient']);
          await assertLspsNotPeers();
          const chans = await net.lsp.rpc<{ channels: { source: string; destination: string }[] }>(
            'listchannels',
          );
          const edges = new Set(chans.channels.map((c) => [c.source, c.destination].sort().join('-')));
          assert.equal(edges.size, 4);
          assert.ok(!edges.has([id('lsp'), id('rlsp')].sort().join('-')), 'no L-RL channel');
          // What the plugin's route search reads: X's features in lightningd's listnodes.
          const x = await net.lsp.rpc<{ nodes: { features?: string }[] }>('listnodes', { id: id('middle') });
          assert.equal(x.nodes.length, 1);
          assert.ok(hexFeaturesHaveOnionMessages(x.nodes[0]!.features ?? ''), 'X advertises onion messages');
        }),
      );

      test(
        'keysend, source-routed: notice L -> X -> RL stored, 20 blocks, R back, release RL -> X -> L, R settles',
        guard(async () => {
          await recipientOffline();
          const mL = lLines().length;
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
        'invoice, trampoline: the same notice and release via X; on release L pays the invoice with xpay',
        guard(async () => {
          // Core Lightning's keysend picks its own preimage, so L's trampoline mode there pays
          // invoices only: R makes one, then sleeps before the payment starts.
          if (!net.node('recipient').isRunning) await recipientReturns();
          const deliver = 10_000;
          const inv = await net.lncli<{ r_hash: string; payment_request: string }>(
            'recipient',
            'addinvoice',
            `--amt=${deliver}`,
          );
          await recipientOffline();
          const mL = lLines().length;
          const mR = rlsp.lines.length;
          const chan = (await net.channels('sender')).find((c) => c.remote_pubkey === id('lsp'))!;
          const result = sendTrampolinePayment(sender, {
            paymentHash: fromHex(inv.r_hash),
            amountMsat: BigInt(deliver) * 1000n + 100_000n,
            firstChanId: (chan as { scid?: string }).scid ?? chan.chan_id,
            lsp: pk.lsp!,
            virtualChanId: ((1n << 40n) | (1n << 16n) | 1n).toString(),
            cltvBudget: 400,
            currentHeight: await net.height(),
            trampolineRequest: encodeTrampolineRequest({ kind: 'invoice', invoice: inv.payment_request }),
            asyncHold: { messagePaths: [messagePath] },
          });
          result.catch(() => {});
          await holdStoreRelease(inv.r_hash, mL, mR);
          await waitL('settled by xpay', (l) => l.message === 'trampoline payment succeeded; settling', mL);
          await assertSettled(await result, inv.r_hash);
          await assertLspsNotPeers();
          await assertNoClosures();
        }),
      );
    },
  );
}
