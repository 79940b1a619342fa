// Engine benchmark: intake with group commit, releases, and memory per 10k holds, on a real database
// file (WAL, synchronous=FULL) in the OS temp dir and an in-process host. Prints nothing itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sha256 } from '@noble/hashes/sha2.js';
import type {
  Backend,
  HeldHtlcNotice,
  HostEvents,
  InterceptedHtlc,
  PayResult,
  Verdict,
} from '../../plugin/hold/backend.js';
import { HoldEngine } from '../../plugin/hold/engine.js';

class BenchHost implements Backend {
  events: HostEvents | undefined;
  readonly notices: HeldHtlcNotice[] = [];
  async start(events: HostEvents): Promise<void> {
    this.events = events;
  }
  async stop(): Promise<void> {}
  async nodeId(): Promise<string> {
    return '02' + '11'.repeat(32);
  }
  async currentHeight(): Promise<number> {
    return 800_000;
  }
  async releaseKey(): Promise<Uint8Array> {
    return new Uint8Array(32).fill(5);
  }
  async ecdh(point: Uint8Array): Promise<Uint8Array> {
    return sha256(point);
  }
  async sendHeldHtlcAvailable(n: HeldHtlcNotice): Promise<void> {
    this.notices.push(n);
  }
  async pay(): Promise<PayResult> {
    return { ok: false, reason: 'bench' };
  }
}

function htlc(i: number): InterceptedHtlc {
  return {
    key: `bench/${i}`,
    incomingChannel: `${i % 50}x1x0`,
    incomingPeer: undefined,
    paymentHash: sha256(new Uint8Array([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff])),
    amountInMsat: 100_000n,
    amountOutMsat: 99_000n,
    incomingExpiry: 800_300,
    outgoingExpiry: 800_250,
    outgoingChannel: undefined,
    autoFailHeight: undefined,
    holdFlag: true,
    asyncHold: {
      messagePaths: [new Uint8Array([1, 2, 3, i & 0xff])],
      releaseToken: undefined,
      maxHoldBlocks: undefined,
      totalMsat: undefined,
    },
    trampoline: undefined,
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await tick();
}

export async function benchEngine(): Promise<Record<string, number>> {
  const n = 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const host = new BenchHost();
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    const engine = await HoldEngine.open({
      dbPath: join(dir, 'holds.sqlite'),
      backend: host,
      config: { caps: { perPeerCount: n, globalCount: n, perPeerMsat: 10n ** 15n, globalMsat: 10n ** 15n } },
    });
    await engine.start();
    const events = host.events!;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;

    let verdicts = 0;
    const done = (_v: Verdict): void => {
      verdicts += 1;
    };
    const t0 = performance.now();
    for (let i = 0; i < n; i++) events.htlc(htlc(i)).then(done, () => {});
    await until(() => engine.stats().activeHolds === n);
    // Notices go out right after the holds commit.
    await until(() => host.notices.length === n);
    const intakeMs = performance.now() - t0;
    gc?.();
    const heapHeld = process.memoryUsage().heapUsed;

    const t1 = performance.now();
    for (const x of host.notices) events.release(x.replyPathId);
    await until(() => verdicts === n);
    const releaseMs = performance.now() - t1;

    await engine.stop();
    return {
      holds: n,
      intake_holds_per_s: Math.round((n / intakeMs) * 1000),
      releases_per_s: Math.round((n / releaseMs) * 1000),
      memory_per_10k_holds_bytes: Math.max(0, Math.round(((heapHeld - heapBefore) / n) * 10_000)),
      memory_gc_exact: gc ? 1 : 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
