// Core Lightning as the recipient-LSP host (recipient-lsp/host.ts): notices from the
// onion_message_recv_secret hook (pathsecret = our client path_id, reply_blindedpath kept), clients
// from the connect / disconnect / channel_state_changed notifications and listpeerchannels, releases
// and relays sent with injectonionmessage (our node first, routed over the graph when the reply
// path's intro is not our peer), the path key from makesecret.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Logger } from '../../ops/log.js';
import { decodeBlindedPath, encodeBlindedPath, introNodeId } from '../../protocol/blinded-path.js';
import {
  type AsyncMessageTypes,
  buildOnionMessage,
  buildReleaseHeldHtlcVariants,
  buildReleasePath,
  type OutgoingOnionMessage,
} from '../../protocol/onion-message.js';
import { buildBlindedPath } from '../../protocol/route-blinding.js';
import type { PeerState, RecipientLspEvents, RecipientLspHost } from '../../recipient-lsp/host.js';
import { isObject } from './jsonrpc.js';
import type { OnionMessageRecv } from './onion-message-recv.js';
import type { ClnOnionRouter } from './onion-route.js';
import type { RpcCaller } from './rpc-client.js';

/** makesecret input for client path HMACs: derived from hsm_secret, stable across restarts. */
export const CLIENT_PATH_KEY_LABEL = 'async-trampoline recipient-lsp client-path key v1';

/** Channel states in which the peer is our client (not closed or being closed). */
const GONE = new Set(['ONCHAIN', 'CLOSED', 'CLOSINGD_COMPLETE', 'FUNDING_SPEND_SEEN', 'AWAITING_UNILATERAL']);

export interface ClnRecipientLspHostOptions {
  rpc: RpcCaller;
  nodeId: () => Promise<string>;
  /** The CLN backend's onion messages (one hook serves both roles). */
  onion: { onInboundOnionMessage(fn: (m: OnionMessageRecv) => void): void };
  router: ClnOnionRouter;
  types: AsyncMessageTypes;
  /** Which type numbers mean held_htlc_available in unknown_fields (CLN passes only odd ones). */
  heldHtlcTypes: readonly bigint[];
  variants: readonly ('odd' | 'even')[];
  logger: Logger;
}

interface PeerChannel {
  peer_id?: unknown;
  peer_connected?: unknown;
  state?: unknown;
}

/** A notification's fields: modern lightningd wraps them in an object named after it. */
function fields(params: unknown, name: string): Record<string, unknown> | undefined {
  if (!isObject(params)) return undefined;
  return isObject(params[name]) ? (params[name] as Record<string, unknown>) : params;
}

const NODE_ID = /^0[23][0-9a-f]{64}$/;

export class ClnRecipientLspHost implements RecipientLspHost {
  private events: RecipientLspEvents | undefined;
  private listening = false;
  private readonly log: Logger;

  constructor(private readonly opts: ClnRecipientLspHostOptions) {
    this.log = opts.logger.child({ component: 'cln-recipient-lsp' });
  }

  async start(events: RecipientLspEvents): Promise<void> {
    this.events = events;
    if (!this.listening) {
      this.listening = true;
      this.opts.onion.onInboundOnionMessage((m) => this.onOnion(m));
    }
    // Clients that are connected already: no connect notification will come for them.
    for (const c of await this.peerChannels(undefined)) {
      if (c.peer_connected === true && c.state === 'CHANNELD_NORMAL' && typeof c.peer_id === 'string')
        events.channelActive(c.peer_id);
    }
  }

  async stop(): Promise<void> {
    this.events = undefined;
  }

  async pathKey(): Promise<Uint8Array> {
    const r = await this.opts.rpc.call<{ secret?: unknown }>('makesecret', { string: CLIENT_PATH_KEY_LABEL });
    if (typeof r.secret !== 'string' || !/^[0-9a-f]{64}$/i.test(r.secret))
      throw new Error('makesecret: no secret');
    return hexToBytes(r.secret);
  }

  async peerState(nodeId: string): Promise<PeerState> {
    const chans = (await this.peerChannels(nodeId)).filter(
      (c) => typeof c.state === 'string' && !GONE.has(c.state),
    );
    return {
      hasChannel: chans.length > 0,
      ready: chans.some((c) => c.peer_connected === true && c.state === 'CHANNELD_NORMAL'),
    };
  }

  async messagePath(pathId: Uint8Array): Promise<Uint8Array> {
    return buildReleasePath(hexToBytes(await this.opts.nodeId()), pathId);
  }

  async sendRelease(replyPath: Uint8Array): Promise<void> {
    const path = decodeBlindedPath(replyPath);
    const intro = introNodeId(path);
    if (!intro) throw new Error('reply path names its intro node by channel id; not supported yet');
    const ourNodeId = hexToBytes(await this.opts.nodeId());
    const msgs = buildReleaseHeldHtlcVariants({
      replyPath: path,
      ourNodeId,
      prependOurNode: true,
      via: await this.opts.router.via(intro),
      variants: this.opts.variants,
      types: this.opts.types,
    });
    await this.inject(msgs);
  }

  async relayNotice(clientNodeId: string, replyPath: Uint8Array): Promise<void> {
    const destination = buildBlindedPath([hexToBytes(clientNodeId)], {});
    const reply = decodeBlindedPath(replyPath);
    const ourNodeId = hexToBytes(await this.opts.nodeId());
    const empty = new Uint8Array(0);
    const msgs = this.opts.variants.map((v) =>
      buildOnionMessage({
        destination,
        via: [ourNodeId],
        payload:
          v === 'odd'
            ? { replyPath: reply, heldHtlcAvailableOdd: empty }
            : { replyPath: reply, heldHtlcAvailable: empty },
        types: this.opts.types,
      }),
    );
    await this.inject(msgs);
  }

  // ---- notifications, called by the plugin host ----

  onConnect(params: unknown): void {
    const f = fields(params, 'connect');
    if (typeof f?.id === 'string' && NODE_ID.test(f.id)) this.events?.peerOnline(f.id);
  }

  onDisconnect(params: unknown): void {
    const f = fields(params, 'disconnect');
    if (typeof f?.id === 'string' && NODE_ID.test(f.id)) this.events?.peerOffline(f.id);
  }

  onChannelStateChanged(params: unknown): void {
    const f = fields(params, 'channel_state_changed');
    if (typeof f?.peer_id === 'string' && NODE_ID.test(f.peer_id) && f.new_state === 'CHANNELD_NORMAL')
      this.events?.channelActive(f.peer_id);
  }

  private onOnion(m: OnionMessageRecv): void {
    if (!this.events || !m.fieldTypes.some((t) => this.opts.heldHtlcTypes.includes(t))) return;
    let replyPath: Uint8Array | undefined;
    try {
      replyPath = m.replyPath ? encodeBlindedPath(m.replyPath) : undefined;
    } catch (e) {
      this.log.debug('held_htlc_available with a reply path we cannot encode', {
        error: (e as Error).message,
      });
    }
    this.events.heldHtlcAvailable({ pathId: m.pathSecret, replyPath });
  }

  private async inject(msgs: OutgoingOnionMessage[]): Promise<void> {
    let sent = 0;
    let last: unknown;
    for (const m of msgs) {
      try {
        await this.opts.rpc.call('injectonionmessage', {
          path_key: bytesToHex(m.pathKey),
          message: bytesToHex(m.packet),
        });
        sent++;
      } catch (e) {
        last = e;
      }
    }
    if (sent === 0) throw last instanceof Error ? last : new Error('injectonionmessage: nothing sent');
  }

  private async peerChannels(id: string | undefined): Promise<PeerChannel[]> {
    const r = await this.opts.rpc.call<{ channels?: unknown }>('listpeerchannels', id ? { id } : {});
    return Array.isArray(r.channels) ? (r.channels as PeerChannel[]) : [];
  }
}
