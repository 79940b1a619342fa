// JSON-RPC 2.0 message shapes as lightningd uses them, and a check that turns an unknown parsed value
// into one of them (or says why not). Ids are echoed verbatim: with `nonnumericids` lightningd sends
// strings such as "cln:htlc_accepted#42", and a plugin must never assume they are numbers.

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  kind: 'request';
  id: JsonRpcId;
  method: string;
  params: unknown;
}
export interface JsonRpcNotification {
  kind: 'notification';
  method: string;
  params: unknown;
}
export interface JsonRpcResponse {
  kind: 'response';
  id: JsonRpcId;
  result?: unknown;
  error?: JsonRpcErrorObject;
}
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard codes, plus CLN's own for a plugin method that failed. */
export const RpcErrorCode = {
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
} as const;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is JsonRpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** Classify a parsed value; a string result says why it is not JSON-RPC. */
export function classify(v: unknown): JsonRpcMessage | string {
  if (!isObject(v)) return 'not an object';
  if (v.jsonrpc !== '2.0') return 'missing "jsonrpc": "2.0"';
  if (typeof v.method === 'string') {
    const params = v.params ?? {};
    if (v.id === undefined || v.id === null) return { kind: 'notification', method: v.method, params };
    if (!isId(v.id)) return 'id is neither a string nor a number';
    return { kind: 'request', id: v.id, method: v.method, params };
  }
  if (!isId(v.id)) return 'response without a usable id';
  if ('error' in v) {
    const e = v.error;
    if (!isObject(e) || typeof e.code !== 'number') return 'malformed error object';
    return {
      kind: 'response',
      id: v.id,
      error: { code: e.code, message: typeof e.message === 'string' ? e.message : '', data: e.data },
    };
  }
  if (!('result' in v)) return 'response with neither result nor error';
  return { kind: 'response', id: v.id, result: v.result };
}
