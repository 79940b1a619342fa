// Errors of the LND backend, each with a stable code so the sidecar can print one clear line per
// problem and tests can assert which check failed.
export type LndErrorCode =
  | 'config' // a credential file is missing or unreadable
  | 'unsupported_version' // LND outside 0.20.x / 0.21.x
  | 'missing_subserver' // a build tag / sub-server we need is not compiled in
  | 'interceptor_not_required' // lnd runs without --requireinterceptor
  | 'macaroon_permission' // the macaroon lacks a permission we need
  | 'custom_message_not_enabled' // 0.20: protocol.custom-message=513 missing (detected on first use)
  | 'unreachable' // cannot talk to LND at all
  | 'rpc'; // an RPC failed at runtime

export class LndError extends Error {
  override readonly name = 'LndError';
  constructor(
    readonly code: LndErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const lndError = (code: LndErrorCode, message: string): LndError => new LndError(code, message);
