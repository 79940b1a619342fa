// The LND implementation of the engine's Backend contract (hold/backend.ts): HTLCs from the
// HtlcInterceptor, releases from onion messages, heights from chainrpc, ECDH from signrpc, payments
// from routerrpc. Converts at the edge and nowhere else.
import { bytesToHex } from '@noble/hashes/utils.js';
import type {
  Backend,
  HeldHtlcNotice,
  HostEvents,
  PayRequest,
  PayResult,
  Verdict,
} from '../../hold/backend.js';
import { SupersededError } from '../../hold/backend.js';
import type { Logger } from '../../ops/log.js';
import { decodeBlindedPath, introNodeId } from '../../protocol/blinded-path.js';
import type { Ecdh } from '../../protocol/ec.js';
import { CodecError } from '../../protocol/errors.js';
import {
  type AsyncMessageTypes,
  DEFAULT_ASYNC_MESSAGE_TYPES,
  buildHeldHtlcAvailableVariants,
} from '../../protocol/onion-message.js';
import { BlockEpochs } from './blocks.js';
import { lndError } from './errors.js';
import type { GrpcError, LndClients } from './grpc.js';
import { unary } from './grpc.js';
import {
  DEFAULT_HTLC_TYPES,
  type HtlcTypeNumbers,
  mentionsAsync,
  toInterceptResponse,
  toInterceptedHtlc,
} from './htlc-map.js';
import { HtlcInterceptorStream, type Offer } from './interceptor.js';
import type { ForwardHtlcInterceptRequest, GetInfoResponse } from './messages.js';
import { LndOnionTransport, type InboundOnionMessage, type OutboundOnionMessage } from './onion-transport.js';
import { OnionRouter } from './onion-route.js';
import { payWithLnd, trackWithLnd } from './pay.js';
import type { LndFacts } from './preflight.js';
import { loadOrCreateReleaseKey } from './release-key.js';

/** Which held_htlc_available encodings to send: LND/CLN agents read the odd alias, LDK the even. */
export type HeldHtlcVariant = 'odd' | 'even';

export interface LndBackendOptions {
  clients: LndClients;
  facts: LndFacts;
  dataDir: string;
  log: Logger;
  htlcTypes?: HtlcTypeNumbers;
  messageTypes?: AsyncMessageTypes;
  heldHtlcVariants?: HeldHtlcVariant[];
  customMessageType?: number;
  payTimeoutSeconds?: number;
}

export class LndBackend implements Backend {
  private readonly clients: LndClients;
  private readonly log: Logger;
  private readonly htlcTypes: HtlcTypeNumbers;
  private readonly msgTypes: AsyncMessageTypes;
  private readonly variants: HeldHtlcVariant[];
  private readonly ourNodeId: Uint8Array;
  private interceptor: HtlcInterceptorStream | undefined;
  private blocks: BlockEpochs | undefined;
  private readonly transport: LndOnionTransport;
  private key: Uint8Array | undefined;
  private events: HostEvents | undefined;
  private height: number;
  private readonly connectedListeners: (() => void)[] = [];
  /** Incoming channel (chan_id or alias scid, decimal) -> peer node id, for per-peer caps. */
  private peers = new Map<string, string>();
  private stopped = false;
  private readonly onionListeners: ((m: InboundOnionMessage) => void)[] = [];
  /** Routes onion messages over the graph when a path's intro is not our peer. */
  readonly router: OnionRouter;

  constructor(private readonly opts: LndBackendOptions) {
    this.clients = opts.clients;
    this.log = opts.log;
    this.htlcTypes = opts.htlcTypes ?? DEFAULT_HTLC_TYPES;
    this.msgTypes = opts.messageTypes ?? DEFAULT_ASYNC_MESSAGE_TYPES;
    this.variants = opts.heldHtlcVariants ?? ['odd', 'even'];
    this.ourNodeId = new Uint8Array(Buffer.from(opts.facts.nodeId, 'hex'));
    this.height = opts.facts.blockHeight;
    this.router = new OnionRouter(this.clients, opts.facts.nodeId, this.log.child({ part: 'onion-route' }));
    // Built here, not in start(): the engine may send notices for restored holds before start().
    this.transport = new LndOnionTransport(
      this.clients,
      {
        kind: opts.facts.onionTransport,
        ourNodeId: this.ourNodeId,
        ecdh: (p) => this.ecdh(p),
        types: this.msgTypes,
        ...(opts.customMessageType !== undefined ? { customMessageType: opts.customMessageType } : {}),
      },
      (m) => this.onOnionMessage(m),
      this.log.child({ part: 'onion' }),
    );
  }

  readonly ecdhOracle: Ecdh = (point) => this.ecdh(point);

  async start(events: HostEvents): Promise<void> {
    this.events = events;
    this.key = loadOrCreateReleaseKey(this.opts.dataDir);
    this.blocks = new BlockEpochs(
      this.clients,
      (h) => {
        this.height = h;
        events.block(h);
      },
      this.log.child({ part: 'blocks' }),
    );
    this.interceptor = new HtlcInterceptorStream(
      this.clients,
      (req, offer) => this.onOffer(req, offer),
      this.log.child({ part: 'interceptor' }),
    );
    for (const fn of this.connectedListeners) this.interceptor.onConnected(fn);
    this.blocks.start();
    // Releases may arrive before the HTLC shows up; the engine keeps them, so listen first.
    this.transport.start();
    this.interceptor.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.interceptor?.stop();
    this.transport.stop();
    this.blocks?.stop();
  }

  /** For tests and the sidecar's health output. */
  get interceptorConnected(): boolean {
    return this.interceptor?.connected ?? false;
  }

  /** Called each time the interceptor stream (re)opens; may be registered before start(). */
  onInterceptorConnected(fn: () => void): void {
    this.connectedListeners.push(fn);
    this.interceptor?.onConnected(fn);
  }

  async nodeId(): Promise<string> {
    return this.opts.facts.nodeId;
  }

  async currentHeight(): Promise<number> {
    try {
      const info = await unary<GetInfoResponse>(this.clients.lightning, 'GetInfo', {});
      this.height = Math.max(this.height, info.block_height);
    } catch (e) {
      this.log.warn('GetInfo failed; using last known height', { error: (e as Error).message });
    }
    return this.height;
  }

  async releaseKey(): Promise<Uint8Array> {
    this.key ??= loadOrCreateReleaseKey(this.opts.dataDir);
    return this.key;
  }

  async ecdh(point: Uint8Array): Promise<Uint8Array> {
    try {
      const res = await unary<{ shared_key: Buffer }>(this.clients.signer, 'DeriveSharedKey', {
        ephemeral_pubkey: Buffer.from(point),
      });
      if (res.shared_key.length !== 32) throw new Error(`shared key of ${res.shared_key.length} bytes`);
      return new Uint8Array(res.shared_key);
    } catch (e) {
      const g = e as GrpcError;
      // A bad point is bad input (CodecError); anything else is LND trouble.
      if (/pubkey|point|invalid/i.test(g.details ?? g.message))
        throw new CodecError('invalid', 'ecdh: bad point');
      throw lndError('rpc', `DeriveSharedKey failed: ${g.details ?? g.message}`);
    }
  }

  async sendHeldHtlcAvailable(notice: HeldHtlcNotice): Promise<void> {
    const dest = decodeBlindedPath(notice.messagePath);
    const intro = introNodeId(dest);
    if (!intro)
      throw lndError('rpc', 'message path names its intro node by channel id; not supported on LND yet');
    const via = await this.router.via(intro);
    // One message per encoding (see buildHeldHtlcAvailableVariants), all with one reply path.
    const messages = buildHeldHtlcAvailableVariants({
      messagePath: dest,
      via,
      replyPathId: notice.replyPathId,
      ourNodeId: this.ourNodeId,
      variants: this.variants,
      types: this.msgTypes,
    });
    let sent = 0;
    let lastError: Error | undefined;
    for (const msg of messages) {
      try {
        await this.transport.send(msg);
        sent++;
      } catch (e) {
        lastError = e as Error;
      }
    }
    if (sent === 0 && lastError) throw lastError;
    this.log.debug('held_htlc_available sent', {
      intro: bytesToHex(intro),
      variants: this.variants.join(','),
    });
  }

  async pay(req: PayRequest): Promise<PayResult> {
    return payWithLnd(
      this.clients,
      req,
      {
        height: () => this.height,
        timeoutSeconds: this.opts.payTimeoutSeconds ?? 60,
        stopped: () => this.stopped,
      },
      this.log.child({ part: 'pay' }),
    );
  }

  async trackPayment(paymentHash: Uint8Array): Promise<PayResult | undefined> {
    return trackWithLnd(this.clients, paymentHash, this.log.child({ part: 'pay' }), () => this.stopped);
  }

  /** Other roles on this node (recipient-LSP mode) see every onion message addressed to us. */
  onInboundOnionMessage(fn: (m: InboundOnionMessage) => void): void {
    this.onionListeners.push(fn);
  }

  /** Send a built onion message through our transport (first hop a peer, or us). */
  async sendOnionMessage(msg: OutboundOnionMessage): Promise<void> {
    await this.transport.send(msg);
  }

  private onOnionMessage(m: InboundOnionMessage): void {
    for (const fn of this.onionListeners) {
      try {
        fn(m);
      } catch (e) {
        this.log.warn('onion message listener failed', { error: (e as Error).message });
      }
    }
    if (!m.releaseHeldHtlc) return;
    if (!m.pathId) {
      this.log.debug('release_held_htlc without path_id ignored', { peer: m.peer });
      return;
    }
    this.events?.release(m.pathId);
  }

  /** The peer on a channel, from ListChannels (refreshed when a channel is new to us). */
  private async peerOf(chanId: string): Promise<string | undefined> {
    if (!this.peers.has(chanId)) {
      try {
        const r = await unary<{
          channels: { remote_pubkey: string; chan_id: string; alias_scids: string[] }[];
        }>(this.clients.lightning, 'ListChannels', {});
        const next = new Map<string, string>();
        for (const c of r.channels) {
          next.set(c.chan_id, c.remote_pubkey);
          for (const a of c.alias_scids) next.set(a, c.remote_pubkey);
        }
        this.peers = next;
      } catch (e) {
        this.log.warn('ListChannels failed; caps count this HTLC per channel', {
          error: (e as Error).message,
        });
      }
    }
    return this.peers.get(chanId);
  }

  private onOffer(req: ForwardHtlcInterceptRequest, offer: Offer): void {
    const chanId = req.incoming_circuit_key?.chan_id ?? '0';
    this.peerOf(chanId).then(
      (peer) => this.handleOffer(req, offer, peer),
      () => this.handleOffer(req, offer, undefined),
    );
  }

  private handleOffer(req: ForwardHtlcInterceptRequest, offer: Offer, peer: string | undefined): void {
    const ck = req.incoming_circuit_key!;
    const answer = (v: Verdict): void => {
      if (!this.interceptor?.answer(offer, toInterceptResponse(ck, v))) {
        this.log.debug('verdict not sent: offer no longer live (LND replays it)', { key: offer.key });
      }
    };
    let htlc;
    try {
      htlc = { ...toInterceptedHtlc(req, this.htlcTypes), incomingPeer: peer };
      this.log.debug('intercepted htlc', {
        key: offer.key,
        incomingPeer: htlc.incomingPeer,
        holdFlag: htlc.holdFlag,
        asyncHold: htlc.asyncHold !== undefined,
        incomingExpiry: htlc.incomingExpiry,
        outgoingExpiry: htlc.outgoingExpiry,
        autoFailHeight: htlc.autoFailHeight,
      });
    } catch (e) {
      // Every offer ends in exactly one answer. An HTLC that asked for async handling we cannot
      // parse is failed back; anything else was never ours to judge and goes on as the onion says.
      const asked = mentionsAsync(req, this.htlcTypes);
      this.log.warn('cannot map intercepted htlc', { key: offer.key, asked, error: (e as Error).message });
      answer(asked ? { kind: 'fail', reason: 'not_holdable', trampoline: false } : { kind: 'continue' });
      return;
    }
    const events = this.events;
    if (!events) return;
    events.htlc(htlc).then(answer, (e: unknown) => {
      if (e instanceof SupersededError) return;
      // No verdict: leave the HTLC held. LND re-offers it when the stream reconnects and fails it
      // itself at auto_fail_height, before the incoming timelock, so no channel is at risk.
      this.log.error('engine gave no verdict', { key: offer.key, error: (e as Error).message });
    });
  }
}
