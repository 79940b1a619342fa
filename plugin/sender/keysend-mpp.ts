// Keysend and multi-part async payments, with the same hold budget as a single invoice payment.
// - Keysend: the sender picks the preimage and puts it in the recipient's final payload as the
//   bLIP-3 keysend record (5482373484); the recipient (LND with --accept-keysend) settles with it.
//   No payment address and no MPP record: LND refuses keysend that claims to be multi-part.
// - MPP: N parts of one invoice, each with the MPP record to the recipient (payment address and the
//   invoice total) and the total in async_hold (our sub-TLV 6) so the LSP holds and releases the
//   parts together. Every part's route is built and checked before any part is sent.
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import type { LndClients } from '../backends/lnd/grpc.js';
import { outKey } from '../backends/lnd/htlc-map.js';
import {
  buildAsyncRoute,
  sendToRoute,
  type AsyncPaymentArgs,
  type AsyncPaymentResult,
  type BuiltAsyncRoute,
} from './lnd-sender.js';
import type { HoldPlan } from './hold-budget.js';
import { senderError } from './errors.js';

/** bLIP-3 keysend record: the sender-provided preimage in the final payload. */
export const KEYSEND_PREIMAGE_TYPE = 5482373484n;
/** What LND's own keysend asks of the final hop (lncli sendpayment --keysend). */
export const DEFAULT_KEYSEND_FINAL_CLTV_DELTA = 40;

export type KeysendArgs = Omit<
  AsyncPaymentArgs,
  'paymentHash' | 'paymentAddr' | 'finalCltvDelta' | 'finalRecords' | 'totalMsat'
> & {
  /** 32 bytes; default a fresh random one. Keep it: it is the proof of payment. */
  preimage?: Uint8Array;
  /** Default 40. */
  finalCltvDelta?: number;
  keysendType?: bigint;
};

export function keysendPreimage(given?: Uint8Array): { preimage: Uint8Array; paymentHash: Uint8Array } {
  const preimage = given ?? new Uint8Array(randomBytes(32));
  if (preimage.length !== 32) throw senderError('bad_argument', 'a keysend preimage is 32 bytes');
  return { preimage, paymentHash: sha256(preimage) };
}

/** Build (and check) the keysend route; nothing is sent. */
export async function buildKeysendRoute(
  c: LndClients,
  a: KeysendArgs,
): Promise<BuiltAsyncRoute & { preimage: Uint8Array; paymentHash: Uint8Array }> {
  const { preimage, paymentHash } = keysendPreimage(a.preimage);
  const built = await buildAsyncRoute(c, {
    ...a,
    paymentHash,
    paymentAddr: undefined,
    finalCltvDelta: a.finalCltvDelta ?? DEFAULT_KEYSEND_FINAL_CLTV_DELTA,
    finalRecords: { [outKey(a.keysendType ?? KEYSEND_PREIMAGE_TYPE)]: preimage },
  });
  return { ...built, preimage, paymentHash };
}

export async function sendKeysendAsync(
  c: LndClients,
  a: KeysendArgs,
  timeoutMs = 24 * 3600_000,
): Promise<AsyncPaymentResult & { plan: HoldPlan; paymentHash: Uint8Array }> {
  const b = await buildKeysendRoute(c, a);
  const r = await sendToRoute(c, b.paymentHash, b.route, b.firstHopRecords, timeoutMs);
  return { ...r, plan: b.plan, paymentHash: b.paymentHash };
}

export type MppArgs = Omit<AsyncPaymentArgs, 'amountMsat' | 'totalMsat' | 'paymentAddr'> & {
  paymentAddr: Uint8Array;
  /** The invoice amount: what the recipient gets in total. */
  totalMsat: bigint;
  /** How many parts (split evenly, the remainder in the first), or the amount of each. */
  parts: number | bigint[];
};

/** The amount of each part: an even split with the remainder in the first, or the list given. */
export function splitParts(totalMsat: bigint, parts: number | bigint[]): bigint[] {
  if (Array.isArray(parts)) {
    if (parts.length === 0 || parts.some((p) => p <= 0n))
      throw senderError('bad_argument', 'every MPP part must be positive');
    const sum = parts.reduce((s, p) => s + p, 0n);
    if (sum !== totalMsat)
      throw senderError('bad_argument', `MPP parts add up to ${sum} msat, the total is ${totalMsat}`);
    return [...parts];
  }
  if (!Number.isSafeInteger(parts) || parts < 1)
    throw senderError('bad_argument', `MPP part count must be a whole number >= 1, got ${parts}`);
  const n = BigInt(parts);
  const each = totalMsat / n;
  if (each <= 0n) throw senderError('bad_argument', `cannot split ${totalMsat} msat into ${parts} parts`);
  return Array.from({ length: parts }, (_, i) => (i === 0 ? each + (totalMsat - each * n) : each));
}

/** Build (and check) every part's route; nothing is sent. */
export async function buildMppRoutes(c: LndClients, a: MppArgs): Promise<BuiltAsyncRoute[]> {
  const amounts = splitParts(a.totalMsat, a.parts);
  const out: BuiltAsyncRoute[] = [];
  for (const amountMsat of amounts) {
    out.push(await buildAsyncRoute(c, { ...a, amountMsat, totalMsat: a.totalMsat }));
  }
  return out;
}

export interface MppResult {
  /** SUCCEEDED when every part did; otherwise the first part that did not. */
  status: AsyncPaymentResult['status'];
  preimage: Uint8Array | undefined;
  failureCode: string | undefined;
  parts: AsyncPaymentResult[];
  plans: HoldPlan[];
}

/** Send built parts together and wait for all of them. */
export async function sendMppParts(
  c: LndClients,
  paymentHash: Uint8Array,
  built: BuiltAsyncRoute[],
  timeoutMs = 24 * 3600_000,
): Promise<MppResult> {
  const settled = await Promise.allSettled(
    built.map((b) => sendToRoute(c, paymentHash, b.route, b.firstHopRecords, timeoutMs)),
  );
  const parts = settled.map((s): AsyncPaymentResult => {
    if (s.status === 'fulfilled') return s.value;
    return { status: 'FAILED', preimage: undefined, failureCode: String(s.reason), route: null };
  });
  const bad = parts.find((p) => p.status !== 'SUCCEEDED');
  return {
    status: bad ? bad.status : 'SUCCEEDED',
    preimage: parts.find((p) => p.preimage)?.preimage,
    failureCode: bad?.failureCode,
    parts,
    plans: built.map((b) => b.plan),
  };
}

export async function sendMppAsync(c: LndClients, a: MppArgs, timeoutMs = 24 * 3600_000): Promise<MppResult> {
  return sendMppParts(c, a.paymentHash, await buildMppRoutes(c, a), timeoutMs);
}
