// `npm run demo`: an async payment between real LND nodes on regtest, printed step by step.
// S pays R through L (our sidecar) while R is offline; L holds the HTLC and keeps telling R while
// blocks are mined (hours of chain time pass); R comes back, its agent answers with
// release_held_htlc, L forwards, R settles, S gets the preimage. The sender budgeted the hold, so
// the route still carries enough timelock for R after all those blocks.
import { createHash, randomBytes } from 'node:crypto';
import { RegtestNetwork, type LndVersion } from './regtest/network.js';
import { Sidecar, addInvoice, clientsFor, invoiceState, htlcsFor, type LogLine } from './regtest/lsp.js';
import { waitFor } from './regtest/wait.js';
import { LndRecipientAgent } from '../plugin/recipient/lnd-agent.js';
import { recipientMessagePath } from '../plugin/recipient/message-path.js';
import { payAsync } from '../plugin/sender/pay.js';
import { createLogger } from '../plugin/ops/log.js';

const version = (process.env.ASYNC_TRAMPOLINE_DEMO_LND ?? 'v0.21.2-beta') as LndVersion;
const AMOUNT_SAT = 25_000;
/** The hold the sender budgets (one day) and how long the recipient sleeps (blocks mined meanwhile). */
const HOLD_BLOCKS = 144;
const SLEEP_BLOCKS = Number(process.env.ASYNC_TRAMPOLINE_DEMO_SLEEP_BLOCKS ?? 60);
const BLOCK_STEP = 6;
const t0 = Date.now();
let stepNo = 0;
const STEPS = 9;

const say = (line: string): void =>
  console.log(`[demo ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const step = (line: string): void => say(`(${++stepNo}/${STEPS}) ${line}`);
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const short = (h: string): string => `${h.slice(0, 12)}…`;
/** Chain time of `blocks` at the 10-minute target. */
const hours = (blocks: number): string => `${((blocks * 10) / 60).toFixed(1)} h`;

async function main(): Promise<void> {
  step(`starting btcd and four LND ${version} nodes: sender -> LSP -> recipient's LSP -> recipient`);
  const net = await RegtestNetwork.start({ lndVersion: version, log: (l) => say(`   ${l}`) });
  let ok = false;
  const sidecar = new Sidecar(net);
  const clients = clientsFor(await net.nodeInfo('sender'));
  let agent: LndRecipientAgent | undefined;
  try {
    const pk = Object.fromEntries(
      await Promise.all(
        (['sender', 'lsp', 'rlsp', 'recipient'] as const).map(async (n) => [
          n,
          fromHex(await net.node(n).pubkey()),
        ]),
      ),
    ) as Record<'sender' | 'lsp' | 'rlsp' | 'recipient', Uint8Array>;
    const native = version.startsWith('v0.21.');

    step('starting the async-trampoline sidecar beside the LSP (LND runs with --requireinterceptor)');
    await sidecar.start();
    say('   sidecar connected to the HTLC interceptor');

    step(`recipient creates an invoice for ${AMOUNT_SAT} sat, then goes offline`);
    const inv = await addInvoice(net, 'recipient', AMOUNT_SAT);
    await net.stopNode('recipient');
    say(`   invoice ${short(inv.r_hash)}; recipient's node stopped`);

    step(
      `sender pays asynchronously with a hold budget of ${HOLD_BLOCKS} blocks (~${hours(HOLD_BLOCKS)}): hold_htlc flag + async_hold record`,
    );
    const mark = sidecar.lines.length;
    const { plan, result } = await payAsync(clients, {
      invoice: inv.payment_request,
      lsp: pk.lsp,
      routing: 'source',
      via: [pk.rlsp],
      holdBlocks: HOLD_BLOCKS,
      asyncHold: {
        messagePaths: [
          recipientMessagePath({
            recipientNodeId: pk.recipient,
            through: native ? [pk.rlsp] : [],
            pathId: new Uint8Array(randomBytes(32)),
          }),
        ],
      },
    });
    result.catch(() => {});
    say(
      `   route carries ${plan.routeCltvBlocks} blocks of timelock (LND's cap: 2016; this route could hold up to ${plan.maxHoldBlocks} blocks)`,
    );
    say(
      `   fees ${plan.totalFeesMsat} msat, of which ${plan.headroomMsat} msat is headroom for the recipient's LSP to raise its fee during the hold`,
    );
    const holding = await sidecar.waitLog('holding htlc', (l) => l.message === 'holding htlc', mark);
    const pending = await htlcsFor(net, 'lsp', inv.r_hash);
    const holdStart = await net.height();
    say(
      `   HTLC held at the LSP at block ${holdStart}: hold ${String(holding.holdId)}, fails back at block ${String(holding.failAt)} if never released`,
    );
    say(`   LND shows it pending: ${pending.length} HTLC(s), incoming from the sender`);

    step('LSP tells the recipient (held_htlc_available over onion messages), retrying while it is away');
    const isNotice = (l: LogLine): boolean =>
      l.message === 'held_htlc_available sent' || l.message === 'held_htlc_available send failed';
    await sidecar.waitLog('two notices', () => sidecar.count(isNotice, mark) >= 2, mark);
    say(`   ${sidecar.count(isNotice, mark)} attempts so far; the HTLC stays held`);

    step(
      `recipient sleeps for ${SLEEP_BLOCKS} blocks (~${hours(SLEEP_BLOCKS)} of chain time); blocks are mined meanwhile`,
    );
    for (let mined = 0; mined < SLEEP_BLOCKS;) {
      const n = Math.min(BLOCK_STEP, SLEEP_BLOCKS - mined);
      await net.mine(n);
      mined += n;
      const still = await htlcsFor(net, 'lsp', inv.r_hash);
      say(
        `   block ${await net.height()} (+${mined}, ~${hours(mined)} asleep): ${still.length === 1 ? 'HTLC still held at the LSP' : `${still.length} HTLCs at the LSP`}, ${Number(holding.failAt) - holdStart - mined} blocks left before it fails back`,
      );
    }

    step('recipient comes back online and starts its agent');
    await net.startNode('recipient');
    await net.connectPeers('recipient', 'rlsp');
    await net.waitChannelActive('rlsp', 'recipient');
    if (!native) await net.connectPeers('lsp', 'recipient');
    agent = new LndRecipientAgent({
      lnd: {
        rpc: net.node('recipient').grpcHost,
        tlsCertPath: net.node('recipient').tlsCertPath,
        macaroonPath: net.node('recipient').adminMacaroonPath,
      },
      log: createLogger({ level: 'warn', component: 'recipient-agent' }),
      via: native ? [pk.rlsp] : [],
    });
    await agent.start();
    say('   agent listening for held_htlc_available');

    step('recipient answers release_held_htlc; the LSP verifies it and forwards the HTLC');
    const released = await sidecar.waitLog(
      'hold released',
      (l) => l.message === 'hold released',
      mark,
      300_000,
    );
    say(`   release accepted for hold ${String(released.holdId ?? holding.holdId)}`);

    step('payment settles end to end');
    const r = await result;
    if (r.status !== 'SUCCEEDED' || !r.preimage)
      throw new Error(`payment ended ${r.status} (${r.failureCode})`);
    const preimageOk = createHash('sha256').update(r.preimage).digest('hex') === inv.r_hash;
    await waitFor(
      'invoice settled',
      async () => (await invoiceState(net, 'recipient', inv.r_hash)) === 'SETTLED',
    );
    say(`   sender has the preimage (matches the payment hash: ${preimageOk}); recipient's invoice SETTLED`);

    const heldMs = Date.parse(String(released.timestamp)) - Date.parse(String(holding.timestamp));
    console.log('\nSummary');
    console.log(`  LND version            ${version}`);
    console.log(`  amount                 ${AMOUNT_SAT} sat`);
    console.log(
      `  held at the LSP for    ${Number.isFinite(heldMs) ? (heldMs / 1000).toFixed(1) + ' s' : 'n/a'}`,
    );
    console.log(
      `  blocks passed asleep   ${SLEEP_BLOCKS} (~${hours(SLEEP_BLOCKS)}), hold budget ${HOLD_BLOCKS}`,
    );
    console.log(`  fees (incl. headroom)  ${plan.totalFeesMsat} msat (${plan.headroomMsat} msat headroom)`);
    console.log(`  notices sent           ${sidecar.count(isNotice, mark)}`);
    console.log(`  outcome                settled, preimage delivered to the sender`);
    console.log(`  total demo time        ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    ok = preimageOk;
  } finally {
    await agent?.stop();
    clients.close();
    await sidecar.kill('SIGTERM');
    await net.teardown({ keepLogs: !ok });
  }
  if (!ok) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(`[demo] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
