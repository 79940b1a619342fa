// `npm run simulate`: the real hold engine on a simulated host and clock, driven by a model of an
// LSP's async traffic over simulated weeks; prints a summary and writes a PNG chart (and the samples
// as CSV) for sizing caps. Durations take a unit: 90s, 5m, 2h, 3d.
//   npm run simulate -- --rate 1000 --offline pareto:5m:0.9 --days 14 --out sim.png
//   npm run simulate -- --rate 5000 --offline lognormal:30m:1.5 --mpp 0.2 --cap-peer-count 483
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chartPng } from './sim/chart.js';
import { defaultSimParams, simulate, type OfflineModel, type SimParams } from './sim/run.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) throw new Error(`${what}: "${s}" is not a duration like 90s, 5m, 2h or 3d`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** `pareto:<scale>:<alpha>` or `lognormal:<median>:<sigma>`, e.g. pareto:5m:0.9. */
export function parseOffline(s: string): OfflineModel {
  const [kind, a, b] = s.split(':');
  const shape = Number(b);
  if (!a || !Number.isFinite(shape) || shape <= 0)
    throw new Error(`--offline: "${s}" is not pareto:<scale>:<alpha> or lognormal:<median>:<sigma>`);
  if (kind === 'pareto') return { kind, scaleMs: parseDuration(a, '--offline scale'), alpha: shape };
  if (kind === 'lognormal') return { kind, medianMs: parseDuration(a, '--offline median'), sigma: shape };
  throw new Error(`--offline: unknown distribution "${kind}" (pareto or lognormal)`);
}

function num(v: string | undefined, what: string, min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`${what}: "${v}" must be a number in [${min}, ${max}]`);
  return n;
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      rate: { type: 'string' },
      offline: { type: 'string' },
      days: { type: 'string' },
      mpp: { type: 'string' },
      channels: { type: 'string' },
      zipf: { type: 'string' },
      'amount-sat': { type: 'string' },
      'cltv-min': { type: 'string' },
      'cltv-max': { type: 'string' },
      'max-hold-blocks': { type: 'string' },
      'cap-peer-count': { type: 'string' },
      'cap-peer-sat': { type: 'string' },
      'cap-count': { type: 'string' },
      'cap-sat': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string', default: 'simulation.png' },
      csv: { type: 'string' },
    },
  });
  const d = defaultSimParams;
  const sat = (x: number | undefined): bigint | undefined =>
    x === undefined ? undefined : BigInt(x) * 1000n;
  const p: SimParams = {
    ...d,
    ratePerHour: num(v.rate, '--rate', 0.001) ?? d.ratePerHour,
    days: num(v.days, '--days', 0.01, 365) ?? d.days,
    offline: v.offline ? parseOffline(v.offline) : d.offline,
    mppShare: num(v.mpp, '--mpp', 0, 1) ?? d.mppShare,
    channels: num(v.channels, '--channels', 1, 1e6) ?? d.channels,
    zipf: num(v.zipf, '--zipf', 0, 10) ?? d.zipf,
    amountSat: num(v['amount-sat'], '--amount-sat', 1) ?? d.amountSat,
    cltvMin: num(v['cltv-min'], '--cltv-min', 1) ?? d.cltvMin,
    cltvMax: num(v['cltv-max'], '--cltv-max', 1) ?? d.cltvMax,
    maxHoldBlocks: num(v['max-hold-blocks'], '--max-hold-blocks', 1) ?? d.maxHoldBlocks,
    seed: num(v.seed, '--seed', 0) ?? d.seed,
    caps: {
      perPeerCount: num(v['cap-peer-count'], '--cap-peer-count', 1) ?? d.caps.perPeerCount,
      perPeerMsat: sat(num(v['cap-peer-sat'], '--cap-peer-sat', 1)) ?? d.caps.perPeerMsat,
      globalCount: num(v['cap-count'], '--cap-count', 1) ?? d.caps.globalCount,
      globalMsat: sat(num(v['cap-sat'], '--cap-sat', 1)) ?? d.caps.globalMsat,
    },
  };
  if (p.cltvMin > p.cltvMax) throw new Error('--cltv-min must not exceed --cltv-max');
  const log = (s: string): void => console.error(`[simulate] ${s}`);
  log(`simulating ${p.days} days at ${p.ratePerHour} async payments/h (seed ${p.seed})`);
  const r = await simulate(p, (line) => log(line));
  const s = r.summary;
  const btc = (msat: number): string => (msat / 1e11).toFixed(3);
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  console.log(
    [
      `payments ${s.payments} (${s.htlcs} HTLCs): ${s.released} released, ${s.expired} HTLCs expired, failed ${JSON.stringify(s.failed)}`,
      `cap trips ${JSON.stringify(s.capTrips)}`,
      `peak held: ${s.peakHeld} HTLCs, ${btc(s.peakHeldMsat)} BTC`,
      `busiest channel: peak ${s.peakSlots} slots; above 30 (CLN default) ${pct(s.timeOver30)} of the time, above 483 ${pct(s.timeOver483)}`,
      `release delay after the recipient returns: median ${(s.releaseDelayMedianMs / 1000).toFixed(1)} s, p99 ${(s.releaseDelayP99Ms / 1000).toFixed(1)} s`,
      `held_htlc_available sent: ${s.notices}; wall time ${(s.wallMs / 1000).toFixed(1)} s`,
    ].join('\n'),
  );
  writeFileSync(v.out, chartPng(r));
  log(`chart written to ${v.out}`);
  if (v.csv) {
    const rows = r.samples.map((x) =>
      [
        x.tMs / 3_600_000,
        x.held,
        x.heldMsat,
        x.maxSlots,
        x.channelsOver30,
        x.capTrips,
        x.expiries,
        x.releases,
      ].join(','),
    );
    writeFileSync(
      v.csv,
      ['hours,held,held_msat,max_slots,channels_over_30,cap_trips,expiries,releases', ...rows].join('\n') +
        '\n',
    );
    log(`samples written to ${v.csv}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
