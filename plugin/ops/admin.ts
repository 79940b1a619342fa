// The operator commands' answers, built once for both hosts: the CLN RPC methods
// (`async-trampoline-list` ...) and the sidecar's admin endpoint (and so the `async-trampoline` CLI)
// return exactly these objects. Keys are snake_case and amounts end in _msat, as in lightningd's own
// commands.
import type { AdminResult, HoldEngine, HoldView } from '../hold/engine.js';
import { HOLD_STATES, type HoldState } from '../hold/state.js';
import type { MetricCounts } from './metrics.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { RecipientLspEngine } from '../recipient-lsp/engine.js';

export type AdminEngine = Pick<HoldEngine, 'listHolds' | 'releaseHold' | 'failHold' | 'stats'>;

export type AdminErrorCode = 'invalid_params' | 'not_found' | 'not_active' | 'unavailable';

export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AdminContext {
  engine: () => AdminEngine | undefined;
  /** Metric counters, so stats shows the same counts as /metrics. */
  counts?: () => MetricCounts;
  /** Recipient-LSP mode fills this in: the message path a recipient behind us should publish. */
  messagePath?: (node: string) => Promise<Record<string, unknown>>;
  /** How this host names an HTLC key, for error messages. */
  keyForm: string;
}

/**
 * The message-path answer both hosts give (CLN `async-trampoline-message-path`, sidecar
 * `async-trampoline message-path`): the blinded_path (hex) a client's senders put in
 * async_hold.message_paths, and whether the client has a channel with us yet.
 */
export async function messagePathAnswer(
  engine: Pick<RecipientLspEngine, 'messagePath'>,
  node: string,
): Promise<Record<string, unknown>> {
  const p = await engine.messagePath(node);
  return { node_id: p.clientNodeId, message_path: bytesToHex(p.messagePath), has_channel: p.hasChannel };
}

export interface AdminArgs {
  state?: unknown;
  key?: unknown;
  node?: unknown;
}

export const ADMIN_COMMANDS = {
  list: { usage: '[state]', description: 'List held HTLCs (optionally only those in one state)' },
  show: { usage: 'key', description: 'Show one hold (by hold id or HTLC key)' },
  release: { usage: 'key', description: 'Release a held HTLC now, as if its release arrived' },
  fail: { usage: 'key', description: 'Fail a held HTLC back now' },
  stats: { usage: '', description: 'Counts and totals of held HTLCs, releases and fails' },
  'message-path': {
    usage: 'node',
    description: 'Recipient-LSP mode: the message path for a recipient node behind us',
  },
} as const;
export type AdminCommand = keyof typeof ADMIN_COMMANDS;
export const isAdminCommand = (s: string): s is AdminCommand => Object.hasOwn(ADMIN_COMMANDS, s);

export function holdView(h: HoldView, height: number): Record<string, unknown> {
  return {
    hold_id: h.holdId,
    htlc_key: h.htlcKey,
    set_id: h.setId,
    payment_hash: h.paymentHash,
    state: h.state,
    mode: h.mode,
    amount_in_msat: h.amountInMsat,
    amount_out_msat: h.amountOutMsat,
    incoming_peer: h.incomingPeer,
    incoming_channel: h.incomingChannel,
    hold_start: h.holdStart,
    fail_at: h.failAt,
    blocks_left: h.verdict === undefined ? h.failAt - height : undefined,
    created_at: Math.floor(h.createdMs / 1000),
    updated_at: Math.floor(h.updatedMs / 1000),
    verdict: h.verdict,
    fail_reason: h.failReason,
  };
}

const ALL = 100_000;

/** A hold id (32 hex) or an HTLC key; an unresolved hold wins over finished ones with the same key. */
function find(engine: AdminEngine, key: unknown, keyForm: string): HoldView {
  if (typeof key !== 'string' || key === '')
    throw new AdminError('invalid_params', `key: a hold id (32 hex) or an HTLC key ${keyForm}`);
  const k = /^[0-9a-f]{32}$/i.test(key) ? key.toLowerCase() : key;
  const matches = engine.listHolds({ limit: ALL }).filter((h) => h.holdId === k || h.htlcKey === k);
  const found = matches.find((h) => h.verdict === undefined) ?? matches[0];
  if (!found) throw new AdminError('not_found', `no hold ${key}`);
  return found;
}

function acted(r: AdminResult): Record<string, unknown> {
  if (!r.ok) {
    const code = r.error === 'unknown_hold' ? 'not_found' : 'not_active';
    throw new AdminError(code, `${r.error}: ${r.message}`);
  }
  return { hold_ids: r.holdIds };
}

/** Answer one operator command; throws AdminError with a message that says what to do. */
export async function adminAnswer(
  ctx: AdminContext,
  command: AdminCommand,
  args: AdminArgs,
): Promise<Record<string, unknown>> {
  if (command === 'message-path') {
    if (!ctx.messagePath)
      throw new AdminError('unavailable', 'message-path needs recipient-LSP mode, which is not enabled here');
    if (typeof args.node !== 'string' || !/^0[23][0-9a-f]{64}$/i.test(args.node))
      throw new AdminError('invalid_params', 'node: a 33-byte node id in hex');
    return ctx.messagePath(args.node.toLowerCase());
  }
  const engine = ctx.engine();
  if (!engine) throw new AdminError('unavailable', 'hold engine not running');
  switch (command) {
    case 'list': {
      const state = args.state;
      if (state !== undefined && !HOLD_STATES.includes(state as HoldState))
        throw new AdminError('invalid_params', `state: one of ${HOLD_STATES.join(', ')}`);
      const height = engine.stats().height;
      const holds = engine.listHolds(
        state === undefined ? { limit: ALL } : { state: state as HoldState, limit: ALL },
      );
      return { holds: holds.map((h) => holdView(h, height)) };
    }
    case 'show':
      return holdView(find(engine, args.key, ctx.keyForm), engine.stats().height);
    case 'release':
      return acted(engine.releaseHold(find(engine, args.key, ctx.keyForm).holdId));
    case 'fail':
      return acted(engine.failHold(find(engine, args.key, ctx.keyForm).holdId));
    case 'stats': {
      const s = engine.stats();
      return {
        blockheight: s.height,
        active_holds: s.activeHolds,
        active_msat: s.activeMsat,
        open_sets: s.openSets,
        by_state: s.byState,
        early_releases: s.earlyReleases,
        notifying: s.notifying,
        ...(ctx.counts ? ctx.counts() : {}),
      };
    }
  }
}
