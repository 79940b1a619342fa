// Issue 11, scenario 5 on real nodes: the two LSPs are not peers. The network is
// S -> L -> X -> RL -> R (scripts/regtest/network.ts 'five-node'): X is a stock LND on its default
// onion-message settings with nothing of ours, and L and RL have no p2p connection, so L's held_htlc_available reaches RL's mailbox only
// routed over the channel graph through X, and RL's release reaches L (the reply path's intro) only
// the same way back. R is a stock LND with --accept-keysend, offline before each payment.
// Only LND 0.21 relays onion messages; on 0.20 X would drop them, so the suite skips there.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RegtestNetwork, type NodeName } from '../../scripts/regtest/network.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import { type Sidecar, htlcsFor } from '../../scripts/regtest/lsp.js';
import { FailureFlag, fromHex, hex, lndVersions, relaysOnionMessages } from './support/scenario.js';
import { assertSettled, payKeysend, payTrampolineKeysend, said, waitHeldAtLsp } from './support/holds.js';
import { ViaX, assertLndChannelsOpen, holdStoreRelease, type HoldRun } from './support/multihop.js';
import { LspSidecars, startRecipient, stopRecipient } from './support/network.js';

const versions = lndVersions();

/** Blocks mined while the payment is held (R asleep). */
const HOLD_MINED = 20;

for (const version of versions) {
  const native = relaysOnionMessages(version);
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
      const run = new FailureFlag();
      const sidecars = new LspSidecars({ senderLsp: true });
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

      /** The hold walk-through; mine() waits for every node of the topology, X included. */
      const hold = (): HoldRun => ({
        net,
        via: new ViaX(net, (n) => hex(pk[n]!), rlsp),
        l: lsp,
        rlsp,
        recipient: hex(pk.recipient!),
        holdMined: HOLD_MINED,
        heldAtL: (hash) => waitHeldAtLsp(net, hash, { from: pk.sender! }),
        htlcsAtRl: (hash) => htlcsFor(net, 'rlsp', hash),
        recipientReturns,
      });

      test(
        'topology: S-L-X-RL-R, X a stock node, L and RL not peers, every graph holds all four channels',
        run.guard(async () => {
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
        run.guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rlsp.lines.length;
          const p = payKeysend(sender, {
            hops: [pk.lsp!, pk.middle!, pk.rlsp!, pk.recipient!],
            amountMsat: 20_000_000n,
            messagePath,
          });
          await holdStoreRelease(hold(), p.hash, mL, mR);
          await assertSettled(net, await p.result, p.hash);
          await assertLspsNotPeers();
          await assertLndChannelsOpen(net, net.names);
        }),
      );

      test(
        'keysend, trampoline: the same notice and release via X; on release L pays R by keysend',
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
          await holdStoreRelease(hold(), p.hash, mL, mR);
          await lsp.waitLog('settled by payment', said('trampoline payment succeeded; settling'), mL);
          await assertSettled(net, await p.result, p.hash);
          await assertLspsNotPeers();
          await assertLndChannelsOpen(net, net.names);
        }),
      );
    },
  );
}
