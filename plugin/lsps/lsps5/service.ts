// The LSPS5 service: lsps5.set_webhook / list_webhooks / remove_webhook per client node (the peer
// that sent the LSPS0 request), and the notifications the LSP raises. Registration is durable
// before it is answered; notifications are queued for delivery and never awaited by the caller.
// Rate limit (bLIP-55 "Rate-limiting Notifications By method"): one notification per client and
// method (webhook_registered excepted) per cooldown, reset when the client is seen online.
import type { Clock } from '../../hold/clock.js';
import type { Logger } from '../../ops/log.js';
import type { JsonObject } from '../lsps0/codec.js';
import { LspsMethodError, invalidParams, type LspsProtocol } from '../lsps0/server.js';
import type { WebhookDelivery } from './delivery.js';
import {
  ERROR,
  LIST_WEBHOOKS,
  LSPS5_PROTOCOL_NUMBER,
  NOTIFICATION,
  REMOVE_WEBHOOK,
  SET_WEBHOOK,
  parseAppName,
  parseWebhook,
  webhookOrigin,
  type NotificationMethod,
} from './messages.js';
import type { WebhookNotification } from './notification.js';
import type { WebhookStore } from './store.js';

export interface Lsps5ServiceOptions {
  store: WebhookStore;
  delivery: WebhookDelivery;
  clock: Clock;
  log: Logger;
  maxWebhooks: number;
  allowHttp: boolean;
  cooldownMs: number;
  /** Whether the client has a connection to us now (host); notifications only go to clients that have none. */
  isConnected?: (client: string) => Promise<boolean>;
}

/** What became of a request to notify a client. */
export type NotifyOutcome =
  | { kind: 'queued'; webhooks: number }
  | { kind: 'no_webhooks' }
  | { kind: 'cooldown'; untilMs: number }
  | { kind: 'connected' };

export class Lsps5Service {
  /** client → method → when we last notified it. */
  private readonly lastSent = new Map<string, Map<NotificationMethod, number>>();
  private readonly log: Logger;

  constructor(private readonly opts: Lsps5ServiceOptions) {
    if (!Number.isInteger(opts.maxWebhooks) || opts.maxWebhooks < 1)
      throw new RangeError('LSPS5: the webhook limit must be at least 1');
    this.log = opts.log;
  }

  protocol(): LspsProtocol {
    return {
      number: LSPS5_PROTOCOL_NUMBER,
      methods: {
        [SET_WEBHOOK]: { params: ['app_name', 'webhook'], handle: (peer, p) => this.setWebhook(peer, p) },
        [LIST_WEBHOOKS]: { params: [], handle: (peer) => this.listWebhooks(peer) },
        [REMOVE_WEBHOOK]: { params: ['app_name'], handle: (peer, p) => this.removeWebhook(peer, p) },
      },
    };
  }

  private setWebhook(client: string, params: JsonObject): JsonObject {
    const appName = parseAppName(params);
    const url = parseWebhook(params, { allowHttp: this.opts.allowHttp });
    const max = this.opts.maxWebhooks;
    const r = this.opts.store.set(client, appName, url, max, this.opts.clock.now());
    if (r.kind === 'full')
      throw new LspsMethodError(ERROR.tooManyWebhooks, `at most ${max} webhooks per client`, {
        max_webhooks: max,
      });
    const noChange = r.kind === 'unchanged';
    this.log.info('LSPS5 webhook set', { client, appName, webhook: webhookOrigin(url), outcome: r.kind });
    if (!noChange) {
      // Only this webhook, and first in its queue, before any other notification to it.
      void this.opts.delivery.enqueue({
        client,
        appName,
        url,
        notification: { method: NOTIFICATION.webhookRegistered, params: {} },
      });
    }
    return { num_webhooks: r.count, max_webhooks: max, no_change: noChange };
  }

  private listWebhooks(client: string): JsonObject {
    return {
      app_names: this.opts.store.list(client).map((w) => w.appName),
      max_webhooks: this.opts.maxWebhooks,
    };
  }

  private removeWebhook(client: string, params: JsonObject): JsonObject {
    // A name too long to register cannot be registered: not found, the only error the spec gives here.
    const appName = params.app_name;
    if (typeof appName !== 'string') throw invalidParams('app_name must be a string');
    if (!this.opts.store.remove(client, appName))
      throw new LspsMethodError(ERROR.appNameNotFound, 'app_name not found');
    this.log.info('LSPS5 webhook removed', { client, appName });
    return {};
  }

  /** The client is (or was just) online: its next notification of every method may go out at once. */
  clientConnected(client: string): void {
    this.lastSent.delete(client);
  }

  /** lsps5.onion_message_incoming: an onion message waits for the offline client (the mailbox stored a notice). */
  onionMessageIncoming(client: string): Promise<NotifyOutcome> {
    return this.notify(client, { method: NOTIFICATION.onionMessageIncoming, params: {} });
  }

  paymentIncoming(client: string): Promise<NotifyOutcome> {
    return this.notify(client, { method: NOTIFICATION.paymentIncoming, params: {} });
  }

  /** `timeout`: the block height at which the LSP would have to close the channel. */
  expirySoon(client: string, timeout: number): Promise<NotifyOutcome> {
    return this.notify(client, { method: NOTIFICATION.expirySoon, params: { timeout } });
  }

  liquidityManagementRequest(client: string): Promise<NotifyOutcome> {
    return this.notify(client, { method: NOTIFICATION.liquidityManagementRequest, params: {} });
  }

  /** Queues `n` to every webhook of `client`, unless it is connected or within the method's cooldown. */
  private async notify(client: string, n: WebhookNotification): Promise<NotifyOutcome> {
    const hooks = this.opts.store.list(client);
    if (hooks.length === 0) return { kind: 'no_webhooks' };
    if (this.opts.isConnected) {
      let connected = false;
      try {
        connected = await this.opts.isConnected(client);
      } catch (e) {
        // Unknown: waking a client that is in fact online costs one push; missing a wake costs a payment.
        this.log.warn('cannot tell whether the client is connected; notifying', {
          client,
          error: (e as Error).message,
        });
      }
      if (connected) {
        this.clientConnected(client);
        this.log.debug('LSPS5 client connected; no webhook call', { client, method: n.method });
        return { kind: 'connected' };
      }
    }
    const now = this.opts.clock.now();
    const sent = this.lastSent.get(client) ?? new Map<NotificationMethod, number>();
    const last = sent.get(n.method);
    if (last !== undefined && now - last < this.opts.cooldownMs) {
      this.log.debug('LSPS5 notification within cooldown; not sent', { client, method: n.method });
      return { kind: 'cooldown', untilMs: last + this.opts.cooldownMs };
    }
    sent.set(n.method, now);
    this.lastSent.set(client, sent);
    for (const h of hooks)
      void this.opts.delivery.enqueue({ client, appName: h.appName, url: h.url, notification: n });
    this.log.info('LSPS5 notification queued', { client, method: n.method, webhooks: hooks.length });
    return { kind: 'queued', webhooks: hooks.length };
  }
}
