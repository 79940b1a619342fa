// Issue 11, scenario 1 in trampoline mode with the sender's LSP on real Core Lightning: S (LND) ->
// L (lightningd v26.06.6 + our plugin) -> RL (LND + our sidecar, --recipient-lsp) -> R (stock LND,
// --accept-keysend, none of our code), the default ClnLspNetwork. R is offline before S pays. S sends
// an async keysend in trampoline mode (keysend_request to R, the preimage record in L's payload);
// L holds, RL stores the notice, blocks pass, R returns, RL releases, and L pays R by keysend with
// the sender's preimage: getroute, an onion we build, sendonion (lightningd's own keysend would draw
// another preimage). R settles a keysend invoice; S gets the preimage.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ClnLspNetwork, type LndName } from '../../scripts/regtest/cln-network.js';
import type { LndVersion } from '../../scripts/regtest/binaries.js';
import type { PluginLogLine } from '../../scripts/regtest/cln-node.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { Sidecar, clientsFor } from '../../scripts/regtest/lsp.js';
import { sendTrampolinePayment } from '../../plugin/sender/lnd-sender.js';
import { KEYSEND_PREIMAGE_TYPE, keysendPreimage } from '../../plugin/sender/keysend-mpp.js';
import { encodeTrampolineRequest } from '../../plugin/protocol/trampoline-request.js';
import { outKey } from '../../plugin/backends/lnd/htlc-map.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';

const versions = (process.env.ASYNC_TRAMPOLINE_LND_VERSIONS ?? 'v0.21.2-beta v0.20.2-beta')
  .split(/\s+/)
  .filter(Boolean) as LndVersion[];

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
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
      let failed = false;
      const pk: Partial<Record<LndName, Uint8Array>> = {};
      let messagePath: Uint8Array;

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
        rlsp = new Sidecar(net, ['--recipient-lsp=true'], 'rlsp');
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
        await rlsp?.kill('SIGTERM');
        await net?.teardown({ keepLogs: failed || process.env.KEEP_LOGS === '1' });
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

      async function htlcsAtL(hash: string): Promise<string[]> {
        const r = await net.lsp.rpc<{
          channels: { peer_id: string; htlcs?: { direction: string; payment_hash: string }[] }[];
        }>('listpeerchannels');
        return r.channels.flatMap((c) =>
          (c.htlcs ?? []).filter((h) => h.payment_hash === hash).map((h) => `${h.direction}:${c.peer_id}`),
        );
      }

      test('R offline; S pays async keysend via trampoline; 12 blocks held; R back, RL releases; L keysends R with the sender preimage', async () => {
        try {
          await net.stopLnd('recipient');
          const mL = lLines().length;
          const mR = rlsp.lines.length;
          const { preimage, paymentHash } = keysendPreimage();
          const hash = hex(paymentHash);
          const deliver = 10_000_000n;
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

          await waitL('holding', (l) => l.message === 'holding htlc', mL);
          await waitL('notice sent', (l) => l.message === 'held_htlc_available sent', mL);
          await rlsp.waitLog(
            'stored for R',
            (l) => l.message === 'held_htlc_available stored' && l.client === hex(pk.recipient!),
            mR,
          );
          await net.mine(HOLD_MINED);
          assert.deepEqual(await htlcsAtL(hash), [`in:${hex(pk.sender!)}`], 'held at L, nothing out');
          assert.equal(
            lLines()
              .slice(mL)
              .filter((l) => l.message === 'hold released').length,
            0,
          );

          await net.startLnd('recipient');
          await net.waitLndChannelActive('rlsp', hex(pk.recipient!));
          await rlsp.waitLog(
            'RL released for R',
            (l) => l.message === 'released for client' && l.client === hex(pk.recipient!),
            mR,
          );
          await waitL('L got the release', (l) => l.message === 'hold released', mL);
          await waitL('settled', (l) => l.message === 'trampoline payment succeeded; settling', mL);

          const r = await result;
          assert.equal(r.status, 'SUCCEEDED', `payment failed: ${r.failureCode}`);
          assert.ok(r.preimage, 'S has the preimage');
          assert.equal(hex(r.preimage), hex(preimage), 'S got back its own preimage');
          assert.equal(sha(r.preimage), hash);

          // R's stock LND took it as a keysend: an invoice it made itself, settled for the amount.
          const inv = await net.lncli<{ state: string; is_keysend: boolean; amt_paid_msat: string }>(
            'recipient',
            'lookupinvoice',
            hash,
          );
          assert.equal(inv.state, 'SETTLED');
          assert.equal(inv.is_keysend, true);
          assert.equal(BigInt(inv.amt_paid_msat), deliver);

          // L paid it with its own onion through sendonion, to R, and it completed.
          const pays = await net.lsp.rpc<{
            pays: { status: string; destination?: string; preimage?: string }[];
          }>('listpays', { payment_hash: hash });
          assert.equal(pays.pays.length, 1);
          assert.equal(pays.pays[0]!.status, 'complete');
          assert.equal(pays.pays[0]!.destination, hex(pk.recipient!));
          assert.deepEqual(await htlcsAtL(hash), [], 'nothing left at L');
        } catch (e) {
          failed = true;
          throw e;
        }
      });
    },
  );
}
