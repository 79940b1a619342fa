// Peers and channels coming and going, for the recipient-LSP role: SubscribePeerEvents (online /
// offline) and SubscribeChannelEvents (any change; the host reads ListChannels again), each
// reconnecting with backoff. After a reconnect the caller re-reads state, since events may be lost.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import { ReconnectLoop } from './backoff.js';
import type { GrpcError, LndClients } from './grpc.js';
import { cancelStream, serverStream } from './grpc.js';

export interface PeerEventMsg {
  pub_key: string;
  type: 'PEER_ONLINE' | 'PEER_OFFLINE';
}

export interface ChannelEventMsg {
  type: string;
}

/** One LND server stream of events, reopened after it ends; `onOpen` runs each time it opens. */
export class LndEventStream<T> {
  private stream: ClientReadableStream<unknown> | undefined;
  private readonly loop = new ReconnectLoop(() => this.open());

  constructor(
    private readonly clients: LndClients,
    private readonly method: 'SubscribePeerEvents' | 'SubscribeChannelEvents',
    private readonly onEvent: (e: T) => void,
    private readonly onOpen: () => void,
    private readonly log: Logger,
  ) {}

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
      s = serverStream(this.clients.lightning, this.method, {});
    } catch (e) {
      this.log.error(`cannot open ${this.method}`, { error: (e as Error).message });
      this.loop.retry();
      return;
    }
    this.stream = s;
    s.on('data', (raw: unknown) => {
      this.loop.healthy();
      try {
        this.onEvent(raw as T);
      } catch (e) {
        this.log.warn(`${this.method} event handler failed`, { error: (e as Error).message });
      }
    });
    const ended = (err?: GrpcError): void => {
      if (this.stream !== s) return;
      this.stream = undefined;
      if (this.loop.stopped) return;
      this.log.warn(`${this.method} stream ended; reconnecting`, { error: err?.details ?? err?.message });
      this.loop.retry();
    };
    s.on('error', (e: GrpcError) => ended(e));
    s.on('end', () => ended());
    // Events before this point were missed: let the caller catch up from current state.
    this.onOpen();
  }
}
