// The hold engine: decides, for every HTLC a host shows it, pass through, hold, release or fail.
// Invariants: every state change is committed before the verdict it implies reaches the host (one
// transaction per tick: group-commit.ts); a replayed HTLC gets back the verdict already taken, never a
// second, different one; a hold always ends, by release or by its deadline.
// Taking HTLCs in (hold or refuse) is intake.ts; matching releases to sets is release-router.ts.
import { nullLogger, type Logger } from '../ops/log.js';
import {
  SupersededError,
  type Backend,
  type FailReason,
  type Height,
  type HostEvents,
  type InterceptedHtlc,
  type Msat,
  type Verdict,
} from './backend.js';
import { systemClock, type Clock } from './clock.js';
import { HoldError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { Intake } from './intake.js';
import { nullMetrics, type EngineMetrics, type HoldOutcome } from './metrics.js';
import { HoldSets } from './mpp.js';
import { Notifier } from './notifier.js';
import { CapTracker, resolveEngineConfig, type EngineConfig, type EngineConfigInput } from './policy.js';
import { recover } from './recovery.js';
import { ReleaseRouter, type AdminResult } from './release-router.js';
import { assertTransition, isActive, type HoldState } from './state.js';
import { HoldStore, type HoldRecord, type StoredHold } from './store.js';
import { TrampolinePayments } from './trampoline.js';

export type { AdminResult };

/** Where a simulated crash may strike: before a store write, or before a call to the host. */
export type CrashStep = 'write' | 'verdict' | 'notice' | 'pay' | 'track';

export interface EngineOptions {
  /** One SQLite file in the plugin's data dir. */
  dbPath: string;
  backend: Backend;
  config?: EngineConfigInput;
  logger?: Logger;
  clock?: Clock;
  metrics?: EngineMetrics;
  /** Test hook: asked before every store write and host call; returning true kills the engine there. */
  crashPoint?: (step: CrashStep) => boolean;
  /**
   * Called once if the engine dies (the store failed a commit). It answers nothing more; the host
   * adapter should exit so a restart resumes from the last commit (CLN: important-plugin).
   */
  onFatal?: (why: string) => void;
}

export interface HoldView {
  holdId: string;
  htlcKey: string;
  setId: string;
  paymentHash: string;
  state: HoldState;
  mode: 'forward' | 'trampoline';
  amountInMsat: Msat;
  amountOutMsat: Msat | undefined;
  incomingPeer: string | undefined;
  incomingChannel: string;
  holdStart: Height;
  failAt: Height;
  createdMs: number;
  updatedMs: number;
  verdict: Verdict['kind'] | undefined;
  failReason: FailReason | undefined;
}

export interface EngineStats {
  height: Height;
  activeHolds: number;
  activeMsat: Msat;
  openSets: number;
  byState: Partial<Record<HoldState, number>>;
  earlyReleases: number;
  notifying: number;
}

/** Settles a host's pending htlc() call; a rejection goes in as a rejected promise (one closure kept, not two). */
type Waiter = (v: Verdict | Promise<never>) => void;

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export class HoldEngine {
  readonly config: EngineConfig;
  /** Bound handlers to give a backend: `backend.start(engine.events)` (start() does it). */
  readonly events: HostEvents;

  private readonly backend: Backend;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly metrics: EngineMetrics;
  private readonly crashPoint: ((step: CrashStep) => boolean) | undefined;
  private readonly onFatal: ((why: string) => void) | undefined;
  private readonly caps: CapTracker;
  private readonly notifier: Notifier;
  private readonly trampoline: TrampolinePayments;
  private readonly intake: Intake;
  private readonly router: ReleaseRouter;

  /** Active holds plus holds decided in the batch not yet committed (replays must see those). */
  private readonly byKey = new Map<string, HoldRecord>();
  /** Same holds as byKey, by hold id (hex). */
  private readonly byHoldId = new Map<string, HoldRecord>();
  private readonly sets: HoldSets;
  private readonly waiters = new Map<string, Waiter>();

  private readonly commit: GroupCommit;
  private height: Height = 0;
  private releaseKey: Uint8Array = new Uint8Array(0);
  private started = false;
  private dead = false;

  private constructor(
    private readonly store: HoldStore,
    opts: EngineOptions,
  ) {
    this.backend = opts.backend;
    this.config = resolveEngineConfig(opts.config);
    this.logger = (opts.logger ?? nullLogger).child({ component: 'hold' });
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? nullMetrics;
    this.crashPoint = opts.crashPoint;
    this.onFatal = opts.onFatal;
    this.caps = new CapTracker(this.config.caps);
    this.commit = new GroupCommit(this.store, this.clock, this.logger, {
      takeIn: (h, maybeStored) => this.intake.takeIn(h, maybeStored),
      crashBeforeWrite: () => this.crashPoint?.('write') === true,
      dead: () => this.dead,
      die: (why) => this.die(why),
      committed: () => {
        this.metrics.holdsActive(this.caps.totals().count);
        this.metrics.heldMsat?.(this.caps.totals().msat);
      },
    });
    this.notifier = new Notifier(
      this.backend,
      this.clock,
      this.config.notifyBaseMs,
      this.config.notifyCapMs,
      this.logger,
      this.metrics,
      (step) => this.mayCallHost(step as CrashStep),
      (setId) => this.router.noticeTarget(setId),
    );
    this.trampoline = new TrampolinePayments(this.backend, this.store, this.config, this.clock, this.logger, {
      enqueue: (write, after) => this.commit.enqueue(write, after),
      finish: (hold, to, verdict) => this.finish(hold, to, verdict),
      mayCallHost: (step) => this.mayCallHost(step),
      dead: () => this.dead,
      fields: (set) => this.sets.fields(set),
    });
    this.sets = new HoldSets(this.clock, this.logger, this.metrics, {
      finish: (hold, to, verdict) => this.finish(hold, to, verdict),
      startPayment: (set) => this.trampoline.startPayment(set),
      stopNotices: (setId) => this.notifier.stop(setId),
      height: () => this.height,
      dead: () => this.dead,
    });
    // Intake and the router share the engine's memory of holds (the maps) and its sets.
    const { config, clock, logger, metrics, commit, sets, caps, byKey, byHoldId } = this;
    this.intake = new Intake(
      { store, commit, sets, caps, byKey, byHoldId, config, clock, logger, metrics },
      {
        height: () => this.height,
        dead: () => this.dead,
        deliver: (key, verdict) => this.deliver(key, verdict),
        forget: (hold) => this.forget(hold),
        complete: (set) => this.router.complete(set, true),
      },
    );
    this.router = new ReleaseRouter(
      { store, sets, byHoldId, notifier: this.notifier, config, clock, logger, metrics },
      { releaseKey: () => this.releaseKey, dead: () => this.dead },
    );
    this.events = {
      htlc: (h) => this.htlc(h),
      release: (p) => this.release(p),
      block: (b) => this.block(b),
    };
  }

  /** Open (and migrate) the store. Call start() to load holds and connect the backend. */
  static async open(opts: EngineOptions): Promise<HoldEngine> {
    return new HoldEngine(HoldStore.open(opts.dbPath), opts);
  }

  /** Whether the engine has stopped or died (crash hook, store failure) and answers nothing more. */
  get stopped(): boolean {
    return this.dead;
  }

  async start(): Promise<void> {
    this.releaseKey = await this.backend.releaseKey();
    this.height = await this.backend.currentHeight();
    await recover({
      store: this.store,
      backend: this.backend,
      sets: this.sets,
      config: this.config,
      clock: this.clock,
      logger: this.logger,
      engine: {
        admit: (rec) => this.intake.admit(rec),
        loaded: () => this.byKey.values(),
        finish: (hold, to, verdict) => this.finish(hold, to, verdict),
        resumePayment: (set) => this.trampoline.resumePayment(set),
        complete: (set) => this.router.complete(set, false),
      },
    });
    if (this.dead) return;
    this.started = true;
    this.logger.info('hold engine started', { height: this.height, active: this.caps.totals().count });
    this.metrics.holdsActive(this.caps.totals().count);
    await this.backend.start(this.events);
  }

  /** Stop cleanly: no more events, pending writes committed, store closed. Unanswered HTLCs stay with the host. */
  async stop(): Promise<void> {
    if (this.dead) return;
    await this.backend.stop();
    if (this.commit.pending) this.commit.flush();
    this.shutdown();
    this.logger.info('hold engine stopped');
  }

  // ---- host events ----

  htlc(h: InterceptedHtlc): Promise<Verdict> {
    if (this.dead) return never();
    // A replay may lack the markers the first offer had (CLN keeps no extra_tlvs across restarts):
    // an HTLC we already decided gets that decision again, whatever it carries now.
    if (!h.holdFlag && h.asyncHold === undefined && !this.byKey.has(h.key) && !this.store.byKey(h.key)) {
      this.metrics.holdOutcome('passthrough');
      return Promise.resolve({ kind: 'continue' });
    }
    return new Promise<Verdict>((resolve) => {
      const prev = this.waiters.get(h.key);
      this.waiters.set(h.key, resolve);
      if (prev) {
        prev(Promise.reject(new SupersededError(h.key)));
        return; // the hold is already known (in memory): the new waiter gets its verdict
      }
      if (this.byKey.has(h.key)) this.intake.takeIn(h, false);
      else {
        // New to memory: whether the store knows it is asked for the whole tick at once, before
        // the tick's writes commit (one query per batch instead of one per HTLC).
        this.commit.offer(h);
      }
    });
  }

  release(pathId: Uint8Array): void {
    if (this.dead || !this.started) return;
    this.metrics.onionMessage?.('received', 'release_held_htlc');
    try {
      this.router.route(pathId);
    } catch (err) {
      this.logger.error('release handling failed', { error: String(err) });
    }
  }

  block(height: Height): void {
    if (this.dead || height <= this.height) return;
    this.height = height;
    this.sets.expireDue();
  }

  // ---- operator actions ----

  listHolds(filter: { state?: HoldState; limit?: number } = {}): HoldView[] {
    if (this.dead) return [];
    return this.store.list(filter.state, filter.limit ?? 1000).map(toView);
  }

  releaseHold(holdIdHex: string): AdminResult {
    return this.router.operatorRelease(holdIdHex);
  }

  failHold(holdIdHex: string): AdminResult {
    return this.router.operatorFail(holdIdHex);
  }

  stats(): EngineStats {
    return {
      height: this.height,
      activeHolds: this.caps.totals().count,
      activeMsat: this.caps.totals().msat,
      openSets: this.sets.openCount,
      byState: this.dead ? {} : this.store.countsByState(),
      earlyReleases: this.router.earlyReleases,
      notifying: this.notifier.running,
    };
  }

  // ---- verdicts ----

  /** Move a hold to a final state; its verdict goes out after the transition commits. */
  private finish(hold: HoldRecord, to: HoldState, verdict: Verdict): void {
    assertTransition(hold.state, to);
    const wasActive = isActive(hold.state);
    hold.state = to;
    hold.verdict = verdict;
    hold.updatedMs = this.clock.now();
    if (wasActive) this.caps.remove(hold.peer, hold.amountInMsat);
    this.metrics.holdOutcome(to as HoldOutcome);
    if (wasActive) this.metrics.holdEnded?.((hold.updatedMs - hold.createdMs) / 1000);
    if (verdict.kind === 'fail') this.metrics.holdFailed?.(verdict.reason);
    this.commit.enqueue(
      () => this.store.updateHold(hold),
      () => {
        this.deliver(hold.key, verdict);
        this.forget(hold);
      },
    );
  }

  /** Hand a committed verdict to the host's waiting htlc() call. */
  private deliver(key: string, verdict: Verdict): void {
    const w = this.waiters.get(key);
    if (!w || !this.mayCallHost('verdict')) return;
    this.waiters.delete(key);
    w(verdict);
  }

  /** After commit: the store answers replays of this hold from now on. */
  private forget(hold: HoldRecord): void {
    if (this.byKey.get(hold.key) === hold) this.byKey.delete(hold.key);
    if (this.byHoldId.get(hold.holdIdHex) === hold) this.byHoldId.delete(hold.holdIdHex);
    this.sets.forget(hold);
  }

  // ---- crash points, death ----

  private mayCallHost(step: CrashStep): boolean {
    if (this.dead) return false;
    if (this.crashPoint?.(step)) {
      this.die(`crash point: ${step}`);
      return false;
    }
    return true;
  }

  /** Abandon everything at once, as a killed process would: pending verdicts are never sent. */
  private die(why: string): void {
    if (this.dead) return;
    this.logger.error('hold engine died', { why });
    this.shutdown();
    try {
      this.onFatal?.(why);
    } catch (err) {
      this.logger.error('onFatal handler threw', { error: String(err) });
    }
  }

  private shutdown(): void {
    this.dead = true;
    this.notifier.stopAll();
    this.router.clear();
    this.sets.clearTimers();
    this.commit.clear();
    this.store.close();
  }
}

function toView(r: StoredHold): HoldView {
  return {
    holdId: r.holdIdHex,
    htlcKey: r.key,
    setId: r.setId,
    paymentHash: r.paymentHashHex,
    state: r.state,
    mode: r.htlc.trampoline ? 'trampoline' : 'forward',
    amountInMsat: r.htlc.amountInMsat,
    amountOutMsat: r.htlc.amountOutMsat,
    incomingPeer: r.htlc.incomingPeer,
    incomingChannel: r.htlc.incomingChannel,
    holdStart: r.holdStart,
    failAt: r.failAt,
    createdMs: r.createdMs,
    updatedMs: r.updatedMs,
    verdict: r.verdict?.kind,
    failReason: r.verdict?.kind === 'fail' ? r.verdict.reason : undefined,
  };
}

export { HoldError };
