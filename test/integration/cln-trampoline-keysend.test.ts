// Issue 11, scenario 1 in trampoline mode with the sender's LSP on real Core Lightning: S (LND) ->
// L (lightningd v26.06.6 + our plugin) -> RL (LND + our sidecar, --recipient-lsp) -> R (stock LND,
// --accept-keysend, none of our code), the default ClnLspNetwork. R is offline before S pays. S sends
// an async keysend in trampoline mode (keysend_request to R, the preimage record in L's payload);
// L holds, RL stores the notice, blocks pass, R returns, RL releases, and L pays R by keysend with
// the sender's preimage: getroutes, an onion we build, sendonion (lightningd's own keysend would draw
// another preimage). R settles a keysend invoice; S gets the preimage.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClnLspNetwork, type LndName } from '../../scripts/regtest/cln-network.js';
import type { PluginLogLine } from '../../scripts/regtest/cln-node.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { clientsFor, type Sidecar } from '../../scripts/regtest/lsp.js';
import { sendTrampolinePayment, type AsyncPaymentResult } from '../../plugin/sender/lnd-sender.js';
import { KEYSEND_PREIMAGE_TYPE, keysendPreimage } from '../../plugin/sender/keysend-mpp.js';
import { encodeTrampolineRequest } from '../../plugin/protocol/trampoline-request.js';
import { outKey } from '../../plugin/backends/lnd/htlc-map.js';
import { DEFAULT_TRACK_POLL_MS } from '../../plugin/backends/cln/backend.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import { repoRoot } from '../helpers/paths.js';
import { assertLndChannelsOpen } from './support/multihop.js';
import { ForwardInterceptor, LspSidecars } from './support/network.js';
import { FailureFlag, assertComesTo, fromHex, hex, lndVersions } from './support/scenario.js';

const versions = lndVersions();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Blocks mined while the payment is held (R asleep). */
const HOLD_MINED = 12;
/** The virtual channel trampoline HTLCs are addressed to (1x1x1). */
const TRAMPOLINE_SCID = '1x1x1';

for (const version of versions) {
  describe(
    `CLN L (real lightningd), LND ${version}: trampoline keysend with the sender's preimage`,
    { timeout: 20 * 60_000 },
    () => {
      let net: ClnLspNetwork;
      let rlsp: Sidecar;
      let sender: LndClients;
      const run = new FailureFlag();
      const pk: Partial<Record<LndName, Uint8Array>> = {};
      let messagePath: Uint8Array;
      const sidecars = new LspSidecars({ senderLsp: false });

      before(async () => {
        net = await ClnLspNetwork.start({
          lndVersion: version,
          lspArgs: [
            `--async-trampoline-trampoline-scid=${TRAMPOLINE_SCID}`,
            '--async-trampoline-log-level=debug',
          ],
          lndArgs: { rlsp: ['--requireinterceptor'] },
        });
        pk.lsp = fromHex(await net.lsp.nodeId());
        for (const n of net.names) pk[n] = fromHex(await net.pubkey(n));
        ({ rlsp, sender, messagePath } = await sidecars.start(net, pk.recipient!));
      });

      after(async () => {
        await sidecars.stop();
        await net?.teardown({ keepLogs: run.failed || process.env.KEEP_LOGS === '1' });
      });

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
      const countL = (message: string, from: number): number =>
        lLines()
          .slice(from)
          .filter((l) => l.message === message).length;

      async function htlcsAtL(hash: string): Promise<string[]> {
        const r = await net.lsp.rpc<{
          channels: { peer_id: string; htlcs?: { direction: string; payment_hash: string }[] }[];
        }>('listpeerchannels');
        return r.channels.flatMap((c) =>
          (c.htlcs ?? []).filter((h) => h.payment_hash === hash).map((h) => `${h.direction}:${c.peer_id}`),
        );
      }

      /** S pays R `deliver` msat by async keysend in trampoline mode through L, with a fresh preimage. */
      async function payViaL(deliver: bigint): Promise<{
        preimage: Uint8Array;
        hash: string;
        result: Promise<AsyncPaymentResult>;
      }> {
        const { preimage, paymentHash } = keysendPreimage();
        const chan = (await net.channels('sender')).find((c) => c.remote_pubkey === hex(pk.lsp!))!;
        const result = sendTrampolinePayment(sender, {
          paymentHash,
          amountMsat: deliver + 100_000n,
          firstChanId: (chan as { scid?: string }).scid ?? chan.chan_id,
          lsp: pk.lsp!,
          virtualChanId: ((1n << 40n) | (1n << 16n) | 1n).toString(),
          cltvBudget: 400,
          currentHeight: await net.height(),
          trampolineRequest: encodeTrampolineRequest({
            kind: 'keysend',
            outgoingNodeId: pk.recipient!,
            amtToForward: deliver,
          }),
          lspRecords: { [outKey(KEYSEND_PREIMAGE_TYPE)]: preimage },
          asyncHold: { messagePaths: [messagePath] },
        });
        result.catch(() => {});
        return { preimage, hash: hex(paymentHash), result };
      }

      /**
       * R offline from before the payment: L holds, RL stores the notice, blocks pass with nothing
       * sent on; then R returns, RL releases and L takes the release. `mL`/`mR`: log marks from before.
       */
      async function holdUntilReleased(hash: string, mL: number, mR: number): Promise<void> {
        await waitL('holding', (l) => l.message === 'holding htlc', mL);
        await waitL('notice sent', (l) => l.message === 'held_htlc_available sent', mL);
        await rlsp.waitLog(
          'stored for R',
          (l) => l.message === 'held_htlc_available stored' && l.client === hex(pk.recipient!),
          mR,
        );
        await net.mine(HOLD_MINED);
        assert.deepEqual(await htlcsAtL(hash), [`in:${hex(pk.sender!)}`], 'held at L, nothing out');
        assert.equal(countL('hold released', mL), 0);

        await net.startLnd('recipient');
        await net.waitLndChannelActive('rlsp', hex(pk.recipient!));
        await rlsp.waitLog(
          'RL released for R',
          (l) => l.message === 'released for client' && l.client === hex(pk.recipient!),
          mR,
        );
        await waitL('L got the release', (l) => l.message === 'hold released', mL);
      }

      /** S got back its own preimage; R's stock LND took one keysend HTLC of `deliver` and settled it. */
      async function assertPaidOnce(
        r: AsyncPaymentResult,
        preimage: Uint8Array,
        hash: string,
        deliver: bigint,
      ): Promise<void> {
        assert.equal(r.status, 'SUCCEEDED', `payment failed: ${r.failureCode}`);
        assert.ok(r.preimage, 'S has the preimage');
        assert.equal(hex(r.preimage), hex(preimage), 'S got back its own preimage');
        assert.equal(sha(r.preimage), hash);
        // R's stock LND took it as a keysend: an invoice it made itself, settled for the amount.
        const inv = await net.lncli<{
          state: string;
          is_keysend: boolean;
          amt_paid_msat: string;
          htlcs: { state: string }[];
        }>('recipient', 'lookupinvoice', hash);
        assert.equal(inv.state, 'SETTLED');
        assert.equal(inv.is_keysend, true);
        assert.equal(BigInt(inv.amt_paid_msat), deliver);
        assert.deepEqual(
          inv.htlcs.map((h) => h.state),
          ['SETTLED'],
          'R was paid by one HTLC',
        );
        // L paid it with its own onion through sendonion, to R, once, and it completed.
        const pays = await net.lsp.rpc<{
          pays: { status: string; destination?: string; preimage?: string }[];
        }>('listpays', { payment_hash: hash });
        assert.equal(pays.pays.length, 1);
        assert.equal(pays.pays[0]!.status, 'complete');
        assert.equal(pays.pays[0]!.destination, hex(pk.recipient!));
        const parts = await net.lsp.rpc<{ payments: unknown[] }>('listsendpays', { payment_hash: hash });
        assert.equal(parts.payments.length, 1, 'one sendonion, never sent again');
        await assertComesTo(() => htlcsAtL(hash), [], 'nothing left at L');
      }

      /**
       * Loads test/helpers/cln-rpc-gate.ts into L's lightningd: it holds our plugin's calls of
       * `methods` (rpc-gate-open lets them go). A restarted lightningd comes up without it.
       */
      async function startGate(methods: string[]): Promise<void> {
        const gate = join(net.runDir, `cln-rpc-gate-${methods.join('-')}.sh`);
        const gateJs = join(repoRoot, 'dist', 'test', 'helpers', 'cln-rpc-gate.js');
        writeFileSync(
          gate,
          `#!/bin/sh\nCLN_RPC_GATE_METHODS=${methods.join(',')} exec '${process.execPath}' '${gateJs}'\n`,
        );
        chmodSync(gate, 0o755);
        await net.lsp.rpc('plugin', { subcommand: 'start', plugin: gate });
      }

      const gateHolds = (method: string, hash: string, from: number): Promise<PluginLogLine> =>
        waitL(
          `${method} held by the gate`,
          (l) =>
            l.message === 'rpc gate holding' &&
            l.method === method &&
            (l.params as { payment_hash?: unknown } | undefined)?.payment_hash === hash,
          from,
        );

      /** The statuses of L's payments to `hash` in listpays. */
      async function payStatusAtL(hash: string): Promise<string[]> {
        const r = await net.lsp.rpc<{ pays: { status: string }[] }>('listpays', { payment_hash: hash });
        return r.pays.map((p) => p.status);
      }

      /**
       * With waitsendpay held: the onward keysend ended (`status` in listpays) while our plugin has
       * not heard of it; only the HTLC from S is left at L, no `verdict` line yet.
       */
      async function onwardEndedUnheard(
        hash: string,
        status: 'complete' | 'failed',
        verdict: string,
        mL: number,
      ): Promise<void> {
        await gateHolds('waitsendpay', hash, mL);
        await waitFor(`onward keysend ${status} at L`, async () => {
          const pays = await payStatusAtL(hash);
          return pays.length === 1 && pays[0] === status;
        });
        await assertComesTo(() => htlcsAtL(hash), [`in:${hex(pk.sender!)}`], 'only the held HTLC is left');
        assert.equal(countL(verdict, mL), 0, 'our plugin has not heard yet');
      }

      /** SIGKILL lightningd at L, start it again, wait for its channels and the hold restored. */
      async function crashL(): Promise<number> {
        const m = lLines().length;
        await net.lsp.kill();
        await net.startLsp();
        await net.waitLspChannelsNormal(2);
        await waitL(
          'restarted with the hold paying',
          (l) => l.message === 'hold engine started' && Number(l.active) >= 1,
          m,
        );
        const plugins = await net.lsp.rpc<{ plugins: { name: string }[] }>('plugin', { subcommand: 'list' });
        assert.ok(
          !plugins.plugins.some((p) => p.name.includes('cln-rpc-gate')),
          'restarted without the gate',
        );
        return m;
      }

      async function holdIs(holdId: unknown, state: string): Promise<void> {
        const r = await net.lsp.rpc<{ holds: { hold_id: string; state: string }[] }>(
          'async-trampoline-list',
          {
            state,
          },
        );
        assert.deepEqual(
          r.holds.filter((h) => h.hold_id === holdId).map((h) => h.state),
          [state],
          `the hold is ${state}`,
        );
      }

      async function assertNoClosures(): Promise<void> {
        await assertLndChannelsOpen(net, ['sender', 'rlsp', 'recipient']);
        const chans = await net.lsp.rpc<{ channels: { state: string }[] }>('listpeerchannels');
        assert.deepEqual(
          chans.channels.map((c) => c.state),
          ['CHANNELD_NORMAL', 'CHANNELD_NORMAL'],
        );
      }

      async function recipientOffline(): Promise<void> {
        if (net.node('recipient').isRunning) await net.stopLnd('recipient');
      }

      /**
       * The crash scenarios' start: R offline, the gate holding our plugin's calls of `gated`, S pays
       * `deliver` via L, and L holds it until RL's release.
       */
      async function holdGatedUntilReleased(gated: string[], deliver: bigint) {
        await recipientOffline();
        await startGate(gated);
        const mL = lLines().length;
        const mR = rlsp.lines.length;
        const paid = await payViaL(deliver);
        const holding = await waitL('holding', (l) => l.message === 'holding htlc', mL);
        await holdUntilReleased(paid.hash, mL, mR);
        return { ...paid, holding, mL };
      }

      test(
        'R offline; S pays async keysend via trampoline; 12 blocks held; R back, RL releases; L keysends R with the sender preimage',
        run.guard(async () => {
          await recipientOffline();
          const mL = lLines().length;
          const mR = rlsp.lines.length;
          const deliver = 10_000_000n;
          const { preimage, hash, result } = await payViaL(deliver);
          await holdUntilReleased(hash, mL, mR);
          await waitL('settled', (l) => l.message === 'trampoline payment succeeded; settling', mL);
          await assertPaidOnce(await result, preimage, hash, deliver);
        }),
      );

      test(
        'lightningd SIGKILLed after the onward keysend completed, before the held HTLC settled: after restart L settles it once from listpays',
        run.guard(async () => {
          // waitsendpay held: the keysend goes out and completes, and our plugin waits on its answer
          // until lightningd dies.
          const deliver = 9_000_000n;
          const { preimage, hash, result, holding, mL } = await holdGatedUntilReleased(
            ['waitsendpay'],
            deliver,
          );
          // The money is out: R settled and L's lightningd knows the preimage; the HTLC from S is
          // still in, unsettled.
          await onwardEndedUnheard(hash, 'complete', 'trampoline payment succeeded; settling', mL);

          const m2 = await crashL();
          await waitL(
            'settled after restart',
            (l) => l.message === 'trampoline payment succeeded; settling',
            m2,
          );
          await assertPaidOnce(await result, preimage, hash, deliver);
          assert.equal(countL('holding htlc', m2), 0, 'the replayed HTLC is the same hold');
          await holdIs(holding.holdId, 'settled');
          await assertNoClosures();
        }),
      );

      test(
        'lightningd SIGKILLed after the onward keysend failed (R gone again), before the held HTLC failed: after restart L fails it back once',
        run.guard(async () => {
          // getroutes held until R is gone again, so the keysend goes out and fails at RL; waitsendpay
          // held so our plugin never hears of it before lightningd dies.
          const { hash, result, holding, mL } = await holdGatedUntilReleased(
            ['getroutes', 'waitsendpay'],
            8_000_000n,
          );
          await waitL(
            'getroutes held by the gate',
            (l) => l.message === 'rpc gate holding' && l.method === 'getroutes',
            mL,
          );
          await net.stopLnd('recipient');
          await waitFor('RL sees R offline', async () =>
            (await net.channels('rlsp')).some((c) => c.remote_pubkey === hex(pk.recipient!) && !c.active),
          );
          await net.lsp.rpc('rpc-gate-open', { method: 'getroutes' });
          await onwardEndedUnheard(hash, 'failed', 'trampoline payment failed', mL);

          const m2 = await crashL();
          const failedLine = await waitL(
            'failed back after restart',
            (l) => l.message === 'trampoline payment failed',
            m2,
          );
          assert.equal(failedLine.reason, 'earlier payment failed');
          const r = await result;
          assert.equal(r.status, 'FAILED');
          const parts = await net.lsp.rpc<{ payments: unknown[] }>('listsendpays', { payment_hash: hash });
          assert.equal(parts.payments.length, 1, 'one sendonion, never sent again');
          await assertComesTo(() => htlcsAtL(hash), [], 'nothing left at L');
          assert.equal(countL('holding htlc', m2), 0, 'the replayed HTLC is the same hold');
          await holdIs(holding.holdId, 'failed');
          await net.startLnd('recipient');
          await net.waitLndChannelActive('rlsp', hex(pk.recipient!));
          await assertNoClosures();
        }),
      );

      test(
        'lightningd SIGKILLed while the onward keysend is in flight (held at RL): after restart L finds it pending, keeps polling, settles once when it completes',
        run.guard(async () => {
          // sendonion held until RL's sidecar is stopped and our own interceptor holds RL's forwards
          // (LND takes one interceptor; with --requireinterceptor RL holds forwards while it has none).
          const deliver = 7_000_000n;
          const { preimage, hash, result, holding, mL } = await holdGatedUntilReleased(
            ['sendonion'],
            deliver,
          );
          await gateHolds('sendonion', hash, mL);
          await rlsp.kill('SIGTERM');
          const rlClients = clientsFor(await net.nodeInfo('rlsp'));
          const atRl = new ForwardInterceptor(rlClients, { hold: true });
          const heldAtRl = (): number => [...atRl.held.values()].filter((h) => h === hash).length;
          const inFlight = [`in:${hex(pk.sender!)}`, `out:${hex(pk.rlsp!)}`].sort();
          const stillInFlight = async (): Promise<void> => {
            assert.deepEqual(await payStatusAtL(hash), ['pending']);
            await assertComesTo(async () => (await htlcsAtL(hash)).sort(), inFlight, 'in from S, out to RL');
            assert.equal(heldAtRl(), 1, 'one onward HTLC, held at RL');
          };
          try {
            await net.lsp.rpc('rpc-gate-open', { method: 'sendonion' });
            await waitFor('onward HTLC held at RL', () => heldAtRl() > 0);
            await stillInFlight();

            const m2 = await crashL();
            await holdIs(holding.holdId, 'paying');
            // (The killed plugin's failed waitsendpay started a lookup too, logged with 'pay call failed'.)
            await waitL(
              'onward payment looked up after restart',
              (l) => l.message === 'looking up the onward payment at the host' && l.after === 'restart',
              m2,
            );
            const pending = await waitL(
              'found pending',
              (l) => l.message === 'onward payment still pending; polling listpays',
              m2,
            );
            assert.equal(pending.payment_hash, hash);
            await net.mine(3);
            // Lets at least one more poll find it pending (held at RL); it logs once per lookup.
            await sleep(DEFAULT_TRACK_POLL_MS + 1000);
            assert.equal(countL('onward payment still pending; polling listpays', m2), 1);
            await stillInFlight();
            await holdIs(holding.holdId, 'paying');
            assert.equal(countL('trampoline payment succeeded; settling', m2), 0);
            assert.equal(countL('trampoline payment failed', m2), 0);

            atRl.resume(hash);
            await waitL(
              'settled after restart',
              (l) => l.message === 'trampoline payment succeeded; settling',
              m2,
            );
            await assertPaidOnce(await result, preimage, hash, deliver);
            assert.equal(countL('trampoline payment succeeded; settling', m2), 1);
            assert.equal(countL('holding htlc', m2), 0, 'the replayed HTLC is the same hold');
            await holdIs(holding.holdId, 'settled');
          } finally {
            atRl.close();
            rlClients.close();
          }
          await rlsp.start();
          await assertNoClosures();
        }),
      );
    },
  );
}
