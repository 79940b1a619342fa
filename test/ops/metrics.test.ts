import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createPromMetrics, serveMetrics } from '../../plugin/ops/metrics.js';

test('engine metrics are exported in Prometheus text format over loopback HTTP', async () => {
  const m = createPromMetrics();
  m.holdsActive(3);
  m.holdOutcome('expired');
  m.holdOutcome('expired');
  m.release('forged');
  m.capTripped('per_peer_count');
  const server = await serveMetrics(m.registry, 0);
  try {
    const { port } = server.address() as AddressInfo;
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(body, /^async_trampoline_holds_active 3$/m);
    assert.match(body, /^async_trampoline_hold_outcomes_total\{outcome="expired"\} 2$/m);
    assert.match(body, /^async_trampoline_releases_total\{result="forged"\} 1$/m);
    assert.match(body, /^async_trampoline_caps_tripped_total\{cap="per_peer_count"\} 1$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    server.close();
  }
});
