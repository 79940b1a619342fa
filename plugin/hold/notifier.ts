// Sends held_htlc_available over every message path of a held set, retrying with capped exponential
// backoff until the engine stops it (release, failure or deadline). Sends are best effort and not
// stored: after a restart the engine simply starts again for every set still held.
//
// One timer serves every set. A Node timer with its callback closure costs ~300 bytes of heap, kept
// for as long as a set is held; here a pending retry is three array slots and a map entry. Retries
// with the same delay queue up in the order they were scheduled, which is also the order they fall
// due, so each delay's queue is first-in first-out and the timer is armed for the earliest head.
import type { Backend } from './backend.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Logger } from '../ops/log.js';
import type { EngineMetrics } from './metrics.js';

export interface NoticeTarget {
  messagePaths: Uint8Array[];
  replyPathId: Uint8Array;
}

/** Delay before retry number `attempt` (0 = the first retry). */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, 40));
}

/** Retries scheduled with one delay, oldest first. */
class RetryQueue {
  private ids: string[] = [];
  private seqs: number[] = [];
  private attempts: number[] = [];
  private dues: number[] = [];
  private head = 0;

  get empty(): boolean {
    return this.head === this.ids.length;
  }

  /** Due time of the oldest entry (Infinity when empty). */
  get nextDue(): number {
    return this.empty ? Infinity : this.dues[this.head]!;
  }

  push(id: string, seq: number, attempt: number, due: number): void {
    this.ids.push(id);
    this.seqs.push(seq);
    this.attempts.push(attempt);
    this.dues.push(due);
  }

  /** The oldest entry, removed. Call only when not empty. */
  shift(): { id: string; seq: number; attempt: number } {
    const i = this.head++;
    const e = { id: this.ids[i]!, seq: this.seqs[i]!, attempt: this.attempts[i]! };
    if (this.head > 1024 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.attempts = this.attempts.slice(this.head);
      this.dues = this.dues.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  /** Whether the oldest entry is still the live retry of its set. */
  headLive(live: ReadonlyMap<string, number>): boolean {
    return live.get(this.ids[this.head]!) === this.seqs[this.head];
  }
}

export class Notifier {
  /** setId -> sequence number of its pending retry; a queued entry with another number is stale. */
  private readonly live = new Map<string, number>();
  /** By delay in ms. */
  private readonly queues = new Map<number, RetryQueue>();
  private seq = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly backend: Backend,
    private readonly clock: Clock,
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly logger: Logger,
    private readonly metrics: EngineMetrics,
    /** Crash-point hook: returns false when the engine has died and nothing may reach the host. */
    private readonly mayCallHost: (step: string) => boolean,
    /** What to send for a set, worked out at each attempt (undefined: the set is gone). */
    private readonly targetOf: (setId: string) => NoticeTarget | undefined,
  ) {}

  get running(): number {
    return this.live.size;
  }

  start(setId: string): void {
    if (this.live.has(setId)) return;
    const target = this.targetOf(setId);
    if (!target || target.messagePaths.length === 0) return;
    this.attempt(setId, target, 0);
  }

  stop(setId: string): void {
    this.live.delete(setId);
    if (this.live.size === 0) this.stopAll();
  }

  stopAll(): void {
    this.live.clear();
    this.queues.clear();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private attempt(setId: string, target: NoticeTarget, n: number): void {
    // Mark the set live first, so stop() during the sends below cancels the retry.
    const seq = ++this.seq;
    this.live.set(setId, seq);
    for (const messagePath of target.messagePaths) {
      if (!this.mayCallHost('notice')) return;
      this.backend.sendHeldHtlcAvailable({ messagePath, replyPathId: target.replyPathId }).then(
        () => this.metrics.notice('sent'),
        (err: unknown) => {
          this.metrics.notice('error');
          this.logger.warn('held_htlc_available send failed', { setId, attempt: n, error: String(err) });
        },
      );
    }
    if (this.live.get(setId) !== seq) return;
    const delay = backoffMs(n, this.baseMs, this.capMs);
    let q = this.queues.get(delay);
    if (!q) {
      q = new RetryQueue();
      this.queues.set(delay, q);
    }
    const due = this.clock.now() + delay;
    q.push(setId, seq, n + 1, due);
    this.arm(due);
  }

  private arm(due: number): void {
    if (due >= this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, due - this.clock.now()));
  }

  /** The queue whose live head is due first, dropping stale heads on the way. */
  private earliest(): RetryQueue | undefined {
    let best: RetryQueue | undefined;
    for (const q of this.queues.values()) {
      while (!q.empty && !q.headLive(this.live)) q.shift();
      if (!q.empty && (!best || q.nextDue < best.nextDue)) best = q;
    }
    return best;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    for (;;) {
      const q = this.earliest();
      if (!q) return;
      if (q.nextDue > now) {
        this.arm(q.nextDue);
        return;
      }
      const e = q.shift();
      const target = this.targetOf(e.id);
      if (!target) {
        this.live.delete(e.id);
        continue;
      }
      this.attempt(e.id, target, e.attempt);
      if (this.live.size === 0 && this.queues.size === 0) return;
    }
  }
}
