// Metrics for operators: the engine's EngineMetrics over prom-client (Prometheus naming: `_total`
// counters, seconds and msat as units), the same counts as plain numbers for the stats command on
// both hosts, and an optional loopback HTTP endpoint serving `/metrics` and `/healthz`.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FailReason, Msat } from '../hold/backend.js';
import type { CapName } from '../hold/policy.js';
import type { EngineMetrics, HoldOutcome, ReleaseResult } from '../hold/metrics.js';
import type { RecipientLspCounts } from './recipient-lsp-metrics.js';

/** Counters as the stats command shows them (snake_case keys, as lightningd's own commands). */
export interface MetricCounts {
  hold_outcomes: Record<string, number>;
  release_messages: Record<string, number>;
  releases: Record<string, number>;
  fails: Record<string, number>;
  caps_tripped: Record<string, number>;
  onion_messages_sent: Record<string, number>;
  onion_messages_received: Record<string, number>;
  held_htlc_available_errors: number;
  /** The hold duration histogram's count and sum, as on /metrics. */
  hold_duration_seconds: { count: number; sum: number };
  /** Recipient-LSP mode's mailbox counters, where the host shows them (CLN). */
  recipient_lsp?: RecipientLspCounts;
}

export interface PromMetrics extends EngineMetrics {
  registry: Registry;
  counts(): MetricCounts;
  /** Tell whether the host connection is up (LND: the interceptor stream; CLN: lightningd). */
  setBackendConnected(probe: () => boolean): void;
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};
/** Label values stay a small closed set: "release before completion" -> release_before_completion. */
const label = (s: string): string => s.replace(/[^a-z0-9]+/gi, '_').toLowerCase();

export function createPromMetrics(opts: { defaultMetrics?: boolean } = {}): PromMetrics {
  const registry = new Registry();
  const r = [registry];
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'async_trampoline_' });
  const c: MetricCounts = {
    hold_outcomes: {},
    release_messages: {},
    releases: {},
    fails: {},
    caps_tripped: {},
    onion_messages_sent: {},
    onion_messages_received: {},
    held_htlc_available_errors: 0,
    hold_duration_seconds: { count: 0, sum: 0 },
  };
  const active = new Gauge({ name: 'async_trampoline_holds_active', help: 'HTLCs held now', registers: r });
  const heldMsat = new Gauge({ name: 'async_trampoline_held_msat', help: 'msat held now', registers: r });
  const duration = new Histogram({
    name: 'async_trampoline_hold_duration_seconds',
    help: 'How long holds lasted, from intake to their final state',
    // From a quick release to the longest hold (1008 blocks, about a week).
    buckets: [1, 10, 60, 600, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600],
    registers: r,
  });
  const outcomes = new Counter({
    name: 'async_trampoline_hold_outcomes_total',
    help: 'Async HTLCs by how they ended',
    labelNames: ['outcome'],
    registers: r,
  });
  const releaseMsgs = new Counter({
    name: 'async_trampoline_releases_total',
    help: 'release_held_htlc messages by what they did',
    labelNames: ['result'],
    registers: r,
  });
  const released = new Counter({
    name: 'async_trampoline_holds_released_total',
    help: 'Held sets released, by what released them',
    labelNames: ['via'],
    registers: r,
  });
  const failed = new Counter({
    name: 'async_trampoline_htlcs_failed_total',
    help: 'Async HTLCs failed back, by reason (refusals at intake included)',
    labelNames: ['reason'],
    registers: r,
  });
  const notices = new Counter({
    name: 'async_trampoline_notices_total',
    help: 'held_htlc_available sends',
    labelNames: ['result'],
    registers: r,
  });
  const onion = new Counter({
    name: 'async_trampoline_onion_messages_total',
    help: 'Our onion messages, by direction and kind',
    labelNames: ['direction', 'kind'],
    registers: r,
  });
  const caps = new Counter({
    name: 'async_trampoline_caps_tripped_total',
    help: 'HTLCs refused by a cap',
    labelNames: ['cap'],
    registers: r,
  });
  let connected: () => boolean = () => false;
  new Gauge({
    name: 'async_trampoline_backend_connected',
    help: '1 while the host connection is up (LND: the HTLC interceptor stream)',
    registers: r,
    collect() {
      this.set(connected() ? 1 : 0);
    },
  });
  const onionMessage = (direction: 'sent' | 'received', kind: string): void => {
    onion.inc({ direction, kind });
    bump(direction === 'sent' ? c.onion_messages_sent : c.onion_messages_received, kind);
  };
  return {
    registry,
    counts: () => structuredClone(c),
    setBackendConnected: (probe) => (connected = probe),
    holdsActive: (n: number) => active.set(n),
    heldMsat: (m: Msat) => heldMsat.set(Number(m)),
    holdEnded: (seconds: number) => {
      duration.observe(seconds);
      c.hold_duration_seconds.count += 1;
      c.hold_duration_seconds.sum += seconds;
    },
    holdOutcome: (o: HoldOutcome) => {
      outcomes.inc({ outcome: o });
      bump(c.hold_outcomes, o);
    },
    release: (res: ReleaseResult) => {
      releaseMsgs.inc({ result: res });
      bump(c.release_messages, res);
    },
    holdReleased: (via: string) => {
      released.inc({ via: label(via) });
      bump(c.releases, label(via));
    },
    holdFailed: (reason: FailReason) => {
      failed.inc({ reason });
      bump(c.fails, reason);
    },
    notice: (res: 'sent' | 'error') => {
      notices.inc({ result: res });
      if (res === 'sent') onionMessage('sent', 'held_htlc_available');
      else c.held_htlc_available_errors += 1;
    },
    onionMessage,
    capTripped: (cap: CapName) => {
      caps.inc({ cap });
      bump(c.caps_tripped, cap);
    },
  };
}

/**
 * Serve `GET /metrics` and `GET /healthz` on host:port (loopback by default). `/healthz` answers 200
 * only while `ready()` holds (LND: the interceptor stream is up), else 503. Resolves once listening.
 */
export async function serveMetrics(
  registry: Registry,
  port: number,
  host = '127.0.0.1',
  ready: () => boolean = () => true,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      healthz(res, ready());
      return;
    }
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await listen(server, port, host);
  return server;
}

export function healthz(res: import('node:http').ServerResponse, ok: boolean): void {
  res
    .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
    .end(JSON.stringify({ ready: ok }) + '\n');
}

export async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
