// Engine benchmark at scale (default 100,000 holds) on a real database file (WAL, synchronous=FULL)
// in the OS temp dir, with an in-process host that answers instantly. Each engine figure has a raw
// better-sqlite3 baseline doing the same durable writes (or reads) with nothing of the engine around
// them, so the ratio is the engine's own overhead. HTLCs reach the engine `batch` per event-loop
// turn, as a host stream hands over what one read delivered; the engine group-commits each turn.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sha256 } from '@noble/hashes/sha2.js';
import type Database from 'better-sqlite3';
import type {
  Backend,
  HeldHtlcNotice,
  HostEvents,
  InterceptedHtlc,
  PayResult,
  Verdict,
} from '../../plugin/hold/backend.js';
import { HoldEngine } from '../../plugin/hold/engine.js';
import { encodeHtlcBlob } from '../../plugin/hold/store.js';
import { openHoldDb } from '../../plugin/hold/store-schema.js';
import { buildBlindedPath } from '../../plugin/protocol/route-blinding.js';
import { encodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import { activeEc } from '../../plugin/protocol/ec.js';
import type { Figure } from './table.js';

const HEIGHT = 800_000;

/** Answers instantly; keeps reply path ids in one preallocated buffer so the host costs no heap per hold. */
class BenchHost implements Backend {
  events: HostEvents | undefined;
  notices = 0;
  replyIds: Buffer;
  readonly verdicts = { continue: 0, fail: 0, settle: 0 };
  constructor(n: number) {
    this.replyIds = Buffer.alloc(n * 32);
  }
  /** Set on a restart: the HTLCs a real host shows again (LND and CLN re-offer every unanswered one). */
  replay: (() => void) | undefined;
  async start(events: HostEvents): Promise<void> {
    this.events = events;
    this.replay?.();
  }
  async stop(): Promise<void> {
    this.events = undefined;
  }
  async nodeId(): Promise<string> {
    return '02' + '11'.repeat(32);
  }
  async currentHeight(): Promise<number> {
    return HEIGHT;
  }
  async releaseKey(): Promise<Uint8Array> {
    return new Uint8Array(32).fill(5);
  }
  async ecdh(point: Uint8Array): Promise<Uint8Array> {
    return sha256(point);
  }
  async sendHeldHtlcAvailable(n: HeldHtlcNotice): Promise<void> {
    if (this.notices * 32 < this.replyIds.length) this.replyIds.set(n.replyPathId, this.notices * 32);
    this.notices += 1;
  }
  async pay(): Promise<PayResult> {
    return { ok: false, reason: 'bench' };
  }
  // Bound once: callbacks made per offer (and their context) would be ~150 bytes of host heap per
  // pending HTLC, counted in the engine's memory figures.
  private readonly onVerdict = (v: Verdict): void => {
    this.verdicts[v.kind] += 1;
  };
  private readonly onReject = (): void => {};
  offer(h: InterceptedHtlc): void {
    this.events!.htlc(h).then(this.onVerdict, this.onReject);
  }
}

/** A realistic message path: a 2-hop blinded path (recipient's LSP, recipient), about 200 bytes. */
function samplePath(): Uint8Array {
  const ec = activeEc();
  const p = ec.publicKey(new Uint8Array(32).fill(0x50));
  const r = ec.publicKey(new Uint8Array(32).fill(0x52));
  return encodeBlindedPath(buildBlindedPath([p, r], { pathId: new Uint8Array(32).fill(9) }, { ec }));
}

const PEERS = 500;
// A host names the incoming channel and peer from its channel list: one string per peer, shared.
const channels = Array.from({ length: PEERS }, (_, p) => `${800_000 + p}x1x0`);
const peers = Array.from({ length: PEERS }, (_, p) => '02' + p.toString(16).padStart(64, '0'));

/** HTLC number i as an LND host decodes it: fresh objects and byte arrays per HTLC. */
function makeHtlc(i: number, path: Uint8Array): InterceptedHtlc {
  const paymentHash = new Uint8Array(32);
  new DataView(paymentHash.buffer).setUint32(0, i);
  paymentHash[31] = 0x5a;
  return {
    key: `${8_000_000_000_000 + (i % PEERS)}:${i}`,
    incomingChannel: channels[i % PEERS]!,
    incomingPeer: peers[i % PEERS]!,
    paymentHash,
    amountInMsat: 100_000n + BigInt(i),
    amountOutMsat: 99_000n + BigInt(i),
    incomingExpiry: HEIGHT + 300,
    outgoingExpiry: HEIGHT + 250,
    outgoingChannel: undefined,
    autoFailHeight: undefined,
    holdFlag: true,
    asyncHold: {
      messagePaths: [Uint8Array.from(path)],
      releaseToken: undefined,
      maxHoldBlocks: undefined,
      totalMsat: undefined,
    },
    trampoline: undefined,
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await turn();
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return;
  g();
  g();
}

interface Mem {
  heap: number;
  rss: number;
  external: number;
}
function mem(): Mem {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, external: m.external + m.arrayBuffers };
}

/** The store's own schema and settings (WAL, synchronous=FULL), nothing of the engine. */
function rawDb(path: string): Database.Database {
  return openHoldDb(path);
}

interface RawRow {
  hold_id: Buffer;
  htlc_key: string;
  set_id: string;
  payment_hash: Buffer;
  htlc: Buffer;
}

/** Baselines: the same rows written (or read) straight through better-sqlite3, same batches. */
function rawInsert(db: Database.Database, rows: RawRow[], batch: number): number {
  const ins = db.prepare(
    `INSERT INTO holds (hold_id, htlc_key, set_id, payment_hash, state, htlc, hold_start, fail_at,
       created_ms, updated_ms, verdict) VALUES (?, ?, ?, ?, 'held', ?, ?, ?, ?, ?, NULL)`,
  );
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = rows[i]!;
      ins.run(r.hold_id, r.htlc_key, r.set_id, r.payment_hash, r.htlc, HEIGHT, HEIGHT + 232, 1, 1);
    }
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += batch) tx(i, Math.min(rows.length, i + batch));
  cpuLog('raw insert', c0, rows.length);
  return performance.now() - t0;
}

function rawUpdate(db: Database.Database, rows: RawRow[], batch: number): number {
  const up = db.prepare(
    `UPDATE holds SET state = 'forwarded', verdict = ?, updated_ms = ? WHERE hold_id = ?`,
  );
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) up.run('{"kind":"continue"}', 2, rows[i]!.hold_id);
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += batch) tx(i, Math.min(rows.length, i + batch));
  cpuLog('raw update', c0, rows.length);
  return performance.now() - t0;
}

function rawSelect(db: Database.Database): number {
  const t0 = performance.now();
  const all = db
    .prepare(`SELECT * FROM holds WHERE state IN ('held', 'paying') ORDER BY created_ms, rowid`)
    .all();
  if (all.length === 0) throw new Error('bench: raw select read nothing');
  return performance.now() - t0;
}

/** CPU time (user + system) per item since `c0`: steadier than wall time on a shared machine. */
function cpuLog(what: string, c0: NodeJS.CpuUsage, items: number): void {
  const c = process.cpuUsage(c0);
  console.error(`[bench] engine: ${what}: ${((c.user + c.system) / items).toFixed(1)} us CPU per item`);
}

export interface EngineBenchOptions {
  holds: number;
  batch: number;
  log: (s: string) => void;
}

export async function benchEngine(o: EngineBenchOptions): Promise<Figure[]> {
  const n = o.holds;
  const dir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const path = samplePath();
  const per = (x: number): number => (n / x) * 1000;
  const figures: Figure[] = [];
  try {
    // Baseline for memory: the bare HTLC objects a host hands over, kept in an array.
    const m0 = mem();
    let bare: InterceptedHtlc[] | undefined = Array.from({ length: n }, (_, i) => makeHtlc(i, path));
    const m1 = mem();
    const bareHeap = (m1.heap - m0.heap) / n;
    const bareAll = (m1.heap + m1.external - m0.heap - m0.external) / n;
    // Ids as the engine makes them (a millisecond timestamp, then random bytes), so the baseline
    // writes the same index pages.
    const t = Date.now();
    const rows: RawRow[] = bare.map((h, i) => {
      const id = randomBytes(16);
      id.writeUIntBE(t + Math.floor(i / 20), 0, 6);
      return {
        hold_id: id,
        htlc_key: h.key,
        set_id: `one:${id.toString('hex')}`,
        payment_hash: Buffer.from(h.paymentHash),
        htlc: Buffer.from(encodeHtlcBlob(h)),
      };
    });
    bare = undefined;

    o.log(`engine: raw sqlite baselines over ${n} rows`);
    const raw = rawDb(join(dir, 'raw.sqlite'));
    const rawInsertMs = rawInsert(raw, rows, o.batch);
    const rawSelectMs = rawSelect(raw);
    const half = rows.slice(0, n / 2);
    const rawReleaseMs = rawUpdate(raw, half, o.batch);
    const rawExpireMs = rawUpdate(raw, rows.slice(n / 2), n);
    raw.close();
    rows.length = 0;
    half.length = 0;

    const dbPath = join(dir, 'holds.sqlite');
    // Retries would resend notices mid-run and blur the counts: the first one comes after an hour.
    const config = {
      notifyBaseMs: 3_600_000,
      caps: { perPeerCount: n, globalCount: n, perPeerMsat: 10n ** 18n, globalMsat: 10n ** 18n },
    };
    let host = new BenchHost(n);
    let engine = await HoldEngine.open({ dbPath, backend: host, config });
    await engine.start();
    const before = mem();

    o.log(`engine: intake of ${n} async HTLCs, ${o.batch} per event-loop turn`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i += o.batch) {
      for (let j = i; j < Math.min(n, i + o.batch); j++) host.offer(makeHtlc(j, path));
      await turn();
    }
    // Notices go out right after each batch commits: the last one out means every hold is durable.
    await until(() => host.notices >= n);
    const intakeMs = performance.now() - t0;
    cpuLog('intake', c0, n);
    o.log(`engine: intake took ${Math.round(intakeMs)} ms`);
    const held = mem();
    if (host.verdicts.fail > 0) throw new Error(`bench: ${host.verdicts.fail} HTLCs refused at intake`);

    figures.push({
      name: 'async-HTLC intake',
      value: per(intakeMs),
      unit: '/s',
      baseline: { name: 'raw sqlite insert, same batches', value: per(rawInsertMs) },
      target: { min: 20_000 },
    });
    figures.push({
      name: `heap per held HTLC at ${n.toLocaleString('en-US')}`,
      value: (held.heap - before.heap) / n,
      unit: 'B',
      baseline: { name: 'bare InterceptedHtlc heap', value: bareHeap },
      target: { max: 2048 },
    });
    figures.push({
      name: `heap+buffers per held HTLC`,
      value: (held.heap + held.external - before.heap - before.external) / n,
      unit: 'B',
      baseline: { name: 'bare InterceptedHtlc heap+buffers', value: bareAll },
      target: { max: 2048 },
    });
    figures.push({
      name: `RSS per held HTLC`,
      value: (held.rss - before.rss) / n,
      unit: 'B',
      baseline: { name: 'bare InterceptedHtlc heap+buffers', value: bareAll },
      target: { max: 2048 },
    });

    o.log(`engine: restart recovery of ${n} holds`);
    await engine.stop();
    host = new BenchHost(n);
    const replaying = host;
    host.replay = () => {
      for (let i = 0; i < n; i++) replaying.offer(makeHtlc(i, path));
    };
    gc();
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    engine = await HoldEngine.open({ dbPath, backend: host, config });
    await engine.start();
    const recoverMs = performance.now() - t1;
    cpuLog('recovery', c1, n);
    o.log(`engine: recovery took ${Math.round(recoverMs)} ms`);
    if (engine.stats().activeHolds !== n) throw new Error('bench: recovery lost holds');
    figures.push({
      name: `restart recovery of ${n.toLocaleString('en-US')} holds (+ host replay)`,
      value: recoverMs / 1000,
      unit: 's',
      baseline: { name: 'raw sqlite SELECT of the rows (s)', value: rawSelectMs / 1000 },
      target: { max: 3 },
    });

    o.log(`engine: ${n / 2} releases, ${o.batch} per event-loop turn`);
    const c2 = process.cpuUsage();
    const t2 = performance.now();
    for (let i = 0; i < n / 2; i += o.batch) {
      for (let j = i; j < Math.min(n / 2, i + o.batch); j++)
        host.events!.release(host.replyIds.subarray(j * 32, j * 32 + 32));
      await turn();
    }
    await until(() => host.verdicts.continue === n / 2);
    const releaseMs = performance.now() - t2;
    cpuLog('release', c2, n / 2);
    figures.push({
      name: 'releases',
      value: (n / 2 / releaseMs) * 1000,
      unit: '/s',
      baseline: { name: 'raw sqlite update, same batches', value: (n / 2 / rawReleaseMs) * 1000 },
      target: { min: 10_000 },
    });

    o.log(`engine: blocks at ${n / 2} held`);
    const t3 = performance.now();
    const empty = 20;
    for (let i = 1; i <= empty; i++) {
      host.events!.block(HEIGHT + i);
      await turn();
    }
    const emptyBlockMs = (performance.now() - t3) / empty;
    const c4 = process.cpuUsage();
    const t4 = performance.now();
    host.events!.block(HEIGHT + 1000); // past every deadline: the other half expires in this block
    await until(() => host.verdicts.fail === n / 2);
    const expireMs = performance.now() - t4;
    cpuLog('expiry', c4, n / 2);
    figures.push({
      name: `expiries in one block (${(n / 2).toLocaleString('en-US')} due)`,
      value: (n / 2 / expireMs) * 1000,
      unit: '/s',
      baseline: { name: 'raw sqlite update, one tx', value: (n / 2 / rawExpireMs) * 1000 },
    });
    figures.push({
      name: `block with nothing due at ${(n / 2).toLocaleString('en-US')} held`,
      value: emptyBlockMs,
      unit: 'ms',
    });
    await engine.stop();
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
