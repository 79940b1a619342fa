// MPP sets: parts with the same payment hash are held, released and failed together. A single-part
// hold is a set of one, so the engine has one code path for both.
import type { Height, Msat } from './backend.js';
import type { TimerHandle } from './clock.js';
import type { HoldRecord } from './store.js';

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
