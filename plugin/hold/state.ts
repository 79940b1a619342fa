// The life of one hold. Every move below is written to the store before the verdict it implies
// reaches the host, so a restart always resumes from a state the host can agree with.
import { HoldError } from './errors.js';

export type HoldState =
  | 'received' // seen, not yet decided (memory only: the first stored state is held or failed)
  | 'held' // waiting for a release
  | 'forwarded' // released, hold-and-forward mode: verdict continue
  | 'paying' // released, trampoline mode: our own onward payment is in flight
  | 'settled' // trampoline payment succeeded: verdict settle
  | 'failed' // refused at intake, cap, MPP timeout, payment failure or operator: verdict fail
  | 'expired'; // no release before the deadline: verdict fail

export const HOLD_STATES: readonly HoldState[] = [
  'received',
  'held',
  'forwarded',
  'paying',
  'settled',
  'failed',
  'expired',
];

const ALLOWED: Record<HoldState, readonly HoldState[]> = {
  received: ['held', 'failed', 'forwarded'],
  held: ['forwarded', 'paying', 'failed', 'expired'],
  // A payment in flight is never failed by the deadline: we may already have paid out.
  paying: ['settled', 'failed'],
  forwarded: [],
  settled: [],
  failed: [],
  expired: [],
};

export function isTerminal(s: HoldState): boolean {
  return ALLOWED[s].length === 0;
}

/** States in which the hold still occupies liquidity and counts against caps. */
export function isActive(s: HoldState): boolean {
  return s === 'held' || s === 'paying';
}

export function canTransition(from: HoldState, to: HoldState): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(from: HoldState, to: HoldState): void {
  if (!canTransition(from, to))
    throw new HoldError('invalid_transition', `hold cannot go from ${from} to ${to}`);
}

export function isHoldState(s: string): s is HoldState {
  return (HOLD_STATES as readonly string[]).includes(s);
}
