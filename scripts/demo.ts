// `npm run demo`: the product's job between real LND nodes on regtest, printed step by step.
// S pays R, a stock LND (--accept-keysend, none of our code) that went offline before the payment
// existed: a keysend with a hold budget, through L (our sidecar, sender-LSP mode) and RL (our sidecar,
// recipient-LSP mode, R's LSP). L holds the HTLC and tells R's message path; RL keeps the notice in
// its mailbox; blocks are mined while R sleeps; R comes back; RL releases; L forwards; R settles with
// the sender's preimage. Only the two LSPs run our software.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { RegtestNetwork, type LndVersion } from './regtest/network.js';
import {
  Sidecar,
  assertNoClosures,
  clientsFor,
  htlcsFor,
  invoiceState,
  type LogLine,
} from './regtest/lsp.js';
import { waitFor } from './regtest/wait.js';
import { DEFAULT_KEYSEND_FINAL_CLTV_DELTA, buildKeysendRoute } from '../plugin/sender/keysend-mpp.js';
import { DEFAULT_MARGIN_BLOCKS } from '../plugin/sender/hold-budget.js';
import { sendToRoute } from '../plugin/sender/lnd-sender.js';
import type { LndClients } from '../plugin/backends/lnd/grpc.js';

const version = (process.env.ASYNC_TRAMPOLINE_DEMO_LND ?? 'v0.21.2-beta') as LndVersion;
const AMOUNT_SAT = 25_000;
/** The hold the sender budgets (one day) and how long the recipient sleeps (blocks mined meanwhile). */
const HOLD_BLOCKS = 144;
const SLEEP_BLOCKS = Number(process.env.ASYNC_TRAMPOLINE_DEMO_SLEEP_BLOCKS ?? 100);
const BLOCK_STEP = 20;
const KEEP_LOGS = process.env.ASYNC_TRAMPOLINE_DEMO_KEEP_LOGS === '1';
const t0 = Date.now();
let stepNo = 0;
let stepTitle = 'setup';
const STEPS = 11;

const say = (line: string): void =>
  console.log(`[demo ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const step = (line: string): void => {
  stepTitle = `step ${++stepNo}/${STEPS} (${line})`;
  say(`(${stepNo}/${STEPS}) ${line}`);
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const short = (h: string): string => `${h.slice(0, 12)}…`;
const msat = (m: bigint): string => `${m.toLocaleString('en-US')} msat`;
/** Chain time of `blocks` at the 10-minute target. */
const hours = (blocks: number): string => `${((blocks * 10) / 60).toFixed(1)} h`;

let net: RegtestNetwork | undefined;
let lsp: Sidecar | undefined;
let rlsp: Sidecar | undefined;
let sender: LndClients | undefined;

// Ctrl-C: stop the sidecars here (the node daemons' own exit hooks SIGKILL btcd and LND), keep the
// logs, and end with the signal.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n[demo] interrupted (${sig}) during ${stepTitle}: stopping sidecars and nodes`);
    void lsp?.kill('SIGTERM');
    void rlsp?.kill('SIGTERM');
    if (net) console.error(`[demo] logs kept in ${net.runDir}`);
    process.kill(process.pid, sig);
  });
}

/** RL's operator command (`async-trampoline message-path`): the client's message path, ending at RL. */
async function messagePathFor(sidecar: Sidecar, client: string): Promise<Uint8Array> {
  const r = await sidecar.cli('message-path', client, '--json');
  if (r.code !== 0) throw new Error(`async-trampoline message-path failed: ${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout) as { message_path: string; has_channel: boolean };
  if (!out.has_channel) throw new Error('RL has no channel with R: it would drop notices for R');
  return fromHex(out.message_path);
}

async function main(): Promise<void> {
  step(`starting btcd and four LND ${version} nodes: S -> L -> RL -> R (R: --accept-keysend)`);
  net = await RegtestNetwork.start({
    lndVersion: version,
    extraArgs: { rlsp: ['--requireinterceptor'] },
    // Only the finished sub-steps ("...: 3.2s"), not their start lines.
    log: (l) => {
      if (!l.endsWith(' ...')) say(`   ${l.trim().replace(/^\d+\.\ds /, '')}`);
    },
  });
  const n = net;
  let ok = false;
  try {
    const pk = Object.fromEntries(
      await Promise.all(
        (['sender', 'lsp', 'rlsp', 'recipient'] as const).map(async (x) => [x, await n.node(x).pubkey()]),
      ),
    ) as Record<'sender' | 'lsp' | 'rlsp' | 'recipient', string>;
    say(`   S ${short(pk.sender)}  L ${short(pk.lsp)}  RL ${short(pk.rlsp)}  R ${short(pk.recipient)}`);

    step('starting our sidecars: L in sender-LSP mode, RL in recipient-LSP mode (--recipient-lsp)');
    lsp = new Sidecar(n);
    rlsp = new Sidecar(n, ['--recipient-lsp=true'], 'rlsp');
    await lsp.start();
    await rlsp.start();
    const L = lsp;
    const RL = rlsp;
    say(`   both attached to their LND's HTLC interceptor; logs (JSON lines):`);
    say(`     L  ${join(n.runDir, 'sidecar.log')}`);
    say(`     RL ${join(n.runDir, 'sidecar-rlsp.log')}`);

    step(
      "RL issues R's message path (`async-trampoline message-path <R>`), R's wallet publishes it, R goes offline",
    );
    const messagePath = await messagePathFor(RL, pk.recipient);
    say(
      `   blinded path ending at RL, ${messagePath.length} bytes; path_id names R, authenticated by RL's key`,
    );
    await n.stopNode('recipient');
    say('   R is offline; it has never seen the payment that follows');

    step(
      `S pays R ${AMOUNT_SAT.toLocaleString('en-US')} sat by keysend, async, hold budget ${HOLD_BLOCKS} blocks (~${hours(HOLD_BLOCKS)})`,
    );
    sender = clientsFor(await n.nodeInfo('sender'));
    const mL = L.lines.length;
    const mR = RL.lines.length;
    // The SDK's keysend in its two halves: build and check the route (nothing sent), print the plan,
    // then send. S picks the preimage; only R's stock LND learns it, from the final payload.
    const built = await buildKeysendRoute(sender, {
      amountMsat: BigInt(AMOUNT_SAT) * 1000n,
      hops: [fromHex(pk.lsp), fromHex(pk.rlsp), fromHex(pk.recipient)],
      asyncHold: { messagePaths: [messagePath] },
      holdBlocks: HOLD_BLOCKS,
    });
    const { plan, preimage, paymentHash } = built;
    const hash = hex(paymentHash);
    say(`   source-routed S -> L -> RL -> R; payment hash ${short(hash)} (S chose the preimage)`);
    say(
      `   R's final hop gets ${plan.finalCltvDelta} blocks of timelock = keysend minimum ${DEFAULT_KEYSEND_FINAL_CLTV_DELTA} + hold ${HOLD_BLOCKS} + margin ${DEFAULT_MARGIN_BLOCKS}`,
    );
    say(
      `   route timelock ${plan.routeCltvBlocks} blocks (LND caps it at 2016; this route could carry a hold of up to ${plan.maxHoldBlocks})`,
    );
    say(
      `   fees ${msat(plan.totalFeesMsat)} = ${msat(plan.totalFeesMsat - plan.headroomFeeMsat)} to L and RL at their policies + ${msat(plan.headroomFeeMsat)} headroom for RL to raise its fee during the hold (+${plan.headroomCltvBlocks} blocks for its delta)`,
    );
    const result = sendToRoute(sender, paymentHash, built.route, built.firstHopRecords, 24 * 3600_000);
    result.catch(() => {});

    step("L holds the HTLC and sends held_htlc_available over R's message path");
    const holding = await L.waitLog('holding htlc', (l) => l.message === 'holding htlc', mL);
    await waitFor('HTLC pending at L', async () => (await htlcsFor(n, 'lsp', hash)).length === 1);
    const holdStart = await n.height();
    const failAt = Number(holding.failAt);
    say(
      `   held at block ${holdStart} (hold ${short(String(holding.holdId))}); L fails it back at block ${failAt} unless released`,
    );
    const isNotice = (l: LogLine): boolean => l.message === 'held_htlc_available sent';
    await L.waitLog('notice sent', isNotice, mL);
    say("   notice sent to RL (R's path ends there); L retries with backoff while nobody answers");

    step("RL stores the notice in R's mailbox (R is away, so nothing is released)");
    const isStoredForR = (l: LogLine): boolean =>
      l.message === 'held_htlc_available stored' && l.client === pk.recipient;
    await RL.waitLog('notice stored for R', isStoredForR, mR);
    say(`   stored for R in ${join(RL.dataDir, 'recipient-lsp.sqlite')}, with L's reply path`);

    step(`R sleeps for ${SLEEP_BLOCKS} blocks (~${hours(SLEEP_BLOCKS)} of chain time); mining`);
    for (let mined = 0; mined < SLEEP_BLOCKS;) {
      const k = Math.min(BLOCK_STEP, SLEEP_BLOCKS - mined);
      await n.mine(k);
      mined += k;
      const h = await n.height();
      const still = await htlcsFor(n, 'lsp', hash);
      if (still.length !== 1) {
        const why = L.count((l) => l.message === 'hold deadline reached; failing', mL)
          ? `L failed it back at block ${failAt}: R slept past the hold budget`
          : `${still.length} HTLCs with its hash at L`;
        throw new Error(`the HTLC is no longer held at L at block ${h} (${why})`);
      }
      if (RL.count((l) => l.message === 'released for client', mR) > 0)
        throw new Error('RL released while R was still offline');
      say(
        `   block ${h}: +${String(mined).padStart(3)} blocks, ~${hours(mined).padStart(6)} asleep; HTLC held at L, ${failAt - h} blocks left before L fails it back`,
      );
    }
    say(`   L has sent ${L.count(isNotice, mL)} notices so far; RL stored each one, R heard nothing`);

    step('R comes back online (stock LND restarts, reconnects to RL, channel active)');
    await n.startNode('recipient');
    await n.waitChannelActive('rlsp', 'recipient');
    say(
      `   R back at block ${await n.height()}, ${(await n.height()) - holdStart} blocks after the hold started`,
    );

    step('RL releases (release_held_htlc over the reply path); L verifies it and forwards');
    const rel = await RL.waitLog(
      'RL released for R',
      (l) => l.message === 'released for client' && l.client === pk.recipient,
      mR,
    );
    const stored = RL.count(isStoredForR, mR);
    say(
      `   RL sent ${String(rel.sent)} release(s), one per stored notice (${stored}; each retry of L's carries a fresh reply path), and marked them done`,
    );
    const released = await L.waitLog('hold released at L', (l) => l.message === 'hold released', mL);
    say(
      "   L checked the release (its reply path's HMAC), wrote it to its store, resumed the HTLC to RL; later releases are no-ops",
    );

    step("R settles with the sender's preimage; S gets it");
    const r = await result;
    if (r.status !== 'SUCCEEDED' || !r.preimage)
      throw new Error(`payment ended ${r.status} (${r.failureCode ?? 'no failure code'})`);
    await waitFor(
      'keysend settled at R',
      async () => (await invoiceState(n, 'recipient', hash)) === 'SETTLED',
    );
    const matches = createHash('sha256').update(r.preimage).digest('hex') === hash;
    if (!matches || hex(r.preimage) !== hex(preimage))
      throw new Error('the preimage S got is not the one it chose / does not hash to the payment hash');
    const got = await n.lncli<{ amt_paid_sat: string }>('recipient', 'lookupinvoice', hash);
    say(
      `   R's stock LND took the preimage from the keysend record and settled: ${Number(got.amt_paid_sat).toLocaleString('en-US')} sat received`,
    );
    say('   the settle went back R -> RL -> L -> S; S has the preimage it chose');
    say(`   sha256(preimage) = ${short(hash)} = payment hash: ${matches}`);

    step('checking that no channel closed');
    const problems = await assertNoClosures(n);
    for (const x of ['sender', 'lsp', 'rlsp', 'recipient'] as const)
      if ((await htlcsFor(n, x, hash)).length > 0) problems.push(`${x}: HTLC still pending`);
    if (problems.length > 0) throw new Error(problems.join('; '));
    say('   all three channels open on all four nodes; no HTLC of this payment pending anywhere');

    const heldMs = Date.parse(String(released.timestamp)) - Date.parse(String(holding.timestamp));
    console.log('\nSummary');
    console.log(`  LND version              ${version} (R stock, --accept-keysend; our sidecar on L and RL)`);
    console.log(`  amount                   ${AMOUNT_SAT.toLocaleString('en-US')} sat, keysend`);
    console.log(`  hold budget              ${HOLD_BLOCKS} blocks (~${hours(HOLD_BLOCKS)})`);
    console.log(`  R asleep                 ${SLEEP_BLOCKS} blocks (~${hours(SLEEP_BLOCKS)} of chain time)`);
    console.log(
      `  held at L                ${Number.isFinite(heldMs) ? (heldMs / 1000).toFixed(1) + ' s wall clock' : 'n/a'}, ${SLEEP_BLOCKS} blocks`,
    );
    console.log(
      `  fees (incl. headroom)    ${msat(plan.totalFeesMsat)} (${msat(plan.headroomFeeMsat)} headroom)`,
    );
    console.log(`  notices L sent           ${L.count(isNotice, mL)}; RL released ${String(rel.sent)}`);
    console.log(`  outcome                  settled, preimage with the sender, no channel closed`);
    console.log(`  total demo time          ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    ok = true;
  } finally {
    sender?.close();
    await lsp?.kill('SIGTERM');
    await rlsp?.kill('SIGTERM');
    await n.teardown({ keepLogs: !ok || KEEP_LOGS });
    if (ok && !KEEP_LOGS)
      console.log('  logs                     removed (ASYNC_TRAMPOLINE_DEMO_KEEP_LOGS=1 keeps them)');
  }
}

main().catch((err: unknown) => {
  console.error(`[demo] FAILED at ${stepTitle}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
