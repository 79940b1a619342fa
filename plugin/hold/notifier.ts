// Sends held_htlc_available over every message path of a held set, retrying with capped exponential
// backoff until the engine stops it (release, failure or deadline). Sends are best effort and not
// stored: after a restart the engine simply starts again for every set still held.
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

export class Notifier {
  private readonly timers = new Map<string, TimerHandle>();

  constructor(
    private readonly backend: Backend,
    private readonly clock: Clock,
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly logger: Logger,
    private readonly metrics: EngineMetrics,
    /** Crash-point hook: returns false when the engine has died and nothing may reach the host. */
    private readonly mayCallHost: (step: string) => boolean,
  ) {}

  get running(): number {
    return this.timers.size;
  }

  start(setId: string, target: NoticeTarget): void {
    if (this.timers.has(setId) || target.messagePaths.length === 0) return;
    this.attempt(setId, target, 0);
  }

  stop(setId: string): void {
    const t = this.timers.get(setId);
    if (t !== undefined) this.clock.clearTimeout(t);
    this.timers.delete(setId);
  }

  stopAll(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  private attempt(setId: string, target: NoticeTarget, n: number): void {
    // Keep a placeholder so stop() during the sends below cancels the retry.
    this.timers.set(setId, undefined);
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
    if (!this.timers.has(setId)) return;
    const t = this.clock.setTimeout(
      () => {
        if (this.timers.has(setId)) this.attempt(setId, target, n + 1);
      },
      backoffMs(n, this.baseMs, this.capMs),
    );
    this.timers.set(setId, t);
  }
}
