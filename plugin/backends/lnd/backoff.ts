// Exponential backoff for reconnecting LND streams: base doubling up to a cap, reset once a stream
// has proven healthy (delivered data or stayed up).
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {}

  /** Delay before the next attempt; each call doubles the following one. */
  next(): number {
    const d = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return d;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * The start/stop/reconnect life cycle every long-lived LND stream shares. The owner supplies
 * `open()`, which opens one stream and calls `retry()` when it ends; `stopped` tells it whether to.
 */
export class ReconnectLoop {
  private isStopped = true;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(
    private readonly open: () => void,
    opts: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    this.backoff = new Backoff(opts);
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  start(): void {
    if (!this.isStopped) return;
    this.isStopped = false;
    this.open();
  }

  stop(): void {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Open again after the backoff delay; once at a time, never after stop(). */
  retry(): void {
    if (this.isStopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, this.backoff.next());
  }

  /** The stream proved healthy: the next failure starts the backoff from its base again. */
  healthy(): void {
    this.backoff.reset();
  }
}
