// `lightning-cli async-trampoline-message-path <node_id>`: a recipient-LSP client's message path,
// the blinded_path (hex) its senders put in async_hold.message_paths.
import { bytesToHex } from '@noble/hashes/utils.js';
import type { RecipientLspEngine } from '../../recipient-lsp/engine.js';
import { isObject, RpcErrorCode } from './jsonrpc.js';
import { MethodError, type MethodHandler } from './plugin-host.js';

export function recipientLspMethods(
  engine: () => RecipientLspEngine | undefined,
): Record<string, MethodHandler> {
  return {
    'async-trampoline-message-path': async (params) => {
      const e = engine();
      if (!e)
        throw new MethodError(
          RpcErrorCode.internal,
          'recipient-LSP mode is off: start lightningd with async-trampoline-recipient-lsp=true',
        );
      const id = Array.isArray(params) ? params[0] : isObject(params) ? params.node_id : undefined;
      if (typeof id !== 'string' || !/^0[23][0-9a-f]{64}$/.test(id))
        throw new MethodError(RpcErrorCode.invalidParams, 'node_id: the client node id, 33-byte hex');
      const p = await e.messagePath(id);
      return { node_id: p.clientNodeId, message_path: bytesToHex(p.messagePath), has_channel: p.hasChannel };
    },
  };
}
