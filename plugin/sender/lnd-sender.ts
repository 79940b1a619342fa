// The sender SDK on LND: pays through an async-capable LSP by building the route itself
// (routerrpc.BuildRoute), marking the HTLC async for the LSP, and sending it with SendToRouteV2:
// - `hold_htlc` (75537, empty) in update_add_htlc, through first_hop_custom_records;
// - `async_hold` in the LSP's hop payload (hop 0 custom_records): the recipient's message paths
//   and/or a release token, and an optional max_hold_blocks.
// SendToRouteV2 returns only when the HTLC resolves, which for a held HTLC can be hours later.
import { bytesToHex } from '@noble/hashes/utils.js';
import { encodeAsyncHold, type AsyncHold } from '../protocol/async-hold.js';
import { parseScid } from '../protocol/short-channel-id.js';
import { unary, type GrpcError, type LndClients } from '../backends/lnd/grpc.js';
import { lndError } from '../backends/lnd/errors.js';
import type { HtlcAttemptMsg, RouteMsg } from '../backends/lnd/messages.js';
import { outKey, recordMap } from '../backends/lnd/htlc-map.js';

export interface AsyncPaymentTypes {
  holdHtlc: bigint;
  asyncHold: bigint;
}

export const DEFAULT_ASYNC_PAYMENT_TYPES: AsyncPaymentTypes = { holdHtlc: 75537n, asyncHold: 4280151n };

export interface AsyncPaymentArgs {
  paymentHash: Uint8Array;
  /** BOLT 11 payment secret of the recipient's invoice. */
  paymentAddr: Uint8Array;
  amountMsat: bigint;
  /** The invoice's min_final_cltv_expiry_delta. */
  finalCltvDelta: number;
  /** Node ids after us: the LSP first, the recipient last. */
  hops: Uint8Array[];
  /** What the LSP needs to hold and release: message paths and/or a release token. */
  asyncHold: AsyncHold;
  /** Set false to send only async_hold (no update_add_htlc flag). */
  holdFlag?: boolean;
  types?: AsyncPaymentTypes;
}

export interface AsyncPaymentResult {
  status: 'SUCCEEDED' | 'FAILED' | 'IN_FLIGHT';
  preimage: Uint8Array | undefined;
  failureCode: string | undefined;
  route: RouteMsg | null;
}

/** Build the route and add our records (exported for tests that inspect or tamper with it). */
export async function buildAsyncRoute(
  c: LndClients,
  a: AsyncPaymentArgs,
): Promise<{ route: RouteMsg; firstHopRecords: Record<string, Buffer> }> {
  if (a.hops.length < 2)
    throw lndError('rpc', 'an async payment needs the LSP and at least one hop after it');
  const t = a.types ?? DEFAULT_ASYNC_PAYMENT_TYPES;
  let route: RouteMsg;
  try {
    const r = await unary<{ route: RouteMsg }>(c.router, 'BuildRoute', {
      amt_msat: a.amountMsat.toString(),
      final_cltv_delta: a.finalCltvDelta,
      hop_pubkeys: a.hops.map((h) => Buffer.from(h)),
      payment_addr: Buffer.from(a.paymentAddr),
    });
    route = r.route;
  } catch (e) {
    const why = (e as GrpcError).details ?? (e as Error).message;
    // LND reads the recipient's features from its graph; without its node announcement it refuses
    // the payment secret.
    const hint = /payment addr/.test(why) ? " (our graph lacks the recipient's node announcement)" : '';
    throw lndError('rpc', `BuildRoute failed: ${why}${hint}`);
  }
  const lspHop = route.hops[0]!;
  // Records BuildRoute returned come keyed by hash strings; re-key everything as decimal to send.
  const records: Record<string, Buffer> = {};
  for (const [k, v] of recordMap(lspHop.custom_records)) records[outKey(k)] = Buffer.from(v);
  records[outKey(t.asyncHold)] = Buffer.from(encodeAsyncHold(a.asyncHold));
  lspHop.custom_records = records;
  for (const hop of route.hops.slice(1)) {
    const rest: Record<string, Buffer> = {};
    for (const [k, v] of recordMap(hop.custom_records)) rest[outKey(k)] = Buffer.from(v);
    hop.custom_records = rest;
  }
  const firstHopRecords: Record<string, Buffer> =
    a.holdFlag === false ? {} : { [outKey(t.holdHtlc)]: Buffer.alloc(0) };
  return { route, firstHopRecords };
}

/** Send the async HTLC and wait for it to resolve. */
export async function sendAsyncPayment(
  c: LndClients,
  a: AsyncPaymentArgs,
  timeoutMs = 24 * 3600_000,
): Promise<AsyncPaymentResult> {
  const { route, firstHopRecords } = await buildAsyncRoute(c, a);
  return sendToRoute(c, a.paymentHash, route, firstHopRecords, timeoutMs);
}

export interface TrampolinePaymentArgs {
  /** The invoice's payment hash (the LSP settles our HTLC with the preimage it gets back). */
  paymentHash: Uint8Array;
  /** What we send the LSP: the invoice amount plus routing fees beyond it plus the LSP's fee. */
  amountMsat: bigint;
  /** Our channel to the LSP (LND's decimal chan_id, or "BLOCKxTXxOUT") and the LSP's node id. */
  firstChanId: string;
  lsp: Uint8Array;
  /** The LSP's configured virtual short channel id (either form), which LND intercepts. */
  virtualChanId: string;
  /** Blocks of timelock we give the LSP to pay onward (its pathfinding stays under it). */
  cltvBudget: number;
  currentHeight: number;
  trampolineRequest: Uint8Array;
  asyncHold: AsyncHold;
  types?: AsyncPaymentTypes & { trampolineRequest: bigint };
}

/**
 * Trampoline mode: one hop to the LSP, addressed to its virtual channel (LND intercepts forwards
 * only, never final-hop HTLCs), with trampoline_request and async_hold in its hop payload. The
 * layer after the LSP is never read (the LSP settles instead of forwarding), so it is addressed to
 * the LSP's own key.
 */
export async function sendTrampolinePayment(
  c: LndClients,
  a: TrampolinePaymentArgs,
  timeoutMs = 24 * 3600_000,
): Promise<AsyncPaymentResult> {
  const t = a.types ?? { ...DEFAULT_ASYNC_PAYMENT_TYPES, trampolineRequest: 4280153n };
  const expiry = a.currentHeight + a.cltvBudget;
  // The onion's outgoing_cltv_value sits below our HTLC's expiry like a real forward's would.
  const outgoing = expiry - 40;
  const amt = a.amountMsat.toString();
  // Newer lncli prints channel ids as BLOCKxTXxOUT; gRPC wants the uint64.
  const chanId = (id: string): string => {
    if (id.includes('x')) return parseScid(id).toString();
    if (!/^\d{1,20}$/.test(id)) throw lndError('rpc', `not a short channel id: ${id.slice(0, 70)}`);
    return id;
  };
  const route = {
    total_time_lock: expiry,
    total_amt_msat: amt,
    total_fees_msat: '0',
    hops: [
      {
        chan_id: chanId(a.firstChanId),
        pub_key: bytesToHex(a.lsp),
        amt_to_forward_msat: amt,
        fee_msat: '0',
        expiry: outgoing,
        custom_records: {
          [outKey(t.asyncHold)]: Buffer.from(encodeAsyncHold(a.asyncHold)),
          [outKey(t.trampolineRequest)]: Buffer.from(a.trampolineRequest),
        },
      },
      {
        chan_id: chanId(a.virtualChanId),
        pub_key: bytesToHex(a.lsp),
        amt_to_forward_msat: amt,
        fee_msat: '0',
        expiry: outgoing,
      },
    ],
  };
  return sendToRoute(c, a.paymentHash, route, { [outKey(t.holdHtlc)]: Buffer.alloc(0) }, timeoutMs);
}

/** One SendToRouteV2 attempt with our first-hop records, waited for until it resolves. */
async function sendToRoute(
  c: LndClients,
  paymentHash: Uint8Array,
  /** A Route as BuildRoute returns it, or one we assembled (fields LND fills in may be absent). */
  route: object,
  firstHopRecords: Record<string, Buffer>,
  timeoutMs: number,
): Promise<AsyncPaymentResult> {
  let attempt: HtlcAttemptMsg;
  try {
    attempt = await unary<HtlcAttemptMsg>(
      c.router,
      'SendToRouteV2',
      {
        payment_hash: Buffer.from(paymentHash),
        route,
        skip_temp_err: false,
        first_hop_custom_records: firstHopRecords,
      },
      timeoutMs,
    );
  } catch (e) {
    throw lndError('rpc', `SendToRouteV2 failed: ${(e as GrpcError).details ?? (e as Error).message}`);
  }
  return {
    status: attempt.status,
    preimage: attempt.preimage.length === 32 ? new Uint8Array(attempt.preimage) : undefined,
    failureCode: attempt.failure?.code,
    route: attempt.route,
  };
}
