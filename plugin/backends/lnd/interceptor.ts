// The routerrpc.HtlcInterceptor stream, kept alive across LND restarts and network drops.
//
// LND ends the stream on any answer for a key it is not holding for this stream (unknown, or already
// answered), so we answer only keys offered on the *current* stream and each at most once. After a
// reconnect LND replays every HTLC still held; answers still pending from the old stream are dropped
// and the replay is answered instead (the engine returns its stored verdict for a known key).
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import { ReconnectLoop, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import { circuitKeyString } from './htlc-map.js';
import type { LndClients, GrpcError } from './grpc.js';
import { cancelStream, duplexStream } from './grpc.js';
import type { ForwardHtlcInterceptRequest, ForwardHtlcInterceptResponse } from './messages.js';

/** Identifies one offer on one stream; answers carry it back so stale ones can be dropped. */
export interface Offer {
  key: string;
  stream: number;
}

export type OfferHandler = (req: ForwardHtlcInterceptRequest, offer: Offer) => void;

export class HtlcInterceptorStream {
  private stream: ClientDuplexStream<unknown, unknown> | undefined;
  private generation = 0;
  /** Keys offered on the current stream and not yet answered. */
  private offered = new Set<string>();
  private readonly loop: ReconnectLoop;
  private connectedListeners: (() => void)[] = [];

  constructor(
    private readonly clients: LndClients,
    private readonly onOffer: OfferHandler,
    private readonly log: Logger,
    backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    this.loop = new ReconnectLoop(() => this.open(), backoff);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.close();
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

  private open(): void {
    if (this.loop.stopped) return;
    const gen = ++this.generation;
    this.offered = new Set();
    let s: ClientDuplexStream<unknown, unknown>;
    try {
      s = duplexStream(this.clients.router, 'HtlcInterceptor');
    } catch (e) {
      this.log.error('cannot open HtlcInterceptor', { error: (e as Error).message });
      this.loop.retry();
      return;
    }
    this.stream = s;
    this.log.info('htlc interceptor stream opened', { stream: gen });
    // LND registers the interceptor when the stream opens; it has no "ready" message. A stream that
    // survives a few seconds is healthy, so the backoff resets then.
    const healthy = setTimeout(() => {
      if (this.generation === gen) this.loop.healthy();
    }, 5_000);
    healthy.unref();
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
    const ended = (why: string, err?: GrpcError): void => {
      clearTimeout(healthy);
      if (this.generation !== gen || this.stream !== s) return;
      this.stream = undefined;
      this.offered = new Set();
      if (this.loop.stopped) return;
      this.log.warn('htlc interceptor stream ended; reconnecting', {
        stream: gen,
        why,
        code: err?.code,
        error: err?.details ?? err?.message,
      });
      this.loop.retry();
    };
    s.on('error', (e: GrpcError) => ended('error', e));
    s.on('end', () => ended('end'));
    s.on('close', () => ended('close'));
  }

  private close(): void {
    const s = this.stream;
    this.stream = undefined;
    this.offered = new Set();
    if (s) cancelStream(s);
  }
}
