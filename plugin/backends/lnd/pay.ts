// Trampoline mode: pay onward with LND's own pathfinding (routerrpc.SendPaymentV2), following the
// payment to its end. If the stream breaks (LND restart), TrackPaymentV2 picks the same payment up
// by hash, so one payment hash is never paid twice by us.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { PayRequest, PayResult } from '../../hold/backend.js';
import type { Logger } from '../../ops/log.js';
import type { GrpcError, LndClients } from './grpc.js';
import { serverStream, unary } from './grpc.js';
import type { PaymentMsg } from './messages.js';
import { outKey } from './htlc-map.js';
import { lndError } from './errors.js';
import { Backoff } from './backoff.js';

export interface PayOptions {
  /** Current best height, to turn the absolute maxExpiry into LND's relative cltv_limit. */
  height: () => number;
  timeoutSeconds: number;
  /** True once the backend stops: retry loops end (with an error, never a made-up outcome). */
  stopped: () => boolean;
}

/** TrackPaymentV2's answer for a hash LND never paid ("payment isn't initiated"). */
const NOT_STARTED = /isn't initiated|not found|unknown payment/i;
const ALREADY_EXISTS = /already (exists|paid|in flight)|payment is in transition/i;

export async function payWithLnd(
  c: LndClients,
  req: PayRequest,
  opts: PayOptions,
  log: Logger,
): Promise<PayResult> {
  const r = req.request;
  const cltvLimit = req.maxExpiry - opts.height();
  if (cltvLimit <= 0) return { ok: false, reason: 'no time left before the incoming HTLC expires' };
  const hash = Buffer.from(req.paymentHash);
  const base: Record<string, unknown> = {
    timeout_seconds: opts.timeoutSeconds,
    cltv_limit: cltvLimit,
    no_inflight_updates: true,
  };
  let body: Record<string, unknown>;
  let amount: bigint;
  if (r.invoice !== undefined) {
    // We settle the incoming HTLC with this payment's preimage: paying an invoice for another
    // payment hash would lose the money. LND decodes BOLT 11 for us.
    let decoded: { payment_hash: string; num_msat: string };
    try {
      decoded = await unary(c.lightning, 'DecodePayReq', { pay_req: r.invoice });
    } catch (e) {
      return {
        ok: false,
        reason: `invoice not understood: ${(e as GrpcError).details ?? (e as Error).message}`,
      };
    }
    if (decoded.payment_hash !== hash.toString('hex'))
      return { ok: false, reason: "the invoice's payment hash differs from the HTLC's" };
    const invoiceMsat = BigInt(decoded.num_msat || '0');
    body = { ...base, payment_request: r.invoice };
    if (invoiceMsat === 0n) {
      // An amountless invoice needs the amount; one with an amount must not get a second one.
      if (r.amtToForwardMsat === undefined)
        return { ok: false, reason: 'amountless invoice and no amt_to_forward' };
      body.amt_msat = r.amtToForwardMsat.toString();
      amount = r.amtToForwardMsat;
    } else {
      amount = invoiceMsat;
    }
  } else if (r.outgoingNodeId !== undefined && r.amtToForwardMsat !== undefined) {
    body = {
      ...base,
      // LND takes the hash from the invoice, or from us for keysend (never both).
      payment_hash: hash,
      dest: Buffer.from(r.outgoingNodeId, 'hex'),
      amt_msat: r.amtToForwardMsat.toString(),
      final_cltv_delta: 40,
      dest_custom_records: r.keysendPreimage ? { [outKey(5482373484n)]: Buffer.from(r.keysendPreimage) } : {},
    };
    amount = r.amtToForwardMsat;
  } else {
    return { ok: false, reason: 'trampoline request names neither an invoice nor node id + amount' };
  }
  // Fee limit: whatever maxAmountMsat leaves above the amount paid.
  const feeLimit = req.maxAmountMsat - amount;
  if (feeLimit < 0n) return { ok: false, reason: 'incoming amount does not cover the payment' };
  body.fee_limit_msat = feeLimit.toString();

  const first = await follow(serverStream(c.router, 'SendPaymentV2', body), log);
  if (first.kind === 'final') return first.result;
  if (first.kind === 'error' && !ALREADY_EXISTS.test(first.message)) {
    // The stream may have broken with the payment in flight; tracking tells for sure.
    log.warn('SendPaymentV2 stream failed; tracking the payment', { error: first.message });
  }
  const backoff = new Backoff(TRACK_BACKOFF);
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (opts.stopped()) throw lndError('rpc', 'backend stopping; payment outcome unknown');
    const t = await follow(
      serverStream(c.router, 'TrackPaymentV2', { payment_hash: hash, no_inflight_updates: true }),
      log,
    );
    if (t.kind === 'final') return t.result;
    if (t.kind === 'error' && NOT_STARTED.test(t.message)) {
      return {
        ok: false,
        reason: `payment not started: ${first.kind === 'error' ? first.message : t.message}`,
      };
    }
    await sleep(backoff.next());
  }
  return { ok: false, reason: 'gave up tracking the payment' };
}

/** The outcome of an earlier payment to this hash, waiting while it is in flight; undefined if LND never saw one. */
export async function trackWithLnd(
  c: LndClients,
  paymentHash: Uint8Array,
  log: Logger,
  stopped: () => boolean,
): Promise<PayResult | undefined> {
  const hash = Buffer.from(paymentHash);
  const backoff = new Backoff(TRACK_BACKOFF);
  for (;;) {
    if (stopped()) throw lndError('rpc', 'backend stopping; payment outcome unknown');
    const t = await follow(
      serverStream(c.router, 'TrackPaymentV2', { payment_hash: hash, no_inflight_updates: true }),
      log,
    );
    if (t.kind === 'final') return t.result;
    if (NOT_STARTED.test(t.message)) return undefined;
    log.warn('TrackPaymentV2 failed; retrying', { error: t.message });
    await sleep(backoff.next());
  }
}

/** Waiting between TrackPaymentV2 attempts while a payment's outcome is unknown. */
const TRACK_BACKOFF = { baseMs: 1_000, maxMs: 30_000 };

type Followed = { kind: 'final'; result: PayResult } | { kind: 'error'; message: string };

function follow(s: ClientReadableStream<unknown>, log: Logger): Promise<Followed> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (f: Followed): void => {
      if (done) return;
      done = true;
      s.removeAllListeners('data');
      s.on('error', () => {});
      s.cancel();
      resolve(f);
    };
    s.on('data', (raw: unknown) => {
      const p = raw as PaymentMsg;
      if (p.status === 'SUCCEEDED') {
        const pre = Buffer.from(p.payment_preimage, 'hex');
        if (pre.length === 32) finish({ kind: 'final', result: { ok: true, preimage: new Uint8Array(pre) } });
        else log.error('succeeded payment without a 32-byte preimage', { hash: p.payment_hash });
      } else if (p.status === 'FAILED') {
        finish({ kind: 'final', result: { ok: false, reason: p.failure_reason || 'failed' } });
      }
    });
    s.on('error', (e: GrpcError) => finish({ kind: 'error', message: e.details ?? e.message }));
    s.on('end', () => finish({ kind: 'error', message: 'stream ended without a final state' }));
  });
}
