// Best-block notifications from chainrpc.RegisterBlockEpochNtfn, reconnecting with backoff. An
// empty BlockEpoch request makes LND send the current tip first, so a reconnect never misses a height.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import type { LndClients } from './grpc.js';
import { serverStream } from './grpc.js';
import type { BlockEpoch } from './messages.js';
import { ReconnectingStream } from './stream.js';

export class BlockEpochs extends ReconnectingStream<ClientReadableStream<unknown>> {
  private best = 0;

  constructor(
    private readonly clients: LndClients,
    private readonly onBlock: (height: number) => void,
    log: Logger,
    backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    super(log, {
      openFailed: 'cannot open block epoch stream',
      ended: 'block epoch stream ended; reconnecting',
      backoff,
    });
  }

  get height(): number {
    return this.best;
  }

  protected openStream(): ClientReadableStream<unknown> {
    return serverStream(this.clients.chain, 'RegisterBlockEpochNtfn', {});
  }

  protected attach(s: ClientReadableStream<unknown>): void {
    s.on('data', (raw: unknown) => {
      const ep = raw as BlockEpoch;
      this.loop.healthy();
      // Reorgs may report a lower height; the engine only cares about the newest tip it is told.
      this.best = ep.height;
      this.onBlock(ep.height);
    });
  }
}
