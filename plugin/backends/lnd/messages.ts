// The shapes @grpc/proto-loader yields for the narrow protos in protos/ (keepCase, longs as
// String, enums as String, bytes as Buffer, defaults filled in). Only the grpc edge of this backend
// sees these; everything else gets engine types. Map keys are strings: uint32 keys in decimal, uint64
// keys as protobufjs 8-byte "hash" strings when decoded (htlc-map.ts mapKeyU64) but decimal when we
// encode (htlc-map.ts outKey).

export type U64 = string;
export type BytesMap = Record<string, Buffer>;

export interface GetInfoResponse {
  version: string;
  commit_hash: string;
  identity_pubkey: string;
  alias: string;
  num_active_channels: number;
  num_peers: number;
  block_height: number;
  block_hash: string;
  synced_to_chain: boolean;
  synced_to_graph: boolean;
  chains: { network: string }[];
  uris: string[];
  require_htlc_interceptor: boolean;
  store_final_htlc_resolutions: boolean;
  features: Record<string, { name: string; is_required: boolean; is_known: boolean }>;
}

export interface Version {
  commit: string;
  version: string;
  app_major: number;
  app_minor: number;
  app_patch: number;
  build_tags: string[];
}

export interface CircuitKey {
  chan_id: U64;
  htlc_id: U64;
}

export interface ForwardHtlcInterceptRequest {
  incoming_circuit_key: CircuitKey | null;
  incoming_amount_msat: U64;
  incoming_expiry: number;
  payment_hash: Buffer;
  outgoing_requested_chan_id: U64;
  outgoing_amount_msat: U64;
  outgoing_expiry: number;
  custom_records: BytesMap;
  onion_blob: Buffer;
  auto_fail_height: number;
  in_wire_custom_records: BytesMap;
}

export type ResolveHoldForwardAction = 'SETTLE' | 'FAIL' | 'RESUME';

export interface ForwardHtlcInterceptResponse {
  incoming_circuit_key: CircuitKey;
  action: ResolveHoldForwardAction;
  preimage?: Buffer;
  failure_code?: 'TEMPORARY_CHANNEL_FAILURE';
}

export interface BlindedPathMsg {
  introduction_node: Buffer;
  blinding_point: Buffer;
  blinded_hops: { blinded_node: Buffer; encrypted_data: Buffer }[];
}

export interface OnionMessageUpdate {
  peer: Buffer;
  path_key: Buffer;
  onion: Buffer;
  reply_path: BlindedPathMsg | null;
  encrypted_recipient_data: Buffer;
  custom_records: BytesMap;
}

export interface CustomMessage {
  peer: Buffer;
  type: number;
  data: Buffer;
}

export interface Peer {
  pub_key: string;
  address: string;
  inbound: boolean;
}

export interface BlockEpoch {
  hash: Buffer;
  height: number;
}

export interface HopMsg {
  chan_id: U64;
  expiry: number;
  amt_to_forward_msat: U64;
  fee_msat: U64;
  pub_key: string;
  mpp_record: { payment_addr: Buffer; total_amt_msat: U64 } | null;
  custom_records: BytesMap;
  blinding_point: Buffer;
  encrypted_data: Buffer;
  total_amt_msat: U64;
}

export interface RouteMsg {
  total_time_lock: number;
  hops: HopMsg[];
  total_fees_msat: U64;
  total_amt_msat: U64;
  first_hop_amount_msat: U64;
}

export interface FailureMsg {
  code: string;
  failure_source_index: number;
}

export interface HtlcAttemptMsg {
  attempt_id: U64;
  status: 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';
  route: RouteMsg | null;
  failure: FailureMsg | null;
  preimage: Buffer;
}

export interface PaymentMsg {
  payment_hash: string;
  payment_preimage: string;
  value_msat: U64;
  status: 'UNKNOWN' | 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED' | 'INITIATED';
  fee_msat: U64;
  htlcs: HtlcAttemptMsg[];
  failure_reason: string;
}

export interface InvoiceMsg {
  memo: string;
  r_preimage: Buffer;
  r_hash: Buffer;
  value_msat: U64;
  payment_request: string;
  amt_paid_msat: U64;
  state: 'OPEN' | 'SETTLED' | 'CANCELED' | 'ACCEPTED';
  payment_addr: Buffer;
}
