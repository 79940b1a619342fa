// The routerrpc.HtlcInterceptor stream, kept alive across LND restarts and network drops.
//
// LND ends the stream on any answer for a key it is not holding for this stream (unknown, or already
// answered), so we answer only keys offered on the *current* stream and each at most once. After a
// reconnect LND replays every HTLC still held; answers still pending from the old stream are dropped
// and the replay is answered instead (the engine returns its stored verdict for a known key).
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import { circuitKeyString } from './htlc-map.js';
import type { LndClients, GrpcError } from './grpc.js';
import { duplexStream } from './grpc.js';
import type { ForwardHtlcInterceptRequest, ForwardHtlcInterceptResponse } from './messages.js';
import { ReconnectingStream, type StreamEnd } from './stream.js';

/** Identifies one offer on one stream; answers carry it back so stale ones can be dropped. */
export interface Offer {
  key: string;
  stream: number;
}

export type OfferHandler = (req: ForwardHtlcInterceptRequest, offer: Offer) => void;

export class HtlcInterceptorStream extends ReconnectingStream<ClientDuplexStream<unknown, unknown>> {
  private generation = 0;
  /** Keys offered on the current stream and not yet answered. */
  private offered = new Set<string>();
  private connectedListeners: (() => void)[] = [];

  constructor(
    private readonly clients: LndClients,
    private readonly onOffer: OfferHandler,
    log: Logger,
    backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    super(log, {
      openFailed: 'cannot open HtlcInterceptor',
      ended: 'htlc interceptor stream ended; reconnecting',
      backoff,
      endOn: ['error', 'end', 'close'],
    });
  }

  /** True while a stream is open (not proof LND accepted it: LND reports a rejection as an error). */
  get connected(): boolean {
    return this.stream !== undefined;
  }

  /** Called each time a new stream opens (tests and the sidecar's health line use it). */
  onConnected(fn: () => void): void {
    this.connectedListeners.push(fn);
  }

  /**
   * Answer one offer. Returns false (and sends nothing) when the offer belongs to an earlier stream
   * or was already answered: LND will replay it on the current stream if it still holds it.
   */
  answer(offer: Offer, res: ForwardHtlcInterceptResponse): boolean {
    if (!this.stream || offer.stream !== this.generation || !this.offered.has(offer.key)) return false;
    if (circuitKeyString(res.incoming_circuit_key) !== offer.key) {
      this.log.error('refusing to answer with a mismatched circuit key', { offer: offer.key });
      return false;
    }
    this.offered.delete(offer.key);
    try {
      this.stream.write(res);
      return true;
    } catch (e) {
      this.log.warn('interceptor write failed', { key: offer.key, error: (e as Error).message });
      return false;
    }
  }

  protected openStream(): ClientDuplexStream<unknown, unknown> {
    ++this.generation;
    this.offered = new Set();
    return duplexStream(this.clients.router, 'HtlcInterceptor');
  }

  protected attach(s: ClientDuplexStream<unknown, unknown>): void {
    const gen = this.generation;
    this.log.info('htlc interceptor stream opened', { stream: gen });
    // LND registers the interceptor when the stream opens; it has no "ready" message. A stream that
    // survives a few seconds is healthy, so the backoff resets then.
    const healthy = setTimeout(() => {
      if (this.generation === gen) this.loop.healthy();
    }, 5_000);
    healthy.unref();
    for (const why of ['error', 'end', 'close'] as const) s.on(why, () => clearTimeout(healthy));
    for (const fn of this.connectedListeners) fn();

    s.on('data', (raw: unknown) => {
      if (this.generation !== gen) return;
      const req = raw as ForwardHtlcInterceptRequest;
      if (!req.incoming_circuit_key) {
        this.log.error('intercept request without circuit key; cannot answer it');
        return;
      }
      const key = circuitKeyString(req.incoming_circuit_key);
      this.offered.add(key);
      try {
        this.onOffer(req, { key, stream: gen });
      } catch (e) {
        // The handler owns answering; a throw here is a bug, logged loudly but never fatal.
        this.log.error('intercept handler threw', { key, error: (e as Error).message });
      }
    });
  }

  protected override dropped(): void {
    this.offered = new Set();
  }

  protected override endedFields(why: StreamEnd, err: GrpcError | undefined): Record<string, unknown> {
    return { stream: this.generation, why, code: err?.code, error: err?.details ?? err?.message };
  }
}
