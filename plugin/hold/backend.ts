// The contract between the hold engine and a host (CLN plugin, LND sidecar, or a test's simulated
// host). It speaks engine types only: backends decode wire formats with protocol/ and convert at the
// edge, once, so nothing here knows what a TLV or a gRPC message looks like.

/** Millisatoshi amounts are always bigint, never number. */
export type Msat = bigint;
/** Block heights fit a JS number exactly. */
export type Height = number;

/** Our `async_hold` hop record, as the engine needs it. */
export interface AsyncHoldRequest {
  /** The recipient's blinded message paths, each an opaque encoded `blinded_path` (protocol/ decodes it). */
  messagePaths: Uint8Array[];
  /** 32 bytes: S built its own reply path to us with this path_id; a release carrying it releases the hold. */
  releaseToken: Uint8Array | undefined;
  /** The sender's cap on how long we may hold, in blocks from the moment we start holding. */
  maxHoldBlocks: number | undefined;
  /** Total of the MPP set this part belongs to (our sub-TLV 6); undefined means a single-part payment. */
  totalMsat: Msat | undefined;
}

/** Our `trampoline_request` hop record: on release we pay the recipient ourselves. */
export interface TrampolineRequest {
  /** BOLT 11 or BOLT 12 invoice string; its payment hash equals the HTLC's. */
  invoice: string | undefined;
  amtToForwardMsat: Msat | undefined;
  /** 33-byte compressed node id, hex, for keysend delivery. */
  outgoingNodeId: string | undefined;
  /** Keysend preimage record (bLIP-3), sent to the recipient with keysend delivery. */
  keysendPreimage: Uint8Array | undefined;
}

export interface InterceptedHtlc {
  /** Stable across replays: CLN `<scid>/<htlc id>`, LND `<chan_id>:<htlc_id>` (the circuit key). */
  key: string;
  /** Incoming channel, for per-peer caps when the host names no peer. */
  incomingChannel: string;
  /** Incoming peer node id (hex) when the host gives it. */
  incomingPeer: string | undefined;
  /** 32 bytes. */
  paymentHash: Uint8Array;
  amountInMsat: Msat;
  /** What the onion asks us to forward; undefined at the final hop. */
  amountOutMsat: Msat | undefined;
  /** Absolute CLTV expiry of the incoming HTLC. */
  incomingExpiry: Height;
  /** Absolute outgoing_cltv_value from our hop payload; undefined at the final hop. */
  outgoingExpiry: Height | undefined;
  /** Outgoing short channel id as the onion names it (e.g. the configured virtual scid), if any. */
  outgoingChannel: string | undefined;
  /** LND's auto_fail_height, where the host gives one. */
  autoFailHeight: Height | undefined;
  /** `hold_htlc` present in update_add_htlc. */
  holdFlag: boolean;
  asyncHold: AsyncHoldRequest | undefined;
  trampoline: TrampolineRequest | undefined;
}

/** Why the engine fails an HTLC; backends map it to the host's allowed failure code. */
export type FailReason =
  | 'not_holdable' // deadline too close at intake, or bad async request
  | 'cap_exceeded'
  | 'expired' // no release before the deadline
  | 'mpp_timeout' // an incomplete MPP set timed out
  | 'payment_failed' // trampoline: paying onward failed
  | 'operator' // failed by an operator command
  | 'host_failed'; // the host failed the HTLC itself while we were down (found at start)

export type Verdict =
  /** Forward as the onion says (CLN `continue`, LND `RESUME`). */
  | { kind: 'continue' }
  /** Fail back. `trampoline` selects temporary_trampoline_failure on CLN. */
  | { kind: 'fail'; reason: FailReason; trampoline: boolean }
  /** Settle the incoming HTLC (CLN `resolve`, LND `SETTLE`). */
  | { kind: 'settle'; preimage: Uint8Array };

export interface PayRequest {
  paymentHash: Uint8Array;
  request: TrampolineRequest;
  /** Upper bound on what we may spend, fees included. */
  maxAmountMsat: Msat;
  /** Latest absolute CLTV expiry the outgoing payment may use. */
  maxExpiry: Height;
}

export type PayResult = { ok: true; preimage: Uint8Array } | { ok: false; reason: string };

/** A `held_htlc_available` to send over one of the recipient's message paths. */
export interface HeldHtlcNotice {
  /** Opaque encoded `blinded_path` from AsyncHoldRequest.messagePaths. */
  messagePath: Uint8Array;
  /** 32-byte path_id for a fresh reply path ending at our node; the release comes back with it. */
  replyPathId: Uint8Array;
}

/** What the engine hands a backend at start: the backend calls these as host events arrive. */
export interface HostEvents {
  /**
   * An HTLC the host offers us, possibly again after a restart or reconnect. Resolves with the one
   * verdict for it, only after that verdict is durably stored. If the same key is offered again while
   * a previous call is pending, the previous call rejects with SupersededError and must not be answered.
   */
  htlc(htlc: InterceptedHtlc): Promise<Verdict>;
  /** A release arrived (an onion message with release_held_htlc) over a path with this 32-byte path_id. */
  release(pathId: Uint8Array): void;
  /** A new best block. */
  block(height: Height): void;
}

/** What the host did with an incoming HTLC we hold, as it reports after a restart. */
export type HostHtlcState = 'pending' | 'failed' | 'forwarded';

export interface Backend {
  /** Connect to the host and start delivering events. */
  start(events: HostEvents): Promise<void>;
  stop(): Promise<void>;
  /** Our node id, 33-byte compressed, hex. */
  nodeId(): Promise<string>;
  currentHeight(): Promise<Height>;
  /** Node-local 32-byte secret for release-path HMACs (CLN `makesecret`; LND a file in the data dir). */
  releaseKey(): Promise<Uint8Array>;
  /** ECDH with the node key: SHA256 of the compressed shared point. */
  ecdh(point: Uint8Array): Promise<Uint8Array>;
  sendHeldHtlcAvailable(notice: HeldHtlcNotice): Promise<void>;
  /** Trampoline mode: pay onward with the host's pathfinding. */
  pay(req: PayRequest): Promise<PayResult>;
  /**
   * Trampoline, after a restart: wait for the outcome of an earlier payment to this hash (CLN
   * `listpays`/`waitsendpay`, LND `TrackPaymentV2`), or undefined when the host never saw one. Lets the
   * engine resume a payment instead of paying twice. Optional: without it the engine calls `pay` again
   * and relies on the host refusing a second payment to the same hash.
   */
  trackPayment?(paymentHash: Uint8Array): Promise<PayResult | undefined>;
  /**
   * At start, before the host replays anything: for each held HTLC's key, whether the host still has
   * it unresolved ('pending'), or what it did with it while we were down (CLN: `listpeerchannels`,
   * `listforwards`; a plugin that dies mid-hold leaves the HTLC to lightningd). A key left out counts
   * as pending. Optional: hosts that keep every intercepted HTLC until answered need none.
   */
  htlcStates?(keys: readonly string[]): Promise<ReadonlyMap<string, HostHtlcState>>;
}

export class SupersededError extends Error {
  override readonly name = 'SupersededError';
  constructor(key: string) {
    super(`htlc ${key} was offered again; this offer is no longer answerable`);
  }
}
