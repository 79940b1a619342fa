// Trampoline keysend delivery on Core Lightning. lightningd's keysend draws its own preimage, so we
// cannot use it to pay with the sender's; instead we route with getroutes, build the onion ourselves
// (final payload carries the bLIP-3 preimage record) and hand it to sendonion, then waitsendpay.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import type { PayRequest, PayResult } from '../../hold/backend.js';
import { encodeHopPayload, type HopPayload } from '../../protocol/hop-payload.js';
import { buildPaymentOnion } from '../../protocol/payment-onion.js';
import { parseScid } from '../../protocol/short-channel-id.js';
import { ClnRpcError, RPC_TRANSPORT_ERROR, type RpcCaller } from './rpc-client.js';

/** bLIP-3 keysend record: the payment preimage, in the final hop payload. */
export const KEYSEND_PREIMAGE_TYPE = 5482373484n;
/** CLTV delta we give the recipient, as the LND path does (LND's keysend default). */
export const KEYSEND_FINAL_CLTV = 40;

/** One hop of a route, checked. */
export interface RouteHop {
  id: string;
  channel: string;
  amountMsat: bigint;
  /** CLTV delta (blocks above the current height) the node at the end of this hop expects. */
  delay: number;
}

/**
 * Hop payloads for a route (BOLT 4): each intermediate node forwards over the next hop's channel the
 * next hop's amount and expiry; the final one gets the amount, expiry and the preimage record. No
 * payment_data: a keysend has no invoice, hence no payment_secret.
 */
export function keysendHopPayloads(
  route: readonly RouteHop[],
  height: number,
  preimage: Uint8Array,
): HopPayload[] {
  return route.map((hop, i) => {
    const next = route[i + 1];
    if (!next)
      return {
        amtToForward: hop.amountMsat,
        outgoingCltvValue: height + hop.delay,
        customRecords: new Map([[KEYSEND_PREIMAGE_TYPE, preimage]]),
      };
    return {
      amtToForward: next.amountMsat,
      outgoingCltvValue: height + next.delay,
      shortChannelId: parseScid(next.channel),
      customRecords: new Map(),
    };
  });
}

export function buildKeysendOnion(args: {
  route: readonly RouteHop[];
  height: number;
  preimage: Uint8Array;
  paymentHash: Uint8Array;
  sessionKey?: Uint8Array;
}): { onion: Uint8Array; sharedSecrets: Uint8Array[] } {
  const payloads = keysendHopPayloads(args.route, args.height, args.preimage);
  return buildPaymentOnion({
    sessionKey: args.sessionKey ?? randomBytes(32),
    hops: args.route.map((h, i) => ({ pubkey: hexToBytes(h.id), payload: encodeHopPayload(payloads[i]!) })),
    paymentHash: args.paymentHash,
  });
}

/** Pay `req` by keysend with the sender's preimage, within its fee and expiry limits. */
export async function payKeysend(rpc: RpcCaller, req: PayRequest): Promise<PayResult> {
  const r = req.request;
  const dest = r.outgoingNodeId;
  const amount = r.amtToForwardMsat;
  const preimage = r.keysendPreimage;
  if (dest === undefined || amount === undefined)
    return { ok: false, reason: 'trampoline request names neither an invoice nor node id + amount' };
  if (!preimage) return { ok: false, reason: 'keysend request without the sender preimage record' };
  if (bytesToHex(sha256(preimage)) !== bytesToHex(req.paymentHash))
    return { ok: false, reason: "the sender's preimage does not match the payment hash" };
  if (amount > req.maxAmountMsat) return { ok: false, reason: 'amount exceeds what we may spend' };

  // The onion's expiries are absolute while sendonion's delay is relative to lightningd's own
  // height: both must use the same height.
  const info = await rpc.call<{ blockheight?: unknown }>('getinfo');
  if (typeof info.blockheight !== 'number') throw new Error('getinfo: no blockheight');
  const height = info.blockheight;
  let raw: unknown;
  try {
    // getroute is deprecated in v26; askrene's getroutes with xpay's layers (our own channels at
    // their live capacity, no fee to ourselves), one part, within the fee and delay limits.
    const res = await rpc.call<{ routes?: { path?: unknown }[] }>('getroutes', {
      source: await ourId(rpc),
      destination: dest,
      amount_msat: amount.toString(),
      layers: ['auto.localchans', 'auto.sourcefree'],
      maxfee_msat: (req.maxAmountMsat - amount).toString(),
      final_cltv: KEYSEND_FINAL_CLTV,
      maxdelay: Math.max(0, Math.min(2016, req.maxExpiry - height)),
      maxparts: 1,
    });
    raw = res.routes?.[0]?.path;
  } catch (e) {
    if (e instanceof ClnRpcError && e.code !== RPC_TRANSPORT_ERROR)
      return { ok: false, reason: `no route to ${dest}: ${e.message}` };
    throw e;
  }
  const route = parseRoute(raw);
  if (!route) return { ok: false, reason: 'getroutes returned a route we cannot read' };
  const first = route[0]!;
  if (route.at(-1)!.id !== dest) return { ok: false, reason: 'getroutes did not end at the recipient' };
  if (first.amountMsat > req.maxAmountMsat)
    return {
      ok: false,
      reason: `route costs ${first.amountMsat} msat, above the limit ${req.maxAmountMsat}`,
    };
  if (height + first.delay > req.maxExpiry)
    return {
      ok: false,
      reason: `route needs expiry ${height + first.delay}, above the limit ${req.maxExpiry}`,
    };

  const { onion, sharedSecrets } = buildKeysendOnion({
    route,
    height,
    preimage,
    paymentHash: req.paymentHash,
  });
  const hash = bytesToHex(req.paymentHash);
  try {
    await rpc.call('sendonion', {
      onion: bytesToHex(onion),
      first_hop: { id: first.id, amount_msat: first.amountMsat.toString(), delay: first.delay },
      payment_hash: hash,
      shared_secrets: sharedSecrets.map(bytesToHex),
      amount_msat: amount.toString(),
      destination: dest,
    });
    const res = await rpc.call<{ payment_preimage?: unknown }>('waitsendpay', { payment_hash: hash });
    const pre = res.payment_preimage;
    if (typeof pre !== 'string' || !/^[0-9a-f]{64}$/i.test(pre))
      return { ok: false, reason: 'waitsendpay returned no preimage' };
    return { ok: true, preimage: hexToBytes(pre) };
  } catch (e) {
    // As with xpay: an error answer is a failed payment; a lost connection leaves it unknown.
    if (e instanceof ClnRpcError && e.code !== RPC_TRANSPORT_ERROR) return { ok: false, reason: failText(e) };
    throw e;
  }
}

/** getroutes' path: per channel, what reaches its far end (the HTLC's amount and CLTV delta). */
function parseRoute(v: unknown): RouteHop[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const out: RouteHop[] = [];
  for (const h of v as Record<string, unknown>[]) {
    const amt = h.amount_out_msat;
    const scid =
      typeof h.short_channel_id_dir === 'string'
        ? /^(\d+x\d+x\d+)\/[01]$/.exec(h.short_channel_id_dir)
        : null;
    if (
      typeof h.node_id_out !== 'string' ||
      !/^0[23][0-9a-f]{64}$/.test(h.node_id_out) ||
      !scid ||
      (typeof amt !== 'number' && typeof amt !== 'string') ||
      typeof h.cltv_out !== 'number'
    )
      return undefined;
    const msat = String(amt).replace(/msat$/, '');
    if (!/^\d+$/.test(msat)) return undefined;
    out.push({ id: h.node_id_out, channel: scid[1]!, amountMsat: BigInt(msat), delay: h.cltv_out });
  }
  return out;
}

async function ourId(rpc: RpcCaller): Promise<string> {
  const info = await rpc.call<{ id?: unknown }>('getinfo');
  if (typeof info.id !== 'string') throw new Error('getinfo: no node id');
  return info.id;
}

/** waitsendpay's routing failure, named (failcodename, erring node) when lightningd decoded it. */
function failText(e: ClnRpcError): string {
  const d = (e.data ?? {}) as { failcodename?: unknown; erring_node?: unknown };
  if (typeof d.failcodename !== 'string') return e.message;
  const at = typeof d.erring_node === 'string' ? ` at ${d.erring_node}` : '';
  return `keysend failed: ${d.failcodename}${at}`;
}
