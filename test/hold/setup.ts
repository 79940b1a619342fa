// Shared set-up for engine tests: a fresh database file (on tmpfs when there is one), a simulated
// host, a manual clock and a logger that remembers its lines.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../plugin/ops/log.js';
import { HoldEngine, type CrashStep } from '../../plugin/hold/engine.js';
import type { EngineConfigInput } from '../../plugin/hold/policy.js';
import { ManualClock, drain } from '../helpers/manual-clock.js';
import type { InterceptedHtlc } from '../../plugin/hold/backend.js';
import { type HtlcSpec, SimHost, makeHtlc } from '../helpers/sim-host.js';

export const tmpBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export const testConfig: EngineConfigInput = {
  maxHoldBlocks: 100,
  safetyBlocks: 10,
  downstreamMinBlocks: 10,
  minHoldBlocks: 6,
  mppTimeoutMs: 60_000,
  earlyReleaseMs: 30_000,
  notifyBaseMs: 1_000,
  notifyCapMs: 8_000,
};

export interface Rig {
  host: SimHost;
  clock: ManualClock;
  logger: ReturnType<typeof memoryLogger>;
  engine: HoldEngine;
  dbPath: string;
  /** Open a new engine on the same database (after the old one stopped or died) and start it. */
  restart(crashPoint?: (s: CrashStep) => boolean): Promise<HoldEngine>;
  done(): Promise<void>;
}

export async function rig(
  opts: { config?: EngineConfigInput; track?: boolean; crashPoint?: (s: CrashStep) => boolean } = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpBase, 'hold-test-'));
  const dbPath = join(dir, 'holds.sqlite');
  const host = new SimHost({ track: opts.track });
  const clock = new ManualClock();
  const logger = memoryLogger();
  const config = { ...testConfig, ...opts.config };
  const open = async (crashPoint?: (s: CrashStep) => boolean): Promise<HoldEngine> => {
    const e = await HoldEngine.open({ dbPath, backend: host, config, logger, clock, crashPoint });
    await e.start();
    await drain();
    return e;
  };
  const r: Rig = {
    host,
    clock,
    logger,
    engine: await open(opts.crashPoint),
    dbPath,
    restart: async (crashPoint) => {
      r.engine = await open(crashPoint);
      return r.engine;
    },
    done: async () => {
      await r.engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

export { drain };

/** Make a fresh HTLC, show it to the rig's engine and let the engine deal with it. */
export async function offerNew(r: Rig, spec?: HtlcSpec): Promise<InterceptedHtlc> {
  const h = makeHtlc(r.host, spec);
  r.host.offer(h);
  await drain();
  return h;
}
