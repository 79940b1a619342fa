// Operator RPC methods, as lightningd passes them through: `lightning-cli async-trampoline-list` sends
// positional params (an array), `lightning-cli -k ... key=...` named ones (an object); both work.
// Output keys are snake_case and amounts end in _msat, as in lightningd's own commands.
import type { AdminResult, HoldEngine, HoldView } from '../../hold/engine.js';
import { HOLD_STATES, type HoldState } from '../../hold/state.js';
import { isObject, RpcErrorCode } from './jsonrpc.js';
import { MethodError, type MethodHandler } from './plugin-host.js';

type Engine = Pick<HoldEngine, 'listHolds' | 'releaseHold' | 'failHold' | 'stats'>;

function param(params: unknown, name: string, index: number): unknown {
  if (Array.isArray(params)) return params[index];
  if (isObject(params)) return params[name];
  return undefined;
}

function view(h: HoldView): Record<string, unknown> {
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
    created_at: Math.floor(h.createdMs / 1000),
    updated_at: Math.floor(h.updatedMs / 1000),
    verdict: h.verdict,
    fail_reason: h.failReason,
  };
}

/** Accepts a hold id (32 hex) or an htlc key as CLN names it (`<scid>/<htlc id>`). */
function holdIdOf(engine: Engine, params: unknown): string {
  const k = param(params, 'key', 0);
  if (typeof k !== 'string' || k === '')
    throw new MethodError(RpcErrorCode.invalidParams, 'key: a hold id or <scid>/<htlc id>');
  if (/^[0-9a-f]{32}$/i.test(k)) return k.toLowerCase();
  const found = engine.listHolds({ limit: 100_000 }).find((h) => h.htlcKey === k && h.verdict === undefined);
  if (!found) throw new MethodError(RpcErrorCode.invalidParams, `no unresolved hold for htlc ${k}`);
  return found.holdId;
}

function result(r: AdminResult): Record<string, unknown> {
  if (!r.ok) throw new MethodError(RpcErrorCode.invalidParams, `${r.error}: ${r.message}`);
  return { hold_ids: r.holdIds };
}

export function adminMethods(engine: () => Engine | undefined): Record<string, MethodHandler> {
  const need = (): Engine => {
    const e = engine();
    if (!e) throw new MethodError(RpcErrorCode.internal, 'hold engine not running');
    return e;
  };
  return {
    'async-trampoline-list': async (params) => {
      const state = param(params, 'state', 0);
      if (state !== undefined && !HOLD_STATES.includes(state as HoldState)) {
        throw new MethodError(RpcErrorCode.invalidParams, `state: one of ${HOLD_STATES.join(', ')}`);
      }
      const holds = need().listHolds(state === undefined ? {} : { state: state as HoldState });
      return { holds: holds.map(view) };
    },
    'async-trampoline-release': async (params) => {
      const e = need();
      return result(e.releaseHold(holdIdOf(e, params)));
    },
    'async-trampoline-fail': async (params) => {
      const e = need();
      return result(e.failHold(holdIdOf(e, params)));
    },
    'async-trampoline-stats': async () => {
      const s = need().stats();
      return {
        blockheight: s.height,
        active_holds: s.activeHolds,
        active_msat: s.activeMsat,
        open_sets: s.openSets,
        by_state: s.byState,
        early_releases: s.earlyReleases,
        notifying: s.notifying,
      };
    },
  };
}
