// The built plugin executable driven by the lightningd stand-in over the real plugin protocol.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  GUARD_PATH,
  LightningdStandin,
  PLUGIN_PATH,
  hex,
  type HtlcSpec,
  type JsonRpcReply,
} from '../../helpers/lightningd-standin.js';
import { activeEc, ecdhFromPrivateKey } from '../../../plugin/protocol/ec.js';
import { encodeAsyncHold } from '../../../plugin/protocol/async-hold.js';
import { encodeTrampolineRequest } from '../../../plugin/protocol/trampoline-request.js';
import { buildBlindedPath, randomPrivateKey } from '../../../plugin/protocol/route-blinding.js';
import { encodeBlindedPath } from '../../../plugin/protocol/blinded-path.js';
import { buildOnionMessage, peelOnionMessage } from '../../../plugin/protocol/onion-message.js';
import { decodeTlvStream } from '../../../plugin/protocol/tlv.js';

const HOLD_HTLC = 75537n;
const ASYNC_HOLD = 4280151n;
const TRAMPOLINE_REQUEST = 4280153n;

const standins: LightningdStandin[] = [];
after(async () => {
  for (const s of standins) await s.close();
});

async function started(
  opts: ConstructorParameters<typeof LightningdStandin>[0] = {},
): Promise<LightningdStandin> {
  const s = new LightningdStandin(opts);
  standins.push(s);
  await s.start();
  return s;
}

/** A recipient R with one blinded message path to itself. */
function recipient(): { key: Uint8Array; id: Uint8Array; path: Uint8Array } {
  const key = randomPrivateKey();
  const id = activeEc().publicKey(key);
  const path = encodeBlindedPath(buildBlindedPath([id], { pathId: new Uint8Array(randomBytes(32)) }));
  return { key, id, path };
}

let nextHtlcId = 0;
function asyncHtlc(s: LightningdStandin, r: { path: Uint8Array }, over: Partial<HtlcSpec> = {}): HtlcSpec {
  const preimage = new Uint8Array(randomBytes(32));
  return {
    htlcId: nextHtlcId++,
    paymentHash: sha256(preimage),
    amountMsat: 100_000n,
    forwardMsat: 99_000n,
    cltvExpiry: s.blockheight + 200,
    outgoingCltv: s.blockheight + 150,
    outgoingScid: '105x1x0',
    extraTlvs: [{ type: HOLD_HTLC, value: new Uint8Array(0) }],
    customRecords: new Map([[ASYNC_HOLD, encodeAsyncHold({ messagePaths: [r.path], maxHoldBlocks: 100 })]]),
    ...over,
  };
}

function plainHtlc(s: LightningdStandin): HtlcSpec {
  return {
    htlcId: nextHtlcId++,
    paymentHash: new Uint8Array(randomBytes(32)),
    amountMsat: 50_000n,
    forwardMsat: 49_000n,
    cltvExpiry: s.blockheight + 100,
    outgoingCltv: s.blockheight + 60,
    outgoingScid: '106x1x0',
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The recipient's side of the network: take an injected held_htlc_available to R, answer with a release. */
async function recipientReleases(
  s: LightningdStandin,
  r: { key: Uint8Array; id: Uint8Array },
  injected: { pathKey: Uint8Array; packet: Uint8Array },
): Promise<JsonRpcReply> {
  const first = await s.receiveOnionMessage(injected);
  assert.equal(first.kind, 'forward', 'our node forwards held_htlc_available toward the recipient');
  assert.ok(
    first.kind === 'forward' && first.peeled.nextNodeId && hex(first.peeled.nextNodeId) === hex(r.id),
  );
  const atR = await peelOnionMessage(first.peeled.wireMessage, ecdhFromPrivateKey(r.key));
  assert.equal(atR.kind, 'receive');
  assert.ok(
    atR.kind === 'receive' && atR.heldHtlcAvailable && atR.replyPath,
    'held_htlc_available with a reply path',
  );
  // The odd number only: CLN drops onion messages carrying an unknown even TLV such as 74.
  const release = buildOnionMessage({
    destination: atR.replyPath,
    payload: { releaseHeldHtlcOdd: new Uint8Array(0) },
  });
  assert.equal(hex(release.firstNodeId), hex(s.nodeId), 'the release path starts at our node');
  const got = await s.receiveOnionMessage({ pathKey: release.pathKey, packet: release.packet });
  assert.equal(got.kind, 'delivered');
  return (got as { reply: JsonRpcReply }).reply;
}

function answersFor(s: LightningdStandin, ids: Set<string>): JsonRpcReply[] {
  return s.answers.filter((a) => ids.has(a.id));
}

/** An htlc_accepted hook call as lightningd writes it, for tests that must not wait for its answer. */
function hookCall(s: LightningdStandin, id: string, spec: HtlcSpec): string {
  return (
    JSON.stringify({ jsonrpc: '2.0', id, method: 'htlc_accepted', params: s.htlcAcceptedParams(spec) }) +
    '\n\n'
  );
}

async function activeHolds(s: LightningdStandin): Promise<number> {
  return ((await s.request('async-trampoline-stats', {})).result as { active_holds: number }).active_holds;
}

test('the built plugin is an executable file with a node shebang', () => {
  accessSync(PLUGIN_PATH, constants.X_OK);
});

test('getmanifest: hooks, subscription, prefixed options, string ids, not dynamic', async () => {
  const s = new LightningdStandin();
  standins.push(s);
  const m = await s.start();
  assert.equal(m.dynamic, false);
  assert.equal(m.nonnumericids, true);
  assert.deepEqual(m.hooks, [
    { name: 'htlc_accepted', before: ['cln-guard.js', 'keysend'] },
    { name: 'onion_message_recv_secret' },
    { name: 'custommsg' },
  ]);
  assert.deepEqual(m.subscriptions, ['block_added', 'connect', 'disconnect', 'channel_state_changed']);
  const opts = m.options as { name: string; type: string; default: unknown }[];
  assert.ok(opts.length > 10);
  for (const o of opts) {
    assert.match(o.name, /^async-trampoline-/);
    assert.ok(['string', 'int', 'bool'].includes(o.type));
    assert.equal(typeof o.default, o.type === 'int' ? 'number' : o.type === 'bool' ? 'boolean' : 'string');
  }
  for (const n of [
    'data-dir',
    'hold-htlc-type',
    'max-hold-blocks',
    'safety-blocks',
    'log-level',
    'trampoline-scid',
  ]) {
    assert.ok(
      opts.some((o) => o.name === `async-trampoline-${n}`),
      n,
    );
  }
  const methods = (m.rpcmethods as { name: string; usage: string }[]).map((x) => x.name);
  assert.deepEqual(methods, [
    'async-trampoline-list',
    'async-trampoline-show',
    'async-trampoline-release',
    'async-trampoline-fail',
    'async-trampoline-stats',
    'async-trampoline-message-path',
  ]);
  assert.deepEqual(s.stdoutGarbage, []);
});

test('init with a bad option value: the reason goes to lightningd’s log and the plugin exits 1 (never disable)', async () => {
  const s = new LightningdStandin({ options: { 'async-trampoline-log-level': 'loud' } });
  standins.push(s);
  await assert.rejects(s.start(), /exited unexpectedly \(1\)/);
  assert.equal((await s.exited())?.code, 1);
  assert.ok(
    s.notifications.some(
      (n) => n.method === 'log' && /cannot start: async-trampoline-log-level/.test(JSON.stringify(n.params)),
    ),
    JSON.stringify(s.notifications),
  );
  assert.ok(!s.answers.some((a) => a.result && 'disable' in a.result));
});

test('without the guard plugin loaded, the plugin refuses to start and says how to load it', async () => {
  const s = new LightningdStandin();
  s.loadedPlugins = [PLUGIN_PATH];
  standins.push(s);
  await assert.rejects(s.start(), /exited unexpectedly \(1\)/);
  assert.ok(
    s.notifications.some((n) => /cln-guard\.js is not loaded/.test(JSON.stringify(n.params))),
    JSON.stringify(s.notifications),
  );
});

test('an HTLC without async markers continues at once', async () => {
  const s = await started();
  const a = await s.htlcAccepted(plainHtlc(s));
  assert.deepEqual(a.result, { result: 'continue' });
});

test('hold, then release by a real onion message over the plugin’s release path', async () => {
  const s = await started();
  const r = recipient();
  const spec = asyncHtlc(s, r);
  const pending = s.htlcAccepted(spec);
  await until('held_htlc_available injected', () => s.injected.length > 0);
  const list = await s.request('async-trampoline-list', {});
  const holds = (list.result as { holds: { state: string; htlc_key: string }[] }).holds;
  assert.equal(holds.length, 1);
  assert.equal(holds[0]!.htlc_key, `103x1x0/${spec.htlcId}`);
  // One message per encoding: odd-only first, then even-only.
  await until('both variants injected', () => s.injected.length === 2);
  const seen: string[] = [];
  for (const inj of s.injected) {
    const first = await s.receiveOnionMessage(inj);
    assert.ok(first.kind === 'forward');
    const atR = await peelOnionMessage(first.peeled.wireMessage, ecdhFromPrivateKey(r.key));
    assert.ok(atR.kind === 'receive');
    seen.push(
      `${atR.payload.heldHtlcAvailableOdd ? 'odd' : ''}${atR.payload.heldHtlcAvailable ? 'even' : ''}`,
    );
  }
  assert.deepEqual(seen, ['odd', 'even']);
  const ack = await recipientReleases(s, r, s.injected[0]!);
  assert.deepEqual(ack.result, { result: 'continue' });
  const verdict = await pending;
  // Released: continue with our markers stripped, so neither the next hop nor the guard sees them.
  const v = verdict.result as { result: string; payload?: string; extra_tlvs?: string };
  assert.equal(v.result, 'continue');
  assert.equal(v.extra_tlvs, '', 'hold_htlc removed from what goes to the next hop');
  const records = decodeTlvStream(Buffer.from(v.payload ?? '', 'hex')).map((x) => x.type);
  assert.deepEqual(records, [2n, 4n, 6n], 'the hop payload keeps amount, cltv and scid, loses async_hold');
  assert.ok(
    s.rpcCalls.some((c) => c.method === 'makesecret'),
    'release key from makesecret',
  );
  assert.ok(s.rpcCalls.some((c) => c.method === 'getinfo'));
  assert.deepEqual(s.duplicateAnswers, []);
});

test('a release carrying only the even type 74 never reaches the plugin (CLN drops it); the hold stays', async () => {
  const s = await started();
  const r = recipient();
  const spec = asyncHtlc(s, r);
  const pending = s.htlcAccepted(spec);
  await until('held_htlc_available injected', () => s.injected.length > 0);
  const first = await s.receiveOnionMessage(s.injected[0]!);
  assert.ok(first.kind === 'forward');
  const atR = await peelOnionMessage(first.peeled.wireMessage, ecdhFromPrivateKey(r.key));
  assert.ok(atR.kind === 'receive' && atR.replyPath);
  const evenOnly = buildOnionMessage({
    destination: atR.replyPath,
    payload: { releaseHeldHtlc: new Uint8Array(0) },
  });
  const got = await s.receiveOnionMessage(evenOnly);
  assert.equal(got.kind, 'dropped');
  const holds = ((await s.request('async-trampoline-list', {})).result as { holds: { state: string }[] })
    .holds;
  assert.notEqual(holds[0]!.state, 'released');
  // Clean up through the operator command: exactly one fail answer.
  const f = await s.request('async-trampoline-fail', [`103x1x0/${spec.htlcId}`]);
  assert.ok(f.result, JSON.stringify(f));
  assert.deepEqual((await pending).result, { result: 'fail', failure_message: '2002' });
});

test('block_added before the deadline fails the held HTLC with temporary_node_failure', async () => {
  const s = await started({ blockheight: 2000 });
  const r = recipient();
  const spec = asyncHtlc(s, r, { cltvExpiry: 2000 + 60, outgoingCltv: 2000 + 40 });
  const pending = s.htlcAccepted(spec);
  let failAt = 0;
  await until('hold recorded', async () => {
    const holds = ((await s.request('async-trampoline-list', {})).result as { holds: { fail_at: number }[] })
      .holds;
    failAt = holds[0]?.fail_at ?? 0;
    return failAt > 0;
  });
  assert.ok(failAt > 2000 && failAt <= 2000 + 60 - 12, `fail_at ${failAt} keeps the safety margin`);
  s.blockAdded(failAt - 1);
  const stats = await s.request('async-trampoline-stats', {});
  assert.equal((stats.result as { blockheight: number }).blockheight, failAt - 1);
  assert.equal((stats.result as { active_holds: number }).active_holds, 1);
  assert.equal(s.answers.filter((a) => a.id.startsWith('cln:htlc_accepted')).length, 0, 'not failed early');
  s.blockAdded(failAt);
  assert.deepEqual((await pending).result, { result: 'fail', failure_message: '2002' });
});

test('plugin killed with SIGKILL and restarted: every unresolved HTLC replayed gets exactly one verdict', async () => {
  const s = await started({ blockheight: 3000 });
  const r = recipient();
  const specs = Array.from({ length: 8 }, () => asyncHtlc(s, r));
  const firstIds = new Set<string>();
  for (const spec of specs) {
    const id = `cln:htlc_accepted#k${spec.htlcId}`;
    firstIds.add(id);
    s.expect(id).catch(() => undefined); // answered or not, counted from s.answers below
    s.write(hookCall(s, id, spec));
  }
  await until('all held', async () => (await activeHolds(s)) === specs.length);
  const killed = await s.kill('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal(answersFor(s, firstIds).length, 0, 'the killed plugin had answered none');

  const injectedBefore = s.injected.length;
  await s.start();
  // lightningd replays every HTLC without a final verdict, in a new hook call each.
  const replays = specs.map((spec) => s.htlcAccepted({ ...spec, replay: true }));
  await until('holds restored', async () => (await activeHolds(s)) === specs.length);
  // Release one by onion message (from the restarted plugin's notice), let the rest hit the deadline.
  await until('notice after restart', () => s.injected.length > injectedBefore);
  const holds = ((await s.request('async-trampoline-list', {})).result as { holds: { fail_at: number }[] })
    .holds;
  const ack = await recipientReleases(s, r, s.injected[injectedBefore]!);
  assert.deepEqual(ack.result, { result: 'continue' });
  s.blockAdded(Math.max(...holds.map((h) => h.fail_at)));
  const verdicts = await Promise.all(replays);
  const kinds = verdicts.map((v) => (v.result as { result: string }).result);
  assert.ok(
    kinds.every((k) => k === 'fail' || k === 'continue'),
    kinds.join(),
  );
  assert.ok(kinds.includes('continue'), 'the released set continued');
  assert.deepEqual(s.duplicateAnswers, []);
  const hookAnswers = s.answers.filter((a) => a.id.startsWith('cln:htlc_accepted'));
  assert.equal(hookAnswers.length, specs.length, 'exactly one verdict per HTLC across both runs');
});

test('SIGKILL while verdicts are being written: replaying only the unanswered HTLCs gives each exactly one verdict', async () => {
  const s = await started({ blockheight: 3500 });
  const r = recipient();
  const specs = Array.from({ length: 40 }, () => asyncHtlc(s, r));
  const idOf = new Map<string, HtlcSpec>();
  for (const spec of specs) {
    const id = `cln:htlc_accepted#race${spec.htlcId}`;
    idOf.set(id, spec);
    s.expect(id).catch(() => undefined); // answered or not, counted from s.answers below
    s.write(hookCall(s, id, spec));
  }
  await until('all held', async () => (await activeHolds(s)) === specs.length);
  // Every hold expires at this block; kill the plugin while it is answering.
  s.blockAdded(3500 + 200);
  await s.kill('SIGKILL');
  const answeredBefore = new Set(s.answers.filter((a) => idOf.has(a.id)).map((a) => a.id));
  await s.start();
  const unanswered = [...idOf].filter(([id]) => !answeredBefore.has(id)).map(([, spec]) => spec);
  const replays = await Promise.all(unanswered.map((spec) => s.htlcAccepted(spec)));
  for (const v of replays) assert.deepEqual(v.result, { result: 'fail', failure_message: '2002' });
  for (const a of s.answers.filter((x) => idOf.has(x.id))) {
    assert.deepEqual(a.result, { result: 'fail', failure_message: '2002' });
  }
  assert.equal(answeredBefore.size + replays.length, specs.length, 'one verdict per HTLC across both runs');
  assert.deepEqual(s.duplicateAnswers, []);
});

test('500 concurrent held HTLCs each get exactly one verdict', async () => {
  // Past the default per-peer cap of 200: an LSP serving many async senders raises it.
  const s = await started({ blockheight: 4000, options: { 'async-trampoline-max-held-per-peer': 1000 } });
  const r = recipient();
  const specs = Array.from({ length: 500 }, (_, i) => asyncHtlc(s, r, { scid: `${110 + (i % 3)}x1x0` }));
  const all = specs.map((spec) => s.htlcAccepted(spec));
  await until('500 held', async () => (await activeHolds(s)) === 500);
  s.blockAdded(4000 + 200);
  const verdicts = await Promise.all(all);
  assert.equal(verdicts.length, 500);
  for (const v of verdicts) assert.deepEqual(v.result, { result: 'fail', failure_message: '2002' });
  assert.deepEqual(s.duplicateAnswers, []);
  assert.deepEqual(s.stdoutGarbage, []);
});

test('a hook message split at every byte boundary is still read and answered', async () => {
  const s = await started();
  const spec = plainHtlc(s);
  const text = (id: string): string => hookCall(s, id, spec);
  const len = Buffer.byteLength(text('cln:htlc_accepted#split-00000'));
  for (let cut = 1; cut < len; cut++) {
    const id = `cln:htlc_accepted#split-${String(cut).padStart(5, '0')}`;
    const bytes = Buffer.from(text(id));
    const answer = s.expect(id);
    s.write(bytes.subarray(0, cut));
    await sleep(1); // pacing so the halves reach the plugin as separate reads
    s.write(bytes.subarray(cut));
    assert.deepEqual((await answer).result, { result: 'continue' }, `cut at ${cut}`);
  }
  assert.deepEqual(s.duplicateAnswers, []);
});

test('garbage on stdin is dropped; the plugin lives on and answers the next request', async () => {
  // Debug logging on: every log line must still go to stderr, never stdout.
  const s = await started({ options: { 'async-trampoline-log-level': 'debug' } });
  s.write('this is not json\n\n');
  s.write('{"unterminated": [1, 2\n\n');
  s.write('{"jsonrpc": "1.0", "id": 1, "method": "getmanifest"}\n\n');
  s.write('{"jsonrpc": "2.0", "id": "x", "result": {}}\n\n');
  s.write('[1, 2, 3]\n\n');
  s.write(Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x0a]));
  s.write(
    '{"jsonrpc": "2.0", "id": "cln:htlc_accepted#bad", "method": "htlc_accepted", "params": {"onion": 5}}\n\n',
  );
  const bad = await s.expect('cln:htlc_accepted#bad');
  assert.deepEqual(
    bad.result,
    { result: 'fail', failure_message: '2002' },
    'a malformed hook still gets a valid answer',
  );
  const a = await s.htlcAccepted(plainHtlc(s));
  assert.deepEqual(a.result, { result: 'continue' });
  const unknown = await s.request('no-such-method', {});
  assert.equal(unknown.error?.code, -32601);
  const again = await s.request('init', {
    options: {},
    configuration: { 'lightning-dir': '/nowhere', 'rpc-file': 'x' },
  });
  assert.deepEqual(again.result, {}, 'a repeated init is acknowledged and ignored');
  assert.deepEqual((await s.htlcAccepted(plainHtlc(s))).result, { result: 'continue' });
  assert.deepEqual(s.stdoutGarbage, []);
  assert.match(s.stderr, /dropped input from lightningd/, 'garbage is logged on stderr');
  // ...and, being a warning, in lightningd's own log through a `log` notification.
  assert.ok(
    s.notifications.some(
      (n) =>
        n.method === 'log' &&
        (n.params as { level: string; message: string }).message.includes('dropped input'),
    ),
  );
  for (const n of s.notifications)
    assert.ok(['warn', 'error'].includes((n.params as { level: string }).level));
  assert.equal(s.pid !== undefined, true);
});

test('a slow RPC call (xpay) does not hold up hooks, notifications or other RPC calls', async () => {
  const s = await started({ blockheight: 5000 });
  let answerPay: ((v: unknown) => void) | undefined;
  s.rpcHandlers.set('xpay', () => new Promise((res) => (answerPay = res)));
  const r = recipient();
  const preimage = new Uint8Array(randomBytes(32));
  const trampoline = encodeTrampolineRequest({
    kind: 'invoice',
    invoice: 'lnbcrt900n1fakeinvoice',
    amtToForward: 90_000n,
  });
  const spec: HtlcSpec = {
    htlcId: nextHtlcId++,
    paymentHash: sha256(preimage),
    amountMsat: 100_000n,
    cltvExpiry: 5000 + 200,
    extraTlvs: [{ type: HOLD_HTLC, value: new Uint8Array(0) }],
    customRecords: new Map([
      [ASYNC_HOLD, encodeAsyncHold({ messagePaths: [r.path] })],
      [TRAMPOLINE_REQUEST, trampoline],
    ]),
  };
  const pending = s.htlcAccepted(spec);
  await until('notice', () => s.injected.length > 0);
  await recipientReleases(s, r, s.injected[0]!);
  await until('xpay called', () => answerPay !== undefined);
  const xpay = s.rpcCalls.find((c) => c.method === 'xpay')!;
  assert.equal(xpay.params.invstring, 'lnbcrt900n1fakeinvoice');
  assert.equal(xpay.params.amount_msat, 90_000);
  assert.ok(typeof xpay.params.maxdelay === 'number' && xpay.params.maxdelay > 0);

  // While xpay hangs: plain HTLCs pass, a second hold is taken and noticed, blocks arrive, stats answer.
  const plain = await Promise.all(Array.from({ length: 20 }, () => s.htlcAccepted(plainHtlc(s))));
  for (const p of plain) assert.deepEqual(p.result, { result: 'continue' });
  const before = s.injected.length;
  const second = s.htlcAccepted(asyncHtlc(s, r));
  await until('second notice while xpay pends', () => s.injected.length > before);
  s.blockAdded(5001);
  const st = await s.request('async-trampoline-stats', {});
  assert.equal((st.result as { blockheight: number }).blockheight, 5001);

  answerPay!({
    payment_preimage: hex(preimage),
    failed_parts: 0,
    successful_parts: 1,
    amount_msat: 90_000,
    amount_sent_msat: 90_010,
  });
  assert.deepEqual((await pending).result, { result: 'resolve', payment_key: hex(preimage) });
  await s.request('async-trampoline-fail', [`103x1x0/${nextHtlcId - 1}`]);
  assert.deepEqual((await second).result, { result: 'fail', failure_message: '2002' });
  assert.deepEqual(s.duplicateAnswers, []);
});

test('operator commands: list, stats, release by htlc key (named params), fail by hold id (positional)', async () => {
  const s = await started();
  const r = recipient();
  const a = asyncHtlc(s, r);
  const b = asyncHtlc(s, r);
  const pa = s.htlcAccepted(a);
  const pb = s.htlcAccepted(b);
  await until('two held', async () => (await activeHolds(s)) === 2);
  const list = (await s.request('async-trampoline-list', [])).result as {
    holds: { hold_id: string; htlc_key: string; amount_in_msat: number }[];
  };
  assert.equal(list.holds.length, 2);
  assert.equal(list.holds[0]!.amount_in_msat, 100_000);
  const holdB = list.holds.find((h) => h.htlc_key === `103x1x0/${b.htlcId}`)!;
  const rel = await s.request('async-trampoline-release', { key: `103x1x0/${a.htlcId}` });
  assert.ok(rel.result, JSON.stringify(rel));
  assert.equal(((await pa).result as { result: string }).result, 'continue');
  const f = await s.request('async-trampoline-fail', [holdB.hold_id]);
  assert.deepEqual((f.result as { hold_ids: string[] }).hold_ids, [holdB.hold_id]);
  assert.deepEqual((await pb).result, { result: 'fail', failure_message: '2002' });
  const again = await s.request('async-trampoline-fail', [holdB.hold_id]);
  assert.ok(again.error, 'a finished hold cannot be failed again');
  const bad = await s.request('async-trampoline-list', ['no-such-state']);
  assert.equal(bad.error?.code, -32602);
  assert.deepEqual(s.duplicateAnswers, []);
});

test('trampoline: a failed xpay fails the HTLC back with temporary_trampoline_failure (NODE|25)', async () => {
  const s = await started({ blockheight: 6000 });
  s.rpcHandlers.set('xpay', () => {
    throw new Error('Failed after 3 attempts: no route');
  });
  const r = recipient();
  const spec: HtlcSpec = {
    htlcId: nextHtlcId++,
    paymentHash: sha256(new Uint8Array(randomBytes(32))),
    amountMsat: 100_000n,
    cltvExpiry: 6000 + 200,
    extraTlvs: [{ type: HOLD_HTLC, value: new Uint8Array(0) }],
    customRecords: new Map([
      [ASYNC_HOLD, encodeAsyncHold({ messagePaths: [r.path] })],
      [
        TRAMPOLINE_REQUEST,
        encodeTrampolineRequest({ kind: 'invoice', invoice: 'lnbcrt1fake', amtToForward: 90_000n }),
      ],
    ]),
  };
  const pending = s.htlcAccepted(spec);
  await until('notice', () => s.injected.length > 0);
  await recipientReleases(s, r, s.injected[0]!);
  assert.deepEqual((await pending).result, { result: 'fail', failure_message: '2019' });
});

test('closing stdin (lightningd shutting down) makes the plugin exit cleanly', async () => {
  const s = await started();
  const r = await s.stop();
  assert.equal(r?.code, 0);
});

test('a hold whose HTLC vanished while the plugin was down is closed as failed at start, never as forwarded', async () => {
  const s = await started({ blockheight: 4000 });
  const r = recipient();
  const gone = asyncHtlc(s, r);
  const kept = asyncHtlc(s, r);
  void s.htlcAccepted(gone).catch(() => undefined);
  void s.htlcAccepted(kept).catch(() => undefined);
  await until('both held and stored', async () => {
    const l = (await s.request('async-trampoline-list', {})).result as { holds: unknown[] };
    return l.holds.length === 2;
  });
  await s.kill('SIGKILL');
  // While the plugin was down lightningd failed one of them (as the guard does).
  s.vanished.add(`103x1x0/${gone.htlcId}`);
  await s.start();
  const list = (await s.request('async-trampoline-list', {})).result as {
    holds: { htlc_key: string; state: string; fail_reason?: string }[];
  };
  const byKey = new Map(list.holds.map((h) => [h.htlc_key, h]));
  assert.ok(byKey.size >= 2, JSON.stringify(list));
  assert.equal(byKey.get(`103x1x0/${gone.htlcId}`)?.state, 'failed');
  assert.equal(byKey.get(`103x1x0/${gone.htlcId}`)?.fail_reason, 'host_failed');
  assert.equal(byKey.get(`103x1x0/${kept.htlcId}`)?.state, 'held');
  // The live one is replayed without extra_tlvs and is still recognized as held.
  const replay = s.htlcAccepted({ ...kept, replay: true });
  await s.request('async-trampoline-fail', [`103x1x0/${kept.htlcId}`]);
  assert.deepEqual((await replay).result, { result: 'fail', failure_message: '2002' });
});

test('at start, deadlines are judged at the backend’s chain tip while lightningd’s height lags it', async () => {
  const s = await started({ blockheight: 5000 });
  const r = recipient();
  const spec = asyncHtlc(s, r, { cltvExpiry: 5000 + 80, outgoingCltv: 5000 + 60 });
  void s.htlcAccepted(spec).catch(() => undefined);
  let failAt = 0;
  await until('held', async () => {
    const h = ((await s.request('async-trampoline-list', {})).result as { holds: { fail_at: number }[] })
      .holds;
    failAt = h[0]?.fail_at ?? 0;
    return failAt > 0;
  });
  await s.kill('SIGKILL');
  // lightningd restarts 30 blocks behind a tip past the deadline (it catches up only after init).
  s.chainTip = failAt + 1;
  s.blockheight = failAt - 30;
  await s.start();
  const replay = await s.htlcAccepted({ ...spec, replay: true });
  assert.deepEqual(replay.result, { result: 'fail', failure_message: '2002' });
  const h = ((await s.request('async-trampoline-list', {})).result as { holds: { state: string }[] }).holds;
  assert.equal(h[0]?.state, 'expired');
});

test('held_htlc_available is retried when injectonionmessage says unknown next peer', async () => {
  const s = await started();
  s.unknownNextPeer = 1;
  const r = recipient();
  const spec = asyncHtlc(s, r);
  const pending = s.htlcAccepted(spec);
  await until('a notice got through after the failure', () => s.injected.length > 0);
  assert.ok(s.rpcCalls.filter((c) => c.method === 'injectonionmessage').length > s.injected.length);
  await s.request('async-trampoline-fail', [`103x1x0/${spec.htlcId}`]);
  await pending;
});

test('guard: fails an HTLC still carrying hold_htlc or async_hold, passes plain and released ones', async () => {
  const s = await started({ pluginPath: GUARD_PATH });
  const r = recipient();
  const manifest = await s.request('getmanifest', {});
  assert.deepEqual((manifest.result as { hooks: unknown[] }).hooks, [
    { name: 'htlc_accepted', after: ['cln.js'] },
  ]);
  const marked = await s.htlcAccepted(asyncHtlc(s, r));
  assert.deepEqual(marked.result, { result: 'fail', failure_message: '2002' });
  const onlyPayload = await s.htlcAccepted(asyncHtlc(s, r, { extraTlvs: undefined }));
  assert.deepEqual(onlyPayload.result, { result: 'fail', failure_message: '2002' });
  const onlyFlag = await s.htlcAccepted(asyncHtlc(s, r, { customRecords: new Map() }));
  assert.deepEqual(onlyFlag.result, { result: 'fail', failure_message: '2002' });
  const plain = await s.htlcAccepted(plainHtlc(s));
  assert.deepEqual(plain.result, { result: 'continue' });
  assert.ok(
    s.notifications.some((n) => /async-trampoline-guard: failed HTLC/.test(JSON.stringify(n.params))),
  );
});

test('guard: refuses to start when the async-trampoline plugin is not loaded', async () => {
  const s = new LightningdStandin({ pluginPath: GUARD_PATH });
  s.loadedPlugins = [GUARD_PATH];
  standins.push(s);
  await assert.rejects(s.start(), /exited unexpectedly \(1\)/);
});
