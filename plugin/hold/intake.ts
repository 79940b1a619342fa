// Intake: where every HTLC the host shows the engine is taken in. A replay gets back the verdict
// already taken; a new HTLC is held, or refused with the first reason it cannot be (refusal()). Either
// way its record is queued for the store before its verdict, which goes out only after the commit.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../ops/log.js';
import type { FailReason, Height, InterceptedHtlc, Verdict } from './backend.js';
import type { Clock } from './clock.js';
import { failAt, holdable } from './deadline.js';
import type { GroupCommit } from './group-commit.js';
import type { EngineMetrics } from './metrics.js';
import { setIdFor, type HoldSet, type HoldSets } from './mpp.js';
import type { CapTracker, EngineConfig } from './policy.js';
import { hexOf, holdRecord, type HoldRecord, type HoldStore } from './store.js';

/** What intake borrows from the engine: its height, its verdicts and the next step of a full set. */
export interface IntakeHooks {
  height(): Height;
  /** Whether the engine has died: a failed intake is then left with the host. */
  dead(): boolean;
  /** Hand a verdict to the host's waiting htlc() call (run only after the commit). */
  deliver(key: string, verdict: Verdict): void;
  /** After commit: the store answers replays of this hold from now on. */
  forget(hold: HoldRecord): void;
  /** A new part made its set complete: apply an early release, or start telling the recipient. */
  complete(set: HoldSet): void;
}

export interface IntakeDeps {
  store: Pick<HoldStore, 'byKey' | 'insertHold' | 'setFinished'>;
  commit: Pick<GroupCommit, 'enqueue'>;
  sets: HoldSets;
  caps: CapTracker;
  /** The engine's memory of holds, by HTLC key and by hold id (hex); intake adds to both. */
  byKey: Map<string, HoldRecord>;
  byHoldId: Map<string, HoldRecord>;
  config: EngineConfig;
  clock: Clock;
  logger: Logger;
  metrics: EngineMetrics;
}

interface Refusal {
  reason: FailReason;
  why: string;
  fields?: Record<string, unknown>;
}

export class Intake {
  constructor(
    private readonly d: IntakeDeps,
    private readonly engine: IntakeHooks,
  ) {}

  /**
   * Take in one HTLC; whatever goes wrong, it ends in a verdict (or, if even the refusal fails, stays
   * with the host). `maybeStored` false: the store is known not to have this key.
   */
  takeIn(h: InterceptedHtlc, maybeStored: boolean): void {
    try {
      this.attach(h, maybeStored);
    } catch (err) {
      this.d.logger.error('htlc intake failed', { key: h.key, error: String(err) });
      if (!this.engine.dead()) this.refuseBroken(h);
    }
  }

  /** Mark a hold held and put it in memory, its caps and its MPP set (recovery uses this too). */
  admit(hold: HoldRecord): HoldSet {
    hold.state = 'held';
    this.d.byKey.set(hold.key, hold);
    this.d.byHoldId.set(hold.holdIdHex, hold);
    hold.peer = this.d.caps.add(hold.peer, hold.amountInMsat);
    return this.d.sets.join(hold);
  }

  /** A replay gets the decision already taken; an HTLC new to memory and store goes to intake(). */
  private attach(h: InterceptedHtlc, maybeStored: boolean): void {
    const mem = this.d.byKey.get(h.key);
    const known = mem ?? (maybeStored ? this.d.store.byKey(h.key) : undefined);
    if (known) {
      if (known.paymentHashHex !== hexOf(h.paymentHash)) {
        this.d.logger.error('replayed htlc differs from the stored one; keeping the stored decision', {
          key: h.key,
        });
      }
      const v = known.verdict;
      // Delivered after the next commit, so a verdict still in the open batch is durable first.
      if (v !== undefined) this.d.commit.enqueue(undefined, () => this.engine.deliver(h.key, v));
      else if (!mem) this.d.logger.error('stored active hold was not loaded', { key: h.key });
      return;
    }
    this.intake(h);
  }

  private intake(h: InterceptedHtlc): void {
    const now = this.d.clock.now();
    const height = this.engine.height();
    const holdIdHex = hexOf(newHoldId(now));
    const hashHex = hexOf(h.paymentHash);
    const total = h.asyncHold?.totalMsat;
    const maxHold = Math.min(this.d.config.maxHoldBlocks, h.asyncHold?.maxHoldBlocks ?? Infinity);
    const hold = holdRecord(h, {
      holdIdHex,
      setId: setIdFor(hashHex, holdIdHex, total),
      paymentHashHex: hashHex,
      state: 'received',
      holdStart: height,
      failAt: failAt(
        {
          holdStart: height,
          maxHoldBlocks: maxHold,
          incomingExpiry: h.incomingExpiry,
          outgoingExpiry: h.outgoingExpiry,
          autoFailHeight: h.autoFailHeight,
        },
        this.d.config,
      ),
      createdMs: now,
      updatedMs: now,
      verdict: undefined,
    });
    this.d.byKey.set(h.key, hold);

    const existing = this.d.sets.get(hold.setId);
    const refusal = this.refusal(hold, h, existing);
    if (refusal) {
      this.refuse(hold, h, refusal.reason, refusal.why, refusal.fields);
      return;
    }
    const wasComplete = existing !== undefined && existing.parts.length > 0 && existing.complete;
    const set = this.admit(hold);
    this.d.commit.enqueue(() => this.d.store.insertHold(hold, h));
    this.d.logger.info('holding htlc', {
      ...this.holdFields(hold),
      holdId: holdIdHex,
      setId: set.id,
      failAt: hold.failAt,
    });
    if (wasComplete) return;
    if (set.complete) this.engine.complete(set);
    else if (set.timeout === undefined) this.d.sets.armTimeout(set, this.d.config.mppTimeoutMs);
  }

  /** Why this HTLC must not be held (the first check it fails), or undefined to hold it. */
  private refusal(hold: HoldRecord, h: InterceptedHtlc, set: HoldSet | undefined): Refusal | undefined {
    const a = h.asyncHold;
    if (!a) return { reason: 'not_holdable', why: 'hold_htlc without async_hold: nothing could release it' };
    if (a.messagePaths.length === 0 && a.releaseToken === undefined) {
      return { reason: 'not_holdable', why: 'async_hold has neither message paths nor a release token' };
    }
    if (a.releaseToken !== undefined && a.releaseToken.length !== 32) {
      return { reason: 'not_holdable', why: 'release token is not 32 bytes' };
    }
    const height = this.engine.height();
    if (!holdable(hold.failAt, height, this.d.config.minHoldBlocks)) {
      return {
        reason: 'not_holdable',
        why: 'deadline too close to hold',
        fields: { failAt: hold.failAt, height, minHoldBlocks: this.d.config.minHoldBlocks },
      };
    }
    const t = h.trampoline;
    if (t && (t.invoice === undefined) === (t.outgoingNodeId === undefined)) {
      return {
        reason: 'not_holdable',
        why: 'trampoline_request needs exactly one of invoice or outgoing_node_id',
      };
    }
    if (!set && a.totalMsat !== undefined && this.d.store.setFinished(hold.setId)) {
      return { reason: 'not_holdable', why: 'MPP set already released or failed' };
    }
    if (set) {
      if (set.closed) return { reason: 'not_holdable', why: 'MPP set already released or failed' };
      if (set.totalMsat !== a.totalMsat)
        return { reason: 'not_holdable', why: 'MPP part disagrees on the set total' };
      if (set.trampoline !== (t !== undefined)) {
        return { reason: 'not_holdable', why: 'MPP parts mix trampoline and forward mode' };
      }
    }
    const cap = this.d.caps.check(hold.peer, h.amountInMsat);
    if (cap) {
      this.d.metrics.capTripped(cap);
      return { reason: 'cap_exceeded', why: 'hold cap exceeded', fields: { cap } };
    }
    return undefined;
  }

  private refuse(
    hold: HoldRecord,
    h: InterceptedHtlc,
    reason: FailReason,
    why: string,
    fields: Record<string, unknown> = {},
  ): void {
    this.d.logger.warn(`htlc refused: ${why}`, { ...this.holdFields(hold), reason, ...fields });
    this.d.metrics.holdFailed?.(reason);
    // A refused part never joined its MPP set: stored alone, it cannot mark the set finished.
    hold.setId = `one:${hold.holdIdHex}`;
    hold.state = 'failed';
    hold.verdict = { kind: 'fail', reason, trampoline: hold.trampoline !== undefined };
    this.d.metrics.holdOutcome('refused');
    const v = hold.verdict;
    this.d.commit.enqueue(
      () => this.d.store.insertHold(hold, h),
      () => {
        this.engine.deliver(hold.key, v);
        this.engine.forget(hold);
      },
    );
  }

  /** Intake threw on input we did not foresee: record a refusal so a replay gets the same answer. */
  private refuseBroken(h: InterceptedHtlc): void {
    try {
      const now = this.d.clock.now();
      const height = this.engine.height();
      const holdIdHex = hexOf(randomBytes(16));
      const hold = holdRecord(h, {
        holdIdHex,
        setId: `one:${holdIdHex}`,
        paymentHashHex: '',
        state: 'received',
        holdStart: height,
        failAt: height,
        createdMs: now,
        updatedMs: now,
        verdict: undefined,
      });
      this.d.byKey.set(h.key, hold);
      this.refuse(hold, h, 'not_holdable', 'malformed htlc');
    } catch (err) {
      this.d.logger.error('could not refuse malformed htlc; leaving it with the host', {
        key: h.key,
        error: String(err),
      });
    }
  }

  /** What an operator correlates a hold with (never a preimage, key or path secret). */
  private holdFields(h: HoldRecord): Record<string, unknown> {
    return {
      key: h.key,
      payment_hash: h.paymentHashHex,
      amount_msat: h.amountInMsat,
      blocks_left: h.failAt - this.engine.height(),
    };
  }
}

// Hold ids: a 6-byte millisecond timestamp, then 10 random bytes. Time order makes each insert an
// append to the primary-key and set indexes instead of a write to a random page (random ids halved
// intake on a 100,000-hold store); the release path's HMAC, not the id, is what cannot be guessed.
// The random bytes come from one pooled draw: a call into the CSPRNG per HTLC cost more than the rest
// of taking it in.
let idPool = new Uint8Array(0);
let idPos = 0;
function newHoldId(nowMs: number): Uint8Array {
  if (idPos + 16 > idPool.length) {
    idPool = new Uint8Array(randomBytes(16 * 512));
    idPos = 0;
  }
  idPos += 16;
  // A view, not a copy: 16 bytes with their own buffer cost ~180 bytes of heap per hold.
  const id = idPool.subarray(idPos - 16, idPos);
  const ms = Math.max(0, Math.floor(nowMs));
  id[0] = Math.floor(ms / 2 ** 40) & 0xff;
  id[1] = Math.floor(ms / 2 ** 32) & 0xff;
  id[2] = (ms >>> 24) & 0xff;
  id[3] = (ms >>> 16) & 0xff;
  id[4] = (ms >>> 8) & 0xff;
  id[5] = ms & 0xff;
  return id;
}
