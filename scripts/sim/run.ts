// The scale simulation: the real HoldEngine (plugin/hold/engine.ts) with an in-memory store, driven on
// a simulated clock by a model of an LSP's async traffic. Payments arrive as a Poisson process over
// incoming channels of Zipf-distributed popularity; a share are multi-part; each recipient comes
// back online after a heavy-tailed time and answers the first held_htlc_available that reaches it
// (the engine's own retry backoff decides when that is); blocks come every ten minutes on average.
// The host side counts what an operator sizes caps by: HTLCs held, msat held, slots per channel.
import type {
  Backend,
  HeldHtlcNotice,
  HostEvents,
  InterceptedHtlc,
  PayResult,
  Verdict,
} from '../../plugin/hold/backend.js';
import { HoldEngine } from '../../plugin/hold/engine.js';
import type { EngineMetrics } from '../../plugin/hold/metrics.js';
import { defaultEngineConfig, type CapName, type HoldCaps } from '../../plugin/hold/policy.js';
import { SimClock } from './clock.js';
import { Rng, Zipf } from './random.js';

export type OfflineModel =
  { kind: 'pareto'; scaleMs: number; alpha: number } | { kind: 'lognormal'; medianMs: number; sigma: number };

export interface SimParams {
  /** Async payments arriving per hour. */
  ratePerHour: number;
  days: number;
  offline: OfflineModel;
  /** Share of payments sent as 2 to 4 parts. */
  mppShare: number;
  /** Incoming channels (one peer each); popularity ~ 1/rank^zipf. */
  channels: number;
  zipf: number;
  /** Payment size: lognormal with this median (sat) and log-space sigma. */
  amountSat: number;
  amountSigma: number;
  /** Blocks of CLTV headroom the HTLC brings, uniform in [min, max]. */
  cltvMin: number;
  cltvMax: number;
  caps: HoldCaps;
  maxHoldBlocks: number;
  /** One-way onion-message latency, recipient to LSP. */
  onionMs: number;
  sampleMs: number;
  seed: number;
}

export const defaultSimParams: SimParams = {
  ratePerHour: 1000,
  days: 14,
  offline: { kind: 'pareto', scaleMs: 5 * 60_000, alpha: 0.9 },
  mppShare: 0.1,
  channels: 100,
  zipf: 1.1,
  amountSat: 20_000,
  amountSigma: 1.2,
  cltvMin: 300,
  cltvMax: 2100,
  caps: { ...defaultEngineConfig.caps },
  maxHoldBlocks: defaultEngineConfig.maxHoldBlocks,
  onionMs: 500,
  sampleMs: 10 * 60_000,
  seed: 1,
};

export interface Sample {
  tMs: number;
  /** Async HTLCs offered and not yet answered (each holds a slot on its incoming channel). */
  held: number;
  heldMsat: number;
  /** Slots in use on the busiest incoming channel. */
  maxSlots: number;
  /** Channels with more than 30 async HTLCs (CLN's default max-concurrent-htlcs). */
  channelsOver30: number;
  capTrips: number;
  expiries: number;
  releases: number;
}

export interface SimSummary {
  payments: number;
  htlcs: number;
  /** Sets released by the recipient, and HTLCs forwarded on release. */
  released: number;
  forwarded: number;
  /** HTLCs failed at their deadline. */
  expired: number;
  /** HTLCs still held when the simulation ended. */
  heldAtEnd: number;
  /** Parts failed for any reason other than expiry (caps, not holdable, MPP timeout), by reason. */
  failed: Record<string, number>;
  capTrips: Partial<Record<CapName, number>>;
  peakHeld: number;
  peakHeldMsat: number;
  peakSlots: number;
  /** Share of samples in which some channel held more than 30 / 483 async HTLCs. */
  timeOver30: number;
  timeOver483: number;
  /** From the recipient coming online to its release reaching the engine (notifier backoff). */
  releaseDelayMedianMs: number;
  releaseDelayP99Ms: number;
  notices: number;
  wallMs: number;
}

export interface SimResult {
  params: SimParams;
  samples: Sample[];
  summary: SimSummary;
}

interface Payment {
  onlineAt: number;
  released: boolean;
}

interface Pending {
  channel: number;
  msat: number;
  payment: Payment;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START_MS = Date.UTC(2026, 0, 1);
const START_HEIGHT = 900_000;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function simulate(
  p: SimParams,
  progress?: (line: string, sample: Sample) => void,
): Promise<SimResult> {
  const wall0 = performance.now();
  const rng = new Rng(p.seed);
  const zipf = new Zipf(p.channels, p.zipf);
  const clock = new SimClock(START_MS);
  const end = START_MS + p.days * DAY;
  let height = START_HEIGHT;
  let events: HostEvents | undefined;

  const pending = new Map<string, Pending>();
  const slots = new Int32Array(p.channels);
  const byPath = new Map<Uint8Array, Payment>();
  let heldMsat = 0;
  let notices = 0;
  const failed: Record<string, number> = {};
  const capTrips: Partial<Record<CapName, number>> = {};
  let trips = 0;
  let expired = 0;
  let released = 0;
  let forwarded = 0;
  const releaseDelays: number[] = [];

  const host: Backend = {
    start: async (e) => {
      events = e;
    },
    stop: async () => {
      events = undefined;
    },
    nodeId: async () => '02' + '4c'.repeat(32),
    currentHeight: async () => height,
    releaseKey: async () => new Uint8Array(32).fill(0x5e),
    ecdh: async () => new Uint8Array(32),
    sendHeldHtlcAvailable: async (n: HeldHtlcNotice) => {
      notices += 1;
      const pay = byPath.get(n.messagePath);
      // An offline recipient never sees the message; an online one answers after one onion hop back.
      if (!pay || pay.released || clock.now() < pay.onlineAt) return;
      const id = n.replyPathId;
      clock.setTimeout(() => events?.release(id), p.onionMs);
    },
    pay: async (): Promise<PayResult> => ({ ok: false, reason: 'no trampoline in the simulation' }),
  };

  const metrics: EngineMetrics = {
    holdsActive: () => {},
    holdOutcome: (o) => {
      if (o === 'expired') expired += 1;
    },
    release: (r) => {
      if (r === 'released') released += 1;
    },
    notice: () => {},
    capTripped: (cap) => {
      trips += 1;
      capTrips[cap] = (capTrips[cap] ?? 0) + 1;
    },
  };

  const engine = await HoldEngine.open({
    dbPath: ':memory:',
    backend: host,
    clock,
    metrics,
    config: { caps: p.caps, maxHoldBlocks: p.maxHoldBlocks },
  });
  await engine.start();

  const peers = Array.from({ length: p.channels }, (_, i) => '02' + i.toString(16).padStart(64, '0'));
  let htlcSeq = 0;
  let payments = 0;

  const verdict = (key: string, v: Verdict): void => {
    const x = pending.get(key);
    if (!x) return;
    pending.delete(key);
    slots[x.channel]! -= 1;
    heldMsat -= x.msat;
    if (v.kind === 'continue') {
      forwarded += 1;
      if (!x.payment.released) {
        x.payment.released = true;
        releaseDelays.push(clock.now() - x.payment.onlineAt);
      }
    } else if (v.kind === 'fail' && v.reason !== 'expired') {
      failed[v.reason] = (failed[v.reason] ?? 0) + 1;
    }
  };

  const offer = (h: InterceptedHtlc, channel: number, payment: Payment): void => {
    const msat = Number(h.amountInMsat);
    pending.set(h.key, { channel, msat, payment });
    slots[channel]! += 1;
    heldMsat += msat;
    events!.htlc(h).then(
      (v) => verdict(h.key, v),
      () => {},
    );
  };

  const offlineMs = (): number =>
    p.offline.kind === 'pareto'
      ? p.offline.scaleMs * (rng.pareto(1, p.offline.alpha) - 1)
      : rng.lognormal(p.offline.medianMs, p.offline.sigma);

  const arrive = (): void => {
    payments += 1;
    const payment: Payment = { onlineAt: clock.now() + offlineMs(), released: false };
    const path = new Uint8Array(8);
    new DataView(path.buffer).setFloat64(0, payments);
    byPath.set(path, payment);
    const total = BigInt(Math.max(1, Math.round(rng.lognormal(p.amountSat, p.amountSigma)))) * 1000n;
    const parts = rng.next() < p.mppShare ? rng.int(2, 4) : 1;
    const hash = new Uint8Array(32);
    new DataView(hash.buffer).setFloat64(0, payments);
    const expiry = height + rng.int(p.cltvMin, p.cltvMax);
    let delay = 0;
    for (let k = 0; k < parts; k++) {
      const share =
        k < parts - 1 ? total / BigInt(parts) : total - (total / BigInt(parts)) * BigInt(parts - 1);
      const channel = zipf.pick(rng);
      const h: InterceptedHtlc = {
        key: `${channel}:${htlcSeq++}`,
        incomingChannel: `${700_000 + channel}x1x0`,
        incomingPeer: peers[channel]!,
        paymentHash: hash,
        amountInMsat: share + 1_000n + share / 1000n,
        amountOutMsat: share,
        incomingExpiry: expiry,
        outgoingExpiry: expiry - 40,
        outgoingChannel: undefined,
        autoFailHeight: undefined,
        holdFlag: true,
        asyncHold: {
          messagePaths: [path],
          releaseToken: undefined,
          maxHoldBlocks: undefined,
          totalMsat: parts > 1 ? total : undefined,
        },
        trampoline: undefined,
      };
      if (delay === 0) offer(h, channel, payment);
      else clock.setTimeout(() => offer(h, channel, payment), delay);
      delay += rng.exp(300) + 1;
    }
  };

  const samples: Sample[] = [];
  const sample = (): Sample => {
    let max = 0;
    let over = 0;
    for (const s of slots) {
      if (s > max) max = s;
      if (s > 30) over += 1;
    }
    return {
      tMs: clock.now() - START_MS,
      held: pending.size,
      heldMsat,
      maxSlots: max,
      channelsOver30: over,
      capTrips: trips,
      expiries: expired,
      releases: released,
    };
  };

  const gapMs = HOUR / p.ratePerHour;
  let nextArrival = START_MS + rng.exp(gapMs);
  let nextBlock = START_MS + rng.exp(600_000);
  let nextSample = START_MS;
  let nextDay = START_MS + DAY;
  for (;;) {
    const tTimer = clock.nextAt() ?? Infinity;
    const t = Math.min(nextArrival, nextBlock, nextSample, tTimer);
    if (t > end) break;
    if (t === tTimer) {
      clock.fireNext(t);
    } else {
      clock.advanceTo(t);
      if (t === nextSample) {
        const s = sample();
        samples.push(s);
        nextSample += p.sampleMs;
        if (t >= nextDay) {
          nextDay += DAY;
          progress?.(
            `day ${Math.round(s.tMs / DAY)}/${p.days}: ${s.held} held (${(s.heldMsat / 1e11).toFixed(3)} BTC), ` +
              `busiest channel ${s.maxSlots} slots, ${s.capTrips} cap trips, ${s.expiries} expiries, ` +
              `${Math.round((performance.now() - wall0) / 1000)} s`,
            s,
          );
        }
      } else if (t === nextBlock) {
        height += 1;
        events?.block(height);
        nextBlock = t + rng.exp(600_000);
      } else {
        arrive();
        nextArrival = t + rng.exp(gapMs);
      }
    }
    clock.drain();
    // Verdicts reach the host as promise callbacks: let them run before time moves on.
    await Promise.resolve();
    await Promise.resolve();
  }
  const heldAtEnd = pending.size;
  await engine.stop();

  const delays = releaseDelays.sort((a, b) => a - b);
  const n = Math.max(1, samples.length);
  const summary: SimSummary = {
    payments,
    htlcs: htlcSeq,
    released,
    forwarded,
    expired,
    heldAtEnd,
    failed,
    capTrips,
    peakHeld: Math.max(0, ...samples.map((s) => s.held)),
    peakHeldMsat: Math.max(0, ...samples.map((s) => s.heldMsat)),
    peakSlots: Math.max(0, ...samples.map((s) => s.maxSlots)),
    timeOver30: samples.filter((s) => s.maxSlots > 30).length / n,
    timeOver483: samples.filter((s) => s.maxSlots > 483).length / n,
    releaseDelayMedianMs: quantile(delays, 0.5),
    releaseDelayP99Ms: quantile(delays, 0.99),
    notices,
    wallMs: performance.now() - wall0,
  };
  return { params: p, samples, summary };
}
