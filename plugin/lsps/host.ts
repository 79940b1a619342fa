// What the LSPS server needs from a host (CLN plugin, LND sidecar, a test's simulated host), in
// engine types only: node ids as lowercase hex, payloads as bytes, signatures as the zbase32 text
// every `signmessage` returns. Adapters: backends/lnd/lsps-host.ts, backends/cln/lsps-host.ts.
export interface PeerMessageHandler {
  /** A custom peer message of the LSPS0 type (37913) from `peer`; `payload` excludes the type bytes. */
  (peer: string, payload: Uint8Array): void;
}

export interface LspsHost {
  /**
   * Start delivering 37913 messages (LND SubscribeCustomMessages, CLN `custommsg` hook). Resolves once
   * delivery is set up; a host that loses its stream reconnects by itself.
   */
  start(onMessage: PeerMessageHandler): Promise<void>;
  stop(): Promise<void>;
  /** Send a 37913 message to a connected peer (LND SendCustomMessage, CLN `sendcustommsg`). */
  send(peer: string, payload: Uint8Array): Promise<void>;
  /** LN message signature of the UTF-8 `message` by the node key (LND SignMessage, CLN `signmessage`). */
  signMessage(message: string): Promise<string>;
  /** Whether `peer` is connected now (LND ListPeers, CLN `listpeers`). */
  isConnected(peer: string): Promise<boolean>;
}
