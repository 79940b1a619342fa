// The LSPS host over LND: peer message 37913 through SubscribeCustomMessages / SendCustomMessage
// (37913 is above 32768, LND's custom range, so no --protocol.custom-message flag is needed), node
// signatures through SignMessage (zbase32, LND's own format), presence through ListPeers. The
// custom-message stream reconnects with backoff like the others; LND fans it out to every
// subscriber, so it coexists with the 0.20 onion-message transport's own subscription.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { LspsHost, PeerMessageHandler } from '../../lsps/host.js';
import type { Logger } from '../../ops/log.js';
import { lndError } from './errors.js';
import { serverStream, unary, type GrpcError, type LndClients } from './grpc.js';
import type { CustomMessage, Peer } from './messages.js';
import { ReconnectingStream } from './stream.js';

export class LndLspsHost extends ReconnectingStream<ClientReadableStream<unknown>> implements LspsHost {
  private onMessage: PeerMessageHandler | undefined;

  constructor(
    private readonly clients: LndClients,
    private readonly messageType: number,
    log: Logger,
  ) {
    super(log, {
      openFailed: 'cannot open SubscribeCustomMessages',
      ended: 'SubscribeCustomMessages stream (LSPS) ended; reconnecting',
    });
  }

  /**
   * Opens the subscription. LND answers nothing on it until a message arrives, so there is no
   * moment at which it is known to be registered; a client's first request may race it and be
   * lost, which LSPS0 clients handle with their request timeout.
   */
  override start(onMessage?: PeerMessageHandler): Promise<void> {
    this.onMessage = onMessage;
    super.start();
    return Promise.resolve();
  }

  override stop(): Promise<void> {
    super.stop();
    return Promise.resolve();
  }

  async send(peer: string, payload: Uint8Array): Promise<void> {
    try {
      await unary(this.clients.lightning, 'SendCustomMessage', {
        peer: Buffer.from(hexToBytes(peer)),
        type: this.messageType,
        data: Buffer.from(payload),
      });
    } catch (e) {
      const g = e as GrpcError;
      throw lndError('rpc', `SendCustomMessage to ${peer} failed: ${g.details ?? g.message}`);
    }
  }

  async signMessage(message: string): Promise<string> {
    try {
      const r = await unary<{ signature: string }>(this.clients.lightning, 'SignMessage', {
        msg: Buffer.from(message, 'utf8'),
      });
      return r.signature;
    } catch (e) {
      const g = e as GrpcError;
      throw lndError('rpc', `SignMessage failed: ${g.details ?? g.message}`);
    }
  }

  async isConnected(peer: string): Promise<boolean> {
    const r = await unary<{ peers: Peer[] }>(this.clients.lightning, 'ListPeers', {});
    return r.peers.some((p) => p.pub_key === peer);
  }

  protected openStream(): ClientReadableStream<unknown> {
    return serverStream(this.clients.lightning, 'SubscribeCustomMessages', {});
  }

  protected attach(s: ClientReadableStream<unknown>): void {
    s.on('data', (raw: unknown) => {
      this.loop.healthy();
      const m = raw as CustomMessage;
      if (m.type !== this.messageType) return;
      try {
        this.onMessage?.(bytesToHex(m.peer), new Uint8Array(m.data));
      } catch (e) {
        this.log.warn('LSPS message handler failed', { error: (e as Error).message });
      }
    });
  }
}
