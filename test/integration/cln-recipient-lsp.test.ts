// Recipient-LSP mode on real Core Lightning: S (LND) -> L (LND + our sidecar, sender's LSP) -> RL
// (lightningd v26.06.6 with cln.js and cln-guard.js, async-trampoline-recipient-lsp=true) -> R (stock
// LND, --accept-keysend, nothing of ours), R offline before each payment starts. RL keeps the
// held_htlc_available L sends over the message path RL issued for R (RPC async-trampoline-message-path)
// and releases when R is back. One network per LND version; the scenarios run in order and share it.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated; default both, see below).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClnLspNetwork } from '../../scripts/regtest/cln-network.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { Sidecar, clientsFor, testLog, type LogLine } from '../../scripts/regtest/lsp.js';
import { buildHeldHtlcAvailableVariants, buildReleasePath } from '../../plugin/protocol/onion-message.js';
import { LndOnionTransport } from '../../plugin/backends/lnd/onion-transport.js';
import { unary, type LndClients } from '../../plugin/backends/lnd/grpc.js';
import { clientPathId } from '../../plugin/recipient-lsp/client-path.js';
import { CLIENT_PATH_KEY_LABEL } from '../../plugin/backends/cln/recipient-lsp-host.js';
import { FailureFlag, fromHex, hex, lndVersions } from './support/scenario.js';
import { assertSettled, payKeysend, payPlainInvoice, payTrampolineKeysend, said } from './support/holds.js';
import { pluginLog, releasedFor, storedFor } from './support/logs.js';

// Both versions: L and RL are direct peers, so no LND has to relay an onion message. LND 0.20 neither
// parses nor relays them; L's sidecar sends and takes them as custom message 513 from RL, which
// lightningd speaks natively (S does the same for the forged notices of scenario 3).
const versions = lndVersions();

/** Blocks mined while each payment is held: the hold lasts through them, then settles. */
const HOLD_BLOCKS_MINED = 24;

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
          lspArgs: ['--async-trampoline-recipient-lsp=true', '--async-trampoline-log-level=debug'],
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

      /** One HTLC with this hash at L, incoming from S; nothing at RL. */
      async function waitHeldAtL(hash: string): Promise<void> {
        await waitFor(`htlc ${hash.slice(0, 8)} held at L`, async () => {
          const at = (await net.channels('lsp')).flatMap((c) =>
            (c.pending_htlcs ?? []).filter((h) => h.hash_lock === hash).map((h) => ({ c, h })),
          );
          return at.length === 1 && at[0]!.h.incoming && at[0]!.c.remote_pubkey === hex(pk.sender!);
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

      /** RL's mailbox (in lightning-dir/regtest/, the plugin's default data dir), read beside it (WAL). */
      function storedAtRl(): Map<string, number> {
        const db = new Database(join(net.cln.dir, 'regtest', 'async-trampoline', 'recipient-lsp.sqlite'), {
          readonly: true,
          fileMustExist: true,
        });
        try {
          const rows = db
            .prepare(`SELECT node_id, count(*) AS n FROM notices WHERE state = 'stored' GROUP BY node_id`)
            .all() as { node_id: string; n: number }[];
          return new Map(rows.map((r) => [r.node_id, r.n]));
        } finally {
          db.close();
        }
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
          const transport = new LndOnionTransport(
            sender,
            {
              kind: native ? 'native' : 'custom-message',
              ourNodeId: pk.sender!,
              ecdh: async (p) =>
                new Uint8Array(
                  (
                    await unary<{ shared_key: Buffer }>(sender.signer, 'DeriveSharedKey', {
                      ephemeral_pubkey: Buffer.from(p),
                    })
                  ).shared_key,
                ),
            },
            () => {},
            testLog.child({ node: 'sender' }),
          );
          const notify = async (path: Uint8Array): Promise<void> => {
            const [msg] = buildHeldHtlcAvailableVariants({
              messagePath: path,
              replyPathId: new Uint8Array(randomBytes(32)),
              ourNodeId: pk.sender!,
              variants: ['odd'],
            });
            await transport.send(msg!);
          };

          // A forged path: R's client id with a wrong HMAC half (RL's key from makesecret, as the plugin
          // derives it).
          const { secret } = await net.cln.rpc<{ secret: string }>('makesecret', {
            string: CLIENT_PATH_KEY_LABEL,
          });
          const forgedId = clientPathId(fromHex(secret), hex(pk.recipient!));
          forgedId[31]! ^= 0x01;
          let m = rl.mark();
          await notify(buildReleasePath(pk.rlsp!, forgedId));
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
          await notify(fromHex(issued.message_path));
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
    },
  );
}
