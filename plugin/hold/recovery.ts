// Startup recovery: put the stored active holds back in memory, close those the host resolved while
// we were down, and pick each remaining set up where it stopped (paying, telling the recipient, or
// waiting for the rest of its parts). Runs before the backend delivers any event.
import type { Logger } from '../ops/log.js';
import type { Backend, HostHtlcState, Verdict } from './backend.js';
import type { Clock } from './clock.js';
import type { HoldSet, HoldSets } from './mpp.js';
import type { EngineConfig } from './policy.js';
import type { HoldState } from './state.js';
import type { HoldRecord, HoldStore } from './store.js';

/** What recovery borrows from the engine: its memory, its verdicts and the next step of each set. */
export interface RecoveryHooks {
  /** Put a hold back in memory and its MPP set (the engine marks it held). */
  admit(rec: HoldRecord): HoldSet;
  /** Every hold in memory (after loading: exactly the restored ones). */
  loaded(): Iterable<HoldRecord>;
  /** Move a hold to a final state; its verdict goes out after the transition commits. */
  finish(hold: HoldRecord, to: HoldState, verdict: Verdict): void;
  /** The set was paying when we stopped: look the payment up again. */
  resumePayment(set: HoldSet): void;
  /** The set was complete when we stopped: release it or tell the recipient again. */
  complete(set: HoldSet): void;
}

export interface RecoveryDeps {
  store: Pick<HoldStore, 'prune' | 'active'>;
  backend: Pick<Backend, 'htlcStates'>;
  sets: HoldSets;
  config: EngineConfig;
  clock: Clock;
  logger: Logger;
  engine: RecoveryHooks;
}

export async function recover(d: RecoveryDeps): Promise<void> {
  const pruned = d.store.prune(d.clock.now() - d.config.retentionMs);
  if (pruned > 0) d.logger.info('pruned finished holds', { pruned });
  for (const rec of d.store.active()) restore(d, rec);
  const gone = await reconcile(d);
  for (const set of d.sets.values()) if (!gone.has(set.id)) resume(d, set);
  // Blocks may have passed while we were down: the deadline check needs no other catch-up.
  d.sets.expireDue();
}

function restore(d: RecoveryDeps, rec: HoldRecord): void {
  const state = rec.state;
  const set = d.engine.admit(rec);
  rec.state = state;
  if (state === 'paying') set.closed = true;
}

function resume(d: RecoveryDeps, set: HoldSet): void {
  if (set.parts.some((p) => p.state === 'paying')) {
    d.engine.resumePayment(set);
  } else if (set.complete) {
    d.engine.complete(set);
  } else {
    const first = Math.min(...set.parts.map((p) => p.createdMs));
    d.sets.armTimeout(set, Math.max(0, first + d.config.mppTimeoutMs - d.clock.now()));
  }
}

/**
 * Holds whose HTLC the host resolved while we were down are closed with the host's outcome, never
 * assumed forwarded; the rest of such a set can no longer be released whole, so it fails too.
 * Returns the ids of the sets closed here.
 */
async function reconcile(d: RecoveryDeps): Promise<Set<string>> {
  const closed = new Set<string>();
  const held = [...d.engine.loaded()].filter((r) => r.state === 'held');
  if (!d.backend.htlcStates || held.length === 0) return closed;
  let states: ReadonlyMap<string, HostHtlcState>;
  try {
    states = await d.backend.htlcStates(held.map((r) => r.key));
  } catch (err) {
    d.logger.warn('could not compare holds with the host; keeping them', { error: String(err) });
    return closed;
  }
  const fail = (p: HoldRecord): void =>
    d.engine.finish(p, 'failed', {
      kind: 'fail',
      reason: 'host_failed',
      trampoline: p.trampoline !== undefined,
    });
  for (const rec of held) {
    const st = states.get(rec.key) ?? 'pending';
    if (st === 'pending') continue;
    const set = d.sets.get(rec.setId);
    if (set && !set.closed) {
      d.sets.close(set);
      closed.add(set.id);
    }
    if (st === 'forwarded') {
      d.logger.error('the host forwarded a held HTLC while we were down', {
        key: rec.key,
        holdId: rec.holdIdHex,
      });
      d.engine.finish(rec, 'forwarded', { kind: 'continue' });
    } else {
      d.logger.warn('held HTLC is gone from the host; hold closed as failed', {
        key: rec.key,
        holdId: rec.holdIdHex,
      });
      fail(rec);
    }
  }
  for (const id of closed) for (const p of d.sets.get(id)?.parts ?? []) if (p.state === 'held') fail(p);
  return closed;
}
