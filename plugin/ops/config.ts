// The LND sidecar's configuration: command-line flags, each also settable by an environment variable
// (ASYNC_TRAMPOLINE_<FLAG_IN_UPPER_SNAKE>, flags win). Every value is validated here and every
// problem is reported at once, one line each, so an operator fixes them in one go.
import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EngineConfigInput } from '../hold/policy.js';
import type { RecipientLspConfigInput } from '../recipient-lsp/config.js';
import type { LogLevel } from './log.js';
import { DEFAULT_LSPS5, type Lsps5Config } from '../lsps/config.js';

export interface SidecarConfig {
  lndRpc: string;
  lndTlsCert: string;
  lndMacaroon: string;
  dataDir: string;
  logLevel: LogLevel;
  logJson: boolean;
  /** host:port for Prometheus `GET /metrics`; undefined = off. */
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
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  }
}

type Kind = 'string' | 'uint' | 'msat' | 'bool' | 'level' | 'variants';

interface FlagSpec {
  kind: Kind;
  default?: string;
  help: string;
}

// --- LSPS5 webhooks (bLIP-55): one block, host-neutral, so both hosts (and a future option table)
// can take it as is. Names without a host prefix; CLN adds `async-trampoline-`.
export interface Lsps5OptionSpec {
  kind: 'bool' | 'uint';
  default: string;
  help: string;
  /** Where the value goes in Lsps5Config (not for the on/off switch). */
  key?: keyof Lsps5Config;
  min?: number;
}

export const LSPS5_OPTIONS: Record<string, Lsps5OptionSpec> = {
  lsps5: {
    kind: 'bool',
    default: 'false',
    help: 'serve LSPS0 (peer message 37913) and LSPS5 webhook registration; notify sleeping clients',
  },
  'lsps5-max-webhooks': {
    kind: 'uint',
    default: String(DEFAULT_LSPS5.maxWebhooks),
    help: 'webhooks per client node',
    key: 'maxWebhooks',
    min: 1,
  },
  'lsps5-allow-http': {
    kind: 'bool',
    default: 'false',
    help: 'also accept http:// webhooks (tests and regtest only; bLIP-55 requires https)',
    key: 'allowHttp',
  },
  'lsps5-cooldown-ms': {
    kind: 'uint',
    default: String(DEFAULT_LSPS5.cooldownMs),
    help: 'at most one notification per client and method this often (reset when the client is seen online)',
    key: 'cooldownMs',
  },
  'lsps5-webhook-timeout-ms': {
    kind: 'uint',
    default: String(DEFAULT_LSPS5.timeoutMs),
    help: 'give up one webhook call after this long without an answer',
    key: 'timeoutMs',
    min: 1,
  },
  'lsps5-retry-base-ms': {
    kind: 'uint',
    default: String(DEFAULT_LSPS5.retryBaseMs),
    help: 'first retry delay of a webhook call that got no answer (doubling)',
    key: 'retryBaseMs',
    min: 1,
  },
  'lsps5-retry-max-ms': {
    kind: 'uint',
    default: String(DEFAULT_LSPS5.retryMaxMs),
    help: 'longest retry delay of a webhook call',
    key: 'retryMaxMs',
    min: 1,
  },
  'lsps5-attempts': {
    kind: 'uint',
    default: String(DEFAULT_LSPS5.maxAttempts),
    help: 'calls per notification and webhook, the first included',
    key: 'maxAttempts',
    min: 1,
  },
};

/** The LSPS5 settings from raw option values (undefined: not set); problems are appended. */
export function parseLsps5Options(
  raw: (name: string) => string | undefined,
  problems: string[],
  show: (name: string) => string = (n) => `--${n}`,
): Lsps5Config | undefined {
  const value = (name: string): string => raw(name) ?? LSPS5_OPTIONS[name]!.default;
  const bool = (name: string): boolean => {
    const v = value(name);
    if (v !== 'true' && v !== 'false') problems.push(`${show(name)}: "${v}" is not true or false`);
    return v === 'true';
  };
  const on = bool('lsps5');
  const cfg: Lsps5Config = { ...DEFAULT_LSPS5 };
  for (const [name, spec] of Object.entries(LSPS5_OPTIONS)) {
    if (!spec.key) continue;
    if (spec.kind === 'bool') {
      (cfg as unknown as Record<string, unknown>)[spec.key] = bool(name);
      continue;
    }
    const v = value(name);
    const min = spec.min ?? 0;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > Number.MAX_SAFE_INTEGER) {
      problems.push(`${show(name)}: "${v}" is not a whole number of at least ${min}`);
      continue;
    }
    (cfg as unknown as Record<string, unknown>)[spec.key] = Number(v);
  }
  if (cfg.retryMaxMs < cfg.retryBaseMs)
    problems.push(`${show('lsps5-retry-max-ms')} must be at least ${show('lsps5-retry-base-ms')}`);
  return on ? cfg : undefined;
}

/** Every flag the sidecar takes; `--help` prints this table. */
export const SIDECAR_FLAGS: Record<string, FlagSpec> = {
  'lnd-rpc': { kind: 'string', default: 'localhost:10009', help: "LND's gRPC host:port" },
  'lnd-tls-cert': { kind: 'string', default: join(homedir(), '.lnd', 'tls.cert'), help: "LND's tls.cert" },
  'lnd-macaroon': {
    kind: 'string',
    default: join(homedir(), '.lnd', 'data', 'chain', 'bitcoin', 'mainnet', 'admin.macaroon'),
    help: 'macaroon with the permissions the sidecar checks at start',
  },
  'data-dir': { kind: 'string', help: 'directory for the hold database and the release key (required)' },
  'log-level': { kind: 'level', default: 'info', help: 'debug, info, warn or error (to stderr)' },
  'log-json': { kind: 'bool', default: 'true', help: 'JSON log lines (false: plain text)' },
  'metrics-listen': {
    kind: 'string',
    help: 'serve Prometheus metrics at http://<host:port>/metrics (e.g. 127.0.0.1:9109); off when unset',
  },
  'hold-htlc-type': { kind: 'uint', default: '75537', help: 'update_add_htlc TLV type of hold_htlc' },
  'async-hold-type': { kind: 'uint', default: '4280151', help: 'hop payload type of async_hold' },
  'trampoline-request-type': {
    kind: 'uint',
    default: '4280153',
    help: 'hop payload type of trampoline_request',
  },
  'keysend-preimage-type': { kind: 'uint', default: '5482373484', help: 'keysend preimage record type' },
  'held-htlc-available-type': {
    kind: 'uint',
    default: '72',
    help: 'onion message type of held_htlc_available',
  },
  'held-htlc-available-alias': { kind: 'uint', default: '73', help: 'odd alias of held_htlc_available' },
  'release-held-htlc-type': { kind: 'uint', default: '74', help: 'onion message type of release_held_htlc' },
  'release-held-htlc-alias': { kind: 'uint', default: '75', help: 'odd alias of release_held_htlc' },
  'held-htlc-variants': {
    kind: 'variants',
    default: 'odd,even',
    help: 'held_htlc_available encodings to send, each its own message: odd (LND 0.21/CLN agents), even (LDK)',
  },
  'onion-message-custom-type': {
    kind: 'uint',
    default: '513',
    help: 'LND 0.20: custom message type of onion messages (lnd needs protocol.custom-message=<this>)',
  },
  'max-hold-blocks': { kind: 'uint', help: 'longest hold, in blocks' },
  'safety-blocks': { kind: 'uint', help: 'fail this many blocks before the incoming expiry' },
  'downstream-min-blocks': { kind: 'uint', help: 'blocks the next hop needs before our outgoing expiry' },
  'min-hold-blocks': { kind: 'uint', help: 'refuse at intake when the deadline is closer than this' },
  'cap-per-peer-count': { kind: 'uint', help: 'active holds per incoming peer' },
  'cap-per-peer-msat': { kind: 'msat', help: 'held msat per incoming peer' },
  'cap-global-count': { kind: 'uint', help: 'active holds in total' },
  'cap-global-msat': { kind: 'msat', help: 'held msat in total' },
  'notify-base-ms': { kind: 'uint', help: 'first held_htlc_available retry delay' },
  'notify-cap-ms': { kind: 'uint', help: 'longest held_htlc_available retry delay' },
  'trampoline-fee-base-msat': { kind: 'msat', help: 'trampoline fee, base' },
  'trampoline-fee-ppm': { kind: 'uint', help: 'trampoline fee, proportional' },
  ...recipientLspFlags(),
  ...Object.fromEntries(
    Object.entries(LSPS5_OPTIONS).map(([f, o]) => [f, { kind: o.kind, default: o.default, help: o.help }]),
  ),
};

// Recipient-LSP mode (plugin/recipient-lsp/): one block, so it moves as one.
function recipientLspFlags(): Record<string, FlagSpec> {
  return {
    'recipient-lsp': {
      kind: 'bool',
      default: 'false',
      help: "also act as our clients' LSP: keep held_htlc_available while they are away, release when they return",
    },
    'recipient-lsp-max-per-client': {
      kind: 'uint',
      help: 'stored notices per client, newest kept (default 32)',
    },
    'recipient-lsp-max-total': { kind: 'uint', help: 'stored notices in total, newest kept (default 10000)' },
    'recipient-lsp-expiry-seconds': {
      kind: 'uint',
      help: 'drop a stored notice after this long (default 86400)',
    },
    'recipient-lsp-relay': {
      kind: 'string',
      help: 'relay notices to these clients instead of releasing ("all", or comma-separated node ids)',
    },
  };
}

function parseRecipientLsp(
  str: (flag: string) => string,
  uint: (flag: string) => number | undefined,
  problems: string[],
): RecipientLspConfigInput | undefined {
  const on = str('recipient-lsp');
  if (on !== 'true' && on !== 'false') problems.push(`--recipient-lsp: "${on}" is not true or false`);
  const out: RecipientLspConfigInput = {};
  const per = uint('recipient-lsp-max-per-client');
  const total = uint('recipient-lsp-max-total');
  const expiry = uint('recipient-lsp-expiry-seconds');
  for (const [flag, v] of [
    ['recipient-lsp-max-per-client', per],
    ['recipient-lsp-max-total', total],
    ['recipient-lsp-expiry-seconds', expiry],
  ] as const) {
    if (v === 0) problems.push(`--${flag}: must be at least 1`);
  }
  if (per !== undefined) out.maxPerClient = per;
  if (total !== undefined) out.maxTotal = total;
  if (expiry !== undefined) out.expiryMs = expiry * 1000;
  if ((per ?? 32) > (total ?? 10_000))
    problems.push('--recipient-lsp-max-per-client must not exceed --recipient-lsp-max-total');
  const relay = str('recipient-lsp-relay').trim();
  if (relay === 'all') out.relayAll = true;
  else if (relay) {
    const ids = relay
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const id of ids)
      if (!/^0[23][0-9a-f]{64}$/.test(id))
        problems.push(`--recipient-lsp-relay: "${id}" is not a node id (33-byte hex)`);
    out.relayClients = ids;
  }
  return on === 'true' ? out : undefined;
}

export const envName = (flag: string): string => `ASYNC_TRAMPOLINE_${flag.replace(/-/g, '_').toUpperCase()}`;

export function sidecarHelp(): string {
  const lines = Object.entries(SIDECAR_FLAGS).map(
    ([f, s]) =>
      `  --${f.padEnd(28)} ${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}\n${' '.repeat(33)}env ${envName(f)}`,
  );
  return `usage: async-trampoline-lnd [flags]\n${lines.join('\n')}\n`;
}

/** Parse and validate; throws ConfigError listing every problem. `--help` is handled by the caller. */
export function parseSidecarConfig(argv: string[], env: NodeJS.ProcessEnv): SidecarConfig {
  const problems: string[] = [];
  let values: Record<string, string | boolean | undefined> = {};
  try {
    const options = Object.fromEntries(
      Object.keys(SIDECAR_FLAGS).map((f) => [f, { type: 'string' as const }]),
    );
    values = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (e) {
    throw new ConfigError([(e as Error).message]);
  }
  const raw = (flag: string): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = env[envName(flag)];
    if (e !== undefined && e !== '') return e;
    return SIDECAR_FLAGS[flag]!.default;
  };
  const str = (flag: string, required = false): string => {
    const v = raw(flag);
    if (v === undefined || v === '') {
      if (required) problems.push(`--${flag} is required (or set ${envName(flag)})`);
      return '';
    }
    return v;
  };
  const uint = (flag: string, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = raw(flag);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) > max) {
      problems.push(`--${flag}: "${v}" is not a whole number from 0 to ${max}`);
      return undefined;
    }
    return Number(v);
  };
  const big = (flag: string, max: bigint = (1n << 64n) - 1n): bigint | undefined => {
    const v = raw(flag);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || BigInt(v) > max) {
      problems.push(`--${flag}: "${v}" is not a whole number from 0 to ${max}`);
      return undefined;
    }
    return BigInt(v);
  };

  const lndRpc = str('lnd-rpc', true);
  if (lndRpc && !/^[^\s:]+:\d{1,5}$/.test(lndRpc) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(lndRpc))
    problems.push(`--lnd-rpc: "${lndRpc}" is not host:port`);
  const level = str('log-level');
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    problems.push(`--log-level: "${level}" is not debug, info, warn or error`);
  const json = str('log-json');
  const metricsRaw = str('metrics-listen');
  const metricsMatch = /^(.+):(\d{1,5})$/.exec(metricsRaw);
  if (metricsRaw && (!metricsMatch || Number(metricsMatch[2]) > 65535))
    problems.push(`--metrics-listen: "${metricsRaw}" is not host:port`);
  if (!['true', 'false'].includes(json)) problems.push(`--log-json: "${json}" is not true or false`);
  const variants = str('held-htlc-variants')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (variants.length === 0 || variants.some((v) => v !== 'odd' && v !== 'even'))
    problems.push(`--held-htlc-variants: "${variants.join(',')}" must be odd, even or odd,even`);

  const t = {
    holdHtlc: big('hold-htlc-type') ?? 0n,
    asyncHold: big('async-hold-type') ?? 0n,
    trampolineRequest: big('trampoline-request-type') ?? 0n,
    keysendPreimage: big('keysend-preimage-type') ?? 0n,
    heldHtlcAvailable: big('held-htlc-available-type') ?? 0n,
    heldHtlcAvailableOdd: big('held-htlc-available-alias') ?? 0n,
    releaseHeldHtlc: big('release-held-htlc-type') ?? 0n,
    releaseHeldHtlcOdd: big('release-held-htlc-alias') ?? 0n,
    onionMessageCustom: uint('onion-message-custom-type', 0xffff) ?? 513,
  };
  // LND passes only custom records >= 65536 in hop payloads and update_add_htlc.
  for (const [flag, v] of [
    ['async-hold-type', t.asyncHold],
    ['trampoline-request-type', t.trampolineRequest],
    ['hold-htlc-type', t.holdHtlc],
  ] as const) {
    if (v < 65536n) problems.push(`--${flag}: ${v} is below 65536; LND passes only custom records >= 65536`);
  }
  for (const [flag, v] of [
    ['held-htlc-available-alias', t.heldHtlcAvailableOdd],
    ['release-held-htlc-alias', t.releaseHeldHtlcOdd],
  ] as const) {
    if (v % 2n === 0n || v < 64n)
      problems.push(`--${flag}: ${v} must be odd and >= 64 (hosts drop unknown even types)`);
  }
  const msgTypes = [t.heldHtlcAvailable, t.heldHtlcAvailableOdd, t.releaseHeldHtlc, t.releaseHeldHtlcOdd];
  if (new Set(msgTypes).size !== 4) problems.push('the four onion message types must be distinct');

  const engine: EngineConfigInput = {};
  const setNum = (flag: string, key: keyof EngineConfigInput): void => {
    const v = uint(flag);
    if (v !== undefined) (engine as Record<string, unknown>)[key] = v;
  };
  setNum('max-hold-blocks', 'maxHoldBlocks');
  setNum('safety-blocks', 'safetyBlocks');
  setNum('downstream-min-blocks', 'downstreamMinBlocks');
  setNum('min-hold-blocks', 'minHoldBlocks');
  setNum('notify-base-ms', 'notifyBaseMs');
  setNum('notify-cap-ms', 'notifyCapMs');
  setNum('trampoline-fee-ppm', 'trampolineFeePpm');
  const feeBase = big('trampoline-fee-base-msat');
  if (feeBase !== undefined) engine.trampolineFeeBaseMsat = feeBase;
  const caps: NonNullable<EngineConfigInput['caps']> = {};
  const ppc = uint('cap-per-peer-count');
  if (ppc !== undefined) caps.perPeerCount = ppc;
  const ppm = big('cap-per-peer-msat');
  if (ppm !== undefined) caps.perPeerMsat = ppm;
  const gc = uint('cap-global-count');
  if (gc !== undefined) caps.globalCount = gc;
  const gm = big('cap-global-msat');
  if (gm !== undefined) caps.globalMsat = gm;
  if (Object.keys(caps).length > 0) engine.caps = caps;
  const lsps5 = parseLsps5Options((f) => {
    const v = values[f];
    if (typeof v === 'string') return v;
    const e = env[envName(f)];
    return e !== undefined && e !== '' ? e : undefined;
  }, problems);

  const recipientLsp = parseRecipientLsp(str, uint, problems);

  const cfg: SidecarConfig = {
    lndRpc,
    lndTlsCert: str('lnd-tls-cert', true),
    lndMacaroon: str('lnd-macaroon', true),
    dataDir: str('data-dir', true),
    logLevel: level as LogLevel,
    logJson: json !== 'false',
    metricsListen:
      metricsRaw && metricsMatch
        ? { host: metricsMatch[1]!.replace(/^\[|\]$/g, ''), port: Number(metricsMatch[2]) }
        : undefined,
    types: t,
    heldHtlcVariants: variants as ('odd' | 'even')[],
    engine,
    recipientLsp,
    lsps5,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}
