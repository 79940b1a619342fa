// Group commit and store failure: what the engine promises about durability, seen from outside.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HoldEngine } from '../../plugin/hold/engine.js';
import type { EngineMetrics } from '../../plugin/hold/metrics.js';
import { memoryLogger } from '../../plugin/ops/log.js';
import { ManualClock, drain } from '../helpers/manual-clock.js';
import { SimHost, makeHtlc } from '../helpers/sim-host.js';
import { tmpBase } from './setup.js';

interface StoreSpy {
  store: { transaction: (fn: () => void) => void };
}

async function open(metrics?: EngineMetrics, onFatal?: (why: string) => void) {
  const dir = mkdtempSync(join(tmpBase, 'hold-commit-'));
  const host = new SimHost();
  const engine = await HoldEngine.open({
    dbPath: join(dir, 'h.sqlite'),
    backend: host,
    clock: new ManualClock(),
    logger: memoryLogger(),
    metrics,
    onFatal,
  });
  await engine.start();
  const spy = engine as unknown as StoreSpy;
  const inner = spy.store.transaction.bind(spy.store);
  let transactions = 0;
  let fail = false;
  spy.store.transaction = (fn) => {
    transactions += 1;
    if (fail) throw new Error('disk I/O error');
    inner(fn);
  };
  return {
    host,
    engine,
    transactions: () => transactions,
    failNext: () => {
      fail = true;
    },
    done: async () => {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('hold engine: group commit', () => {
  it('commits the decisions of one tick in one transaction, then sends their verdicts', async () => {
    const t = await open();
    const hs = Array.from({ length: 50 }, () => makeHtlc(t.host));
    for (const h of hs) t.host.offer(h);
    await drain();
    assert.equal(t.transactions(), 1, 'fifty holds, one transaction');
    for (const n of t.host.notices) t.host.release(n.replyPathId);
    assert.equal(t.host.verdictOf(hs[0]!.key), undefined, 'no verdict before the commit');
    await drain();
    assert.equal(t.transactions(), 2);
    for (const h of hs) assert.deepEqual(t.host.verdictOf(h.key), { kind: 'continue' });
    await t.done();
  });

  it('sends nothing and reports fatally when a commit fails', async () => {
    const fatal: string[] = [];
    const t = await open(undefined, (why) => fatal.push(why));
    const h = makeHtlc(t.host);
    t.host.offer(h);
    await drain();
    t.failNext();
    t.host.release(t.host.notices[0]!.replyPathId);
    await drain();
    assert.equal(t.host.verdictOf(h.key), undefined);
    assert.deepEqual(fatal, ['store failure']);
    assert.equal(t.engine.stopped, true);
    await t.done();
  });

  it('reports active holds and outcomes through the metrics interface', async () => {
    const gauge: number[] = [];
    const outcomes: string[] = [];
    const metrics: EngineMetrics = {
      holdsActive: (n) => gauge.push(n),
      holdOutcome: (o) => outcomes.push(o),
      release: () => {},
      notice: () => {},
      capTripped: () => {},
    };
    const t = await open(metrics);
    t.host.offer(makeHtlc(t.host));
    t.host.offer(makeHtlc(t.host, { async: false }));
    await drain();
    t.host.release(t.host.notices[0]!.replyPathId);
    await drain();
    assert.deepEqual(gauge.slice(-2), [1, 0]);
    assert.deepEqual(outcomes, ['passthrough', 'forwarded']);
    await t.done();
  });
});
