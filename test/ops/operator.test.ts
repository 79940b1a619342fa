// The operator surface over a real engine and store (simulated host): the sidecar's admin endpoint
// (token file, auth, every command), the CLN RPC methods giving the same answers, /healthz, the
// metric counts behind stats, and hold log lines that carry the correlating fields and no secrets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HoldEngine } from '../../plugin/hold/engine.js';
import { memoryLogger } from '../../plugin/ops/log.js';
import { createPromMetrics, serveMetrics } from '../../plugin/ops/metrics.js';
import { AdminCallError, TOKEN_FILE, callAdmin, startAdminServer } from '../../plugin/ops/admin-server.js';
import { adminMethods } from '../../plugin/backends/cln/admin.js';
import { renderAnswer } from '../../plugin/ops/render.js';
import { ManualClock, drain } from '../helpers/manual-clock.js';
import { SimHost, hex, makeHtlc } from '../helpers/sim-host.js';
import { tmpBase, testConfig } from '../hold/setup.js';

async function setup() {
  const dir = mkdtempSync(join(tmpBase, 'ops-admin-'));
  const host = new SimHost();
  const clock = new ManualClock();
  const logger = memoryLogger();
  const metrics = createPromMetrics();
  let ready = true;
  metrics.setBackendConnected(() => ready);
  const engine = await HoldEngine.open({
    dbPath: join(dir, 'holds.sqlite'),
    backend: host,
    config: testConfig,
    logger,
    clock,
    metrics,
  });
  await engine.start();
  await drain();
  const ctx = { engine: () => engine, counts: () => metrics.counts() };
  const admin = await startAdminServer({
    dataDir: dir,
    port: 0,
    ctx: { ...ctx, keyForm: '<chan_id>:<htlc_id>' },
    ready: () => ready,
    log: logger,
  });
  const call = (command: string, arg?: string, state?: string) =>
    callAdmin({ port: admin.port, tokenPath: admin.tokenPath, command, arg, state });
  const cln = adminMethods(ctx);
  const viaCln = async (method: string, params: unknown) =>
    JSON.parse(
      JSON.stringify(await cln[method]!(params), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)),
    );
  return {
    dir,
    host,
    clock,
    logger,
    metrics,
    engine,
    admin,
    call,
    viaCln,
    setReady: (v: boolean) => (ready = v),
    done: async () => {
      await admin.close();
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('operator surface', () => {
  it('admin endpoint: token file 0600, refused without it, same answers as the CLN methods', async () => {
    const s = await setup();
    try {
      assert.equal(statSync(s.admin.tokenPath).mode & 0o777, 0o600);
      assert.equal(s.admin.tokenPath, join(s.dir, TOKEN_FILE));
      const url = `http://127.0.0.1:${s.admin.port}/v1/list`;
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status, 401);

      const a = makeHtlc(s.host);
      const b = makeHtlc(s.host, { amountInMsat: 250_000n });
      s.host.offer(a);
      s.host.offer(b);
      await drain();
      const listed = (await s.call('list', undefined, 'held')) as { holds: Record<string, unknown>[] };
      assert.equal(listed.holds.length, 2);
      assert.deepEqual(
        listed,
        await s.viaCln('async-trampoline-list', ['held']),
        'same answer on both hosts',
      );
      const shown = await s.call('show', a.key);
      assert.equal(shown.payment_hash, hex(a.paymentHash));
      assert.equal(shown.state, 'held');
      assert.equal(shown.blocks_left, (shown.fail_at as number) - s.host.height);
      assert.deepEqual(shown, await s.viaCln('async-trampoline-show', { key: a.key }));
      assert.match(renderAnswer('list', listed), new RegExp(`${shown.hold_id}\\s+${a.key}\\s+held`));

      await assert.rejects(
        s.call('show', 'nope:1'),
        (e: unknown) => e instanceof AdminCallError && e.status === 404,
      );
      await assert.rejects(s.call('list', undefined, 'sleeping'), /state: one of/);
      await assert.rejects(s.call('message-path', '02'.padEnd(66, '1')), /recipient-LSP mode/);

      assert.deepEqual(await s.call('release', a.key), { hold_ids: [shown.hold_id] });
      const bId = listed.holds.find((h) => h.htlc_key === b.key)!.hold_id as string;
      assert.deepEqual(await s.call('fail', bId), { hold_ids: [bId] });
      await drain();
      assert.deepEqual(s.host.verdictOf(a.key), { kind: 'continue' });
      assert.deepEqual(s.host.verdictOf(b.key), { kind: 'fail', reason: 'operator', trampoline: false });
      await assert.rejects(
        s.call('release', a.key),
        (e: unknown) => e instanceof AdminCallError && e.status === 409,
      );
      // GET cannot release: a browser prefetch or a stray curl must not act.
      const get = await fetch(`http://127.0.0.1:${s.admin.port}/v1/release/${encodeURIComponent(b.key)}`, {
        headers: { authorization: `Bearer ${readFileSync(s.admin.tokenPath, 'utf8').trim()}` },
      });
      assert.equal(get.status, 405);

      const stats = await s.call('stats');
      assert.deepEqual(stats, await s.viaCln('async-trampoline-stats', []));
      assert.deepEqual(stats.releases, { operator: 1 });
      assert.deepEqual(stats.fails, { operator: 1 });
      assert.deepEqual(stats.hold_outcomes, { forwarded: 1, failed: 1 });
      assert.equal((stats.onion_messages_sent as Record<string, number>).held_htlc_available, 2);
      assert.equal(stats.active_holds, 0);
    } finally {
      await s.done();
    }
    assert.equal(existsSync(join(s.dir, TOKEN_FILE)), false, 'token removed at stop');
  });

  it('/healthz follows the interceptor; /metrics has the gauges, histogram and counters', async () => {
    const s = await setup();
    let up = true;
    const server = await serveMetrics(s.metrics.registry, 0, '127.0.0.1', () => up);
    try {
      const addr = server.address() as { port: number };
      const base = `http://127.0.0.1:${addr.port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      up = false;
      s.setReady(false);
      const down = await fetch(`${base}/healthz`);
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), { ready: false });
      assert.equal(
        (await fetch(`http://127.0.0.1:${s.admin.port}/healthz`)).status,
        503,
        'admin port too, no token',
      );

      const h = makeHtlc(s.host, { amountInMsat: 300_000n });
      s.host.offer(h);
      await drain();
      let body = await (await fetch(`${base}/metrics`)).text();
      assert.match(body, /^async_trampoline_holds_active 1$/m);
      assert.match(body, /^async_trampoline_held_msat 300000$/m);
      assert.match(body, /^async_trampoline_backend_connected 0$/m);
      s.clock.advance(90_000);
      s.host.release(s.host.notices[0]!.replyPathId);
      await drain();
      body = await (await fetch(`${base}/metrics`)).text();
      assert.match(body, /^async_trampoline_holds_active 0$/m);
      assert.match(body, /^async_trampoline_held_msat 0$/m);
      assert.match(body, /^async_trampoline_hold_duration_seconds_count 1$/m);
      assert.match(body, /^async_trampoline_hold_duration_seconds_sum 90$/m);
      assert.match(body, /^async_trampoline_hold_duration_seconds_bucket\{le="60"\} 0$/m);
      assert.match(body, /^async_trampoline_hold_duration_seconds_bucket\{le="600"\} 1$/m);
      assert.match(body, /^async_trampoline_holds_released_total\{via="path_id"\} 1$/m);
      assert.match(
        body,
        /^async_trampoline_onion_messages_total\{direction="received",kind="release_held_htlc"\} 1$/m,
      );
      // The notifier retried while the hold lasted: every send is one held_htlc_available sent.
      const sent =
        /^async_trampoline_onion_messages_total\{direction="sent",kind="held_htlc_available"\} (\d+)$/m.exec(
          body,
        );
      const notices = /^async_trampoline_notices_total\{result="sent"\} (\d+)$/m.exec(body);
      assert.ok(sent && notices && Number(sent[1]) > 1);
      assert.equal(sent[1], notices[1]);
    } finally {
      server.close();
      await s.done();
    }
  });

  it('hold log lines carry key, payment_hash, amount_msat, blocks_left and no secret', async () => {
    const s = await setup();
    try {
      const t = makeHtlc(s.host, { trampoline: true, amountInMsat: 1_000_000n, amtToForwardMsat: 990_000n });
      const f = makeHtlc(s.host);
      s.host.offer(t);
      s.host.offer(f);
      await drain();
      const pathId = s.host.notices[0]!.replyPathId;
      s.host.release(pathId);
      await drain();
      s.host.mine(testConfig.maxHoldBlocks! + 1);
      await drain();
      const verdict = s.host.verdictOf(t.key) as { kind: string; preimage: Uint8Array };
      assert.equal(verdict.kind, 'settle');
      assert.equal(s.host.verdictOf(f.key)?.kind, 'fail');

      const about = [
        'holding htlc',
        'hold released',
        'trampoline payment succeeded; settling',
        'hold deadline reached; failing',
      ];
      for (const msg of about) {
        const lines = s.logger.lines.filter((l) => l.msg === msg);
        assert.ok(lines.length > 0, msg);
        for (const l of lines) {
          for (const k of ['key', 'payment_hash', 'amount_msat', 'blocks_left'])
            assert.ok(k in l.fields, `${msg}: ${k}`);
          assert.match(String(l.fields.payment_hash), /^[0-9a-f]{64}$/);
          assert.equal(typeof l.fields.blocks_left, 'number');
        }
      }
      const text = JSON.stringify(s.logger.lines, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v));
      const secrets = {
        preimage: hex(verdict.preimage),
        releaseKey: hex(s.host.key),
        pathIdHmac: hex(pathId.subarray(16)),
        releasePathId: hex(pathId),
        adminToken: readFileSync(s.admin.tokenPath, 'utf8').trim(),
      };
      for (const [what, secret] of Object.entries(secrets))
        assert.ok(!text.includes(secret), `${what} logged`);
    } finally {
      await s.done();
    }
  });
});
