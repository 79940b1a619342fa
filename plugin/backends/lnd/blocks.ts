// Best-block notifications from chainrpc.RegisterBlockEpochNtfn, reconnecting with backoff. An
// empty BlockEpoch request makes LND send the current tip first, so a reconnect never misses a height.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import type { GrpcError, LndClients } from './grpc.js';
import { serverStream } from './grpc.js';
import type { BlockEpoch } from './messages.js';

export class BlockEpochs {
  private stream: ClientReadableStream<unknown> | undefined;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private best = 0;

  constructor(
    private readonly clients: LndClients,
    private readonly onBlock: (height: number) => void,
    private readonly log: Logger,
    backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    this.backoff = new Backoff(backoff);
  }

  get height(): number {
    return this.best;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.removeAllListeners('data');
      s.on('error', () => {});
      s.cancel();
    }
  }

  private open(): void {
    if (this.stopped) return;
    let s: ClientReadableStream<unknown>;
    try {
      s = serverStream(this.clients.chain, 'RegisterBlockEpochNtfn', {});
    } catch (e) {
      this.log.error('cannot open block epoch stream', { error: (e as Error).message });
      this.retry();
      return;
    }
    this.stream = s;
    s.on('data', (raw: unknown) => {
      const ep = raw as BlockEpoch;
      this.backoff.reset();
      // Reorgs may report a lower height; the engine only cares about the newest tip it is told.
      this.best = ep.height;
      this.onBlock(ep.height);
    });
    const ended = (err?: GrpcError): void => {
      if (this.stream !== s) return;
      this.stream = undefined;
      if (this.stopped) return;
      this.log.warn('block epoch stream ended; reconnecting', { error: err?.details ?? err?.message });
      this.retry();
    };
    s.on('error', (e: GrpcError) => ended(e));
    s.on('end', () => ended());
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, this.backoff.next());
  }
}
