// The scale simulation's logic on a short, seeded run: reproducible, every HTLC accounted for exactly
// once, caps respected, and a chart that renders. No timing is asserted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chartPng, chartSvg } from '../../scripts/sim/chart.js';
import { defaultSimParams, simulate, type SimParams } from '../../scripts/sim/run.js';

const small: SimParams = {
  ...defaultSimParams,
  ratePerHour: 1500,
  days: 0.5,
  channels: 20,
  mppShare: 0.2,
  // A tight per-peer cap on a Zipf-busy first channel must trip, and a short max hold must expire some.
  caps: { ...defaultSimParams.caps, perPeerCount: 25 },
  maxHoldBlocks: 12,
  offline: { kind: 'pareto', scaleMs: 10 * 60_000, alpha: 0.7 },
  seed: 7,
};

describe('scale simulation', () => {
  test('a seeded run is reproducible and accounts for every HTLC once', async () => {
    const a = await simulate(small);
    const b = await simulate(small);
    const strip = (s: typeof a.summary): unknown => ({ ...s, wallMs: 0 });
    assert.deepEqual(strip(a.summary), strip(b.summary));
    assert.deepEqual(a.samples, b.samples);

    const s = a.summary;
    assert.ok(s.payments > 500, `expected traffic, got ${s.payments} payments`);
    const failed = Object.values(s.failed).reduce((x, y) => x + y, 0);
    assert.equal(
      s.forwarded + s.expired + failed + s.heldAtEnd,
      s.htlcs,
      'every HTLC: one verdict or still held',
    );
    assert.ok(s.released > 0 && s.expired > 0, 'some released, some expired');
    assert.ok((s.capTrips.per_peer_count ?? 0) > 0, 'the per-peer cap trips');
    assert.equal(s.failed.cap_exceeded, s.capTrips.per_peer_count, 'each trip refuses one HTLC');
    assert.ok(s.peakSlots <= 25, `no channel holds more than the per-peer cap (${s.peakSlots})`);
    assert.ok(s.releaseDelayMedianMs >= small.onionMs, 'a release comes at least one onion hop after');
    // Samples every 10 simulated minutes, cumulative counters never decrease.
    assert.equal(a.samples.length, (0.5 * 24 * 60) / 10 + 1);
    for (let i = 1; i < a.samples.length; i++) {
      assert.ok(a.samples[i]!.capTrips >= a.samples[i - 1]!.capTrips);
      assert.ok(a.samples[i]!.expiries >= a.samples[i - 1]!.expiries);
    }
  });

  test('another seed gives another run', async () => {
    const a = await simulate({ ...small, days: 0.1 });
    const b = await simulate({ ...small, days: 0.1, seed: 8 });
    assert.notDeepEqual(a.samples, b.samples);
  });

  test('the chart has titles, axes and limits, and renders to PNG', async () => {
    const r = await simulate({ ...small, days: 0.1 });
    const svg = chartSvg(r);
    for (const text of [
      'Async HTLCs held at the LSP',
      'BTC held',
      'BOLT 2 max_accepted_htlcs: 483',
      'CLN default max-concurrent-htlcs: 30',
      'simulated time (days)',
    ])
      assert.ok(svg.includes(text), `chart shows "${text}"`);
    const png = chartPng(r);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});
