// A simulated host and chain, in-process, implementing the engine's Backend contract. It behaves like
// CLN/LND toward a plugin: each HTLC stays pending until answered, unanswered HTLCs are shown again
// on (re)start, and it records every verdict so tests can check "exactly one, never two different".
import { sha256 } from '@noble/hashes/sha2.js';
import {
  SupersededError,
  type Backend,
  type HeldHtlcNotice,
  type HostEvents,
  type InterceptedHtlc,
  type Msat,
  type PayRequest,
  type PayResult,
  type Verdict,
} from '../../plugin/hold/backend.js';

export interface VerdictSeen {
  verdict: Verdict;
  height: number;
}

export interface SimHtlc {
  htlc: InterceptedHtlc;
  verdicts: VerdictSeen[];
  offers: number;
  firstOfferHeight: number;
  lastOfferHeight: number;
}

export interface SimHostOptions {
  height?: number;
  releaseKey?: Uint8Array;
  /** Whether the host can look up earlier payments (Backend.trackPayment). */
  track?: boolean;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class SimHost implements Backend {
  height: number;
  events: HostEvents | undefined;
  readonly key: Uint8Array;
  readonly htlcs = new Map<string, SimHtlc>();
  readonly notices: HeldHtlcNotice[] = [];
  /** Anything a real host would treat as a protocol breach. Tests assert it stays empty. */
  readonly violations: string[] = [];
  /** Payment hash (hex) -> preimage, for payments the simulated network can complete. */
  readonly preimages = new Map<string, Uint8Array>();
  /** Payment hash (hex) -> whether paying it succeeds (default: when the preimage is known). */
  readonly payOutcome = new Map<string, boolean>();
  readonly payments = new Map<string, { calls: number; result: PayResult }>();
  readonly payRequests: PayRequest[] = [];
  /** When set, pay() never resolves (a payment stuck in flight). */
  hangPayments = false;
  trackPayment?: (paymentHash: Uint8Array) => Promise<PayResult | undefined>;
  starts = 0;

  constructor(opts: SimHostOptions = {}) {
    this.height = opts.height ?? 1000;
    this.key = opts.releaseKey ?? new Uint8Array(32).fill(7);
    if (opts.track !== false) {
      this.trackPayment = async (h) => this.payments.get(hex(h))?.result;
    }
  }

  // ---- Backend ----

  async start(events: HostEvents): Promise<void> {
    this.events = events;
    this.starts += 1;
    this.replay();
  }

  async stop(): Promise<void> {
    this.events = undefined;
  }

  async nodeId(): Promise<string> {
    return '02' + '11'.repeat(32);
  }

  async currentHeight(): Promise<number> {
    return this.height;
  }

  async releaseKey(): Promise<Uint8Array> {
    return this.key;
  }

  async ecdh(point: Uint8Array): Promise<Uint8Array> {
    return sha256(point);
  }

  async sendHeldHtlcAvailable(notice: HeldHtlcNotice): Promise<void> {
    this.notices.push(notice);
  }

  async pay(req: PayRequest): Promise<PayResult> {
    this.payRequests.push(req);
    const k = hex(req.paymentHash);
    const prev = this.payments.get(k);
    if (prev) {
      this.violations.push(`payment ${k.slice(0, 8)} paid twice`);
      return prev.result;
    }
    const pre = this.preimages.get(k);
    const ok = this.payOutcome.get(k) ?? pre !== undefined;
    const result: PayResult = ok && pre ? { ok: true, preimage: pre } : { ok: false, reason: 'no route' };
    this.payments.set(k, { calls: 1, result });
    if (this.hangPayments) return new Promise<PayResult>(() => {});
    return result;
  }

  // ---- driving the simulation ----

  /** A new HTLC reaches the host, which shows it to the plugin. */
  offer(htlc: InterceptedHtlc): void {
    if (this.htlcs.has(htlc.key)) throw new Error(`duplicate sim htlc ${htlc.key}`);
    this.htlcs.set(htlc.key, {
      htlc,
      verdicts: [],
      offers: 0,
      firstOfferHeight: this.height,
      lastOfferHeight: this.height,
    });
    this.show(htlc.key);
  }

  /** Show every unanswered HTLC again, as a host does after a restart or reconnect. */
  replay(): void {
    for (const [key, h] of this.htlcs) if (h.verdicts.length === 0) this.show(key);
  }

  mine(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.height += 1;
      this.events?.block(this.height);
    }
  }

  release(pathId: Uint8Array): void {
    this.events?.release(pathId);
  }

  unresolved(): string[] {
    return [...this.htlcs].filter(([, h]) => h.verdicts.length === 0).map(([k]) => k);
  }

  verdictOf(key: string): Verdict | undefined {
    return this.htlcs.get(key)?.verdicts[0]?.verdict;
  }

  private show(key: string): void {
    const rec = this.htlcs.get(key);
    const events = this.events;
    if (!rec || !events) return;
    rec.offers += 1;
    rec.lastOfferHeight = this.height;
    events.htlc(rec.htlc).then(
      (v) => {
        if (rec.verdicts.length > 0) this.violations.push(`${key}: second verdict ${JSON.stringify(v.kind)}`);
        rec.verdicts.push({ verdict: v, height: this.height });
      },
      (err: unknown) => {
        if (!(err instanceof SupersededError)) this.violations.push(`${key}: offer rejected: ${String(err)}`);
      },
    );
  }
}

let seq = 0;

export interface HtlcSpec {
  key?: string;
  preimage?: Uint8Array;
  amountInMsat?: Msat;
  amountOutMsat?: Msat | undefined;
  incomingExpiry?: number;
  outgoingExpiry?: number | undefined;
  autoFailHeight?: number;
  peer?: string | undefined;
  channel?: string;
  holdFlag?: boolean;
  async?: boolean;
  messagePaths?: Uint8Array[];
  releaseToken?: Uint8Array;
  maxHoldBlocks?: number;
  totalMsat?: Msat;
  trampoline?: boolean;
  amtToForwardMsat?: Msat;
}

/** Build an HTLC for the sim host; registers its preimage so trampoline payments can succeed. */
export function makeHtlc(host: SimHost, spec: HtlcSpec = {}): InterceptedHtlc {
  seq += 1;
  const preimage = spec.preimage ?? sha256(new TextEncoder().encode(`preimage ${seq} ${Math.random()}`));
  const paymentHash = sha256(preimage);
  host.preimages.set(hex(paymentHash), preimage);
  const isAsync = spec.async ?? true;
  return {
    key: spec.key ?? `chan${seq}/0`,
    incomingChannel: spec.channel ?? '100x1x0',
    incomingPeer: 'peer' in spec ? spec.peer : '02' + 'aa'.repeat(32),
    paymentHash,
    amountInMsat: spec.amountInMsat ?? 100_000n,
    amountOutMsat: 'amountOutMsat' in spec ? spec.amountOutMsat : spec.trampoline ? undefined : 99_000n,
    incomingExpiry: spec.incomingExpiry ?? host.height + 200,
    outgoingExpiry:
      'outgoingExpiry' in spec ? spec.outgoingExpiry : spec.trampoline ? undefined : host.height + 160,
    outgoingChannel: undefined,
    autoFailHeight: spec.autoFailHeight,
    holdFlag: spec.holdFlag ?? isAsync,
    asyncHold: isAsync
      ? {
          messagePaths: spec.messagePaths ?? [new TextEncoder().encode(`path-${seq}`)],
          releaseToken: spec.releaseToken,
          maxHoldBlocks: spec.maxHoldBlocks,
          totalMsat: spec.totalMsat,
        }
      : undefined,
    trampoline: spec.trampoline
      ? {
          invoice: 'lnbcrt1simulated',
          amtToForwardMsat: spec.amtToForwardMsat,
          outgoingNodeId: undefined,
          keysendPreimage: undefined,
        }
      : undefined,
  };
}
