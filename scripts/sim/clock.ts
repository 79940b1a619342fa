// Simulated time for the engine: timers fire only when the simulation advances the clock, in due
// order (ties in the order they were set), and deferred work (the engine's group commit) runs when
// the simulation drains it after each event. Weeks pass in seconds.
import type { Clock, TimerHandle } from '../../plugin/hold/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  dead: boolean;
}

export class SimClock implements Clock {
  private t: number;
  private seq = 0;
  private heap: Timer[] = [];
  private deferred: (() => void)[] = [];
  private live = 0;

  constructor(startMs: number) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, dead: false };
    this.push(timer);
    this.live += 1;
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer | undefined;
    if (timer && !timer.dead) {
      timer.dead = true;
      this.live -= 1;
    }
  }

  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.live;
  }

  /** When the next live timer fires, or undefined. */
  nextAt(): number | undefined {
    while (this.heap.length > 0 && this.heap[0]!.dead) this.pop();
    return this.heap[0]?.at;
  }

  /** Run deferred work until none is left (a commit may defer more). */
  drain(): void {
    while (this.deferred.length > 0) {
      const q = this.deferred;
      this.deferred = [];
      for (const f of q) f();
    }
  }

  /** Fire the next timer if it is due at or before `until`; returns whether one fired. */
  fireNext(until: number): boolean {
    const at = this.nextAt();
    if (at === undefined || at > until) return false;
    const timer = this.pop()!;
    this.live -= 1;
    timer.dead = true;
    this.t = Math.max(this.t, timer.at);
    timer.fn();
    return true;
  }

  /** Move the clock forward without firing anything (the caller fired what was due). */
  advanceTo(ms: number): void {
    this.t = Math.max(this.t, ms);
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
