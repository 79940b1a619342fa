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
