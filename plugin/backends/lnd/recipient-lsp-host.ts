// The LND implementation of the recipient-LSP host contract (recipient-lsp/host.ts): clients from
// SubscribePeerEvents / SubscribeChannelEvents and ListChannels, notices from the onion messages the
// sidecar's transport already receives (SubscribeOnionMessages on 0.21, custom message 513 on 0.20),
// releases and relays sent through the same transport, routed over the graph when the reply path's
// intro is not our peer. Converts at the edge: the engine sees hex node ids and opaque path bytes.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Logger } from '../../ops/log.js';
import { decodeBlindedPath, encodeBlindedPath, introNodeId } from '../../protocol/blinded-path.js';
import {
  type AsyncMessageTypes,
  DEFAULT_ASYNC_MESSAGE_TYPES,
  buildOnionMessage,
  buildReleaseHeldHtlcVariants,
  buildReleasePath,
} from '../../protocol/onion-message.js';
import { buildBlindedPath } from '../../protocol/route-blinding.js';
import type { PeerState, RecipientLspEvents, RecipientLspHost } from '../../recipient-lsp/host.js';
import { lndError } from './errors.js';
import type { GrpcError, LndClients } from './grpc.js';
import { unary } from './grpc.js';
import type { InboundOnionMessage, OutboundOnionMessage } from './onion-transport.js';
import type { OnionRouter } from './onion-route.js';
import { LndEventStream, type ChannelEventMsg, type PeerEventMsg } from './peer-events.js';
import { loadOrCreateReleaseKey } from './release-key.js';

/** The onion-message side of the sidecar's LndBackend, shared so one transport serves both roles. */
export interface LndOnionPort {
  onInboundOnionMessage(fn: (m: InboundOnionMessage) => void): void;
  sendOnionMessage(msg: OutboundOnionMessage): Promise<void>;
  readonly router: OnionRouter;
}

export interface LndRecipientLspHostOptions {
  clients: LndClients;
  /** Our node id, hex. */
  nodeId: string;
  /** Holds the node-local secret (the release key file, used under its own HMAC label). */
  dataDir: string;
  onion: LndOnionPort;
  log: Logger;
  types?: AsyncMessageTypes;
  /** Encodings of what we send, each its own message: odd for LND/CLN LSPs and clients, even for LDK. */
  variants?: ('odd' | 'even')[];
}

interface ChannelMsg {
  active: boolean;
  remote_pubkey: string;
}

export class LndRecipientLspHost implements RecipientLspHost {
  private events: RecipientLspEvents | undefined;
  private peerStream: LndEventStream<PeerEventMsg> | undefined;
  private chanStream: LndEventStream<ChannelEventMsg> | undefined;
  private readonly types: AsyncMessageTypes;
  private readonly variants: ('odd' | 'even')[];
  private listening = false;
  /** Channel peers we last saw active, so a channel event only reports the ones newly active. */
  private active = new Set<string>();

  constructor(private readonly opts: LndRecipientLspHostOptions) {
    this.types = opts.types ?? DEFAULT_ASYNC_MESSAGE_TYPES;
    this.variants = opts.variants ?? ['odd', 'even'];
  }

  async start(events: RecipientLspEvents): Promise<void> {
    this.events = events;
    const log = this.opts.log;
    if (!this.listening) {
      this.listening = true;
      this.opts.onion.onInboundOnionMessage((m) => this.onOnion(m));
    }
    this.peerStream = new LndEventStream<PeerEventMsg>(
      this.opts.clients,
      'SubscribePeerEvents',
      (e) => {
        if (e.type === 'PEER_ONLINE') this.events?.peerOnline(e.pub_key);
        else if (e.type === 'PEER_OFFLINE') {
          this.active.delete(e.pub_key);
          this.events?.peerOffline(e.pub_key);
        }
      },
      () => this.refreshActive(true),
      log.child({ part: 'peer-events' }),
    );
    this.chanStream = new LndEventStream<ChannelEventMsg>(
      this.opts.clients,
      'SubscribeChannelEvents',
      () => this.refreshActive(false),
      () => this.refreshActive(true),
      log.child({ part: 'channel-events' }),
    );
    this.peerStream.start();
    this.chanStream.start();
  }

  async stop(): Promise<void> {
    this.events = undefined;
    this.peerStream?.stop();
    this.chanStream?.stop();
  }

  async pathKey(): Promise<Uint8Array> {
    return loadOrCreateReleaseKey(this.opts.dataDir);
  }

  async peerState(nodeId: string): Promise<PeerState> {
    const chans = await this.channels({ peer: Buffer.from(hexToBytes(nodeId)) });
    // LND marks a channel active only while its peer is connected and the channel is usable.
    return { hasChannel: chans.length > 0, ready: chans.some((c) => c.active) };
  }

  async messagePath(pathId: Uint8Array): Promise<Uint8Array> {
    return buildReleasePath(hexToBytes(this.opts.nodeId), pathId);
  }

  async sendRelease(replyPath: Uint8Array): Promise<void> {
    const path = decodeBlindedPath(replyPath);
    const intro = introNodeId(path);
    if (!intro)
      throw lndError('rpc', 'reply path names its intro node by channel id; not supported on LND yet');
    const via = await this.opts.onion.router.via(intro);
    const msgs = buildReleaseHeldHtlcVariants({
      replyPath: path,
      via,
      variants: this.variants,
      types: this.types,
    });
    await this.sendAll(msgs, `release to ${bytesToHex(intro)}`);
  }

  async relayNotice(clientNodeId: string, replyPath: Uint8Array): Promise<void> {
    const client = hexToBytes(clientNodeId);
    // A one-hop blinded path to the client, our direct peer: nothing to hide, the format wants one.
    const destination = buildBlindedPath([client], {});
    const reply = decodeBlindedPath(replyPath);
    const empty = new Uint8Array(0);
    const msgs = this.variants.map((v) =>
      buildOnionMessage({
        destination,
        payload:
          v === 'odd'
            ? { replyPath: reply, heldHtlcAvailableOdd: empty }
            : { replyPath: reply, heldHtlcAvailable: empty },
        types: this.types,
      }),
    );
    await this.sendAll(msgs, `relay to ${clientNodeId}`);
  }

  private async sendAll(msgs: OutboundOnionMessage[], what: string): Promise<void> {
    let sent = 0;
    let last: Error | undefined;
    for (const m of msgs) {
      try {
        await this.opts.onion.sendOnionMessage(m);
        sent++;
      } catch (e) {
        last = e as Error;
      }
    }
    if (sent === 0) throw last ?? lndError('rpc', `${what}: nothing to send`);
    this.opts.log.debug('recipient-lsp onion message sent', { what, messages: sent });
  }

  private onOnion(m: InboundOnionMessage): void {
    if (!m.heldHtlcAvailable || !this.events) return;
    let replyPath: Uint8Array | undefined;
    try {
      replyPath = m.replyPath ? encodeBlindedPath(m.replyPath) : undefined;
    } catch (e) {
      this.opts.log.debug('held_htlc_available with a reply path we cannot encode', {
        peer: m.peer,
        error: (e as Error).message,
      });
    }
    this.events.heldHtlcAvailable({ pathId: m.pathId, replyPath });
  }

  /** Report peers whose channel became active (all active ones after a stream (re)opens). */
  private refreshActive(all: boolean): void {
    this.channels({ active_only: true }).then(
      (chans) => {
        const now = new Set(chans.filter((c) => c.active).map((c) => c.remote_pubkey));
        for (const p of now) if (all || !this.active.has(p)) this.events?.channelActive(p);
        this.active = now;
      },
      (e: unknown) =>
        this.opts.log.warn('ListChannels failed; client state not refreshed', {
          error: (e as Error).message,
        }),
    );
  }

  private async channels(req: object): Promise<ChannelMsg[]> {
    try {
      return (await unary<{ channels: ChannelMsg[] }>(this.opts.clients.lightning, 'ListChannels', req))
        .channels;
    } catch (e) {
      throw lndError('rpc', `ListChannels failed: ${(e as GrpcError).details ?? (e as Error).message}`);
    }
  }
}
