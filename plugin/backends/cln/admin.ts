// Operator RPC methods, as lightningd passes them through: `lightning-cli async-trampoline-list` sends
// positional params (an array), `lightning-cli -k ... key=...` named ones (an object); both work. The
// answers are built by ops/admin.ts, the same function the LND sidecar's admin endpoint uses.
import {
  ADMIN_COMMANDS,
  AdminError,
  adminAnswer,
  type AdminContext,
  type AdminCommand,
} from '../../ops/admin.js';
import { isObject, RpcErrorCode } from './jsonrpc.js';
import { MethodError, type MethodHandler } from './plugin-host.js';

const PARAM: Record<AdminCommand, 'state' | 'key' | 'node' | undefined> = {
  list: 'state',
  show: 'key',
  release: 'key',
  fail: 'key',
  stats: undefined,
  'message-path': 'node',
};

// lightningd's own commands name a node `node_id`; that name is accepted beside `node`.
const CLN_NAME: Partial<Record<string, string>> = { node: 'node_id' };

function param(params: unknown, name: string, index: number): unknown {
  if (Array.isArray(params)) return params[index];
  if (isObject(params)) return params[name] ?? params[CLN_NAME[name] ?? name];
  return undefined;
}

export function adminMethods(ctx: Omit<AdminContext, 'keyForm'>): Record<string, MethodHandler> {
  const full: AdminContext = { ...ctx, keyForm: '<scid>/<htlc id>' };
  const out: Record<string, MethodHandler> = {};
  for (const command of Object.keys(ADMIN_COMMANDS) as AdminCommand[]) {
    out[`async-trampoline-${command}`] = async (params) => {
      const p = PARAM[command];
      try {
        return await adminAnswer(full, command, p ? { [p]: param(params, p, 0) } : {});
      } catch (e) {
        if (!(e instanceof AdminError)) throw e;
        const code = e.code === 'unavailable' ? RpcErrorCode.internal : RpcErrorCode.invalidParams;
        throw new MethodError(code, e.message);
      }
    };
  }
  return out;
}
