// LSPS5 settings as the service takes them; the operator options that fill them are in ops/config-table.ts.
export interface Lsps5Config {
  maxWebhooks: number;
  allowHttp: boolean;
  cooldownMs: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
}

export const DEFAULT_LSPS5: Lsps5Config = {
  maxWebhooks: 4,
  allowHttp: false,
  cooldownMs: 60_000,
  timeoutMs: 10_000,
  retryBaseMs: 2_000,
  retryMaxMs: 60_000,
  maxAttempts: 6,
};
