// The deadline rule of PROTOCOL.md: the last height at which a hold may still be decided.
import type { Height } from './backend.js';

export interface DeadlineInputs {
  holdStart: Height;
  /** Already the smaller of the sender's cap and ours. */
  maxHoldBlocks: number;
  incomingExpiry: Height;
  outgoingExpiry: Height | undefined;
  autoFailHeight: Height | undefined;
}

export interface DeadlineMargins {
  /** Blocks before the incoming expiry at which we must have failed, so the upstream peer never force-closes. */
  safetyBlocks: number;
  /** Blocks the next hop needs before the outgoing expiry; forwarding later is useless. */
  downstreamMinBlocks: number;
}

/**
 * fail_at = min(hold_start + max_hold_blocks, incoming_cltv_expiry − safety_blocks,
 *               outgoing_cltv_value − downstream_min_blocks, auto_fail_height − 1)
 */
export function failAt(d: DeadlineInputs, m: DeadlineMargins): Height {
  let at = Math.min(d.holdStart + d.maxHoldBlocks, d.incomingExpiry - m.safetyBlocks);
  if (d.outgoingExpiry !== undefined) at = Math.min(at, d.outgoingExpiry - m.downstreamMinBlocks);
  if (d.autoFailHeight !== undefined) at = Math.min(at, d.autoFailHeight - 1);
  return at;
}

/** Whether a hold starting at `height` can last at least `minHoldBlocks` before `at`. */
export function holdable(at: Height, height: Height, minHoldBlocks: number): boolean {
  return at - height >= minHoldBlocks;
}

/** The block at which a hold with this deadline must be failed has arrived. */
export function isDue(at: Height, height: Height): boolean {
  return height >= at;
}
