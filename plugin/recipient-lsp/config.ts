// Recipient-LSP settings with their defaults. The option names hosts expose are in ops/config-table.ts
// (sidecar) and cln.ts (plugin).

export interface RecipientLspConfig {
  /** Stored notices per client; the newest are kept (each retry of the sender's LSP brings a fresh one). */
  maxPerClient: number;
  /** Stored notices in total, across clients; again the newest are kept. */
  maxTotal: number;
  /** A notice older than this is dropped: its hold has long been retried with fresh reply paths. */
  expiryMs: number;
  /** Relay the notice itself to every client instead of releasing for it. */
  relayAll: boolean;
  /** Clients (node ids) whose notices are relayed to them instead of released (they answer themselves). */
  relayClients: string[];
  /** While a ready client's release sends fail, retry after this delay, doubling up to the cap. */
  retryBaseMs: number;
  retryCapMs: number;
  /** How often expired notices are swept and released ones pruned. */
  sweepMs: number;
  /** Released or relayed notices are kept this long (duplicate arrivals stay no-ops), then pruned. */
  retentionMs: number;
}

export const defaultRecipientLspConfig: RecipientLspConfig = {
  maxPerClient: 32,
  maxTotal: 10_000,
  expiryMs: 24 * 3600_000,
  relayAll: false,
  relayClients: [],
  retryBaseMs: 2_000,
  retryCapMs: 60_000,
  sweepMs: 60_000,
  retentionMs: 3600_000,
};

export type RecipientLspConfigInput = Partial<RecipientLspConfig>;

export function resolveRecipientLspConfig(input: RecipientLspConfigInput = {}): RecipientLspConfig {
  const c = { ...defaultRecipientLspConfig, ...input };
  const bad: string[] = [];
  for (const k of ['maxPerClient', 'maxTotal', 'expiryMs', 'retryBaseMs', 'retryCapMs', 'sweepMs'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) bad.push(`${k} must be a whole number >= 1`);
  }
  if (c.maxPerClient > c.maxTotal) bad.push('maxPerClient must not exceed maxTotal');
  if (bad.length > 0) throw new RangeError(`recipient-lsp config: ${bad.join('; ')}`);
  return c;
}
