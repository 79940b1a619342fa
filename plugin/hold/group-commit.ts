// Group commit: everything the engine decides within one event-loop turn is written in one store
// transaction, and only once that commits do its verdicts and other host calls run. HTLCs new to
// memory are collected over the same turn and their keys looked up in the store with one query.
import type { Logger } from '../ops/log.js';
import type { InterceptedHtlc } from './backend.js';
import type { Clock } from './clock.js';
import type { HoldStore } from './store.js';

/** What the batch borrows from the engine: its intake, its crash point and its death. */
export interface CommitHooks {
  /** Take in one HTLC of the tick; `maybeStored` false when the store is known not to have its key. */
  takeIn(h: InterceptedHtlc, maybeStored: boolean): void;
  /** Test hook: true kills the engine before this store write. */
  crashBeforeWrite(): boolean;
  /** Whether the engine has died: nothing more is written or run. */
  dead(): boolean;
  /** Kill the engine (it calls clear()). */
  die(why: string): void;
  /** The batch committed and its after-steps ran. */
  committed(): void;
}

class CrashAbort extends Error {}

export class GroupCommit {
  private writes: (() => void)[] = [];
  /** HTLCs offered this tick and not yet taken in (see takeFresh). */
  private fresh: InterceptedHtlc[] = [];
  private afters: (() => void)[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Pick<HoldStore, 'transaction' | 'storedKeys'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly engine: CommitHooks,
  ) {}

  /** Whether anything waits for the next flush. */
  get pending(): boolean {
    return this.writes.length > 0 || this.afters.length > 0 || this.fresh.length > 0;
  }

  /** An HTLC new to memory: whether the store knows it is asked for the whole tick at once. */
  offer(h: InterceptedHtlc): void {
    this.fresh.push(h);
    this.schedule();
  }

  /** Queue a store write and/or a step to run once the batch has committed. */
  enqueue(write: (() => void) | undefined, after?: () => void): void {
    if (this.engine.dead()) return;
    if (write) this.writes.push(write);
    if (after) this.afters.push(after);
    this.schedule();
  }

  /** Drop everything queued, as a killed process would: pending verdicts are never sent. */
  clear(): void {
    this.writes = [];
    this.afters = [];
    this.fresh = [];
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.defer(() => this.flush());
    }
  }

  /** Take in the HTLCs offered this tick that memory did not know, looking them up in the store together. */
  private takeFresh(): void {
    const fresh = this.fresh;
    if (fresh.length === 0) return;
    this.fresh = [];
    let stored: ReadonlySet<string> | undefined;
    try {
      stored = this.store.storedKeys(fresh.map((h) => h.key));
    } catch (err) {
      this.logger.error('hold store lookup failed; looking up one by one', { error: String(err) });
    }
    for (const h of fresh) {
      if (this.engine.dead()) return;
      this.engine.takeIn(h, stored === undefined || stored.has(h.key));
    }
  }

  flush(): void {
    if (this.engine.dead()) return;
    // Still marked scheduled: what intake enqueues here joins this batch instead of the next.
    this.takeFresh();
    this.scheduled = false;
    if (this.engine.dead()) return;
    const writes = this.writes;
    const afters = this.afters;
    this.writes = [];
    this.afters = [];
    try {
      if (writes.length > 0) {
        this.store.transaction(() => {
          for (const w of writes) {
            if (this.engine.crashBeforeWrite()) throw new CrashAbort();
            w();
          }
        });
      }
    } catch (err) {
      if (err instanceof CrashAbort) {
        this.engine.die('crash point: write');
        return;
      }
      // Nothing of this batch is stored, so nothing of it may reach the host. Stop answering: the host
      // keeps every HTLC, and a restart resumes from the last commit.
      this.logger.error('hold store commit failed; engine stops', { error: String(err) });
      this.engine.die('store failure');
      return;
    }
    for (const a of afters) {
      if (this.engine.dead()) return;
      a();
    }
    this.engine.committed();
  }
}
