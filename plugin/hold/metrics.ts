// What the engine reports for monitoring. ops/ implements it with prom-client; suggested names:
// async_trampoline_holds_active (gauge), async_trampoline_hold_outcomes_total{outcome},
// async_trampoline_releases_total{result}, async_trampoline_notices_total{result},
// async_trampoline_caps_tripped_total{cap}.
import type { FailReason, Msat } from './backend.js';
import type { CapName } from './policy.js';

export type HoldOutcome = 'forwarded' | 'settled' | 'failed' | 'expired' | 'refused' | 'passthrough';
export type ReleaseResult =
  'released' | 'duplicate' | 'stale' | 'forged' | 'buffered' | 'early_applied' | 'dropped';

export interface EngineMetrics {
  holdsActive(n: number): void;
  holdOutcome(outcome: HoldOutcome): void;
  release(result: ReleaseResult): void;
  notice(result: 'sent' | 'error'): void;
  capTripped(cap: CapName): void;
  /** Msat of all active holds, after each commit. */
  heldMsat?(msat: Msat): void;
  /** A hold ended (any final state): how long it was held. */
  holdEnded?(seconds: number): void;
  /** A held set was released (`via`: path_id, release_token, operator, ...). */
  holdReleased?(via: string): void;
  /** An HTLC was failed back, by reason (refusals included). */
  holdFailed?(reason: FailReason): void;
  /** An onion message of ours, sent or received. */
  onionMessage?(direction: 'sent' | 'received', kind: 'held_htlc_available' | 'release_held_htlc'): void;
}

export const nullMetrics: EngineMetrics = {
  holdsActive: () => {},
  holdOutcome: () => {},
  release: () => {},
  notice: () => {},
  capTripped: () => {},
};
