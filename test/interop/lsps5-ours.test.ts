// Our LSP's webhook notifications through LDK's own client-side validator (lightning-liquidity's
// LSPS5Validator, the harness's `lsps5-verify`): every notification method, on a whole second (where
// chrono writes no fraction) and off it, exactly as our delivery POSTed them to a loopback receiver.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LSPS5, startLsps, type RunningLsps } from '../../plugin/lsps/lsps.js';
import { nullLogger } from '../../plugin/ops/log.js';
import { Receiver, SimLspsHost, type WebhookCall } from '../lsps/sim-host.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { harnessPath, ldk } from './ldk-harness.js';

const CLIENT = '02' + 'c1'.repeat(32);

interface Verdict {
  accepted: boolean;
  error?: string;
  replay_rejected?: boolean;
}

const ldkAccepts = (lsp: string, call: WebhookCall): Verdict =>
  ldk<Verdict>('lsps5-verify', {
    'lsp-node-id': lsp,
    timestamp: String(call.headers['x-lsps5-timestamp']),
    signature: String(call.headers['x-lsps5-signature']),
    body: call.body,
  });

describe("LDK's LSPS5 validator on our notifications", () => {
  let dir: string;
  let host: SimLspsHost;
  let clock: ManualClock;
  let lsps: RunningLsps;
  let hook: Receiver;

  before(async () => {
    harnessPath();
    dir = mkdtempSync(join(tmpdir(), 'lsps5-ldk-'));
    host = new SimLspsHost();
    clock = new ManualClock(1_700_000_000_000); // a whole second: 2023-11-14T22:13:20+00:00
    hook = await Receiver.start();
    lsps = await startLsps({
      host,
      dataDir: dir,
      nodeId: host.nodeId,
      log: nullLogger,
      clock,
      config: { ...DEFAULT_LSPS5, allowHttp: true, cooldownMs: 0 },
    });
  });
  after(async () => {
    await lsps.stop();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts every method we send, with and without a fraction of a second, and refuses a replay', async () => {
    const svc = lsps.service;
    const set = await host.call(CLIENT, 'lsps5.set_webhook', { app_name: 'ldk wallet', webhook: hook.url() });
    assert.equal(set.result?.no_change, false);
    await hook.waitCalls(1);
    const raise = [
      () => svc.paymentIncoming(CLIENT),
      () => svc.expirySoon(CLIENT, 800_144),
      () => svc.liquidityManagementRequest(CLIENT),
      () => svc.onionMessageIncoming(CLIENT),
    ];
    for (const [i, r] of raise.entries()) {
      clock.advance(i % 2 === 0 ? 1 : 999); // alternately off and on a whole second
      assert.equal((await r()).kind, 'queued');
      await hook.waitCalls(i + 2);
    }
    const stamps = hook.calls.map((c) => c.headers['x-lsps5-timestamp']);
    assert.ok(stamps.includes('2023-11-14T22:13:20+00:00'), 'a whole second');
    assert.ok(stamps.includes('2023-11-14T22:13:20.001+00:00'), 'a fraction');
    for (const call of hook.calls) {
      const v = ldkAccepts(host.nodeId, call);
      assert.equal(
        v.accepted,
        true,
        `${call.body} at ${String(call.headers['x-lsps5-timestamp'])}: ${v.error}`,
      );
      assert.equal(v.replay_rejected, true);
    }
    // And LDK refuses it from anyone else.
    const other = new SimLspsHost(new Uint8Array(32).fill(9)).nodeId;
    assert.equal(ldkAccepts(other, hook.calls[1]!).accepted, false);
  });
});
