// The hold engine: decides, for every HTLC a host shows it, pass through, hold, release or fail.
// Invariants: every state change is committed before the verdict it implies reaches the host (one
// transaction per tick: group-commit.ts); a replayed HTLC gets back the verdict already taken, never a
// second, different one; a hold always ends, by release or by its deadline.
import { randomBytes } from 'node:crypto';
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
import { failAt, holdable } from './deadline.js';
import { HoldError, type HoldErrorCode } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { nullMetrics, type EngineMetrics, type HoldOutcome } from './metrics.js';
import { HoldSets, setIdFor, type HoldSet } from './mpp.js';
import { Notifier, type NoticeTarget } from './notifier.js';
import { CapTracker, resolveEngineConfig, type EngineConfig, type EngineConfigInput } from './policy.js';
import { recover } from './recovery.js';
import { EarlyReleaseBuffer, releasePathId, verifyPathId } from './release.js';
import { assertTransition, isActive, type HoldState } from './state.js';
import { HoldStore, bytesOfHex, hexOf, holdRecord, type HoldRecord, type StoredHold } from './store.js';
import { TrampolinePayments } from './trampoline.js';

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

export type AdminResult =
  { ok: true; holdIds: string[] } | { ok: false; error: HoldErrorCode; message: string };

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
  private readonly early: EarlyReleaseBuffer;
  private readonly trampoline: TrampolinePayments;

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
      takeIn: (h, maybeStored) => this.attachOrRefuse(h, maybeStored),
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
      (setId) => this.noticeTarget(setId),
    );
    this.early = new EarlyReleaseBuffer(
      this.clock,
      this.config.earlyReleaseMs,
      this.config.earlyReleaseMax,
      (_p, why) => {
        this.metrics.release('dropped');
        this.logger.warn('release dropped: it matched no hold', { why });
      },
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
        admit: (rec) => this.admit(rec),
        loaded: () => this.byKey.values(),
        finish: (hold, to, verdict) => this.finish(hold, to, verdict),
        resumePayment: (set) => this.trampoline.resumePayment(set),
        complete: (set) => this.onComplete(set, false),
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
      if (this.byKey.has(h.key)) this.attachOrRefuse(h, false);
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
      this.onRelease(pathId);
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
    const found = this.adminFind(holdIdHex);
    if (!found.ok) return found;
    const set = found.set;
    if (!set.complete)
      return { ok: false, error: 'set_incomplete', message: 'the MPP set has not fully arrived' };
    this.logger.info('operator release', { holdId: holdIdHex, ...this.sets.fields(set) });
    this.sets.release(set, 'operator');
    return { ok: true, holdIds: set.parts.map((p) => p.holdIdHex) };
  }

  failHold(holdIdHex: string): AdminResult {
    const found = this.adminFind(holdIdHex);
    if (!found.ok) return found;
    this.logger.info('operator fail', { holdId: holdIdHex, ...this.sets.fields(found.set) });
    this.sets.fail(found.set, 'operator');
    return { ok: true, holdIds: found.set.parts.map((p) => p.holdIdHex) };
  }

  stats(): EngineStats {
    return {
      height: this.height,
      activeHolds: this.caps.totals().count,
      activeMsat: this.caps.totals().msat,
      openSets: this.sets.openCount,
      byState: this.dead ? {} : this.store.countsByState(),
      earlyReleases: this.early.size,
      notifying: this.notifier.running,
    };
  }

  // ---- intake ----

  private attachOrRefuse(h: InterceptedHtlc, maybeStored: boolean): void {
    try {
      this.attach(h, maybeStored);
    } catch (err) {
      this.logger.error('htlc intake failed', { key: h.key, error: String(err) });
      if (!this.dead) this.refuseBroken(h);
    }
  }

  /** `maybeStored` false: the store is known not to have this key (memory is then the only place). */
  private attach(h: InterceptedHtlc, maybeStored: boolean): void {
    const mem = this.byKey.get(h.key);
    const known = mem ?? (maybeStored ? this.store.byKey(h.key) : undefined);
    if (known) {
      if (known.paymentHashHex !== hexOf(h.paymentHash)) {
        this.logger.error('replayed htlc differs from the stored one; keeping the stored decision', {
          key: h.key,
        });
      }
      const v = known.verdict;
      // Delivered after the next commit, so a verdict still in the open batch is durable first.
      if (v !== undefined) this.commit.enqueue(undefined, () => this.deliver(h.key, v));
      else if (!mem) this.logger.error('stored active hold was not loaded', { key: h.key });
      return;
    }
    this.intake(h);
  }

  private intake(h: InterceptedHtlc): void {
    const now = this.clock.now();
    const holdIdHex = hexOf(newHoldId(now));
    const hashHex = hexOf(h.paymentHash);
    const total = h.asyncHold?.totalMsat;
    const maxHold = Math.min(this.config.maxHoldBlocks, h.asyncHold?.maxHoldBlocks ?? Infinity);
    const hold = holdRecord(h, {
      holdIdHex,
      setId: setIdFor(hashHex, holdIdHex, total),
      paymentHashHex: hashHex,
      state: 'received',
      holdStart: this.height,
      failAt: failAt(
        {
          holdStart: this.height,
          maxHoldBlocks: maxHold,
          incomingExpiry: h.incomingExpiry,
          outgoingExpiry: h.outgoingExpiry,
          autoFailHeight: h.autoFailHeight,
        },
        this.config,
      ),
      createdMs: now,
      updatedMs: now,
      verdict: undefined,
    });
    this.byKey.set(h.key, hold);

    const existing = this.sets.get(hold.setId);
    const refusal = this.refusal(hold, h, existing);
    if (refusal) {
      this.refuse(hold, h, refusal.reason, refusal.why, refusal.fields);
      return;
    }
    const wasComplete = existing !== undefined && existing.parts.length > 0 && existing.complete;
    const set = this.admit(hold);
    this.commit.enqueue(() => this.store.insertHold(hold, h));
    this.logger.info('holding htlc', {
      ...this.holdFields(hold),
      holdId: holdIdHex,
      setId: set.id,
      failAt: hold.failAt,
    });
    if (wasComplete) return;
    if (set.complete) this.onComplete(set, true);
    else if (set.timeout === undefined) this.sets.armTimeout(set, this.config.mppTimeoutMs);
  }

  private refusal(
    hold: HoldRecord,
    h: InterceptedHtlc,
    set: HoldSet | undefined,
  ): { reason: FailReason; why: string; fields?: Record<string, unknown> } | undefined {
    const a = h.asyncHold;
    if (!a) return { reason: 'not_holdable', why: 'hold_htlc without async_hold: nothing could release it' };
    if (a.messagePaths.length === 0 && a.releaseToken === undefined) {
      return { reason: 'not_holdable', why: 'async_hold has neither message paths nor a release token' };
    }
    if (a.releaseToken !== undefined && a.releaseToken.length !== 32) {
      return { reason: 'not_holdable', why: 'release token is not 32 bytes' };
    }
    if (!holdable(hold.failAt, this.height, this.config.minHoldBlocks)) {
      return {
        reason: 'not_holdable',
        why: 'deadline too close to hold',
        fields: { failAt: hold.failAt, height: this.height, minHoldBlocks: this.config.minHoldBlocks },
      };
    }
    const t = h.trampoline;
    if (t && (t.invoice === undefined) === (t.outgoingNodeId === undefined)) {
      return {
        reason: 'not_holdable',
        why: 'trampoline_request needs exactly one of invoice or outgoing_node_id',
      };
    }
    if (!set && a.totalMsat !== undefined && this.store.setFinished(hold.setId)) {
      return { reason: 'not_holdable', why: 'MPP set already released or failed' };
    }
    if (set) {
      if (set.closed) return { reason: 'not_holdable', why: 'MPP set already released or failed' };
      if (set.totalMsat !== a.totalMsat)
        return { reason: 'not_holdable', why: 'MPP part disagrees on the set total' };
      if (set.trampoline !== (t !== undefined)) {
        return { reason: 'not_holdable', why: 'MPP parts mix trampoline and forward mode' };
      }
    }
    const cap = this.caps.check(hold.peer, h.amountInMsat);
    if (cap) {
      this.metrics.capTripped(cap);
      return { reason: 'cap_exceeded', why: 'hold cap exceeded', fields: { cap } };
    }
    return undefined;
  }

  private refuse(
    hold: HoldRecord,
    h: InterceptedHtlc,
    reason: FailReason,
    why: string,
    fields: Record<string, unknown> = {},
  ): void {
    this.logger.warn(`htlc refused: ${why}`, { ...this.holdFields(hold), reason, ...fields });
    this.metrics.holdFailed?.(reason);
    // A refused part never joined its MPP set: stored alone, it cannot mark the set finished.
    hold.setId = `one:${hold.holdIdHex}`;
    hold.state = 'failed';
    hold.verdict = { kind: 'fail', reason, trampoline: hold.trampoline !== undefined };
    this.metrics.holdOutcome('refused');
    const v = hold.verdict;
    this.commit.enqueue(
      () => this.store.insertHold(hold, h),
      () => {
        this.deliver(hold.key, v);
        this.forget(hold);
      },
    );
  }

  /** Intake threw on input we did not foresee: record a refusal so a replay gets the same answer. */
  private refuseBroken(h: InterceptedHtlc): void {
    try {
      const now = this.clock.now();
      const holdIdHex = hexOf(randomBytes(16));
      const hold = holdRecord(h, {
        holdIdHex,
        setId: `one:${holdIdHex}`,
        paymentHashHex: '',
        state: 'received',
        holdStart: this.height,
        failAt: this.height,
        createdMs: now,
        updatedMs: now,
        verdict: undefined,
      });
      this.byKey.set(h.key, hold);
      this.refuse(hold, h, 'not_holdable', 'malformed htlc');
    } catch (err) {
      this.logger.error('could not refuse malformed htlc; leaving it with the host', {
        key: h.key,
        error: String(err),
      });
    }
  }

  private admit(hold: HoldRecord): HoldSet {
    hold.state = 'held';
    this.byKey.set(hold.key, hold);
    this.byHoldId.set(hold.holdIdHex, hold);
    hold.peer = this.caps.add(hold.peer, hold.amountInMsat);
    return this.sets.join(hold);
  }

  /** The set is complete: apply an early release, or start telling the recipient. */
  private onComplete(set: HoldSet, fresh: boolean): void {
    this.sets.clearTimeout(set);
    if (fresh) {
      for (const p of set.parts) {
        const token = p.releaseToken;
        if (token !== undefined && this.early.take(hexOf(token))) {
          this.metrics.release('early_applied');
          this.logger.info('early release applied', this.sets.fields(set));
          set.releaseRequested = true;
        }
      }
    }
    if (set.releaseRequested) {
      this.sets.release(set, 'release before completion');
      return;
    }
    this.notifier.start(set.id);
  }

  /**
   * What the notifier sends for a set. The reply path id is worked out at each send instead of kept: a
   * retry comes every few minutes at most, and a 32-byte array kept per held set costs ~180 bytes.
   */
  private noticeTarget(setId: string): NoticeTarget | undefined {
    const set = this.sets.get(setId);
    if (!set || set.closed || set.parts.length === 0) return undefined;
    const leader = set.leader;
    return {
      messagePaths: leader.messagePaths,
      replyPathId: releasePathId(this.releaseKey, bytesOfHex(leader.holdIdHex)),
    };
  }

  // ---- release ----

  private onRelease(pathId: Uint8Array): void {
    const v = verifyPathId(this.releaseKey, pathId);
    if (v.ok) {
      const idHex = hexOf(v.holdId);
      const hold = this.byHoldId.get(idHex);
      const set = hold && this.sets.get(hold.setId);
      if (set) {
        this.sets.releaseFrom(set, 'path_id');
        return;
      }
      const stored = this.store.byHoldId(v.holdId);
      if (stored) {
        this.metrics.release('stale');
        this.logger.info('release for a finished hold ignored', {
          holdId: idHex,
          state: stored.state,
          key: stored.key,
          payment_hash: stored.paymentHashHex,
          amount_msat: stored.amountInMsat,
        });
      } else {
        this.metrics.release('dropped');
        this.logger.warn('release dropped: valid path id for an unknown hold', { holdId: idHex });
      }
      return;
    }
    if (v.why === 'length') {
      this.metrics.release('forged');
      this.logger.warn('release dropped: path id is not 32 bytes', { length: pathId.length });
      return;
    }
    const tokenHex = hexOf(pathId);
    const bySet = this.sets.byToken(tokenHex);
    if (bySet) {
      this.sets.releaseFrom(bySet, 'release_token');
      return;
    }
    if (v.holdId && (this.byHoldId.has(hexOf(v.holdId)) || this.store.byHoldId(v.holdId))) {
      this.metrics.release('forged');
      this.logger.warn('release dropped: path id names a hold but its HMAC does not verify', {
        holdId: hexOf(v.holdId),
      });
      return;
    }
    // Perhaps a sender's release token whose HTLC has not reached us yet.
    this.metrics.release('buffered');
    this.logger.debug('release matches no hold yet; keeping it for a while');
    this.early.add(tokenHex);
  }

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

  /** After commit: the store answers replays of this hold from now on. */
  private forget(hold: HoldRecord): void {
    if (this.byKey.get(hold.key) === hold) this.byKey.delete(hold.key);
    if (this.byHoldId.get(hold.holdIdHex) === hold) this.byHoldId.delete(hold.holdIdHex);
    this.sets.forget(hold);
  }

  // ---- log fields ----

  /** What an operator correlates a hold with (never a preimage, key or path secret). */
  private holdFields(h: HoldRecord): Record<string, unknown> {
    return {
      key: h.key,
      payment_hash: h.paymentHashHex,
      amount_msat: h.amountInMsat,
      blocks_left: h.failAt - this.height,
    };
  }

  // ---- admin helpers ----

  private adminFind(
    holdIdHex: string,
  ): { ok: true; set: HoldSet } | { ok: false; error: HoldErrorCode; message: string } {
    if (this.dead) return { ok: false, error: 'not_active', message: 'engine is stopped' };
    const idHex = holdIdHex.toLowerCase();
    const hold = this.byHoldId.get(idHex);
    const set = hold && this.sets.get(hold.setId);
    if (set && !set.closed) return { ok: true, set };
    if (hold || (/^[0-9a-f]{32}$/.test(idHex) && this.store.byHoldId(Buffer.from(idHex, 'hex')))) {
      return { ok: false, error: 'not_active', message: 'hold is no longer held' };
    }
    return { ok: false, error: 'unknown_hold', message: 'no such hold' };
  }

  // ---- verdicts, crash points, death ----

  private deliver(key: string, verdict: Verdict): void {
    const w = this.waiters.get(key);
    if (!w || !this.mayCallHost('verdict')) return;
    this.waiters.delete(key);
    w(verdict);
  }

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
    this.early.clear();
    this.sets.clearTimers();
    this.commit.clear();
    this.store.close();
  }
}

// Hold ids: a 6-byte millisecond timestamp, then 10 random bytes. Time order makes each insert an
// append to the primary-key and set indexes instead of a write to a random page (random ids halved
// intake on a 100,000-hold store); the release path's HMAC, not the id, is what cannot be guessed.
// The random bytes come from one pooled draw: a call into the CSPRNG per HTLC cost more than the rest
// of taking it in.
let idPool = new Uint8Array(0);
let idPos = 0;
function newHoldId(nowMs: number): Uint8Array {
  if (idPos + 16 > idPool.length) {
    idPool = new Uint8Array(randomBytes(16 * 512));
    idPos = 0;
  }
  idPos += 16;
  // A view, not a copy: 16 bytes with their own buffer cost ~180 bytes of heap per hold.
  const id = idPool.subarray(idPos - 16, idPos);
  const ms = Math.max(0, Math.floor(nowMs));
  id[0] = Math.floor(ms / 2 ** 40) & 0xff;
  id[1] = Math.floor(ms / 2 ** 32) & 0xff;
  id[2] = (ms >>> 24) & 0xff;
  id[3] = (ms >>> 16) & 0xff;
  id[4] = (ms >>> 8) & 0xff;
  id[5] = ms & 0xff;
  return id;
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
