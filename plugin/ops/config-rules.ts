// Rules across options, and each feature's settings read from resolved values (same on both hosts).
import type { EngineConfigInput } from '../hold/policy.js';
import { DEFAULT_LSPS5, type Lsps5Config } from '../lsps/config.js';
import type { RecipientLspConfigInput } from '../recipient-lsp/config.js';
import type { OptionValues } from './config-resolve.js';
import type { Host } from './options.js';

/** Cross-field checks shared by both hosts: the numbers that must relate. */
export function typeProblems(v: OptionValues, host: Host): string[] {
  const where = (n: string): string => (host === 'cln' ? `async-trampoline-${n}` : `--${n}`);
  const problems: string[] = [];
  for (const n of [
    'async-hold-type',
    'trampoline-request-type',
    'held-htlc-available-alias',
    'release-held-htlc-alias',
  ]) {
    const t = v.get<bigint>(n);
    if (t !== undefined && t % 2n === 0n)
      problems.push(`${where(n)}: ${t} must be odd (hosts drop unknown even types)`);
  }
  for (const n of ['held-htlc-available-alias', 'release-held-htlc-alias']) {
    const t = v.get<bigint>(n);
    if (t !== undefined && t < 64n) problems.push(`${where(n)}: ${t} must be >= 64 (below is reserved)`);
  }
  if (host === 'lnd') {
    // LND passes only custom records >= 65536 in hop payloads and update_add_htlc.
    for (const n of ['async-hold-type', 'trampoline-request-type', 'hold-htlc-type']) {
      const t = v.get<bigint>(n);
      if (t !== undefined && t < 65536n)
        problems.push(`${where(n)}: ${t} is below 65536; LND passes only custom records >= 65536`);
    }
  }
  const msg = [
    'held-htlc-available-type',
    'held-htlc-available-alias',
    'release-held-htlc-type',
    'release-held-htlc-alias',
  ]
    .map((n) => v.get<bigint>(n))
    .filter((t) => t !== undefined);
  if (msg.length === 4 && new Set(msg).size !== 4)
    problems.push('the four onion message types must be distinct');
  return problems;
}

/** The engine's settings from resolved values (same on both hosts). */
export function engineConfigOf(v: OptionValues): EngineConfigInput {
  const n = (name: string): number => v.get<number>(name)!;
  const b = (name: string): bigint => v.get<bigint>(name)!;
  return {
    maxHoldBlocks: n('max-hold-blocks'),
    safetyBlocks: n('safety-blocks'),
    downstreamMinBlocks: n('downstream-min-blocks'),
    minHoldBlocks: n('min-hold-blocks'),
    notifyBaseMs: n('notify-base-ms'),
    notifyCapMs: n('notify-cap-ms'),
    trampolineFeeBaseMsat: b('trampoline-fee-base-msat'),
    trampolineFeePpm: n('trampoline-fee-ppm'),
    caps: {
      perPeerCount: n('max-held-per-peer'),
      perPeerMsat: b('max-held-msat-per-peer'),
      globalCount: n('max-held'),
      globalMsat: b('max-held-msat'),
    },
  };
}

/** Recipient-LSP settings from resolved values; undefined when the mode is off. Checks every value. */
export function recipientLspOf(
  v: OptionValues,
  host: Host,
  problems: string[],
): RecipientLspConfigInput | undefined {
  const where = (n: string): string => (host === 'cln' ? `async-trampoline-${n}` : `--${n}`);
  const num = (n: string): number | undefined => {
    const x = v.get<number>(n);
    if (x === 0) problems.push(`${where(n)}: must be at least 1`);
    return x;
  };
  const per = num('recipient-lsp-max-per-client');
  const total = num('recipient-lsp-max-total');
  const expiry = num('recipient-lsp-expiry-seconds');
  if (per !== undefined && total !== undefined && per > total)
    problems.push(
      `${where('recipient-lsp-max-per-client')} must not exceed ${where('recipient-lsp-max-total')}`,
    );
  const out: RecipientLspConfigInput = {};
  if (per !== undefined) out.maxPerClient = per;
  if (total !== undefined) out.maxTotal = total;
  if (expiry !== undefined) out.expiryMs = expiry * 1000;
  const relay = (v.get<string>('recipient-lsp-relay') ?? '').trim();
  if (relay === 'all') out.relayAll = true;
  else if (relay !== '') {
    const ids = relay
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const id of ids)
      if (!/^0[23][0-9a-f]{64}$/.test(id))
        problems.push(`${where('recipient-lsp-relay')}: "${id}" is not a node id (33-byte hex)`);
    out.relayClients = ids;
  }
  return v.get<boolean>('recipient-lsp') === true ? out : undefined;
}

/** LSPS5 settings from resolved values; undefined when --lsps5 is off. Checks every value. */
export function lsps5Of(v: OptionValues, host: Host, problems: string[]): Lsps5Config | undefined {
  const where = (n: string): string => (host === 'cln' ? `async-trampoline-${n}` : `--${n}`);
  const n = (name: string, fallback: number): number => v.get<number>(name) ?? fallback;
  const cfg: Lsps5Config = {
    maxWebhooks: n('lsps5-max-webhooks', DEFAULT_LSPS5.maxWebhooks),
    allowHttp: v.get<boolean>('lsps5-allow-http') ?? DEFAULT_LSPS5.allowHttp,
    cooldownMs: n('lsps5-cooldown-ms', DEFAULT_LSPS5.cooldownMs),
    timeoutMs: n('lsps5-webhook-timeout-ms', DEFAULT_LSPS5.timeoutMs),
    retryBaseMs: n('lsps5-retry-base-ms', DEFAULT_LSPS5.retryBaseMs),
    retryMaxMs: n('lsps5-retry-max-ms', DEFAULT_LSPS5.retryMaxMs),
    maxAttempts: n('lsps5-attempts', DEFAULT_LSPS5.maxAttempts),
  };
  const base = v.get<number>('lsps5-retry-base-ms');
  const max = v.get<number>('lsps5-retry-max-ms');
  if (base !== undefined && max !== undefined && max < base)
    problems.push(`${where('lsps5-retry-max-ms')} must be at least ${where('lsps5-retry-base-ms')}`);
  return v.get<boolean>('lsps5') === true ? cfg : undefined;
}
