// Trampoline mode: once a set is released we pay the recipient ourselves, then settle the held parts
// with the preimage or fail them back. The attempt is stored before the host hears of it, so a
// restart looks the payment up instead of paying twice.
import { sha256 } from '@noble/hashes/sha2.js';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../ops/log.js';
import type { Backend, PayRequest, PayResult, Verdict } from './backend.js';
import type { Clock } from './clock.js';
import type { HoldSet } from './mpp.js';
import { trampolineFee, type EngineConfig } from './policy.js';
import { assertTransition, type HoldState } from './state.js';
import { bytesOfHex, type HoldRecord, type HoldStore } from './store.js';

/** What the payments borrow from the engine: its group commit, its verdicts and its crash points. */
export interface PaymentHooks {
  /** Queue a store write and/or a step to run once the batch has committed. */
  enqueue(write: (() => void) | undefined, after?: () => void): void;
  /** Move a hold to a final state; its verdict goes out after the transition commits. */
  finish(hold: HoldRecord, to: HoldState, verdict: Verdict): void;
  /** Crash-point hook: false when the engine has died and nothing may reach the host. */
  mayCallHost(step: 'pay' | 'track'): boolean;
  /** Whether the engine has died: a late host answer then changes nothing. */
  dead(): boolean;
  /** What every log line about a hold carries (payment hash, HTLC keys, amount, blocks left). */
  fields(set: HoldSet): Record<string, unknown>;
}

export class TrampolinePayments {
  constructor(
    private readonly backend: Pick<Backend, 'pay' | 'trackPayment'>,
    private readonly store: Pick<HoldStore, 'updateHold' | 'insertPayment' | 'finishPayment'>,
    private readonly config: EngineConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly engine: PaymentHooks,
  ) {}

  private payRequestFor(set: HoldSet): PayRequest | undefined {
    const req = set.leader.trampoline;
    if (!req) return undefined;
    const incoming = set.incomingMsat;
    return {
      paymentHash: bytesOfHex(set.leader.paymentHashHex),
      request: req,
      maxAmountMsat: incoming - trampolineFee(this.config, incoming),
      maxExpiry: Math.min(...set.parts.map((p) => p.incomingExpiry)) - this.config.safetyBlocks,
    };
  }

  /** The set was released: pay onward, or fail it back when the incoming cannot cover amount and fee. */
  startPayment(set: HoldSet): void {
    const req = this.payRequestFor(set);
    if (!req) return;
    const amt = req.request.amtToForwardMsat;
    if (req.maxAmountMsat <= 0n || (amt !== undefined && amt > req.maxAmountMsat)) {
      this.logger.warn('trampoline payment refused: incoming does not cover amount and fee', {
        ...this.engine.fields(set),
        incoming: set.incomingMsat,
        amtToForward: amt,
      });
      for (const p of set.parts)
        this.engine.finish(p, 'failed', { kind: 'fail', reason: 'payment_failed', trampoline: true });
      return;
    }
    const now = this.clock.now();
    for (const p of set.parts) {
      assertTransition(p.state, 'paying');
      p.state = 'paying';
      p.updatedMs = now;
      this.engine.enqueue(() => this.store.updateHold(p));
    }
    // The attempt is on disk before the host hears of it: a restart looks it up, never pays twice.
    this.engine.enqueue(
      () => this.store.insertPayment(set.id, req.paymentHash, now),
      () => this.callPay(set, req),
    );
  }

  private callPay(set: HoldSet, req: PayRequest): void {
    if (!this.engine.mayCallHost('pay')) return;
    this.backend.pay(req).then(
      (r) => this.onPaid(set, r),
      (err: unknown) => {
        // A thrown call does not say the payment failed: it may be in flight. Ask the host if we can.
        this.logger.error('pay call failed', { ...this.engine.fields(set), error: String(err) });
        if (this.backend.trackPayment) this.track(set, req, false);
        else this.onPaid(set, { ok: false, reason: `pay call failed: ${String(err)}` });
      },
    );
  }

  /** After a restart, for a set found paying: learn the earlier attempt's outcome. */
  resumePayment(set: HoldSet): void {
    const req = this.payRequestFor(set);
    if (!req) return;
    if (this.backend.trackPayment) {
      this.track(set, req, true);
    } else {
      this.logger.warn(
        'backend cannot look up payments; paying again and relying on the host to refuse a duplicate',
        this.engine.fields(set),
      );
      this.callPay(set, req);
    }
  }

  private track(set: HoldSet, req: PayRequest, payIfUnknown: boolean): void {
    const track = this.backend.trackPayment?.bind(this.backend);
    if (!track || !this.engine.mayCallHost('track')) return;
    this.logger.info('looking up the onward payment at the host', {
      ...this.engine.fields(set),
      after: payIfUnknown ? 'restart' : 'pay call failed',
    });
    track(req.paymentHash).then(
      (r) => {
        if (r !== undefined) this.onPaid(set, r);
        else if (payIfUnknown) this.callPay(set, req);
        else this.onPaid(set, { ok: false, reason: 'payment never reached the host' });
      },
      (err: unknown) => {
        // Unknown outcome: keep the hold paying (the operator can look) rather than risk paying twice.
        this.logger.error('payment lookup failed; hold stays in paying', {
          ...this.engine.fields(set),
          error: String(err),
        });
      },
    );
  }

  private onPaid(set: HoldSet, r: PayResult): void {
    if (this.engine.dead() || !set.parts.every((p) => p.state === 'paying')) return;
    const hash = bytesOfHex(set.leader.paymentHashHex);
    let result = r;
    if (r.ok && (r.preimage.length !== 32 || !timingSafeEqual(sha256(r.preimage), hash))) {
      this.logger.error(
        'host returned a preimage that does not match the payment hash',
        this.engine.fields(set),
      );
      result = { ok: false, reason: 'preimage mismatch' };
    }
    const now = this.clock.now();
    if (result.ok) {
      const preimage = result.preimage;
      this.engine.enqueue(() => this.store.finishPayment(set.id, 'succeeded', preimage, undefined, now));
      this.logger.info('trampoline payment succeeded; settling', this.engine.fields(set));
      for (const p of set.parts) this.engine.finish(p, 'settled', { kind: 'settle', preimage });
    } else {
      const reason = result.reason;
      this.engine.enqueue(() => this.store.finishPayment(set.id, 'failed', undefined, reason, now));
      this.logger.warn('trampoline payment failed', { ...this.engine.fields(set), reason });
      for (const p of set.parts)
        this.engine.finish(p, 'failed', { kind: 'fail', reason: 'payment_failed', trampoline: true });
    }
  }
}
