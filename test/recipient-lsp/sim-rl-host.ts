// A simulated host for the recipient-LSP engine: peers that connect, disconnect and have channels,
// onion messages delivered by the test, and every release or relay recorded with the client's state
// at the moment it was sent.
import type {
  InboundHeldHtlcAvailable,
  PeerState,
  RecipientLspEvents,
  RecipientLspHost,
} from '../../plugin/recipient-lsp/host.js';

export interface SimPeer {
  hasChannel: boolean;
  connected: boolean;
  active: boolean;
}

export interface SimSend {
  kind: 'release' | 'relay';
  replyHex: string;
  /** The client the notice was for (from the reply path's registration). */
  client: string | undefined;
  /** Relay target (relay only). */
  to: string | undefined;
  ready: boolean;
}

export const MESSAGE_PATH_PREFIX = new TextEncoder().encode('sim-message-path:');

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class SimRlHost implements RecipientLspHost {
  events: RecipientLspEvents | undefined;
  readonly peers = new Map<string, SimPeer>();
  readonly sends: SimSend[] = [];
  /** reply path (hex) -> the client it was sent for, so sends can be attributed. */
  readonly replyOwner = new Map<string, string>();
  /** Probability that a send fails (the peer is unreachable for a moment). */
  failRate = 0;
  rnd: () => number = Math.random;
  /** When set, peerState rejects (the host's RPC hiccups). */
  peerStateFails = false;
  starts = 0;

  constructor(readonly key: Uint8Array = new Uint8Array(32).fill(9)) {}

  async start(events: RecipientLspEvents): Promise<void> {
    this.events = events;
    this.starts++;
  }

  async stop(): Promise<void> {
    this.events = undefined;
  }

  async pathKey(): Promise<Uint8Array> {
    return this.key;
  }

  async peerState(nodeId: string): Promise<PeerState> {
    if (this.peerStateFails) throw new Error('rpc down');
    const p = this.peers.get(nodeId);
    return { hasChannel: p?.hasChannel ?? false, ready: this.ready(nodeId) };
  }

  async messagePath(pathId: Uint8Array): Promise<Uint8Array> {
    const out = new Uint8Array(MESSAGE_PATH_PREFIX.length + pathId.length);
    out.set(MESSAGE_PATH_PREFIX);
    out.set(pathId, MESSAGE_PATH_PREFIX.length);
    return out;
  }

  async sendRelease(replyPath: Uint8Array): Promise<void> {
    this.record('release', replyPath, undefined);
  }

  async relayNotice(clientNodeId: string, replyPath: Uint8Array): Promise<void> {
    if (!this.ready(clientNodeId)) throw new Error('client not connected');
    this.record('relay', replyPath, clientNodeId);
  }

  // ---- driving ----

  ready(nodeId: string): boolean {
    const p = this.peers.get(nodeId);
    return p !== undefined && p.hasChannel && p.connected && p.active;
  }

  /** Put a peer in a state, firing the events a host would. */
  setPeer(nodeId: string, next: Partial<SimPeer>): void {
    const prev = this.peers.get(nodeId) ?? { hasChannel: false, connected: false, active: false };
    const p = { ...prev, ...next };
    if (!p.connected) p.active = false;
    this.peers.set(nodeId, p);
    if (p.connected && !prev.connected) this.events?.peerOnline(nodeId);
    if (!p.connected && prev.connected) this.events?.peerOffline(nodeId);
    if (p.active && !prev.active) this.events?.channelActive(nodeId);
  }

  /** A held_htlc_available arrives over a path with this path_id (reply path owned by `client`). */
  deliver(m: InboundHeldHtlcAvailable, client?: string): void {
    if (m.replyPath && client) this.replyOwner.set(hexOf(m.replyPath), client);
    this.events?.heldHtlcAvailable(m);
  }

  private record(kind: 'release' | 'relay', replyPath: Uint8Array, to: string | undefined): void {
    const replyHex = hexOf(replyPath);
    const client = this.replyOwner.get(replyHex);
    if (this.failRate > 0 && this.rnd() < this.failRate) throw new Error('peer unreachable');
    this.sends.push({ kind, replyHex, client, to, ready: client !== undefined && this.ready(client) });
  }
}

/** The path_id inside a sim message path. */
export function pathIdOf(messagePath: Uint8Array): Uint8Array {
  return messagePath.slice(MESSAGE_PATH_PREFIX.length);
}
