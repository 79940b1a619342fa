// The operator's view of the LND sidecar on a real regtest network (S -> L -> RL -> R, L runs the
// sidecar on the least-privilege baked macaroon): the `async-trampoline` CLI lists and shows held
// HTLCs, releases one by hand (R settles) and fails another (S sees the failure); /healthz and
// /metrics are scraped; hold log lines carry what an operator correlates and no secrets.
// Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated), default both pinned tags.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegtestNetwork } from '../../scripts/regtest/network.js';
import { recipientMessagePath } from '../../plugin/recipient/message-path.js';
import { sendAsyncPayment, type AsyncPaymentResult } from '../../plugin/sender/lnd-sender.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import { Sidecar, addInvoice, bakedMacaroon, invoiceState, type Invoice } from '../../scripts/regtest/lsp.js';
import { waitFor } from '../../scripts/regtest/wait.js';
import { LspNetwork } from './support/network.js';
import { FailureFlag, fromHex, hex, lndVersions, relaysOnionMessages } from './support/scenario.js';
import { assertChannelsOpen, sha256hex, waitHeldAtLsp } from './support/holds.js';

const versions = lndVersions();

interface ListedHold {
  hold_id: string;
  htlc_key: string;
  payment_hash: string;
  state: string;
  amount_in_msat: string;
  fail_at: number;
  blocks_left: number;
}

for (const version of versions) {
  describe(`LND ${version}: operating the sidecar`, { timeout: 20 * 60_000 }, () => {
    let net: RegtestNetwork;
    let sidecar: Sidecar;
    let sender: LndClients;
    const run = new FailureFlag();
    const native = relaysOnionMessages(version);
    const rig = new LspNetwork(version, { knowRecipient: true });
    const pk = rig.pk;
    const held: { inv: Invoice; result: Promise<AsyncPaymentResult> }[] = [];

    before(async () => {
      ({ net, sidecar, sender } = await rig.start());
    });

    after(() => rig.stop(run.failed));

    /** An async payment nobody will release (no recipient agent runs): it stays held at L. */
    async function payHeld(sat: number): Promise<{ inv: Invoice; result: Promise<AsyncPaymentResult> }> {
      const inv = await addInvoice(net, 'recipient', sat);
      const pathId = new Uint8Array(randomBytes(32));
      const result = sendAsyncPayment(sender, {
        paymentHash: fromHex(inv.r_hash),
        paymentAddr: fromHex(inv.payment_addr),
        amountMsat: BigInt(sat) * 1000n,
        // Room above the invoice's 80 blocks: blocks are mined while the HTLC is held.
        finalCltvDelta: 120,
        hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
        asyncHold: {
          messagePaths: [
            recipientMessagePath({
              recipientNodeId: pk.recipient!,
              through: native ? [pk.rlsp!] : [],
              pathId,
            }),
          ],
        },
      });
      result.catch(() => {});
      await waitHeldAtLsp(net, inv.r_hash);
      return { inv, result };
    }

    async function list(): Promise<ListedHold[]> {
      const r = await sidecar.cli('list', 'held', '--json');
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { holds: ListedHold[] }).holds;
    }

    run.scenario(
      'the sidecar runs on the baked macaroon: uri permissions only, no over-privilege warning',
      async () => {
        const printed = JSON.parse(
          await net.node('lsp').lncliRaw('printmacaroon', `--macaroon_file=${await bakedMacaroon(net)}`),
        ) as { permissions: string[] };
        assert.ok(printed.permissions.length >= 10);
        assert.ok(
          printed.permissions.every((p) => p.startsWith('uri:')),
          `only uri permissions: ${printed.permissions.join(' ')}`,
        );
        assert.equal(
          sidecar.count((l) => /allows more than the sidecar needs/.test(l.message)),
          0,
        );
        assert.equal(
          sidecar.count((l) => l.level === 'error'),
          0,
          'no error at start',
        );
        const h = await sidecar.scrape('/healthz');
        assert.equal(h.status, 200);
        assert.deepEqual(JSON.parse(h.body), { ready: true });
      },
    );

    run.scenario('CLI: two held HTLCs listed (table and --json) and shown by HTLC key', async () => {
      held.push(await payHeld(20_000), await payHeld(15_000));
      const holds = await list();
      assert.deepEqual(
        holds.map((h) => h.payment_hash).sort(),
        held.map((p) => p.inv.r_hash).sort(),
        'exactly the two payments, held',
      );
      const table = await sidecar.cli('list');
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^HOLD_ID\s+HTLC_KEY\s+STATE\s+AMOUNT_IN_MSAT/);
      for (const h of holds)
        assert.match(table.stdout, new RegExp(`${h.hold_id}\\s+${h.htlc_key}\\s+held\\s+`));

      const a = holds.find((h) => h.payment_hash === held[0]!.inv.r_hash)!;
      const before = a.blocks_left;
      // Blocks pass during the hold (the deadline moves closer), then show it by its LND circuit key.
      await net.mine(2);
      await waitFor('sidecar saw the blocks', async () => {
        const s = await sidecar.cli('show', a.htlc_key, '--json');
        return s.code === 0 && (JSON.parse(s.stdout) as ListedHold).blocks_left === before - 2;
      });
      const shown = await sidecar.cli('show', a.htlc_key);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`^payment_hash: ${a.payment_hash}$`, 'm'));
      assert.match(shown.stdout, /^state: held$/m);
      // The table shows what --json says; the sender pays the 20,000 sat invoice plus fees (the
      // sender SDK's fee headroom, from main's hold-budget, makes that more than a few sat).
      assert.match(shown.stdout, new RegExp(`^amount_in_msat: ${a.amount_in_msat}$`, 'm'));
      assert.ok(BigInt(a.amount_in_msat) > 20_000_000n, `amount_in_msat ${a.amount_in_msat}`);

      const missing = await sidecar.cli('show', '999:999');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no hold 999:999/);
    });

    run.scenario('CLI release by hand: the HTLC is forwarded and the recipient settles', async () => {
      const [a] = held;
      const key = (await list()).find((h) => h.payment_hash === a!.inv.r_hash)!.htlc_key;
      const r = await sidecar.cli('release', key);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^released 1 hold\(s\): [0-9a-f]{32}$/m);
      const paid = await a!.result;
      assert.equal(paid.status, 'SUCCEEDED');
      assert.equal(sha256hex(paid.preimage!), a!.inv.r_hash);
      assert.equal(await invoiceState(net, 'recipient', a!.inv.r_hash), 'SETTLED');
      const again = await sidecar.cli('release', key);
      assert.equal(again.code, 1, 'a finished hold cannot be released twice');
      assert.match(again.stderr, /no longer held/);
    });

    run.scenario(
      'CLI fail by hand (by hold id): the sender sees the failure, the invoice stays open',
      async () => {
        const b = held[1]!;
        const id = (await list()).find((h) => h.payment_hash === b.inv.r_hash)!.hold_id;
        const r = await sidecar.cli('fail', id, '--json');
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), { hold_ids: [id] });
        const res = await b.result;
        assert.equal(res.status, 'FAILED');
        assert.ok(res.failureCode, 'the sender is told why');
        assert.equal(await invoiceState(net, 'recipient', b.inv.r_hash), 'OPEN');
        assert.deepEqual(await list(), []);
        await assertChannelsOpen(net);
      },
    );

    run.scenario('/metrics and stats agree on what happened', async () => {
      const m = await sidecar.scrape('/metrics');
      assert.equal(m.status, 200);
      const line = (re: RegExp): number => {
        const found = re.exec(m.body);
        assert.ok(found, `metric ${re.source}`);
        return Number(found[1]);
      };
      assert.equal(line(/^async_trampoline_holds_active (\d+)$/m), 0);
      assert.equal(line(/^async_trampoline_held_msat (\d+)$/m), 0);
      assert.equal(line(/^async_trampoline_backend_connected (\d+)$/m), 1);
      assert.equal(line(/^async_trampoline_holds_released_total\{via="operator"\} (\d+)$/m), 1);
      assert.equal(line(/^async_trampoline_htlcs_failed_total\{reason="operator"\} (\d+)$/m), 1);
      assert.equal(line(/^async_trampoline_hold_duration_seconds_count (\d+)$/m), 2);
      assert.equal(line(/^async_trampoline_hold_outcomes_total\{outcome="forwarded"\} (\d+)$/m), 1);
      const stats = await sidecar.cli('stats', '--json');
      assert.equal(stats.code, 0, stats.stderr);
      const s = JSON.parse(stats.stdout) as Record<string, Record<string, number> | number>;
      assert.equal(s.active_holds, 0);
      assert.deepEqual(s.releases, { operator: 1 });
      assert.deepEqual(s.fails, { operator: 1 });
      const sent = (s.onion_messages_sent as Record<string, number>).held_htlc_available ?? 0;
      const errors = s.held_htlc_available_errors as number;
      assert.ok(sent + errors >= 2, 'each hold told (or tried to tell) the recipient');
      if (sent > 0)
        assert.equal(
          line(
            /^async_trampoline_onion_messages_total\{direction="sent",kind="held_htlc_available"\} (\d+)$/m,
          ),
          sent,
        );
    });

    run.scenario(
      'hold log lines carry key, payment_hash, amount_msat, blocks_left; no preimage, key or token',
      async () => {
        const holding = sidecar.lines.filter((l) => l.message === 'holding htlc');
        assert.equal(holding.length, 2);
        for (const l of holding) {
          assert.ok(
            held.some((p) => p.inv.r_hash === l.payment_hash),
            'payment_hash is the invoice hash',
          );
          assert.match(String(l.key), /^\d+:\d+$/);
          assert.match(String(l.amount_msat), /^\d+$/);
          assert.equal(typeof l.blocks_left, 'number');
        }
        for (const msg of ['operator release', 'operator fail', 'hold released']) {
          const l = sidecar.lines.find((x) => x.message === msg);
          assert.ok(l, msg);
          for (const f of ['key', 'payment_hash', 'amount_msat', 'blocks_left'])
            assert.ok(f in l, `${msg}: ${f}`);
        }
        const paid = await held[0]!.result;
        const log = readFileSync(join(net.runDir, 'sidecar.log'), 'utf8');
        const secrets = {
          preimage: hex(paid.preimage!),
          releaseKey: readFileSync(join(sidecar.dataDir, 'release.key')).toString('hex'),
          adminToken: readFileSync(join(sidecar.dataDir, 'admin.token'), 'utf8').trim(),
        };
        for (const [what, secret] of Object.entries(secrets))
          assert.ok(!log.includes(secret), `${what} in the log`);
      },
    );

    run.scenario('SIGTERM removes the admin token; the CLI then says what is wrong', async () => {
      assert.equal(await sidecar.kill('SIGTERM'), 0);
      const r = await sidecar.cli('list');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot read .*admin\.token.*is the sidecar running/);
    });
  });
}
