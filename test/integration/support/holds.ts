// Checks the real-node scenarios make around a hold: the HTLC is (still) held at L, blocks pass
// while the recipient sleeps, the payment settles or fails the way it should. Written against the
// LND recipient side, which the LND and the CLN LSP networks share.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Channel, RegtestNetwork } from '../../../scripts/regtest/network.js';
import { assertNoClosures, htlcsFor, type Invoice } from '../../../scripts/regtest/lsp.js';
import { waitFor } from '../../../scripts/regtest/wait.js';
import type { AsyncPaymentResult } from '../../../plugin/sender/lnd-sender.js';
import { sendAsyncPayment, sendTrampolinePayment } from '../../../plugin/sender/lnd-sender.js';
import type { LndClients } from '../../../plugin/backends/lnd/grpc.js';
import { encodeTrampolineRequest } from '../../../plugin/protocol/trampoline-request.js';
import {
  KEYSEND_PREIMAGE_TYPE,
  keysendPreimage,
  sendKeysendAsync,
  sendMppAsync,
  type MppResult,
} from '../../../plugin/sender/keysend-mpp.js';
import { outKey } from '../../../plugin/backends/lnd/htlc-map.js';
import { hex } from './scenario.js';

export const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** What both networks offer for their LND sender and recipient. */
export interface LndSide {
  lncli<T = Record<string, unknown>>(name: 'sender' | 'recipient', ...args: string[]): Promise<T>;
  channels(name: 'sender'): Promise<Channel[]>;
  height(): Promise<number>;
  mine(n: number): Promise<string[]>;
}

/** A log-line predicate: the line's message is exactly `message`. */
export const said =
  (message: string) =>
  (l: { message: string }): boolean =>
    l.message === message;

export async function recipientInvoiceState(net: LndSide, rHash: string): Promise<string> {
  return (await net.lncli<{ state: string }>('recipient', 'lookupinvoice', rHash)).state;
}

/** Waits until L (LND) holds `parts` HTLCs for `rHash`, all incoming (and from `from`, when given). */
export async function waitHeldAtLsp(
  net: RegtestNetwork,
  rHash: string,
  opts: { from?: Uint8Array; parts?: number } = {},
): Promise<void> {
  const parts = opts.parts ?? 1;
  const from = opts.from === undefined ? undefined : hex(opts.from);
  await waitFor(`${parts} htlc(s) ${rHash.slice(0, 8)} held at L`, async () => {
    const at = await htlcsFor(net, 'lsp', rHash);
    return at.length === parts && at.every((h) => h.incoming && (from === undefined || h.peer === from));
  });
}

/** Exactly `parts` HTLCs for `rHash` at L (LND), incoming from `from`, none forwarded. */
export async function assertStillHeldAtLsp(
  net: RegtestNetwork,
  rHash: string,
  from: Uint8Array,
  parts = 1,
): Promise<void> {
  const at = await htlcsFor(net, 'lsp', rHash);
  assert.deepEqual(
    at.map((h) => [h.peer, h.incoming]),
    Array.from({ length: parts }, () => [hex(from), true]),
    `${parts} HTLC(s) at L, incoming from S, none forwarded`,
  );
}

/** The hold's deadline is the block it started at (now, or one before) plus the sender's budget. */
export async function assertDeadlineIsBudget(
  net: Pick<LndSide, 'height'>,
  failAt: unknown,
  holdBlocks: number,
): Promise<void> {
  const start = Number(failAt) - holdBlocks;
  const h = await net.height();
  assert.ok(start >= h - 1 && start <= h, `deadline ${String(failAt)} is the hold start + ${holdBlocks}`);
}

/** Mines `n` blocks in steps of at most 25 while the recipient sleeps, checking after each step. */
export async function sleepBlocks(
  net: Pick<LndSide, 'mine'>,
  n: number,
  stillHeld: () => Promise<void>,
): Promise<void> {
  for (let left = n; left > 0;) {
    const step = Math.min(25, left);
    await net.mine(step);
    left -= step;
    await stillHeld();
  }
}

/** S has the preimage of `rHash` and R's invoice for it is settled. */
export async function assertSettled(net: LndSide, r: AsyncPaymentResult, rHash: string): Promise<void> {
  assert.equal(r.status, 'SUCCEEDED', `failure ${r.failureCode}`);
  assert.ok(r.preimage, 'sender has the preimage');
  assert.equal(sha256hex(r.preimage), rHash);
  assert.equal(await recipientInvoiceState(net, rHash), 'SETTLED');
}

export function assertFailed(r: AsyncPaymentResult, failureCode: string): void {
  assert.equal(r.status, 'FAILED');
  assert.equal(r.failureCode, failureCode);
}

/** A plain (not async) payment S -> R of `sat`, paid by lncli: it succeeds and R's invoice settles. */
export async function payPlainInvoice(net: LndSide, sat: number): Promise<void> {
  const inv = await net.lncli<Invoice>('recipient', 'addinvoice', `--amt=${sat}`);
  const r = await net.lncli<{ status: string }>(
    'sender',
    'payinvoice',
    '--force',
    '--json',
    inv.payment_request,
  );
  assert.equal(r.status, 'SUCCEEDED');
  assert.equal(await recipientInvoiceState(net, inv.r_hash), 'SETTLED');
}

/**
 * S pays `inv` through L by trampoline: one HTLC over its channel to L, addressed to L's virtual
 * channel 1x1x1, carrying the invoice for L to pay on release. `amountMsat` leaves room for the fees.
 */
export async function payTrampolineInvoice(
  net: LndSide,
  sender: LndClients,
  a: { lsp: Uint8Array; inv: Invoice; amountMsat: bigint; messagePath: Uint8Array },
): Promise<AsyncPaymentResult> {
  const chan = (await net.channels('sender')).find((c) => c.remote_pubkey === hex(a.lsp))!;
  return sendTrampolinePayment(sender, {
    paymentHash: new Uint8Array(Buffer.from(a.inv.r_hash, 'hex')),
    amountMsat: a.amountMsat,
    // lncli 0.21 prints the 32-byte channel id as chan_id and the short one as scid.
    firstChanId: (chan as { scid?: string }).scid ?? chan.chan_id,
    lsp: a.lsp,
    virtualChanId: ((1n << 40n) | (1n << 16n) | 1n).toString(),
    cltvBudget: 400,
    currentHeight: await net.height(),
    trampolineRequest: encodeTrampolineRequest({ kind: 'invoice', invoice: a.inv.payment_request }),
    asyncHold: { messagePaths: [a.messagePath] },
  });
}

/**
 * S pays the last of `hops` by source-routed keysend with a fresh preimage, held at L for the
 * recipient behind `messagePath`. The result's rejection is caught here, so callers await it later.
 */
export function payKeysend(
  sender: LndClients,
  a: { hops: Uint8Array[]; amountMsat: bigint; messagePath: Uint8Array; holdBlocks?: number },
): { hash: string; result: Promise<AsyncPaymentResult> } {
  const { preimage, paymentHash } = keysendPreimage();
  const result = sendKeysendAsync(sender, {
    preimage,
    amountMsat: a.amountMsat,
    hops: a.hops,
    asyncHold: { messagePaths: [a.messagePath] },
    ...(a.holdBlocks !== undefined ? { holdBlocks: a.holdBlocks } : {}),
  });
  result.catch(() => {});
  return { hash: hex(paymentHash), result };
}

/**
 * S pays R's invoice `inv` source-routed over `hops`, held at L for the recipient behind
 * `messagePath`, L allowed `holdBlocks`. The result's rejection is caught here, as in payKeysend.
 */
export function payAsyncInvoice(
  sender: LndClients,
  a: { hops: Uint8Array[]; inv: Invoice; amountMsat: bigint; messagePath: Uint8Array; holdBlocks: number },
): Promise<AsyncPaymentResult> {
  const result = sendAsyncPayment(sender, {
    paymentHash: new Uint8Array(Buffer.from(a.inv.r_hash, 'hex')),
    paymentAddr: new Uint8Array(Buffer.from(a.inv.payment_addr, 'hex')),
    amountMsat: a.amountMsat,
    finalCltvDelta: 80,
    hops: a.hops,
    asyncHold: { messagePaths: [a.messagePath] },
    holdBlocks: a.holdBlocks,
  });
  result.catch(() => {});
  return result;
}

/**
 * S pays all of R's invoice `inv` (`totalMsat`) in `parts` parts, one `total_amount_msat` in each,
 * source-routed over `hops` and held at L for the recipient behind `messagePath`. The result's
 * rejection is caught here, as in payKeysend.
 */
export function payMppInvoice(
  sender: LndClients,
  a: {
    hops: Uint8Array[];
    inv: Invoice;
    totalMsat: bigint;
    parts: number;
    messagePath: Uint8Array;
    holdBlocks?: number;
  },
): Promise<MppResult> {
  const result = sendMppAsync(sender, {
    paymentHash: new Uint8Array(Buffer.from(a.inv.r_hash, 'hex')),
    paymentAddr: new Uint8Array(Buffer.from(a.inv.payment_addr, 'hex')),
    totalMsat: a.totalMsat,
    parts: a.parts,
    finalCltvDelta: 80,
    hops: a.hops,
    asyncHold: { messagePaths: [a.messagePath] },
    ...(a.holdBlocks !== undefined ? { holdBlocks: a.holdBlocks } : {}),
  });
  result.catch(() => {});
  return result;
}

/**
 * S pays `recipient` through L by trampoline keysend: one HTLC over its channel to L carrying a fresh
 * preimage for L (the sender's, so S learns it on settle) to pay `recipient` by keysend on release.
 * The result's rejection is caught here, so the caller may await it later.
 */
export async function payTrampolineKeysend(
  net: Pick<LndSide, 'channels'>,
  sender: LndClients,
  a: { lsp: Uint8Array; recipient: Uint8Array; deliverMsat: bigint; messagePath: Uint8Array },
): Promise<{ hash: string; result: Promise<AsyncPaymentResult> }> {
  const { preimage, paymentHash } = keysendPreimage();
  const chan = (await net.channels('sender')).find((c) => c.remote_pubkey === hex(a.lsp))!;
  const result = sendTrampolinePayment(sender, {
    paymentHash,
    deliverMsat: a.deliverMsat,
    firstChanId: (chan as { scid?: string }).scid ?? chan.chan_id,
    lsp: a.lsp,
    trampolineRequest: encodeTrampolineRequest({
      kind: 'keysend',
      outgoingNodeId: a.recipient,
      amtToForward: a.deliverMsat,
    }),
    lspRecords: { [outKey(KEYSEND_PREIMAGE_TYPE)]: preimage },
    asyncHold: { messagePaths: [a.messagePath] },
  });
  result.catch(() => {});
  return { hash: hex(paymentHash), result };
}

/** No channel anywhere in the LND network closed or closing. */
export async function assertChannelsOpen(net: RegtestNetwork): Promise<void> {
  assert.deepEqual(await assertNoClosures(net), []);
}
