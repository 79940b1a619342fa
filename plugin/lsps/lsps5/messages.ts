// LSPS5 (bLIP-55) names, error codes and limits, and the checks on `lsps5.set_webhook` parameters.
import { LspsMethodError, invalidParams } from '../lsps0/server.js';
import type { JsonObject, JsonValue } from '../lsps0/codec.js';

export const LSPS5_PROTOCOL_NUMBER = 5;

export const SET_WEBHOOK = 'lsps5.set_webhook';
export const LIST_WEBHOOKS = 'lsps5.list_webhooks';
export const REMOVE_WEBHOOK = 'lsps5.remove_webhook';

/** Webhook notification methods (webhook interface only, never sent over LSPS0). */
export const NOTIFICATION = {
  webhookRegistered: 'lsps5.webhook_registered',
  paymentIncoming: 'lsps5.payment_incoming',
  expirySoon: 'lsps5.expiry_soon',
  liquidityManagementRequest: 'lsps5.liquidity_management_request',
  onionMessageIncoming: 'lsps5.onion_message_incoming',
} as const;
export type NotificationMethod = (typeof NOTIFICATION)[keyof typeof NOTIFICATION];

export const ERROR = {
  tooLong: 500,
  urlParseError: 501,
  unsupportedProtocol: 502,
  tooManyWebhooks: 503,
  appNameNotFound: 1010,
} as const;

export const MAX_APP_NAME_BYTES = 64;
export const MAX_WEBHOOK_CHARS = 1024;

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/**
 * `app_name` length as bLIP-55 counts it: UTF-8 bytes of the JSON string body, backslash escapes
 * counted as written. We see the parsed value, so we count its minimal JSON escaping, which is what a
 * client following LSPS0's common schemas sends.
 */
export function appNameLength(appName: string): number {
  return utf8Length(JSON.stringify(appName)) - 2;
}

function requireString(params: JsonObject, name: string): string {
  const v: JsonValue | undefined = params[name];
  if (typeof v !== 'string') throw invalidParams(`${name} must be a string`);
  return v;
}

export function parseAppName(params: JsonObject): string {
  const appName = requireString(params, 'app_name');
  if (appNameLength(appName) > MAX_APP_NAME_BYTES)
    throw new LspsMethodError(ERROR.tooLong, `app_name is longer than ${MAX_APP_NAME_BYTES} bytes`);
  return appName;
}

export interface WebhookRules {
  /** Operator option for tests and regtest: also accept `http` webhooks. */
  allowHttp: boolean;
}

// RFC 1738 URLs are printable ASCII without spaces; WHATWG URL parsing would silently accept and
// rewrite much more (spaces, backslashes, Unicode), so those are refused before it.
const RFC1738_CHARS = /^[\x21-\x7e]+$/;
const FORBIDDEN = /[<>"{}|\\^`]/;

/** Checks `webhook` in the spec's order: too_long, url_parse_error, unsupported_protocol. */
export function parseWebhook(params: JsonObject, rules: WebhookRules): string {
  const webhook = requireString(params, 'webhook');
  if (webhook.length > MAX_WEBHOOK_CHARS)
    throw new LspsMethodError(ERROR.tooLong, `webhook is longer than ${MAX_WEBHOOK_CHARS} characters`);
  let url: URL | undefined;
  if (
    RFC1738_CHARS.test(webhook) &&
    !FORBIDDEN.test(webhook) &&
    /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]/.test(webhook)
  ) {
    try {
      url = new URL(webhook);
    } catch {
      url = undefined;
    }
  }
  if (!url || url.hostname === '')
    throw new LspsMethodError(ERROR.urlParseError, 'webhook is not a valid URL (RFC 1738)');
  const ok = url.protocol === 'https:' || (rules.allowHttp && url.protocol === 'http:');
  if (!ok)
    throw new LspsMethodError(
      ERROR.unsupportedProtocol,
      rules.allowHttp ? 'webhook must be an https or http URL' : 'webhook must be an https URL',
    );
  return webhook;
}

/** What may be logged of a webhook: its scheme and host. Paths and queries carry client tokens. */
export function webhookOrigin(webhook: string): string {
  try {
    return new URL(webhook).origin;
  } catch {
    return '(unparsable)';
  }
}
