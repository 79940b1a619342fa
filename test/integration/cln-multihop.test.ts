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
import { ClnLspNetwork, type LndName } from '../../scripts/regtest/cln-network.js';
import { Sidecar, clientsFor, type Invoice } from '../../scripts/regtest/lsp.js';
import { hexFeaturesHaveOnionMessages } from '../../plugin/backends/onion-route.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import { FailureFlag, fromHex, hex, lndVersions, relaysOnionMessages } from './support/scenario.js';
import { assertSettled, payKeysend, payTrampolineInvoice, said } from './support/holds.js';
import { pluginLog, type PluginLog } from './support/logs.js';
import {
  ViaX,
  assertLndChannelsOpen,
  clientMessagePath,
  holdStoreRelease,
  type HoldRun,
} from './support/multihop.js';

const versions = lndVersions();

/** Blocks mined while the payment is held (R asleep). */
const HOLD_MINED = 20;
/** The virtual channel trampoline HTLCs are addressed to (1x1x1). */
const TRAMPOLINE_SCID = '1x1x1';

type Name = LndName;

for (const version of versions) {
  const native = relaysOnionMessages(version);
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
      const run = new FailureFlag();
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
        lLog = pluginLog(net.lsp, 'plugin log');
        pk.lsp = fromHex(await net.lsp.nodeId());
        for (const n of net.names) pk[n] = fromHex(await net.pubkey(n));
        // X's own account of what it relays: LND 0.21 logs each onion message it forwards (OMSG).
        await net.lncli('middle', 'debuglevel', '--level=OMSG=debug');
        rlsp = new Sidecar(net, ['--recipient-lsp=true'], 'rlsp');
        await rlsp.start();
        messagePath = await clientMessagePath(rlsp, id('recipient'));
        sender = clientsFor(await net.nodeInfo('sender'));
      });

      after(async () => {
        sender?.close();
        await rlsp?.kill('SIGTERM');
        await net?.teardown({ keepLogs: run.failed || process.env.KEEP_LOGS === '1' });
      });

      /** L's plugin log (lightningd passes our JSON lines on to its stderr). */
      let lLog: PluginLog;

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

      async function assertNoClosures(): Promise<void> {
        await assertLndChannelsOpen(
          net,
          net.names.filter((x) => x !== net.clnAt),
        );
        const r = await net.lsp.rpc<{ channels: { state: string }[] }>('listpeerchannels');
        assert.deepEqual(
          r.channels.map((c) => c.state),
          ['CHANNELD_NORMAL', 'CHANNELD_NORMAL'],
          'L closed no channel',
        );
        const closed = await net.lsp.rpc<{ closedchannels: unknown[] }>('listclosedchannels');
        assert.deepEqual(closed.closedchannels, [], 'L has no closed channel');
      }

      /** The hold walk-through; the plugin logs the notice it injected, too. */
      const hold = (): HoldRun => ({
        net,
        via: new ViaX(net, id, rlsp),
        l: lLog,
        rlsp,
        recipient: id('recipient'),
        holdMined: HOLD_MINED,
        noticeSent: 'held_htlc_available sent',
        heldAtL: assertHeldAtL,
        htlcsAtRl: (hash) => htlcsAt('rlsp', hash),
        recipientReturns,
      });

      test(
        "topology: S-L-X-RL-R, L and RL not peers, L's gossip holds all four channels and X's onion-message bit",
        run.guard(async () => {
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
        run.guard(async () => {
          await recipientOffline();
          const mL = lLog.mark();
          const mR = rlsp.lines.length;
          const p = payKeysend(sender, {
            hops: [pk.lsp!, pk.middle!, pk.rlsp!, pk.recipient!],
            amountMsat: 20_000_000n,
            messagePath,
          });
          await holdStoreRelease(hold(), p.hash, mL, mR);
          await assertSettled(net, await p.result, p.hash);
          await assertLspsNotPeers();
          await assertNoClosures();
        }),
      );

      test(
        'invoice, trampoline: the same notice and release via X; on release L pays the invoice with xpay',
        run.guard(async () => {
          // The invoice side of trampoline on Core Lightning (keysend with the sender's preimage
          // is cln-trampoline-keysend.test.ts): R makes one, then sleeps before the payment starts.
          if (!net.node('recipient').isRunning) await recipientReturns();
          const deliver = 10_000;
          const inv = await net.lncli<Invoice>('recipient', 'addinvoice', `--amt=${deliver}`);
          await recipientOffline();
          const mL = lLog.mark();
          const mR = rlsp.lines.length;
          const result = payTrampolineInvoice(net, sender, {
            lsp: pk.lsp!,
            inv,
            amountMsat: BigInt(deliver) * 1000n + 100_000n,
            messagePath,
          });
          result.catch(() => {});
          await holdStoreRelease(hold(), inv.r_hash, mL, mR);
          await lLog.waitLog('settled by xpay', said('trampoline payment succeeded; settling'), mL);
          await assertSettled(net, await result, inv.r_hash);
          await assertLspsNotPeers();
          await assertNoClosures();
        }),
      );
    },
  );
}
