// Prometheus metrics for operators: the engine's EngineMetrics over prom-client, and an optional
// loopback HTTP endpoint serving them.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CapName } from '../hold/policy.js';
import type { EngineMetrics, HoldOutcome, ReleaseResult } from '../hold/metrics.js';

export interface PromMetrics extends EngineMetrics {
  registry: Registry;
}

export function createPromMetrics(opts: { defaultMetrics?: boolean } = {}): PromMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'async_trampoline_' });
  const active = new Gauge({
    name: 'async_trampoline_holds_active',
    help: 'HTLCs held now',
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'async_trampoline_hold_outcomes_total',
    help: 'Async HTLCs by how they ended',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const releases = new Counter({
    name: 'async_trampoline_releases_total',
    help: 'release_held_htlc messages by what they did',
    labelNames: ['result'],
    registers: [registry],
  });
  const notices = new Counter({
    name: 'async_trampoline_notices_total',
    help: 'held_htlc_available sends',
    labelNames: ['result'],
    registers: [registry],
  });
  const caps = new Counter({
    name: 'async_trampoline_caps_tripped_total',
    help: 'HTLCs refused by a cap',
    labelNames: ['cap'],
    registers: [registry],
  });
  return {
    registry,
    holdsActive: (n: number) => active.set(n),
    holdOutcome: (o: HoldOutcome) => outcomes.inc({ outcome: o }),
    release: (r: ReleaseResult) => releases.inc({ result: r }),
    notice: (r: 'sent' | 'error') => notices.inc({ result: r }),
    capTripped: (c: CapName) => caps.inc({ cap: c }),
  };
}

/** Serve `GET /metrics` on host:port (loopback by default). Resolves once listening. */
export async function serveMetrics(registry: Registry, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
