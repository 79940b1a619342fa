// Peers and channels coming and going, for the recipient-LSP role: SubscribePeerEvents (online /
// offline) and SubscribeChannelEvents (any change; the host reads ListChannels again), each
// reconnecting with backoff. After a reconnect the caller re-reads state, since events may be lost.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import type { LndClients } from './grpc.js';
import { serverStream } from './grpc.js';
import { ReconnectingStream } from './stream.js';

export interface PeerEventMsg {
  pub_key: string;
  type: 'PEER_ONLINE' | 'PEER_OFFLINE';
}

export interface ChannelEventMsg {
  type: string;
}

/** One LND server stream of events, reopened after it ends; `onOpen` runs each time it opens. */
export class LndEventStream<T> extends ReconnectingStream<ClientReadableStream<unknown>> {
  constructor(
    private readonly clients: LndClients,
    private readonly method: 'SubscribePeerEvents' | 'SubscribeChannelEvents',
    private readonly onEvent: (e: T) => void,
    private readonly onOpen: () => void,
    log: Logger,
  ) {
    super(log, { openFailed: `cannot open ${method}`, ended: `${method} stream ended; reconnecting` });
  }

  protected openStream(): ClientReadableStream<unknown> {
    return serverStream(this.clients.lightning, this.method, {});
  }

  protected attach(s: ClientReadableStream<unknown>): void {
    s.on('data', (raw: unknown) => {
      this.loop.healthy();
      try {
        this.onEvent(raw as T);
      } catch (e) {
        this.log.warn(`${this.method} event handler failed`, { error: (e as Error).message });
      }
    });
    // Events before this point were missed: let the caller catch up from current state.
    this.onOpen();
  }
}
