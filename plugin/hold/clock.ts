// Time as the engine sees it. Injectable so tests drive timers by hand instead of sleeping.

export type TimerHandle = unknown;

export interface Clock {
  /** Wall-clock milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Run fn after the current tick's events: this is the group-commit boundary. */
  defer(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Retry and timeout timers must not keep a stopping process alive.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  defer: (fn) => setImmediate(fn),
};
