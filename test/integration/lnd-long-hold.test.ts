// Holds that last (issue #8), on real btcd + LND (scripts/regtest: S -> L -> RL -> R, L runs the
// sidecar with --requireinterceptor). Blocks are mined while the recipient sleeps, so every hold
// that ends in a settle has had time pass: the route must carry the hold (the sender's budget), and
// the hops after L must still forward after their policy changed. One network per LND version; the
// scenarios run in order and share it. Versions: ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { RegtestNetwork } from '../../scripts/regtest/network.js';
import { recipientAgent } from '../../scripts/regtest/recipient.js';
import { recipientMessagePath } from '../../plugin/recipient/message-path.js';
import { payAsync, type PayAsyncArgs } from '../../plugin/sender/pay.js';
import { sendKeysendAsync } from '../../plugin/sender/keysend-mpp.js';
import { buildAsyncRoute, sendToRoute, type AsyncPaymentResult } from '../../plugin/sender/lnd-sender.js';
import { encodeAsyncHold } from '../../plugin/protocol/async-hold.js';
import { outKey } from '../../plugin/backends/lnd/htlc-map.js';
import type { LndClients } from '../../plugin/backends/lnd/grpc.js';
import {
  Sidecar,
  addInvoice,
  htlcsFor,
  invoiceState,
  type Invoice,
  type LogLine,
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
  assertDeadlineIsBudget,
  assertFailed,
  assertSettled,
  assertStillHeldAtLsp,
  payMppInvoice,
  said,
  sha256hex,
  sleepBlocks,
  waitHeldAtLsp,
} from './support/holds.js';

const versions = lndVersions();

/** LND's default channel policy, which every channel in the regtest network starts with. */
const DEFAULT_POLICY = { base: 1000, ppm: 1, delta: 80 };

for (const version of versions) {
  describe(`LND ${version}: holds that last while blocks pass`, { timeout: 45 * 60_000 }, () => {
    let net: RegtestNetwork;
    let sidecar: Sidecar;
    let sender: LndClients;
    const run = new FailureFlag();
    const native = relaysOnionMessages(version);
    const rig = new LspNetwork(version);
    const pk = rig.pk;

    before(async () => {
      ({ net, sidecar, sender } = await rig.start());
    });

    after(() => rig.stop(run.failed));

    // LND 0.20 relays no onion messages: there the recipient is its own intro node, reached over a
    // direct peer connection from L; on 0.21 the path goes through the recipient's LSP.
    const messagePath = (): Uint8Array =>
      recipientMessagePath({
        recipientNodeId: pk.recipient!,
        through: native ? [pk.rlsp!] : [],
        pathId: new Uint8Array(randomBytes(32)),
      });

    /**
     * The recipient returns: its node starts, and our agent answers the next held_htlc_available
     * while `fn` waits for the outcome. Then the agent stops, RL's policy is reset when `fn` changed
     * it, and no channel anywhere has closed.
     */
    async function whileAwake(fn: () => Promise<void>, resetPolicy = false): Promise<void> {
      await net.startNode('recipient');
      // A waking wallet dials its LSP itself: RL's reconnect backoff grows with every restart.
      await net.connectPeers('recipient', 'rlsp');
      await net.waitChannelActive('rlsp', 'recipient');
      if (!native) await net.connectPeers('lsp', 'recipient');
      const agent = recipientAgent(net.node('recipient'), 'recipient', native ? [pk.rlsp!] : []);
      await agent.start();
      try {
        await fn();
      } finally {
        await agent.stop();
        if (resetPolicy) await setRlspPolicy(DEFAULT_POLICY);
      }
      await assertChannelsOpen(net);
    }

    /** The recipient makes an invoice and goes to sleep. */
    async function invoiceThenSleep(sat: number): Promise<Invoice> {
      if (!net.node('recipient').isRunning) await net.startNode('recipient');
      const inv = await addInvoice(net, 'recipient', sat);
      await net.stopNode('recipient');
      return inv;
    }

    async function pay(inv: Invoice, args: Partial<PayAsyncArgs>) {
      const p = await payAsync(sender, {
        invoice: inv.payment_request,
        lsp: pk.lsp!,
        via: [pk.rlsp!],
        asyncHold: { messagePaths: [messagePath()] },
        ...args,
      });
      p.result.catch(() => {});
      return p;
    }

    /** Waits for the hold and checks the LSP took the sender's budget as its deadline. */
    async function heldWithBudget(
      rHash: string,
      mark: number,
      holdBlocks: number,
      parts = 1,
    ): Promise<LogLine> {
      const holding = await sidecar.waitLog('holding htlc', said('holding htlc'), mark);
      await waitHeldAtLsp(net, rHash, { from: pk.sender!, parts });
      await assertDeadlineIsBudget(net, holding.failAt, holdBlocks);
      return holding;
    }

    /** Mines `n` blocks in steps while the recipient sleeps, checking the HTLC stays held. */
    const sleepHeld = (rHash: string, n: number, parts = 1): Promise<void> =>
      sleepBlocks(net, n, () => assertStillHeldAtLsp(net, rHash, pk.sender!, parts));

    async function setRlspPolicy(p: { base: number; ppm: number; delta: number }): Promise<void> {
      const chan = (await net.channels('rlsp')).find((c) => c.remote_pubkey === hex(pk.recipient!))!;
      await net.lncli(
        'rlsp',
        'updatechanpolicy',
        `--base_fee_msat=${p.base}`,
        `--fee_rate_ppm=${p.ppm}`,
        `--time_lock_delta=${p.delta}`,
        `--chan_point=${chan.channel_point}`,
      );
    }

    run.scenario(
      'source-routed, budget 144: recipient asleep 100 blocks, held, released on return, settled',
      async () => {
        const inv = await invoiceThenSleep(20_000);
        const mark = sidecar.lines.length;
        const { plan, result } = await pay(inv, { routing: 'source', holdBlocks: 144 });
        // 80 (invoice) + 144 + 6 at R, RL's 80 + 12 headroom, L's 80.
        assert.equal(
          plan.routeCltvBlocks,
          402,
          JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
        );
        assert.ok(plan.headroomMsat > 0n && plan.totalFeesMsat > plan.headroomMsat);
        await heldWithBudget(inv.r_hash, mark, 144);
        await sleepHeld(inv.r_hash, 100);
        await whileAwake(async () => {
          await assertSettled(net, await result, inv.r_hash);
          assert.ok(sidecar.count(said('hold released'), mark) >= 1);
        });
      },
    );

    run.scenario(
      "control, the issue's failure: a route that carries no hold (the invoice's minimum alone) is refused by the recipient after 40 blocks",
      async () => {
        const inv = await invoiceThenSleep(12_000);
        const mark = sidecar.lines.length;
        const paths = [messagePath()];
        const built = await buildAsyncRoute(sender, {
          paymentHash: fromHex(inv.r_hash),
          paymentAddr: fromHex(inv.payment_addr),
          amountMsat: 12_000_000n,
          finalCltvDelta: 80,
          hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
          asyncHold: { messagePaths: paths },
          holdBlocks: 1,
          marginBlocks: 0,
          headroom: { feeBaseMsat: 0n, feePpm: 0, cltvBlocks: 0 },
        });
        // What the SDK sent before: the route built for no hold, the LSP allowed 144 blocks.
        built.route.hops[0]!.custom_records[outKey(4280151n)] = Buffer.from(
          encodeAsyncHold({ messagePaths: paths, maxHoldBlocks: 144 }),
        );
        const result = sendToRoute(sender, fromHex(inv.r_hash), built.route, built.firstHopRecords, 3600_000);
        result.catch(() => {});
        await sidecar.waitLog('holding htlc', said('holding htlc'), mark);
        await sleepHeld(inv.r_hash, 40);
        await whileAwake(async () => {
          assertFailed(await result, 'INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS');
          assert.equal(await invoiceState(net, 'recipient', inv.r_hash), 'OPEN');
        });
      },
    );

    run.scenario(
      'asleep past the budget: failed back at the LSP at the budget, the invoice stays open, no channel closes',
      async () => {
        const inv = await invoiceThenSleep(15_000);
        const mark = sidecar.lines.length;
        const { result } = await pay(inv, { routing: 'source', holdBlocks: 144 });
        const holding = await heldWithBudget(inv.r_hash, mark, 144);
        const failAt = Number(holding.failAt);
        await sleepHeld(inv.r_hash, failAt - 1 - (await net.height()));
        assert.equal(sidecar.count(said('hold deadline reached; failing'), mark), 0);
        await net.mine(1);
        assertFailed(await result, 'TEMPORARY_CHANNEL_FAILURE');
        const line = await sidecar.waitLog('deadline', said('hold deadline reached; failing'), mark);
        assert.equal(Number(line.height), failAt);
        await assertComesTo(() => htlcsFor(net, 'lsp', inv.r_hash), []);
        await net.startNode('recipient');
        assert.equal(await invoiceState(net, 'recipient', inv.r_hash), 'OPEN');
        await assertChannelsOpen(net);
      },
    );

    run.scenario(
      'trampoline (the default), budget 144: recipient asleep 100 blocks, then settled',
      async () => {
        const inv = await invoiceThenSleep(10_000);
        const mark = sidecar.lines.length;
        const { plan, result } = await pay(inv, { holdBlocks: 144 });
        assert.equal(plan.routing, 'trampoline');
        assert.equal(plan.routeCltvBlocks, 144 + 288 + 12 + 6);
        await heldWithBudget(inv.r_hash, mark, 144);
        await sleepHeld(inv.r_hash, 100);
        await whileAwake(async () => {
          await assertSettled(net, await result, inv.r_hash);
          await sidecar.waitLog('settled', said('trampoline payment succeeded; settling'), mark);
        });
      },
    );

    // RL changes its policy toward R while the HTLC is held: what the hold carried decides.
    const policyChanges: {
      name: string;
      routing?: 'source';
      sat: number;
      plan: (p: Awaited<ReturnType<typeof pay>>['plan']) => void;
      /** Blocks asleep before the change, and after it. */
      blocks: [number, number];
      policy: { base: number; ppm: number; delta: number };
      outcome: (r: AsyncPaymentResult, inv: Invoice, mark: number) => Promise<void>;
    }[] = [
      {
        name: "source-routed: the recipient's LSP raises its fee and delta during the hold, within the headroom: settled",
        routing: 'source',
        sat: 20_000,
        // Default headroom for RL: +1000 msat base, +500 ppm, +12 blocks.
        plan: (p) => assert.equal(p.headroomMsat > 10_000n, true),
        blocks: [20, 20],
        // Needs 1500 + 20M * 400 / 1e6 = 9500 msat and 88 blocks; the HTLC carries 1020 + 11 000 and 92.
        policy: { base: 1500, ppm: 400, delta: 88 },
        outcome: (r, inv) => assertSettled(net, r, inv.r_hash),
      },
      {
        name: "source-routed, the raise beyond the headroom: the recipient's LSP refuses the forward (FEE_INSUFFICIENT), no channel closes",
        routing: 'source',
        sat: 20_000,
        plan: () => {},
        blocks: [10, 0],
        policy: { base: 1000, ppm: 2000, delta: 80 }, // 41 000 msat > 12 020 carried
        outcome: async (r, inv) => {
          assertFailed(r, 'FEE_INSUFFICIENT');
          assert.equal(await invoiceState(net, 'recipient', inv.r_hash), 'OPEN');
        },
      },
      {
        name: "trampoline, the raise beyond the onward fee limit: L's payment cannot afford it and the HTLC fails back cleanly",
        sat: 10_000,
        // Onward limit: 1000 + 0.5% of 10M = 51 000 msat; RL now wants 1000 + 2% = 201 000.
        plan: (p) => assert.equal(p.headroomMsat, 51_000n),
        blocks: [10, 0],
        policy: { base: 1000, ppm: 20_000, delta: 80 },
        outcome: async (r, inv, mark) => {
          assertFailed(r, 'TEMPORARY_CHANNEL_FAILURE');
          await sidecar.waitLog('payment failed', said('trampoline payment failed'), mark);
          await assertComesTo(() => htlcsFor(net, 'lsp', inv.r_hash), []);
          assert.equal(await invoiceState(net, 'recipient', inv.r_hash), 'OPEN');
        },
      },
    ];
    for (const c of policyChanges)
      run.scenario(c.name, async () => {
        const inv = await invoiceThenSleep(c.sat);
        const mark = sidecar.lines.length;
        const { plan, result } = await pay(inv, {
          ...(c.routing ? { routing: c.routing } : {}),
          holdBlocks: 144,
        });
        c.plan(plan);
        await heldWithBudget(inv.r_hash, mark, 144);
        await sleepHeld(inv.r_hash, c.blocks[0]);
        await setRlspPolicy(c.policy);
        await sleepHeld(inv.r_hash, c.blocks[1]);
        await whileAwake(async () => c.outcome(await result, inv, mark), true);
      });

    run.scenario(
      'keysend, budget 144: the sender picks the preimage, recipient (stock LND, --accept-keysend) asleep 40 blocks, settled',
      async () => {
        if (net.node('recipient').isRunning) await net.stopNode('recipient');
        const mark = sidecar.lines.length;
        const preimage = new Uint8Array(randomBytes(32));
        const rHash = sha256hex(preimage);
        const result = sendKeysendAsync(sender, {
          preimage,
          amountMsat: 7_000_000n,
          hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
          asyncHold: { messagePaths: [messagePath()] },
          holdBlocks: 144,
        });
        result.catch(() => {});
        await heldWithBudget(rHash, mark, 144);
        await sleepHeld(rHash, 40);
        await whileAwake(async () => {
          const r = await result;
          assert.equal(r.status, 'SUCCEEDED', `failure ${r.failureCode}`);
          assert.equal(r.plan.finalCltvDelta >= 40 + 144 + 6, true);
          assert.equal(hex(r.preimage!), hex(preimage));
          const invs = await net.lncli<{
            invoices: { r_hash: string; state: string; is_keysend: boolean }[];
          }>('recipient', 'listinvoices');
          const ks = invs.invoices.find((i) => i.r_hash === rHash);
          assert.equal(ks?.state, 'SETTLED');
          assert.equal(ks?.is_keysend, true);
        });
      },
    );

    run.scenario(
      'MPP, 3 parts, budget 144: held together, recipient asleep 40 blocks, released together, settled',
      async () => {
        const inv = await invoiceThenSleep(30_000);
        const mark = sidecar.lines.length;
        const result = payMppInvoice(sender, {
          hops: [pk.lsp!, pk.rlsp!, pk.recipient!],
          inv,
          totalMsat: 30_000_000n,
          parts: 3,
          messagePath: messagePath(),
          holdBlocks: 144,
        });
        await heldWithBudget(inv.r_hash, mark, 144, 3);
        await sleepHeld(inv.r_hash, 40, 3);
        await whileAwake(async () => {
          const r = await result;
          assert.equal(r.status, 'SUCCEEDED', `failure ${r.failureCode}`);
          assert.equal(r.parts.length, 3);
          assert.ok(r.parts.every((p) => p.status === 'SUCCEEDED'));
          assert.equal(sha256hex(r.preimage!), inv.r_hash);
          const got = await net.lncli<{ state: string; amt_paid_msat: string; htlcs: unknown[] }>(
            'recipient',
            'lookupinvoice',
            inv.r_hash,
          );
          assert.equal(got.state, 'SETTLED');
          assert.equal(got.htlcs.length, 3);
          assert.equal(got.amt_paid_msat, '30000000');
        });
      },
    );
  });
}
