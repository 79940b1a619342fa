// One option vocabulary for both hosts. Each row of OPTIONS is one setting with one name, used as the
// CLN option `async-trampoline-<name>`, the sidecar flag `--<name>`, the environment variable
// `ASYNC_TRAMPOLINE_<NAME>` and the sidecar config-file key; the README's option reference is
// generated from it (`npm run docs:options`). A feature adds its settings as one block below and
// reads them from `values` (sidecar) or `ClnSettings.values` (CLN).
//
// Sidecar precedence: flag > environment > config file > default. Every bad value is reported at once,
// one line each, and the sidecar refuses to start.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultEngineConfig, type EngineConfigInput } from '../hold/policy.js';
import type { LogLevel } from './log.js';
import { DEFAULT_LSPS5, type Lsps5Config } from '../lsps/config.js';
import { defaultRecipientLspConfig, type RecipientLspConfigInput } from '../recipient-lsp/config.js';
import {
  OptionTable,
  aliasesOn,
  defaultFor,
  envName,
  parseValue,
  type Host,
  type OptionSpec,
  type OptionValue,
  type Source,
} from './options.js';

export { envName, clnName, type OptionSpec, type Host } from './options.js';

const both = ['cln', 'lnd'] as const;
const lnd = ['lnd'] as const;
const cln = ['cln'] as const;
const d = defaultEngineConfig;
const rl = defaultRecipientLspConfig;

/** Where the service runs: data, logs, how to reach LND, the operator endpoints. */
const SERVICE_OPTIONS: OptionSpec[] = [
  {
    name: 'data-dir',
    kind: 'path',
    hosts: both,
    default: join(homedir(), '.async-trampoline'),
    hostDefault: { cln: '' },
    docDefault: '`~/.async-trampoline` (CLN: `<lightning-dir>/async-trampoline`)',
    help: 'hold database, release key, admin token and the sidecar config file',
  },
  {
    name: 'log-level',
    kind: 'level',
    hosts: both,
    default: 'info',
    help: 'debug, info, warn or error (stderr)',
  },
  { name: 'log-json', kind: 'bool', hosts: lnd, default: 'true', help: 'JSON log lines (false: plain text)' },
  {
    name: 'lnd-rpc',
    kind: 'host-port',
    hosts: lnd,
    default: 'localhost:10009',
    help: "LND's gRPC host:port",
  },
  {
    name: 'lnd-tls-cert',
    kind: 'path',
    hosts: lnd,
    default: join(homedir(), '.lnd', 'tls.cert'),
    help: "LND's tls.cert",
  },
  {
    name: 'lnd-macaroon',
    kind: 'path',
    hosts: lnd,
    required: lnd,
    help: 'macaroon baked with exactly the calls the sidecar makes (README: least privilege)',
  },
  {
    name: 'admin-port',
    kind: 'port',
    hosts: lnd,
    default: '9736',
    help: 'loopback port of the admin endpoint the CLI talks to (127.0.0.1 only; 0: off)',
  },
  {
    name: 'metrics-listen',
    kind: 'host-port',
    hosts: lnd,
    help: 'serve Prometheus /metrics and /healthz at host:port (e.g. 127.0.0.1:9109); off when unset',
  },
];

/** Wire type numbers: options because the BOLT draft is unmerged and will renumber them. */
const TYPE_OPTIONS: OptionSpec[] = [
  {
    name: 'hold-htlc-type',
    kind: 'tlv-type',
    hosts: both,
    default: '75537',
    help: 'update_add_htlc TLV type of hold_htlc',
  },
  {
    name: 'async-hold-type',
    kind: 'tlv-type',
    hosts: both,
    default: '4280151',
    help: 'hop payload type of async_hold (odd)',
  },
  {
    name: 'trampoline-request-type',
    kind: 'tlv-type',
    hosts: both,
    default: '4280153',
    help: 'hop payload type of trampoline_request (odd)',
  },
  {
    name: 'keysend-preimage-type',
    kind: 'tlv-type',
    hosts: lnd,
    default: '5482373484',
    help: 'keysend preimage record type',
  },
  {
    name: 'held-htlc-available-type',
    kind: 'tlv-type',
    hosts: both,
    default: '72',
    help: 'onion message type of held_htlc_available',
  },
  {
    name: 'held-htlc-available-alias',
    kind: 'tlv-type',
    hosts: both,
    default: '73',
    help: 'odd alias of held_htlc_available',
  },
  {
    name: 'release-held-htlc-type',
    kind: 'tlv-type',
    hosts: both,
    default: '74',
    help: 'onion message type of release_held_htlc',
  },
  {
    name: 'release-held-htlc-alias',
    kind: 'tlv-type',
    hosts: both,
    default: '75',
    help: 'odd alias of release_held_htlc (hosts drop unknown even types, so this one arrives)',
  },
  {
    name: 'held-htlc-variants',
    kind: 'variants',
    hosts: both,
    default: 'odd,even',
    help: 'held_htlc_available encodings to send, each its own message: odd (CLN/LND agents), even (LDK)',
  },
  {
    name: 'onion-message-custom-type',
    kind: 'uint',
    max: 0xffff,
    hosts: lnd,
    default: '513',
    help: 'LND 0.20: custom message type of onion messages (lnd needs protocol.custom-message=<this>)',
  },
];

/** The hold engine's policy. */
const ENGINE_OPTIONS: OptionSpec[] = [
  {
    name: 'max-hold-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.maxHoldBlocks}`,
    help: 'longest hold, in blocks (the sender may ask for less)',
  },
  {
    name: 'safety-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.safetyBlocks}`,
    help: 'fail this many blocks before the incoming HTLC expires',
  },
  {
    name: 'downstream-min-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.downstreamMinBlocks}`,
    help: 'blocks the next hop needs before our outgoing expiry',
  },
  {
    name: 'min-hold-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.minHoldBlocks}`,
    help: 'refuse at intake an HTLC whose deadline is closer than this',
  },
  {
    name: 'max-held-per-peer',
    kind: 'uint',
    hosts: both,
    default: `${d.caps.perPeerCount}`,
    aliases: [{ name: 'cap-per-peer-count', hosts: lnd }],
    help: 'most holds per incoming peer',
  },
  {
    name: 'max-held-msat-per-peer',
    kind: 'msat',
    hosts: both,
    default: `${d.caps.perPeerMsat}`,
    aliases: [{ name: 'cap-per-peer-msat', hosts: lnd }],
    help: 'most msat held per incoming peer',
  },
  {
    name: 'max-held',
    kind: 'uint',
    hosts: both,
    default: `${d.caps.globalCount}`,
    aliases: [{ name: 'cap-global-count', hosts: lnd }],
    help: 'most holds in total',
  },
  {
    name: 'max-held-msat',
    kind: 'msat',
    hosts: both,
    default: `${d.caps.globalMsat}`,
    aliases: [{ name: 'cap-global-msat', hosts: lnd }],
    help: 'most msat held in total',
  },
  {
    name: 'notify-base-ms',
    kind: 'uint',
    hosts: both,
    default: `${d.notifyBaseMs}`,
    help: 'first held_htlc_available retry delay, doubling',
  },
  {
    name: 'notify-cap-ms',
    kind: 'uint',
    hosts: both,
    default: `${d.notifyCapMs}`,
    help: 'longest held_htlc_available retry delay',
  },
  {
    name: 'trampoline-fee-base-msat',
    kind: 'msat',
    hosts: both,
    default: `${d.trampolineFeeBaseMsat}`,
    help: 'trampoline mode: base fee we keep',
  },
  {
    name: 'trampoline-fee-ppm',
    kind: 'uint',
    hosts: both,
    default: `${d.trampolineFeePpm}`,
    help: 'trampoline mode: proportional fee we keep',
  },
  {
    name: 'trampoline-scid',
    kind: 'scid',
    hosts: cln,
    default: '',
    help: 'virtual short channel id (BxTxO) senders address trampoline HTLCs to; empty: final-hop form only',
  },
];

/** Recipient-LSP mode (plugin/recipient-lsp/): keep held_htlc_available for away clients. */
const RECIPIENT_LSP_OPTIONS: OptionSpec[] = [
  {
    name: 'recipient-lsp',
    kind: 'bool',
    hosts: both,
    default: 'false',
    help: "also act as our clients' LSP: keep held_htlc_available while they are away, release when they return",
  },
  {
    name: 'recipient-lsp-max-per-client',
    kind: 'uint',
    hosts: both,
    default: `${rl.maxPerClient}`,
    help: 'stored notices per client, newest kept',
  },
  {
    name: 'recipient-lsp-max-total',
    kind: 'uint',
    hosts: both,
    default: `${rl.maxTotal}`,
    help: 'stored notices in total, newest kept',
  },
  {
    name: 'recipient-lsp-expiry-seconds',
    kind: 'uint',
    hosts: both,
    default: `${rl.expiryMs / 1000}`,
    help: 'drop a stored notice after this long',
  },
  {
    name: 'recipient-lsp-relay',
    kind: 'string',
    hosts: both,
    default: '',
    help: 'relay notices to these clients instead of releasing ("all", or comma-separated node ids)',
  },
];

/** LSPS0 transport and LSPS5 webhooks (bLIP-55, plugin/lsps/): wake sleeping clients. */
const LSPS5_OPTIONS: OptionSpec[] = [
  {
    name: 'lsps5',
    kind: 'bool',
    hosts: both,
    default: 'false',
    help: 'serve LSPS0 (peer message 37913) and LSPS5 webhook registration; notify sleeping clients',
  },
  {
    name: 'lsps5-max-webhooks',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.maxWebhooks}`,
    help: 'webhooks per client node',
  },
  {
    name: 'lsps5-allow-http',
    kind: 'bool',
    hosts: both,
    default: 'false',
    help: 'also accept http:// webhooks (tests and regtest only; bLIP-55 requires https)',
  },
  {
    name: 'lsps5-cooldown-ms',
    kind: 'uint',
    hosts: both,
    default: `${DEFAULT_LSPS5.cooldownMs}`,
    help: 'at most one notification per client and method this often (reset when the client is seen online)',
  },
  {
    name: 'lsps5-webhook-timeout-ms',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.timeoutMs}`,
    help: 'give up one webhook call after this long without an answer',
  },
  {
    name: 'lsps5-retry-base-ms',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.retryBaseMs}`,
    help: 'first retry delay of a webhook call that got no answer (doubling)',
  },
  {
    name: 'lsps5-retry-max-ms',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.retryMaxMs}`,
    help: 'longest retry delay of a webhook call',
  },
  {
    name: 'lsps5-attempts',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.maxAttempts}`,
    help: 'calls per notification and webhook, the first included',
  },
];

/** Every setting of both hosts. Order is the README's order. */
export const OPTIONS: readonly OptionSpec[] = [
  ...SERVICE_OPTIONS,
  ...ENGINE_OPTIONS,
  ...TYPE_OPTIONS,
  ...RECIPIENT_LSP_OPTIONS,
  ...LSPS5_OPTIONS,
];

/** The sidecar's own flag that is not a setting: where the config file is. */
export const CONFIG_FLAG: OptionSpec = {
  name: 'config',
  kind: 'path',
  hosts: lnd,
  help: 'config file of key=value lines (default <data-dir>/async-trampoline.conf, if it exists)',
};
export const CONFIG_FILE_NAME = 'async-trampoline.conf';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  }
}

/** Resolved values of one host's options: the typed value, and where it came from. */
export class OptionValues {
  constructor(private readonly vals: Map<string, { value: OptionValue | undefined; source: Source }>) {}
  /** Typed value (undefined when unset); throws on a name the table does not have. */
  get<T extends OptionValue>(name: string): T | undefined {
    const v = this.vals.get(name);
    if (!v) throw new Error(`no option ${name}`);
    return v.value as T | undefined;
  }
  source(name: string): Source | undefined {
    return this.vals.get(name)?.source;
  }
}

export interface RawSources {
  flags: Record<string, string>;
  env: NodeJS.ProcessEnv;
  file?: { path: string; entries: Record<string, string> };
  /** CLN: what lightningd passed in init (already under our names, prefix stripped). */
  lightningd?: Record<string, string>;
}

/**
 * Resolve every option of `host` from its sources: flag > env > file > default (CLN: lightningd >
 * default). Deprecated names are accepted and reported in `warnings`; bad values in `problems`.
 */
export function resolveOptions(
  host: Host,
  src: RawSources,
  /** Resolve only these (the CLI needs two); the others' sources are ignored. */
  only?: readonly string[],
): { values: OptionValues; problems: string[]; warnings: string[] } {
  const table = new OptionTable(only ? OPTIONS.filter((o) => only.includes(o.name)) : OPTIONS, host);
  const problems: string[] = [];
  const warnings: string[] = [];
  const found = new Map<string, { text: string; source: Source; where: string }>();
  const put = (name: string, text: string, source: Source, where: (n: string) => string): void => {
    const hit = table.lookup(name);
    if (!hit && only) return;
    if (!hit) {
      problems.push(`${where(name)}: unknown option`);
      return;
    }
    if (hit.deprecated)
      warnings.push(`${where(name)} is deprecated; use ${where(hit.spec.name)} (same meaning)`);
    const prev = found.get(hit.spec.name);
    if (prev && prev.source === source) {
      problems.push(`${where(name)}: set twice (also as ${prev.where})`);
      return;
    }
    if (!prev || rank(source) > rank(prev.source))
      found.set(hit.spec.name, { text, source, where: where(name) });
  };
  if (src.file) {
    const file = src.file.path;
    for (const [k, v] of Object.entries(src.file.entries)) put(k, v, 'file', (n) => `${file}: ${n}`);
  }
  for (const spec of table.rows) {
    for (const n of [spec.name, ...aliasesOn(spec, host)]) {
      const e = src.env[envName(n)];
      if (e !== undefined && e !== '') put(n, e, 'env', envName);
    }
  }
  for (const [k, v] of Object.entries(src.flags)) put(k, v, 'flag', (n) => `--${n}`);
  for (const [k, v] of Object.entries(src.lightningd ?? {}))
    put(k, v, 'lightningd', (n) => `async-trampoline-${n}`);

  const vals = new Map<string, { value: OptionValue | undefined; source: Source }>();
  for (const spec of table.rows) {
    const got = found.get(spec.name);
    const text = got?.text ?? defaultFor(spec, host);
    const source: Source = got?.source ?? 'default';
    if (
      text === undefined ||
      (text === '' && spec.kind !== 'string' && spec.kind !== 'scid' && spec.kind !== 'path')
    ) {
      if (spec.required?.includes(host)) {
        problems.push(
          host === 'cln'
            ? `async-trampoline-${spec.name} is required`
            : `--${spec.name} is required (or set ${envName(spec.name)} or ${spec.name}= in the config file)`,
        );
      }
      vals.set(spec.name, { value: undefined, source });
      continue;
    }
    const r = parseValue(spec, text);
    if (!r.ok) {
      const where = got?.where ?? (host === 'cln' ? `async-trampoline-${spec.name}` : `--${spec.name}`);
      problems.push(`${where}: "${text}" ${r.why}`);
      vals.set(spec.name, { value: undefined, source });
      continue;
    }
    vals.set(spec.name, { value: r.value, source });
  }
  return { values: new OptionValues(vals), problems, warnings };
}

const rank = (s: Source): number => ({ default: 0, file: 1, env: 2, flag: 3, lightningd: 3 })[s];

/**
 * Parse a config file: `key=value` lines as in lnd.conf; `#` and `;` start comments; `[Section]`
 * headers are ignored. Problems name the file and line.
 */
export function parseConfigFile(
  path: string,
  text: string,
): { entries: Record<string, string>; problems: string[] } {
  const entries: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || /^\[.*\]$/.test(line)) return;
    const m = /^([A-Za-z0-9-]+)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      problems.push(`${path}:${i + 1}: "${line}" is not key=value`);
      return;
    }
    const key = m[1]!;
    if (key in entries) {
      problems.push(`${path}:${i + 1}: ${key} is set twice`);
      return;
    }
    entries[key] = m[2]!.trim();
  });
  return { entries, problems };
}

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

// ---- the LND sidecar ----

export interface SidecarConfig {
  lndRpc: string;
  lndTlsCert: string;
  lndMacaroon: string;
  dataDir: string;
  /** The config file read, if any. */
  configFile: string | undefined;
  logLevel: LogLevel;
  logJson: boolean;
  /** 127.0.0.1:<port> for the admin endpoint; 0 = off. */
  adminPort: number;
  /** host:port for Prometheus `GET /metrics` and `/healthz`; undefined = off. */
  metricsListen: { host: string; port: number } | undefined;
  types: {
    holdHtlc: bigint;
    asyncHold: bigint;
    trampolineRequest: bigint;
    keysendPreimage: bigint;
    heldHtlcAvailable: bigint;
    heldHtlcAvailableOdd: bigint;
    releaseHeldHtlc: bigint;
    releaseHeldHtlcOdd: bigint;
    /** LND 0.20: custom message type carrying onion messages. */
    onionMessageCustom: number;
  };
  /** held_htlc_available encodings to send ('odd' for LND/CLN agents, 'even' for LDK). */
  heldHtlcVariants: ('odd' | 'even')[];
  engine: EngineConfigInput;
  /** Recipient-LSP mode settings; undefined when the mode is off. */
  recipientLsp: RecipientLspConfigInput | undefined;
  /** LSPS0/LSPS5 webhook service; undefined when --lsps5 is off. */
  lsps5: Lsps5Config | undefined;
  /** Every resolved value, for features that read their own block. */
  values: OptionValues;
  /** Deprecated names used; the caller logs them once the logger exists. */
  warnings: string[];
}

const SIDECAR_TABLE = (): OptionTable => new OptionTable(OPTIONS, 'lnd');

/** `--help` for `async-trampoline lnd`. */
export function sidecarHelp(): string {
  const rows = [...SIDECAR_TABLE().rows, CONFIG_FLAG].map((s) => {
    const def = defaultFor(s, 'lnd');
    const tail = def !== undefined && def !== '' ? ` (default ${def})` : s.required ? ' (required)' : '';
    return `  --${s.name.padEnd(28)} ${s.help}${tail}\n${' '.repeat(33)}env ${envName(s.name)}`;
  });
  return (
    'usage: async-trampoline lnd [flags]\n' +
    'Runs the LND sidecar. Each flag is also an environment variable and a key=value line in the\n' +
    'config file; precedence flag > environment > config file > default.\n' +
    `${rows.join('\n')}\n`
  );
}

/** Sidecar flags (with deprecated names) as parseArgs takes them; `--help` is handled by the caller. */
function parseFlags(argv: string[]): Record<string, string> {
  const names = [...SIDECAR_TABLE().rows.flatMap((s) => [s.name, ...aliasesOn(s, 'lnd')]), CONFIG_FLAG.name];
  const options = Object.fromEntries(names.map((f) => [f, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (e) {
    throw new ConfigError([(e as Error).message]);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Where the config file is: --config, else ASYNC_TRAMPOLINE_CONFIG, else <data-dir>/async-trampoline.conf
 * with data-dir from flag, env or default (the file cannot move the directory it lives in).
 */
export function configFilePath(
  flags: Record<string, string>,
  env: NodeJS.ProcessEnv,
): { path: string; explicit: boolean } {
  const explicit = flags['config'] ?? (env[envName('config')] || undefined);
  if (explicit !== undefined) return { path: explicit, explicit: true };
  const dataDir =
    flags['data-dir'] ??
    (env[envName('data-dir')] || undefined) ??
    defaultFor(
      OPTIONS.find((o) => o.name === 'data-dir')!,
      'lnd',
    )!;
  return { path: join(dataDir, CONFIG_FILE_NAME), explicit: false };
}

/** Read the config file, if there is one; a named file that is missing is a problem. */
export function readConfigFile(where: { path: string; explicit: boolean }): {
  file: RawSources['file'];
  problems: string[];
} {
  let text: string;
  try {
    text = readFileSync(where.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !where.explicit) return { file: undefined, problems: [] };
    return {
      file: undefined,
      problems: [`--config: cannot read ${where.path} (${code ?? (e as Error).message})`],
    };
  }
  const { entries, problems } = parseConfigFile(where.path, text);
  return { file: { path: where.path, entries }, problems };
}

/** Parse and validate; throws ConfigError listing every problem. `--help` is handled by the caller. */
export function parseSidecarConfig(argv: string[], env: NodeJS.ProcessEnv): SidecarConfig {
  const flags = parseFlags(argv);
  const where = configFilePath(flags, env);
  const read = readConfigFile(where);
  const { [CONFIG_FLAG.name]: _config, ...settings } = flags;
  const { values: v, problems, warnings } = resolveOptions('lnd', { flags: settings, env, file: read.file });
  problems.unshift(...read.problems);
  problems.push(...typeProblems(v, 'lnd'));
  const recipientLsp = recipientLspOf(v, 'lnd', problems);
  const lsps5 = lsps5Of(v, 'lnd', problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const big = (n: string): bigint => v.get<bigint>(n)!;
  const rpc = v.get<{ host: string; port: number }>('lnd-rpc')!;
  return {
    lndRpc: rpc.host.includes(':') ? `[${rpc.host}]:${rpc.port}` : `${rpc.host}:${rpc.port}`,
    lndTlsCert: v.get<string>('lnd-tls-cert')!,
    lndMacaroon: v.get<string>('lnd-macaroon')!,
    dataDir: v.get<string>('data-dir')!,
    configFile: read.file?.path,
    logLevel: v.get<LogLevel>('log-level')!,
    logJson: v.get<boolean>('log-json')!,
    adminPort: v.get<number>('admin-port')!,
    metricsListen: v.get<{ host: string; port: number }>('metrics-listen'),
    types: {
      holdHtlc: big('hold-htlc-type'),
      asyncHold: big('async-hold-type'),
      trampolineRequest: big('trampoline-request-type'),
      keysendPreimage: big('keysend-preimage-type'),
      heldHtlcAvailable: big('held-htlc-available-type'),
      heldHtlcAvailableOdd: big('held-htlc-available-alias'),
      releaseHeldHtlc: big('release-held-htlc-type'),
      releaseHeldHtlcOdd: big('release-held-htlc-alias'),
      onionMessageCustom: v.get<number>('onion-message-custom-type')!,
    },
    heldHtlcVariants: v.get<('odd' | 'even')[]>('held-htlc-variants')!,
    engine: engineConfigOf(v),
    recipientLsp,
    lsps5,
    values: v,
    warnings,
  };
}
