// LSPS0 (bLIP-50) transport: JSON-RPC 2.0 in the payload of Lightning peer message 37913. This file
// turns payload bytes into a request (or the reason it is not one) and builds the answers; it knows
// no host and no LSPS method.
export const LSPS0_MESSAGE_TYPE = 37913;

/** JSON-RPC 2.0 error codes LSPS0 uses. */
export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };
/** JSON-RPC ids: LSPS0 clients send strings; numbers are echoed too. */
export type RequestId = string | number;

export type Inbound =
  /** `params` is `{}` when omitted; `byPosition` when the client sent an array, which LSPS0 forbids. */
  | { kind: 'request'; id: RequestId; method: string; params: JsonObject; byPosition: boolean }
  /** A well-formed JSON-RPC notification: LSPS0 clients must not send one, and JSON-RPC forbids answering it. */
  | { kind: 'notification'; method: string }
  /** Fails LSPS0's "bad message format" checks: answer parse error with id null. */
  | { kind: 'bad'; why: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * LSPS0's checks, in order: UTF-8, no 0 byte, exactly one JSON object (JSON's own whitespace around
 * it), and a JSON-RPC 2.0 request. `params` may be omitted (JSON-RPC allows it); a by-position
 * array is reported as a request so the dispatcher answers invalid params, not parse error.
 */
export function decodeInbound(payload: Uint8Array): Inbound {
  if (payload.includes(0)) return { kind: 'bad', why: 'payload contains a 0 byte' };
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { kind: 'bad', why: 'payload is not UTF-8' };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'bad', why: 'payload is not exactly one JSON value' };
  }
  if (!isObject(v)) return { kind: 'bad', why: 'payload is not a JSON object' };
  if (v.jsonrpc !== '2.0') return { kind: 'bad', why: 'jsonrpc is not "2.0"' };
  if (typeof v.method !== 'string') return { kind: 'bad', why: 'method is not a string' };
  if ('params' in v && !isObject(v.params) && !Array.isArray(v.params))
    return { kind: 'bad', why: 'params is neither an object nor an array' };
  if (!('id' in v)) return { kind: 'notification', method: v.method };
  const id = v.id;
  if (typeof id !== 'string' && typeof id !== 'number')
    return { kind: 'bad', why: 'id is not a string or number' };
  const params = isObject(v.params) ? v.params : {};
  return { kind: 'request', id, method: v.method, params, byPosition: Array.isArray(v.params) };
}

const enc = new TextEncoder();

export function encodeResult(id: RequestId, result: JsonObject): Uint8Array {
  return enc.encode(JSON.stringify({ jsonrpc: '2.0', id, result }));
}

export function encodeError(
  id: RequestId | null,
  code: number,
  message: string,
  data?: JsonObject,
): Uint8Array {
  const error: JsonObject = data === undefined ? { code, message } : { code, message, data };
  return enc.encode(JSON.stringify({ jsonrpc: '2.0', id, error }));
}
