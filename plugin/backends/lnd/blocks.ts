// Best-block notifications from chainrpc.RegisterBlockEpochNtfn, reconnecting with backoff. An
// empty BlockEpoch request makes LND send the current tip first, so a reconnect never misses a height.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import { ReconnectLoop, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import type { GrpcError, LndClients } from './grpc.js';
import { cancelStream, serverStream } from './grpc.js';
import type { BlockEpoch } from './messages.js';

export class BlockEpochs {
  private stream: ClientReadableStream<unknown> | undefined;
  private readonly loop: ReconnectLoop;
  private best = 0;

  constructor(
    private readonly clients: LndClients,
    private readonly onBlock: (height: number) => void,
    private readonly log: Logger,
    backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    this.loop = new ReconnectLoop(() => this.open(), backoff);
  }

  get height(): number {
    return this.best;
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    const s = this.stream;
    this.stream = undefined;
    if (s) cancelStream(s);
  }

  private open(): void {
    if (this.loop.stopped) return;
    let s: ClientReadableStream<unknown>;
    try {
      s = serverStream(this.clients.chain, 'RegisterBlockEpochNtfn', {});
    } catch (e) {
      this.log.error('cannot open block epoch stream', { error: (e as Error).message });
      this.loop.retry();
      return;
    }
    this.stream = s;
    s.on('data', (raw: unknown) => {
      const ep = raw as BlockEpoch;
      this.loop.healthy();
      // Reorgs may report a lower height; the engine only cares about the newest tip it is told.
      this.best = ep.height;
      this.onBlock(ep.height);
    });
    const ended = (err?: GrpcError): void => {
      if (this.stream !== s) return;
      this.stream = undefined;
      if (this.loop.stopped) return;
      this.log.warn('block epoch stream ended; reconnecting', { error: err?.details ?? err?.message });
      this.loop.retry();
    };
    s.on('error', (e: GrpcError) => ended(e));
    s.on('end', () => ended());
  }
}
