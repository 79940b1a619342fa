// Webhook calls: signed POSTs with Node's own fetch. Each webhook has its own serial queue, so its
// lsps5.webhook_registered goes out before anything else to it (bLIP-55) and a receiver that is down
// or slow holds up only its own queue; nothing here is awaited by the LSPS0 server or the mailbox.
// A call without an HTTP answer (refused, reset, timed out) is retried with capped exponential
// backoff, re-signed with a fresh timestamp each time (LDK's validator refuses a repeated signature).
// Any HTTP answer ends the call: 200 is success, anything else is logged as unusual and otherwise
// ignored, as the spec says; redirects are not followed.
import type { Clock, TimerHandle } from '../../hold/clock.js';
import type { Logger } from '../../ops/log.js';
import { lsps5Timestamp, notificationBody, signedMessage, type WebhookNotification } from './notification.js';
import { webhookOrigin } from './messages.js';

export interface DeliveryOptions {
  /** LN signature (zbase32) of a UTF-8 message by the node key. */
  sign: (message: string) => Promise<string>;
  /** Still registered with this URL? Checked before every attempt, so a removed webhook gets nothing more. */
  stillRegistered: (client: string, appName: string, url: string) => boolean;
  clock: Clock;
  log: Logger;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts per notification, the first included. */
  maxAttempts: number;
  /** Queued notifications per webhook; beyond it the newest is dropped (the spec's notifications are level-triggered). */
  maxQueue: number;
  fetch?: typeof fetch;
}

export interface DeliveryJob {
  client: string;
  appName: string;
  url: string;
  notification: WebhookNotification;
}

export type DeliveryResult = 'ok' | 'http_error' | 'gave_up' | 'dropped';

interface Lane {
  jobs: { job: DeliveryJob; done: (r: DeliveryResult) => void }[];
  running: boolean;
}

export class WebhookDelivery {
  private readonly lanes = new Map<string, Lane>();
  private readonly inflight = new Set<AbortController>();
  private readonly sleepers = new Map<TimerHandle, () => void>();
  private stopped = false;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: DeliveryOptions) {
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  /** Queues a call; the promise (for tests and logs) settles when it is done, never rejects. */
  enqueue(job: DeliveryJob): Promise<DeliveryResult> {
    if (this.stopped) return Promise.resolve('dropped');
    const key = `${job.client}\u0000${job.appName}\u0000${job.url}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { jobs: [], running: false };
      this.lanes.set(key, lane);
    }
    if (lane.jobs.length >= this.opts.maxQueue) {
      this.opts.log.warn('webhook queue full; notification dropped', this.fields(job));
      return Promise.resolve('dropped');
    }
    const result = new Promise<DeliveryResult>((done) => lane.jobs.push({ job, done }));
    if (!lane.running) void this.run(key, lane);
    return result;
  }

  /** Abandons queued and in-flight calls (at shutdown); their promises settle 'dropped'. */
  stop(): void {
    this.stopped = true;
    for (const [t, wake] of this.sleepers) {
      this.opts.clock.clearTimeout(t);
      wake();
    }
    this.sleepers.clear();
    for (const c of this.inflight) c.abort();
    for (const lane of this.lanes.values()) for (const j of lane.jobs.splice(0)) j.done('dropped');
    this.lanes.clear();
  }

  private async run(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    while (!this.stopped && lane.jobs.length > 0) {
      const next = lane.jobs[0]!;
      let r: DeliveryResult;
      try {
        r = await this.deliver(next.job);
      } catch (e) {
        this.opts.log.error('webhook delivery failed unexpectedly', {
          ...this.fields(next.job),
          error: (e as Error).message,
        });
        r = 'gave_up';
      }
      lane.jobs.shift();
      next.done(r);
    }
    lane.running = false;
    if (lane.jobs.length === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }

  private async deliver(job: DeliveryJob): Promise<DeliveryResult> {
    const body = notificationBody(job.notification);
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return 'dropped';
      if (!this.opts.stillRegistered(job.client, job.appName, job.url)) {
        this.opts.log.info('webhook removed or changed; notification not sent', this.fields(job));
        return 'dropped';
      }
      const outcome = await this.attempt(job, body);
      if (outcome.kind === 'answered') {
        if (outcome.status === 200) {
          this.opts.log.info('webhook notified', { ...this.fields(job), attempt });
          return 'ok';
        }
        this.opts.log.warn('webhook answered other than 200 OK; ignored', {
          ...this.fields(job),
          status: outcome.status,
        });
        return 'http_error';
      }
      if (attempt >= this.opts.maxAttempts) {
        this.opts.log.warn('webhook unreachable; giving up', {
          ...this.fields(job),
          attempts: attempt,
          error: outcome.error,
        });
        return 'gave_up';
      }
      const delay = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (attempt - 1));
      this.opts.log.info('webhook unreachable; retrying', {
        ...this.fields(job),
        attempt,
        retryMs: delay,
        error: outcome.error,
      });
      await this.sleep(delay);
    }
  }

  private async attempt(
    job: DeliveryJob,
    body: string,
  ): Promise<{ kind: 'answered'; status: number } | { kind: 'failed'; error: string }> {
    let timestamp: string;
    let signature: string;
    try {
      timestamp = lsps5Timestamp(this.opts.clock.now());
      signature = await this.opts.sign(signedMessage(timestamp, body));
    } catch (e) {
      return { kind: 'failed', error: `signing failed: ${(e as Error).message}` };
    }
    const ctrl = new AbortController();
    this.inflight.add(ctrl);
    const timer = this.opts.clock.setTimeout(() => ctrl.abort(), this.opts.timeoutMs);
    try {
      const res = await this.fetch(job.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-lsps5-timestamp': timestamp,
          'x-lsps5-signature': signature,
        },
        body,
        redirect: 'manual',
        signal: ctrl.signal,
      });
      // The answer is ignored beyond its status; free the connection without reading it.
      void res.body?.cancel().catch(() => {});
      return { kind: 'answered', status: res.status };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = ctrl.signal.aborted
        ? `no answer within ${this.opts.timeoutMs} ms`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
      return { kind: 'failed', error: why };
    } finally {
      this.opts.clock.clearTimeout(timer);
      this.inflight.delete(ctrl);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.opts.clock.setTimeout(() => {
        this.sleepers.delete(t);
        resolve();
      }, ms);
      this.sleepers.set(t, resolve);
    });
  }

  private fields(job: DeliveryJob): Record<string, unknown> {
    // Never the full URL: its path and query carry the client's tokens.
    return {
      client: job.client,
      appName: job.appName,
      webhook: webhookOrigin(job.url),
      method: job.notification.method,
    };
  }
}
