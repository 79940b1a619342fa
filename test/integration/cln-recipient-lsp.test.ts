// Recipient-LSP mode on real Core Lightning: S (LND) -> L (LND + our sidecar, sender's LSP) -> RL
// (lightningd v26.06.6 with cln.js and cln-guard.js, async-trampoline-recipient-lsp=true) -> R (stock
// LND, --accept-keysend, nothing of ours), R offline before each payment starts. RL keeps the
// held_htlc_available L sends over the message path RL issued for R (RPC async-trampoline-message-path)
// and releases when R is back. Issue 11 scenarios 1, 2, 3 (with 3b, the 1,000-notice flood), 4, 6
// and 7. One network per LND version; the scenarios run in order and share it.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated; default both, see below).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClnLspNetwork } from '../../scripts/regtest/cln-network.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { Sidecar, clientsFor, type Invoice, type LogLine } from '../../scripts/regtest/lsp.js';
import { buildHeldHtlcAvailableVariants, buildReleasePath } from '../../plugin/protocol/onion-message.js';
import type { LndOnionTransport } from '../../plugin/backends/lnd/onion-transport.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import { clientPathId } from '../../plugin/recipient-lsp/client-path.js';
import { CLIENT_PATH_KEY_LABEL } from '../../plugin/backends/cln/recipient-lsp-host.js';
import type { RecipientLspCounts } from '../../plugin/ops/recipient-lsp-metrics.js';
import { FailureFlag, fromHex, hex, lndVersions } from './support/scenario.js';
import {
  assertFailed,
  assertSettled,
  payAsyncInvoice,
  payKeysend,
  payMppInvoice,
  payPlainInvoice,
  payTrampolineKeysend,
  recipientInvoiceState,
  said,
  sha256hex,
  sleepBlocks,
} from './support/holds.js';
import { pluginLog, releasedFor, storedFor } from './support/logs.js';
import { assertLndChannelsOpen } from './support/multihop.js';
import { senderOnionTransport, storedNotices } from './support/network.js';

// Both versions: L and RL are direct peers, so no LND has to relay an onion message. LND 0.20 neither
// parses nor relays them; L's sidecar sends and takes them as custom message 513 from RL, which
// lightningd speaks natively (S does the same for the forged notices of scenario 3).
const versions = lndVersions();

/** Blocks mined while each payment is held: the hold lasts through them, then settles. */
const HOLD_BLOCKS_MINED = 24;

/** RL's mailbox cap per client (async-trampoline-recipient-lsp-max-per-client), which scenario 3b fills. */
const PER_CLIENT_CAP = 16;
/** Scenario 3b's notices for R. */
const FLOOD = 1000;
/**
 * lightningd's connectd takes one onion message per 250 ms from each peer (a bucket of 4, refilled
 * in time; the rest is dropped, connectd/onion_message.c): each of the two senders keeps under it.
 */
const FLOOD_PACE_MS = 260;

for (const version of versions) {
  describe(
    `recipient-LSP mode on real lightningd (RL), LND ${version} around it, recipient a stock LND that is offline`,
    { timeout: 40 * 60_000 },
    () => {
      let net: ClnLspNetwork;
      let lsp: Sidecar;
      let sender: LndClients;
      const run = new FailureFlag();
      const native = version.startsWith('v0.21.');
      const pk: Record<string, Uint8Array> = {};
      /** R's message path, issued by RL (async-trampoline-message-path). */
      let messagePath: Uint8Array;

      before(async () => {
        net = await ClnLspNetwork.start({
          lndVersion: version,
          clnAt: 'rlsp',
          lspArgs: [
            '--async-trampoline-recipient-lsp=true',
            `--async-trampoline-recipient-lsp-max-per-client=${PER_CLIENT_CAP}`,
            '--async-trampoline-log-level=debug',
          ],
        });
        for (const n of ['sender', 'lsp', 'rlsp', 'recipient'] as const) pk[n] = fromHex(await net.pubkey(n));
        // L sends its notice once per hold (retries ten minutes apart), so what RL releases is the
        // notice it stored, on R's return (lightningd's `connect`), not a fresh retry finding R online.
        lsp = new Sidecar(net, ['--notify-base-ms=600000', '--notify-cap-ms=600000']);
        await lsp.start();
        const issued = await net.cln.rpc<{ node_id: string; message_path: string; has_channel: boolean }>(
          'async-trampoline-message-path',
          { node: hex(pk.recipient!) },
        );
        assert.equal(issued.node_id, hex(pk.recipient!));
        assert.equal(issued.has_channel, true);
        messagePath = fromHex(issued.message_path);
        sender = clientsFor(await net.nodeInfo('sender'));
      });

      after(async () => {
        sender?.close();
        await lsp?.kill('SIGTERM');
        await net?.teardown({ keepLogs: run.failed || process.env.KEEP_LOGS === '1' });
      });

      // RL's plugin log (lightningd passes our JSON lines on to its stderr).
      const rl = pluginLog({ pluginLines: () => net.cln.pluginLines() }, 'RL plugin log');
      const isStoredForR = (l: LogLine): boolean => storedFor(hex(pk.recipient!))(l);
      const isReleasedForR = (l: LogLine): boolean => releasedFor(hex(pk.recipient!))(l);

      async function recipientOffline(): Promise<void> {
        if (net.node('recipient').isRunning) await net.stopLnd('recipient');
        await waitFor('RL sees R disconnected', async () => {
          const r = await net.cln.rpc<{ peers: { id: string; connected: boolean }[] }>('listpeers', {
            id: hex(pk.recipient!),
          });
          return !r.peers.some((p) => p.connected);
        });
      }

      /** R starts again and reconnects to RL (LND reconnects to its channel peers on its own). */
      async function recipientReturns(): Promise<void> {
        await net.startLnd('recipient');
        await net.waitLndChannelActive('recipient', hex(pk.rlsp!));
      }

      /** `parts` HTLCs with this hash at L (one by default), all incoming from S, none forwarded. */
      async function waitHeldAtL(hash: string, parts = 1): Promise<void> {
        await waitFor(`${parts} htlc(s) ${hash.slice(0, 8)} held at L`, async () => {
          const at = (await net.channels('lsp')).flatMap((c) =>
            (c.pending_htlcs ?? []).filter((h) => h.hash_lock === hash).map((h) => ({ c, h })),
          );
          return (
            at.length === parts && at.every((x) => x.h.incoming && x.c.remote_pubkey === hex(pk.sender!))
          );
        });
      }

      async function rlHtlcs(hash: string): Promise<unknown[]> {
        const r = await net.cln.rpc<{ channels: { htlcs?: { payment_hash: string }[] }[] }>(
          'listpeerchannels',
        );
        return r.channels.flatMap((c) => c.htlcs ?? []).filter((h) => h.payment_hash === hash);
      }

      const keysend = (sat: number) =>
        payKeysend(sender, {
          hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
          amountMsat: BigInt(sat) * 1000n,
          messagePath,
        });

      /** RL's mailbox (in lightning-dir/regtest/, the plugin's default data dir). */
      const storedAtRl = (): Map<string, number> =>
        storedNotices(join(net.cln.dir, 'regtest', 'async-trampoline'));

      /** An onion-message sender on LND node `name` (S or L), as any peer of RL could run one. */
      async function transportAt(name: 'sender' | 'lsp'): Promise<{ t: LndOnionTransport; close(): void }> {
        const c = name === 'sender' ? sender : clientsFor(await net.nodeInfo(name));
        const t = senderOnionTransport(c, { ourNodeId: pk[name]!, native, label: name });
        return { t, close: () => (c === sender ? undefined : c.close()) };
      }

      /** held_htlc_available over `path` with a fresh reply path whose intro is `replyTo`. */
      async function notify(t: LndOnionTransport, path: Uint8Array, replyTo: Uint8Array): Promise<void> {
        const [msg] = buildHeldHtlcAvailableVariants({
          messagePath: path,
          replyPathId: new Uint8Array(randomBytes(32)),
          ourNodeId: replyTo,
          variants: ['odd'],
        });
        await t.send(msg!);
      }

      /** RL's recipient-LSP counters (async-trampoline-stats). */
      async function rlCounts(): Promise<RecipientLspCounts> {
        const s = await net.cln.rpc<{ recipient_lsp?: RecipientLspCounts }>('async-trampoline-stats');
        assert.ok(s.recipient_lsp, 'async-trampoline-stats shows the recipient-LSP counters');
        return s.recipient_lsp;
      }

      /** An invoice of R's, made while R is online; R is offline afterwards. */
      async function invoiceThenOffline(sat: number): Promise<Invoice> {
        if (!net.node('recipient').isRunning) await recipientReturns();
        const inv = await net.lncli<Invoice>('recipient', 'addinvoice', `--amt=${sat}`);
        await recipientOffline();
        return inv;
      }

      /**
       * Scenario 7's start: R's invoice, R offline, then S pays a keysend and the invoice, both async
       * with `holdBlocks`; returns once L holds both and RL stored both notices for R.
       */
      async function holdKeysendAndInvoice(keysendSat: number, invoiceSat: number, holdBlocks: number) {
        const inv = await invoiceThenOffline(invoiceSat);
        const mL = lsp.lines.length;
        const mR = rl.mark();
        const hops = [pk.lsp!, pk.rlsp!, pk.recipient!];
        const k = payKeysend(sender, {
          hops,
          amountMsat: BigInt(keysendSat) * 1000n,
          messagePath,
          holdBlocks,
        });
        const i = payAsyncInvoice(sender, {
          hops,
          inv,
          amountMsat: BigInt(invoiceSat) * 1000n,
          messagePath,
          holdBlocks,
        });
        await lsp.waitLog('two holds', () => lsp.count(said('holding htlc'), mL) >= 2, mL);
        await rl.waitLog('both stored for R', () => rl.count(isStoredForR, mR) >= 2, mR);
        return { inv, mL, mR, k, i };
      }

      const settledForwardsAtRl = async (): Promise<number> =>
        (await net.cln.rpc<{ forwards: unknown[] }>('listforwards', { status: 'settled' })).forwards.length;

      /** No channel closed or closing, on the LND nodes and at RL. */
      async function assertNothingClosed(): Promise<void> {
        await assertLndChannelsOpen(net, ['sender', 'lsp', 'recipient']);
        const r = await net.cln.rpc<{ channels: { state: string }[] }>('listpeerchannels');
        assert.deepEqual(
          r.channels.map((c) => c.state),
          ['CHANNELD_NORMAL', 'CHANNELD_NORMAL'],
          "RL's two channels stay normal",
        );
      }

      /** The hold at L, RL's notice and the wait through blocks, up to R's return (not included). */
      async function heldAndStored(hash: string, mL: number, mR: number): Promise<void> {
        await lsp.waitLog('holding', (l) => l.message === 'holding htlc', mL);
        await waitHeldAtL(hash);
        await rl.waitLog('stored for R', isStoredForR, mR);
        // Time passes during the hold; nothing moves until R is back.
        await net.mine(HOLD_BLOCKS_MINED);
        assert.equal(storedAtRl().get(hex(pk.recipient!)), 1, "the notice in RL's mailbox, for R");
        await waitHeldAtL(hash);
        assert.deepEqual(await rlHtlcs(hash), [], 'nothing forwarded to RL yet');
        assert.equal(rl.count(isReleasedForR, mR), 0, 'no release while R is away');
      }

      test(
        'scenario 6: a plain payment through RL (CLN) passes untouched',
        run.guard(async () => {
          const mL = lsp.lines.length;
          const mR = rl.mark();
          const settledForwards = async (): Promise<{ in_msat: number }[]> =>
            (await net.cln.rpc<{ forwards: { in_msat: number }[] }>('listforwards', { status: 'settled' }))
              .forwards;
          const before = (await settledForwards()).length;
          await payPlainInvoice(net, 1000);
          // RL's lightningd forwarded it (our htlc_accepted hook saw it and let it continue); its
          // listforwards names no payment hash, so: one more settled forward, of at least the amount.
          const after = await settledForwards();
          assert.equal(after.length, before + 1, 'RL settled one forward');
          assert.ok(after.at(-1)!.in_msat >= 1_000_000, `forward of ${after.at(-1)!.in_msat} msat`);
          assert.equal(
            rl.count((l) => l.message === 'holding htlc', mR),
            0,
            'RL held nothing',
          );
          assert.equal(rl.count(isStoredForR, mR), 0, 'RL stored nothing');
          assert.equal(
            lsp.count((l) => l.message === 'holding htlc', mL),
            0,
            'L held nothing',
          );
        }),
      );

      test(
        'scenario 1: keysend, source-routed: L holds, RL (CLN) stores, R returns, RL releases, L forwards, R settles',
        run.guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rl.mark();
          const p = keysend(20_000);
          await heldAndStored(p.hash, mL, mR);
          await recipientReturns();
          await rl.waitLog('RL released for R', isReleasedForR, mR);
          await assertSettled(net, await p.result, p.hash);
          assert.ok(lsp.count((l) => l.message === 'hold released', mL) >= 1, 'L released the hold');
          await waitFor('RL mailbox empty for R', () => (storedAtRl().get(hex(pk.recipient!)) ?? 0) === 0);
        }),
      );

      test(
        'scenario 1: keysend, trampoline: on release L pays R by keysend with the sender preimage',
        run.guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rl.mark();
          const { hash, result } = await payTrampolineKeysend(net, sender, {
            lsp: pk.lsp!,
            recipient: pk.recipient!,
            deliverMsat: 10_000_000n,
            messagePath,
          });
          await heldAndStored(hash, mL, mR);
          await recipientReturns();
          await rl.waitLog('RL released for R', isReleasedForR, mR);
          await assertSettled(net, await result, hash);
          await lsp.waitLog('settled by payment', said('trampoline payment succeeded; settling'), mL);
        }),
      );

      test(
        'scenario 3: a forged client path and a non-client are dropped with a log line; RL keeps working',
        run.guard(async () => {
          await recipientOffline();
          // S talks to RL directly, as any node on the network could.
          await net.connectLndTo('sender', hex(pk.rlsp!), net.cln.p2pHost);
          const { t: transport } = await transportAt('sender');
          const notifyRl = (path: Uint8Array): Promise<void> => notify(transport, path, pk.sender!);

          // A forged path: R's client id with a wrong HMAC half (RL's key from makesecret, as the plugin
          // derives it).
          const { secret } = await net.cln.rpc<{ secret: string }>('makesecret', {
            string: CLIENT_PATH_KEY_LABEL,
          });
          const forgedId = clientPathId(fromHex(secret), hex(pk.recipient!));
          forgedId[31]! ^= 0x01;
          let m = rl.mark();
          await notifyRl(buildReleasePath(pk.rlsp!, forgedId));
          const forged = await rl.waitLog('forged dropped', (l) => /does not verify/.test(l.message), m);
          assert.equal(forged.why, 'hmac');
          assert.equal(forged.level, 'warn');

          // A path RL issued for S, which has no channel with RL.
          const issued = await net.cln.rpc<{ message_path: string; has_channel: boolean }>(
            'async-trampoline-message-path',
            { node: hex(pk.sender!) },
          );
          assert.equal(issued.has_channel, false);
          m = rl.mark();
          await notifyRl(fromHex(issued.message_path));
          await rl.waitLog('non-client dropped', (l) => /without a channel to us/.test(l.message), m);
          assert.equal(storedAtRl().get(hex(pk.sender!)) ?? 0, 0);
          assert.equal(storedAtRl().get(hex(pk.recipient!)) ?? 0, 0);
          assert.equal(rl.count(isStoredForR, m), 0, 'nothing stored for R');

          // RL keeps working: a real payment is stored and released.
          await net.lncli('sender', 'disconnect', hex(pk.rlsp!));
          const mL = lsp.lines.length;
          const mR = rl.mark();
          const p = keysend(5_000);
          await lsp.waitLog('holding', (l) => l.message === 'holding htlc', mL);
          await rl.waitLog('stored for R', isStoredForR, mR);
          await net.mine(2);
          await recipientReturns();
          await rl.waitLog('RL released for R', isReleasedForR, mR);
          await assertSettled(net, await p.result, p.hash);
        }),
      );

      test(
        'scenario 2: RL lightningd SIGKILLed (and L) while the notice is stored; after restarts the release still happens',
        run.guard(async () => {
          await recipientOffline();
          const mL = lsp.lines.length;
          const mR = rl.mark();
          const p = keysend(7_000);
          await lsp.waitLog('holding', (l) => l.message === 'holding htlc', mL);
          await rl.waitLog('stored for R', isStoredForR, mR);
          await net.cln.kill();
          await lsp.kill('SIGKILL');
          await waitHeldAtL(p.hash);
          await net.mine(HOLD_BLOCKS_MINED);
          const mR2 = rl.mark();
          await net.startCln();
          const started = await rl.waitLog('RL restarted', (l) => l.message === 'recipient-lsp started', mR2);
          assert.ok(Number(started.stored) >= 1, 'the notice survived the SIGKILL');
          await lsp.start();
          await net.waitLspChannelsNormal(1);
          await waitHeldAtL(p.hash);
          assert.equal(rl.count(isReleasedForR, mR2), 0, 'no release while R is away');
          await recipientReturns();
          await rl.waitLog('RL released for R after its restart', isReleasedForR, mR2);
          await assertSettled(net, await p.result, p.hash);
          const closed = await net.lncli<{ channels: unknown[] }>('lsp', 'closedchannels');
          assert.equal(closed.channels.length, 0, 'no channel closed');
        }),
      );

      test(
        'scenario 3b: 1,000 notices for R keep RL (CLN) within its mailbox cap, counted and logged; RL keeps working',
        run.guard(async () => {
          await recipientOffline();
          assert.equal(storedAtRl().get(hex(pk.recipient!)) ?? 0, 0, "R's mailbox empty before");
          // Two of RL's peers send, S (connected for this) and L, each under connectd's rate limit.
          // Every reply path leads to L, RL's peer, so each release RL sends for them has a next hop
          // (L's sidecar drops them: their path ids name no hold).
          await net.connectLndTo('sender', hex(pk.rlsp!), net.cln.p2pHost);
          const from = [await transportAt('sender'), await transportAt('lsp')];
          const before = await rlCounts();
          const m = rl.mark();
          try {
            for (let sent = 0; sent < FLOOD;) {
              const t0 = Date.now();
              for (const f of from) {
                await notify(f.t, messagePath, pk.lsp!);
                sent++;
              }
              const left = FLOOD_PACE_MS - (Date.now() - t0);
              if (left > 0) await sleep(left);
            }
          } finally {
            for (const f of from) f.close();
          }
          await waitFor(`RL stored all ${FLOOD}`, () => rl.count(isStoredForR, m) >= FLOOD, {
            timeoutMs: 120_000,
            intervalMs: 1000,
          });
          assert.equal(rl.count(isStoredForR, m), FLOOD, 'each notice stored once');
          const evicted = rl
            .lines()
            .slice(m)
            .filter((l) => /^mailbox full/.test(l.message));
          assert.equal(evicted.length, FLOOD - PER_CLIENT_CAP, 'one log line per notice dropped');
          assert.ok(
            evicted.every((l) => l.reason === 'client_cap' && l.client === hex(pk.recipient!)),
            "dropped for R's per-client cap",
          );
          assert.equal(storedAtRl().get(hex(pk.recipient!)), PER_CLIENT_CAP, 'the newest 16 kept');
          const after = await rlCounts();
          assert.equal(after.notices_stored - before.notices_stored, FLOOD);
          assert.equal(
            (after.notices_dropped.client_cap ?? 0) - (before.notices_dropped.client_cap ?? 0),
            FLOOD - PER_CLIENT_CAP,
            'the drops counted by reason',
          );
          assert.equal(after.mailbox_notices, PER_CLIENT_CAP);

          // RL keeps working: a real payment's notice is stored (one more flood notice gives way)
          // and released with the rest when R returns; R settles.
          await net.lncli('sender', 'disconnect', hex(pk.rlsp!));
          const mL = lsp.lines.length;
          const mR = rl.mark();
          const p = keysend(6_000);
          await lsp.waitLog('holding', said('holding htlc'), mL);
          await waitHeldAtL(p.hash);
          await rl.waitLog('stored for R', isStoredForR, mR);
          assert.equal(storedAtRl().get(hex(pk.recipient!)), PER_CLIENT_CAP, 'still within the cap');
          await net.mine(2);
          await recipientReturns();
          const released = await rl.waitLog('RL released for R', isReleasedForR, mR);
          assert.equal(Number(released.sent), PER_CLIENT_CAP, 'every stored notice released');
          await assertSettled(net, await p.result, p.hash);
          await waitFor('RL mailbox empty for R', () => (storedAtRl().get(hex(pk.recipient!)) ?? 0) === 0);
          assert.equal((await rlCounts()).mailbox_notices, 0);
        }),
      );

      test(
        'scenario 4: a 3-part MPP async payment (invoice) held at L, released by RL (CLN), settled once at R',
        run.guard(async () => {
          const inv = await invoiceThenOffline(30_000);
          const mL = lsp.lines.length;
          const mR = rl.mark();
          const forwardsBefore = await settledForwardsAtRl();
          const result = payMppInvoice(sender, {
            hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
            inv,
            totalMsat: 30_000_000n,
            parts: 3,
            messagePath,
          });
          await lsp.waitLog('three parts held', () => lsp.count(said('holding htlc'), mL) >= 3, mL);
          const heldAtL3 = () => waitHeldAtL(inv.r_hash, 3);
          await heldAtL3();
          await rl.waitLog('stored for R', isStoredForR, mR);
          await net.mine(HOLD_BLOCKS_MINED);
          await heldAtL3();
          assert.equal(storedAtRl().get(hex(pk.recipient!)), 1, 'one notice for the set');
          assert.deepEqual(await rlHtlcs(inv.r_hash), [], 'nothing forwarded to RL yet');
          assert.equal(lsp.count(said('hold released'), mL), 0);
          await recipientReturns();
          await rl.waitLog('RL released for R', isReleasedForR, mR);
          const r = await result;
          assert.equal(r.status, 'SUCCEEDED', `MPP failed: ${r.failureCode}`);
          assert.deepEqual(
            r.parts.map((x) => x.status),
            ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'],
          );
          assert.equal(sha256hex(r.preimage!), inv.r_hash);
          // All parts released together, once: one release of a set of three.
          const rel = lsp.lines.slice(mL).filter(said('hold released'));
          assert.equal(rel.length, 1, 'one release for the set');
          assert.equal(rel[0]!.parts, 3, 'the release took all three parts');
          // Settled once: R's invoice paid exactly its amount, by the three parts, each forwarded once by RL.
          const settled = await net.lncli<{
            state: string;
            amt_paid_msat: string;
            htlcs: { state: string }[];
          }>('recipient', 'lookupinvoice', inv.r_hash);
          assert.equal(settled.state, 'SETTLED');
          assert.equal(settled.amt_paid_msat, '30000000');
          assert.deepEqual(
            settled.htlcs.map((h) => h.state),
            ['SETTLED', 'SETTLED', 'SETTLED'],
          );
          assert.equal(
            (await settledForwardsAtRl()) - forwardsBefore,
            3,
            'RL forwarded three parts, once each',
          );
        }),
      );

      test(
        'scenario 7: R (asleep behind CLN RL) for 100 blocks, then back: keysend and invoice both settle',
        run.guard(async () => {
          const { inv, mR, k, i } = await holdKeysendAndInvoice(8_000, 9_000, 144);
          await sleepBlocks(net, 100, async () => {
            await waitHeldAtL(k.hash);
            await waitHeldAtL(inv.r_hash);
            assert.deepEqual(await rlHtlcs(k.hash), [], 'nothing forwarded to RL yet');
            assert.equal(rl.count(isReleasedForR, mR), 0, 'no release while R sleeps');
          });
          await recipientReturns();
          await rl.waitLog('RL released for R', isReleasedForR, mR);
          await assertSettled(net, await k.result, k.hash);
          await assertSettled(net, await i, inv.r_hash);
          await assertNothingClosed();
        }),
      );

      test(
        'scenario 7: R asleep past the hold budget: failed back at L before RL would refuse it, keysend and invoice',
        run.guard(async () => {
          const { inv, mL, mR, k, i } = await holdKeysendAndInvoice(3_000, 4_000, 10);
          const start = await net.height();
          const holds = lsp.lines.slice(mL).filter(said('holding htlc'));
          assert.equal(holds.length, 2);
          for (const h of holds) {
            const seen = lsp.lines
              .slice(mL)
              .find((l) => l.message === 'intercepted htlc' && l.key === h.key)!;
            // Failed within the sender's budget, and before the HTLC L would forward expires.
            assert.ok(Number(h.failAt) <= start + 10, `failAt ${h.failAt} within the 10-block budget`);
            assert.ok(Number(h.failAt) < Number(seen.outgoingExpiry), 'fails before the outgoing expiry');
          }
          const maxFail = Math.max(...holds.map((h) => Number(h.failAt)));
          await net.mine(maxFail - start - 1);
          await waitHeldAtL(k.hash);
          await waitHeldAtL(inv.r_hash);
          await net.mine(1);
          for (const r of [await k.result, await i]) assertFailed(r, 'TEMPORARY_CHANNEL_FAILURE');
          assert.ok(lsp.count(said('hold deadline reached; failing'), mL) >= 2);
          assert.deepEqual(await rlHtlcs(k.hash), [], 'nothing reached RL');
          assert.deepEqual(await rlHtlcs(inv.r_hash), [], 'nothing reached RL');
          // R comes back later: RL's releases for the stale notices change nothing at L; nothing is paid.
          await recipientReturns();
          await rl.waitLog('RL released the stale notices', isReleasedForR, mR);
          assert.equal(await recipientInvoiceState(net, inv.r_hash), 'OPEN');
          assert.equal(lsp.count(said('hold released'), mL), 0, 'L forwarded nothing');
          await assertNothingClosed();
        }),
      );
    },
  );
}
