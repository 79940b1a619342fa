// What one webhook call carries: the JSON-RPC notification body, the timestamp and the string the
// LSP signs. bLIP-55 signs "LSPS5: DO NOT SIGN THIS MESSAGE MANUALLY: LSP: At ${timestamp} I notify
// ${body}" over the exact header and body bytes. LDK's validator (lightning-liquidity) does not look
// at those bytes: it parses both and signs-checks its own re-serialisation: the timestamp as chrono's
// `to_rfc3339()` (`+00:00`, fraction only when non-zero) and the body as compact JSON in the order
// jsonrpc, method, params. We send exactly that form, so the bytes we sign are the bytes both a
// byte-exact verifier and LDK rebuild. (LDK's own service sends the same header form.)
import type { NotificationMethod } from './messages.js';

export interface WebhookNotification {
  method: NotificationMethod;
  /** By-name params; `{}` for every method but lsps5.expiry_soon (`{ timeout }`). */
  params: Record<string, number>;
}

/** Compact JSON, keys in LDK's order. Param values are block heights (integers) only. */
export function notificationBody(n: WebhookNotification): string {
  return JSON.stringify({ jsonrpc: '2.0', method: n.method, params: n.params });
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * The `x-lsps5-timestamp` value for `ms` (Unix milliseconds): RFC 3339 in UTC as chrono writes it,
 * e.g. `2023-05-04T10:52:58.395+00:00`, and `2023-05-04T10:52:58+00:00` on a whole second.
 */
export function lsps5Timestamp(ms: number): string {
  const d = new Date(ms);
  if (!Number.isFinite(ms) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999)
    throw new RangeError(`timestamp out of range: ${ms}`);
  const frac = d.getUTCMilliseconds();
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    `${frac === 0 ? '' : `.${pad(frac, 3)}`}+00:00`
  );
}

/** The string the LSP signs with its node key (UTF-8, no NUL). */
export function signedMessage(timestamp: string, body: string): string {
  return `LSPS5: DO NOT SIGN THIS MESSAGE MANUALLY: LSP: At ${timestamp} I notify ${body}`;
}
