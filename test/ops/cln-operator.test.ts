// The operator commands on CLN, through the built plugin and the lightningd stand-in (as
// `lightning-cli async-trampoline-*` reaches them): list, show, release, fail and stats, with the same
// fields the sidecar's admin endpoint returns (both come from ops/admin.ts), and the metric counts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import { LightningdStandin, type HtlcSpec } from '../helpers/lightningd-standin.js';
import { activeEc } from '../../plugin/protocol/ec.js';
import { encodeAsyncHold } from '../../plugin/protocol/async-hold.js';
import { buildBlindedPath, randomPrivateKey } from '../../plugin/protocol/route-blinding.js';
import { encodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import { holdView } from '../../plugin/ops/admin.js';

const standins: LightningdStandin[] = [];
after(async () => {
  for (const s of standins) await s.close();
});

let nextId = 0;
function asyncHtlc(s: LightningdStandin, amountMsat: bigint): HtlcSpec {
  const id = activeEc().publicKey(randomPrivateKey());
  const path = encodeBlindedPath(buildBlindedPath([id], { pathId: new Uint8Array(randomBytes(32)) }));
  return {
    htlcId: nextId++,
    paymentHash: sha256(new Uint8Array(randomBytes(32))),
    amountMsat,
    forwardMsat: amountMsat - 1000n,
    cltvExpiry: s.blockheight + 200,
    outgoingCltv: s.blockheight + 150,
    outgoingScid: '105x1x0',
    extraTlvs: [{ type: 75537n, value: new Uint8Array(0) }],
    customRecords: new Map([[4280151n, encodeAsyncHold({ messagePaths: [path], maxHoldBlocks: 100 })]]),
  };
}

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('CLN: list, show, release, fail and stats answer with the shared fields and counts', async () => {
  const s = new LightningdStandin({ options: { 'async-trampoline-max-held-per-peer': 10 } });
  standins.push(s);
  await s.start();
  const a = asyncHtlc(s, 100_000n);
  const b = asyncHtlc(s, 200_000n);
  const pa = s.htlcAccepted(a);
  const pb = s.htlcAccepted(b);
  type Hold = Record<string, unknown>;
  const list = async (): Promise<Hold[]> =>
    ((await s.request('async-trampoline-list', ['held'])).result as { holds: Hold[] }).holds;
  await until('two holds', async () => (await list()).length === 2);
  const holds = await list();
  const fields = Object.keys(
    holdView(
      {
        holdId: '',
        htlcKey: '',
        setId: '',
        paymentHash: '',
        state: 'held',
        mode: 'forward',
        amountInMsat: 0n,
        amountOutMsat: 0n,
        incomingPeer: '',
        incomingChannel: '',
        holdStart: 0,
        failAt: 0,
        createdMs: 0,
        updatedMs: 0,
        verdict: undefined,
        failReason: undefined,
      },
      0,
    ),
  );
  // Fields without a value (no verdict yet, a peer CLN does not name) are left out, as lightningd does.
  for (const h of holds) {
    for (const k of Object.keys(h)) assert.ok(fields.includes(k), `unexpected field ${k}`);
    for (const k of [
      'hold_id',
      'htlc_key',
      'payment_hash',
      'state',
      'amount_in_msat',
      'fail_at',
      'blocks_left',
    ])
      assert.ok(k in h, `list field ${k}`);
  }

  const keyA = `103x1x0/${a.htlcId}`;
  const shown = (await s.request('async-trampoline-show', [keyA])).result as Hold;
  assert.equal(shown.htlc_key, keyA);
  assert.equal(shown.payment_hash, Buffer.from(a.paymentHash).toString('hex'));
  assert.equal(shown.blocks_left, (shown.fail_at as number) - s.blockheight);

  const missing = await s.request('async-trampoline-show', { key: '1x1x1/9' });
  assert.match(JSON.stringify(missing.error), /no hold 1x1x1\/9/);

  const rel = await s.request('async-trampoline-release', { key: keyA });
  assert.deepEqual(rel.result, { hold_ids: [shown.hold_id] });
  // Forwarded with our markers stripped (no hold_htlc in extra_tlvs, no async_hold in the payload).
  const fwd = (await pa).result as { result: string; extra_tlvs: string; payload: string };
  assert.equal(fwd.result, 'continue');
  assert.equal(fwd.extra_tlvs, '');
  assert.doesNotMatch(
    fwd.payload,
    /^(?:..)*fe00414f57/,
    'no async_hold record (4280151) left in the payload',
  );
  const idB = holds.find((h) => h.htlc_key === `103x1x0/${b.htlcId}`)!.hold_id as string;
  await s.request('async-trampoline-fail', [idB]);
  assert.deepEqual((await pb).result, { result: 'fail', failure_message: '2002' });

  const stats = (await s.request('async-trampoline-stats', {})).result as Record<string, unknown>;
  assert.equal(stats.active_holds, 0);
  assert.deepEqual(stats.releases, { operator: 1 });
  assert.deepEqual(stats.fails, { operator: 1 });
  assert.deepEqual(stats.hold_outcomes, { forwarded: 1, failed: 1 });
  assert.equal((stats.hold_duration_seconds as { count: number }).count, 2);

  const mp = await s.request('async-trampoline-message-path', ['02'.padEnd(66, '1')]);
  assert.match(JSON.stringify(mp.error), /recipient-LSP mode/);
});
