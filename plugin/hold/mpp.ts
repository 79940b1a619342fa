// MPP sets: parts with the same payment hash are held, released and failed together. A single-part
// hold is a set of one, so the engine has one code path for both. The engine decides when a set is
// released or failed; this module keeps the sets and does it to every part.
import type { Logger } from '../ops/log.js';
import type { FailReason, Height, Msat, Verdict } from './backend.js';
import type { Clock, TimerHandle } from './clock.js';
import { isDue } from './deadline.js';
import type { EngineMetrics } from './metrics.js';
import type { HoldState } from './state.js';
import { hexOf, type HoldRecord } from './store.js';

export function setIdFor(paymentHashHex: string, holdIdHex: string, totalMsat: Msat | undefined): string {
  return totalMsat === undefined ? `one:${holdIdHex}` : `mpp:${paymentHashHex}`;
}

export class HoldSet {
  /** Starts empty and exactly sized: a first push() would reserve room for 17 parts. */
  parts: HoldRecord[] = [];
  /** A release came before the set was complete; apply it on completion. */
  releaseRequested = false;
  /** Released or failed: later parts are not joined to it. */
  closed = false;
  timeout: TimerHandle | undefined;

  constructor(
    readonly id: string,
    /** undefined for a single-part payment. */
    readonly totalMsat: Msat | undefined,
  ) {}

  add(part: HoldRecord): void {
    if (this.parts.length === 0) this.parts = [part];
    else this.parts.push(part);
  }

  /** What a part contributes: the amount it forwards, or what it brings in at the final hop. */
  static partValue(h: HoldRecord): Msat {
    return h.amountOutMsat ?? h.amountInMsat;
  }

  get receivedMsat(): Msat {
    return this.parts.reduce((s, p) => s + HoldSet.partValue(p), 0n);
  }

  get incomingMsat(): Msat {
    return this.parts.reduce((s, p) => s + p.amountInMsat, 0n);
  }

  get complete(): boolean {
    return this.totalMsat === undefined ? this.parts.length > 0 : this.receivedMsat >= this.totalMsat;
  }

  /** The whole set must end by its earliest part's deadline. */
  get failAt(): Height {
    return Math.min(...this.parts.map((p) => p.failAt));
  }

  get leader(): HoldRecord {
    const p = this.parts[0];
    if (!p) throw new Error('empty hold set');
    return p;
  }

  get trampoline(): boolean {
    return this.leader.trampoline !== undefined;
  }
}

/** What the sets borrow from the engine: its verdicts, its onward payments, its notices, its height. */
export interface SetHooks {
  /** Move a hold to a final state; its verdict goes out after the transition commits. */
  finish(hold: HoldRecord, to: HoldState, verdict: Verdict): void;
  /** Trampoline mode: the set was released; pay onward. */
  startPayment(set: HoldSet): void;
  /** Stop telling the recipient about the set. */
  stopNotices(setId: string): void;
  height(): Height;
  dead(): boolean;
}

/**
 * The open MPP sets: which parts belong together (same payment hash and total), and releasing or
 * failing a set as a whole. Parts of a set are never decided apart.
 */
export class HoldSets {
  private readonly sets = new Map<string, HoldSet>();
  /** release_token (hex) -> its set, for sets still open. */
  private readonly tokens = new Map<string, HoldSet>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly metrics: EngineMetrics,
    private readonly hooks: SetHooks,
  ) {}

  get(id: string): HoldSet | undefined {
    return this.sets.get(id);
  }

  byToken(tokenHex: string): HoldSet | undefined {
    return this.tokens.get(tokenHex);
  }

  values(): IterableIterator<HoldSet> {
    return this.sets.values();
  }

  get openCount(): number {
    let n = 0;
    for (const s of this.sets.values()) if (!s.closed) n += 1;
    return n;
  }

  /** Add a hold to its set, making the set on its first part. */
  join(hold: HoldRecord): HoldSet {
    let set = this.sets.get(hold.setId);
    if (!set) {
      set = new HoldSet(hold.setId, hold.totalMsat);
      this.sets.set(set.id, set);
    }
    set.add(hold);
    const token = hold.releaseToken;
    if (token !== undefined) this.tokens.set(hexOf(token), set);
    return set;
  }

  /** Fail the set if it has not arrived in full after `ms`. */
  armTimeout(set: HoldSet, ms: number): void {
    set.timeout = this.clock.setTimeout(() => {
      set.timeout = undefined;
      if (this.hooks.dead() || set.closed || set.complete) return;
      this.logger.info('MPP set incomplete at timeout; failing its parts', {
        ...this.fields(set),
        received: set.receivedMsat,
        total: set.totalMsat,
      });
      this.fail(set, 'mpp_timeout');
    }, ms);
  }

  clearTimeout(set: HoldSet): void {
    if (set.timeout !== undefined) this.clock.clearTimeout(set.timeout);
    set.timeout = undefined;
  }

  /** A release for this set arrived: apply it, or keep it for when the last part arrives. */
  releaseFrom(set: HoldSet, via: string): void {
    if (set.closed) {
      this.metrics.release('duplicate');
      this.logger.debug('duplicate release ignored', { ...this.fields(set), via });
      return;
    }
    if (!set.complete) {
      set.releaseRequested = true;
      this.logger.info('release before the MPP set is complete; applied on completion', {
        ...this.fields(set),
        via,
      });
      return;
    }
    this.release(set, via);
  }

  release(set: HoldSet, via: string): void {
    const height = this.hooks.height();
    if (isDue(set.failAt, height)) {
      // Past the deadline the HTLC is doomed: downstream would refuse it (too little CLTV left), or it
      // would keep running into the upstream peer's force-close margin. Fail it back instead.
      this.logger.warn('release at or after the hold deadline; failing back instead of forwarding', {
        setId: set.id,
        via,
        failAt: set.failAt,
        height,
      });
      this.fail(set, 'expired');
      return;
    }
    this.close(set);
    this.metrics.release('released');
    this.metrics.holdReleased?.(via);
    this.logger.info('hold released', { ...this.fields(set), via, parts: set.parts.length });
    if (set.trampoline) {
      this.hooks.startPayment(set);
      return;
    }
    for (const p of set.parts) this.hooks.finish(p, 'forwarded', { kind: 'continue' });
  }

  /** No later part joins it, no notice goes out for it, no timeout fails it. */
  close(set: HoldSet): void {
    set.closed = true;
    this.hooks.stopNotices(set.id);
    this.clearTimeout(set);
  }

  fail(set: HoldSet, reason: FailReason): void {
    this.close(set);
    for (const p of set.parts) {
      if (p.state !== 'held') continue;
      this.hooks.finish(p, reason === 'expired' ? 'expired' : 'failed', {
        kind: 'fail',
        reason,
        trampoline: p.trampoline !== undefined,
      });
    }
  }

  /** Fail every open set whose deadline has come. */
  expireDue(): void {
    const height = this.hooks.height();
    for (const set of this.sets.values()) {
      if (set.closed || set.parts.length === 0 || !isDue(set.failAt, height)) continue;
      this.logger.info('hold deadline reached; failing', { ...this.fields(set), failAt: set.failAt, height });
      this.fail(set, 'expired');
    }
  }

  /** After a part's verdict committed: drop its set once every part has one. */
  forget(hold: HoldRecord): void {
    const set = this.sets.get(hold.setId);
    if (!set || !set.closed || !set.parts.every((p) => p.verdict !== undefined)) return;
    this.sets.delete(set.id);
    for (const p of set.parts) {
      const token = p.releaseToken;
      if (token !== undefined && this.tokens.get(hexOf(token)) === set) this.tokens.delete(hexOf(token));
    }
  }

  clearTimers(): void {
    for (const s of this.sets.values()) this.clearTimeout(s);
  }

  /** What every log line about a set carries (never a preimage, key or path secret). */
  fields(set: HoldSet): Record<string, unknown> {
    const l = set.leader;
    return {
      setId: set.id,
      key: set.parts.map((p) => p.key).join(','),
      payment_hash: l.paymentHashHex,
      amount_msat: set.incomingMsat,
      blocks_left: set.failAt - this.hooks.height(),
    };
  }
}
