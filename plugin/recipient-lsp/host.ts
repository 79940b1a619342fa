// The contract between the recipient-LSP engine and a host (CLN plugin, LND sidecar, or a test's
// simulated host), in engine types only, like hold/backend.ts: node ids are hex strings, blinded
// paths are opaque encoded `blinded_path` bytes that only protocol/ and the backends decode.

/** A held_htlc_available that reached us as the final hop of an onion message. */
export interface InboundHeldHtlcAvailable {
  /** path_id from our hop's encrypted_recipient_data (absent when the path's creator set none). */
  pathId: Uint8Array | undefined;
  /** The sender's LSP's reply path (encoded blinded_path); a release goes back over it. */
  replyPath: Uint8Array | undefined;
}

/** A peer's standing with us, as the host sees it right now. */
export interface PeerState {
  /** We have a channel with it (any state): it is one of our clients. */
  hasChannel: boolean;
  /** Connected and at least one channel active (CLN CHANNELD_NORMAL, LND `active`). */
  ready: boolean;
}

/** What the engine hands a host at start: the host calls these as events arrive. */
export interface RecipientLspEvents {
  /** CLN `onion_message_recv_secret`; LND SubscribeOnionMessages (0.21) or custom message 513 (0.20). */
  heldHtlcAvailable(m: InboundHeldHtlcAvailable): void;
  /** CLN `connect`; LND SubscribePeerEvents PEER_ONLINE. */
  peerOnline(nodeId: string): void;
  /** CLN `disconnect`; LND SubscribePeerEvents PEER_OFFLINE. */
  peerOffline(nodeId: string): void;
  /** CLN `channel_state_changed` to CHANNELD_NORMAL; LND SubscribeChannelEvents ACTIVE_CHANNEL. */
  channelActive(nodeId: string): void;
}

export interface RecipientLspHost {
  /** Start delivering events (the engine has restored its mailbox by then). */
  start(events: RecipientLspEvents): Promise<void>;
  stop(): Promise<void>;
  /** Node-local 32-byte secret for client path HMACs (CLN `makesecret`; LND a file in the data dir). */
  pathKey(): Promise<Uint8Array>;
  /** CLN `listpeerchannels`; LND ListPeers + ListChannels. */
  peerState(nodeId: string): Promise<PeerState>;
  /** A blinded message path ending at our node whose final hop carries `pathId` (encoded blinded_path). */
  messagePath(pathId: Uint8Array): Promise<Uint8Array>;
  /** Send release_held_htlc over a stored reply path (routed over the channel graph if needed). */
  sendRelease(replyPath: Uint8Array): Promise<void>;
  /**
   * Relay mode: send held_htlc_available to the client itself (a direct peer), carrying the sender's
   * LSP's reply path, so a client that answers for itself (e.g. an LDK wallet) releases directly.
   */
  relayNotice(clientNodeId: string, replyPath: Uint8Array): Promise<void>;
}
