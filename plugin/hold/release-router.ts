// Release routing: which held set a release lands on, whoever sent it. A recipient's release names a
// hold by its path id (HMAC-checked) or by the sender's release token; one that matches nothing yet
// waits in the early buffer for its HTLC. An operator names a hold by its id. Stale, duplicate and
// forged releases are logged and counted, never applied.
import type { Logger } from '../ops/log.js';
import type { Clock } from './clock.js';
import type { HoldErrorCode } from './errors.js';
import type { EngineMetrics } from './metrics.js';
import type { HoldSet, HoldSets } from './mpp.js';
import type { NoticeTarget, Notifier } from './notifier.js';
import type { EngineConfig } from './policy.js';
import { EarlyReleaseBuffer, releasePathId, verifyPathId } from './release.js';
import { bytesOfHex, hexOf, type HoldRecord, type HoldStore } from './store.js';

export type AdminResult =
  { ok: true; holdIds: string[] } | { ok: false; error: HoldErrorCode; message: string };

/** What the router borrows from the engine: its release key (known after start) and its death. */
export interface RouterHooks {
  releaseKey(): Uint8Array;
  dead(): boolean;
}

export interface RouterDeps {
  store: Pick<HoldStore, 'byHoldId'>;
  sets: HoldSets;
  /** The engine's active holds by hold id (hex). */
  byHoldId: ReadonlyMap<string, HoldRecord>;
  notifier: Pick<Notifier, 'start'>;
  config: Pick<EngineConfig, 'earlyReleaseMs' | 'earlyReleaseMax'>;
  clock: Clock;
  logger: Logger;
  metrics: EngineMetrics;
}

export class ReleaseRouter {
  private readonly early: EarlyReleaseBuffer;

  constructor(
    private readonly d: RouterDeps,
    private readonly engine: RouterHooks,
  ) {
    this.early = new EarlyReleaseBuffer(
      d.clock,
      d.config.earlyReleaseMs,
      d.config.earlyReleaseMax,
      (_p, why) => {
        this.d.metrics.release('dropped');
        this.d.logger.warn('release dropped: it matched no hold', { why });
      },
    );
  }

  /** Releases waiting for their HTLC. */
  get earlyReleases(): number {
    return this.early.size;
  }

  /** Drop the waiting releases (the engine stops). */
  clear(): void {
    this.early.clear();
  }

  /** A release_held_htlc arrived with this path id. */
  route(pathId: Uint8Array): void {
    const v = verifyPathId(this.engine.releaseKey(), pathId);
    if (v.ok) {
      const idHex = hexOf(v.holdId);
      const hold = this.d.byHoldId.get(idHex);
      const set = hold && this.d.sets.get(hold.setId);
      if (set) {
        this.d.sets.releaseFrom(set, 'path_id');
        return;
      }
      const stored = this.d.store.byHoldId(v.holdId);
      if (stored) {
        this.d.metrics.release('stale');
        this.d.logger.info('release for a finished hold ignored', {
          holdId: idHex,
          state: stored.state,
          key: stored.key,
          payment_hash: stored.paymentHashHex,
          amount_msat: stored.amountInMsat,
        });
      } else {
        this.d.metrics.release('dropped');
        this.d.logger.warn('release dropped: valid path id for an unknown hold', { holdId: idHex });
      }
      return;
    }
    if (v.why === 'length') {
      this.d.metrics.release('forged');
      this.d.logger.warn('release dropped: path id is not 32 bytes', { length: pathId.length });
      return;
    }
    const tokenHex = hexOf(pathId);
    const bySet = this.d.sets.byToken(tokenHex);
    if (bySet) {
      this.d.sets.releaseFrom(bySet, 'release_token');
      return;
    }
    if (v.holdId && (this.d.byHoldId.has(hexOf(v.holdId)) || this.d.store.byHoldId(v.holdId))) {
      this.d.metrics.release('forged');
      this.d.logger.warn('release dropped: path id names a hold but its HMAC does not verify', {
        holdId: hexOf(v.holdId),
      });
      return;
    }
    // Perhaps a sender's release token whose HTLC has not reached us yet.
    this.d.metrics.release('buffered');
    this.d.logger.debug('release matches no hold yet; keeping it for a while');
    this.early.add(tokenHex);
  }

  /**
   * The set is complete: apply an early release, or start telling the recipient. `fresh` when its
   * last part just arrived (not restored at start): only then can an early release be waiting for it.
   */
  complete(set: HoldSet, fresh: boolean): void {
    this.d.sets.clearTimeout(set);
    if (fresh) {
      for (const p of set.parts) {
        const token = p.releaseToken;
        if (token !== undefined && this.early.take(hexOf(token))) {
          this.d.metrics.release('early_applied');
          this.d.logger.info('early release applied', this.d.sets.fields(set));
          set.releaseRequested = true;
        }
      }
    }
    if (set.releaseRequested) {
      this.d.sets.release(set, 'release before completion');
      return;
    }
    this.d.notifier.start(set.id);
  }

  /**
   * What the notifier sends for a set. The reply path id is worked out at each send instead of kept: a
   * retry comes every few minutes at most, and a 32-byte array kept per held set costs ~180 bytes.
   */
  noticeTarget(setId: string): NoticeTarget | undefined {
    const set = this.d.sets.get(setId);
    if (!set || set.closed || set.parts.length === 0) return undefined;
    const leader = set.leader;
    return {
      messagePaths: leader.messagePaths,
      replyPathId: releasePathId(this.engine.releaseKey(), bytesOfHex(leader.holdIdHex)),
    };
  }

  /** An operator releases the set of this hold (only once the set has fully arrived). */
  operatorRelease(holdIdHex: string): AdminResult {
    const found = this.find(holdIdHex);
    if (!found.ok) return found;
    const set = found.set;
    if (!set.complete)
      return { ok: false, error: 'set_incomplete', message: 'the MPP set has not fully arrived' };
    this.d.logger.info('operator release', { holdId: holdIdHex, ...this.d.sets.fields(set) });
    this.d.sets.release(set, 'operator');
    return { ok: true, holdIds: set.parts.map((p) => p.holdIdHex) };
  }

  /** An operator fails the set of this hold back. */
  operatorFail(holdIdHex: string): AdminResult {
    const found = this.find(holdIdHex);
    if (!found.ok) return found;
    this.d.logger.info('operator fail', { holdId: holdIdHex, ...this.d.sets.fields(found.set) });
    this.d.sets.fail(found.set, 'operator');
    return { ok: true, holdIds: found.set.parts.map((p) => p.holdIdHex) };
  }

  private find(
    holdIdHex: string,
  ): { ok: true; set: HoldSet } | { ok: false; error: HoldErrorCode; message: string } {
    if (this.engine.dead()) return { ok: false, error: 'not_active', message: 'engine is stopped' };
    const idHex = holdIdHex.toLowerCase();
    const hold = this.d.byHoldId.get(idHex);
    const set = hold && this.d.sets.get(hold.setId);
    if (set && !set.closed) return { ok: true, set };
    if (hold || (/^[0-9a-f]{32}$/.test(idHex) && this.d.store.byHoldId(Buffer.from(idHex, 'hex')))) {
      return { ok: false, error: 'not_active', message: 'hold is no longer held' };
    }
    return { ok: false, error: 'unknown_hold', message: 'no such hold' };
  }
}
