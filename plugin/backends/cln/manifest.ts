// What the plugin tells lightningd in getmanifest, and how the option values lightningd passes back in
// init become our settings. Every option carries the `async-trampoline-` prefix so it can never clash
// with lightningd's own or another plugin's.
import { join } from 'node:path';
import type { LogLevel } from '../../ops/log.js';
import type { EngineConfigInput } from '../../hold/policy.js';
import type { Lsps5Config } from '../../lsps/config.js';
import { LSPS5_OPTIONS, parseLsps5Options } from '../../ops/config.js';
import type { RecipientLspConfigInput } from '../../recipient-lsp/config.js';

export const OPTION_PREFIX = 'async-trampoline-';

type OptionType = 'string' | 'int' | 'bool';

interface OptionSpec {
  name: string;
  type: OptionType;
  default: string | number | boolean;
  description: string;
}

// Recipient-LSP mode (plugin/recipient-lsp/): one block, so it moves as one.
const RECIPIENT_LSP_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'recipient-lsp',
    type: 'bool',
    default: false,
    description:
      "also act as our clients' LSP: keep held_htlc_available while they are away, release when they return",
  },
  {
    name: 'recipient-lsp-max-per-client',
    type: 'int',
    default: 32,
    description: 'stored notices per client, newest kept',
  },
  {
    name: 'recipient-lsp-max-total',
    type: 'int',
    default: 10_000,
    description: 'stored notices in total, newest kept',
  },
  {
    name: 'recipient-lsp-expiry-seconds',
    type: 'int',
    default: 86_400,
    description: 'drop a stored notice after this long',
  },
  {
    name: 'recipient-lsp-relay',
    type: 'string',
    default: '',
    description: 'relay notices to these clients instead of releasing ("all", or comma-separated node ids)',
  },
];

/** Type numbers are options because the BOLT draft is unmerged and will renumber them (PROTOCOL.md). */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'data-dir',
    type: 'string',
    default: '',
    description: 'Hold database directory (default <lightning-dir>/async-trampoline)',
  },
  {
    name: 'log-level',
    type: 'string',
    default: 'info',
    description: 'debug, info, warn or error (written to stderr, which lightningd logs)',
  },
  {
    name: 'hold-htlc-type',
    type: 'int',
    default: 75537,
    description: 'update_add_htlc TLV type of hold_htlc',
  },
  {
    name: 'held-htlc-available-type',
    type: 'int',
    default: 72,
    description: 'onion message TLV type of held_htlc_available',
  },
  {
    name: 'held-htlc-available-alias',
    type: 'int',
    default: 73,
    description: 'odd alias of held_htlc_available, also sent',
  },
  {
    name: 'release-held-htlc-type',
    type: 'int',
    default: 74,
    description: 'onion message TLV type of release_held_htlc',
  },
  {
    name: 'release-held-htlc-alias',
    type: 'int',
    default: 75,
    description:
      'odd alias of release_held_htlc (CLN drops unknown even types, so this is the one that arrives)',
  },
  {
    name: 'held-htlc-variants',
    type: 'string',
    default: 'odd,even',
    description:
      'held_htlc_available encodings to send, each its own message: odd (recipients behind CLN/LND 0.21), even (LDK)',
  },
  {
    name: 'async-hold-type',
    type: 'int',
    default: 4280151,
    description: 'hop payload TLV type of async_hold',
  },
  {
    name: 'trampoline-request-type',
    type: 'int',
    default: 4280153,
    description: 'hop payload TLV type of trampoline_request',
  },
  {
    name: 'trampoline-scid',
    type: 'string',
    default: '',
    description:
      'virtual short channel id (BxTxO) senders address trampoline HTLCs to; empty: final-hop form only',
  },
  { name: 'max-hold-blocks', type: 'int', default: 1008, description: 'longest hold, in blocks' },
  {
    name: 'safety-blocks',
    type: 'int',
    default: 12,
    description: 'fail this many blocks before the incoming HTLC expires',
  },
  {
    name: 'downstream-min-blocks',
    type: 'int',
    default: 18,
    description: 'blocks the next hop needs before our outgoing_cltv_value',
  },
  {
    name: 'min-hold-blocks',
    type: 'int',
    default: 6,
    description: 'refuse at intake an HTLC whose deadline is closer than this',
  },
  { name: 'max-held-per-peer', type: 'int', default: 200, description: 'most holds per incoming peer' },
  {
    name: 'max-held-msat-per-peer',
    type: 'int',
    default: 50_000_000_000,
    description: 'most msat held per incoming peer',
  },
  { name: 'max-held', type: 'int', default: 20_000, description: 'most holds in total' },
  { name: 'max-held-msat', type: 'int', default: 1_000_000_000_000, description: 'most msat held in total' },
  {
    name: 'trampoline-fee-base-msat',
    type: 'int',
    default: 1000,
    description: 'trampoline mode: base fee we keep',
  },
  {
    name: 'trampoline-fee-ppm',
    type: 'int',
    default: 1000,
    description: 'trampoline mode: proportional fee we keep',
  },
  ...RECIPIENT_LSP_OPTIONS,
];

export const RPC_METHODS = [
  {
    name: 'async-trampoline-list',
    usage: '[state]',
    description: 'List held HTLCs (optionally only those in one state)',
  },
  {
    name: 'async-trampoline-release',
    usage: 'key',
    description: 'Release a held HTLC now, as if its release arrived',
  },
  { name: 'async-trampoline-fail', usage: 'key', description: 'Fail a held HTLC back now' },
  { name: 'async-trampoline-stats', usage: '', description: 'Counts and totals of held HTLCs' },
  {
    name: 'async-trampoline-message-path',
    usage: 'node_id',
    description: "Recipient-LSP mode: a client's message path (blinded_path hex) for its senders' async_hold",
  },
] as const;

export const HOOKS = ['htlc_accepted', 'onion_message_recv_secret', 'custommsg'] as const;
// connect, disconnect, channel_state_changed: recipient-LSP mode (ignored when it is off).
export const SUBSCRIPTIONS = ['block_added', 'connect', 'disconnect', 'channel_state_changed'] as const;
/** lightningd names a plugin by its file's basename. */
export const GUARD_PLUGIN = 'cln-guard.js';

// The LSPS5 block of ops/config.ts, as CLN options (async-trampoline-lsps5, ...-lsps5-max-webhooks, ...).
const LSPS5_CLN_OPTIONS: readonly OptionSpec[] = Object.entries(LSPS5_OPTIONS).map(([name, o]) => ({
  name,
  type: o.kind === 'bool' ? 'bool' : 'int',
  default: o.kind === 'bool' ? o.default === 'true' : Number(o.default),
  description: o.help,
}));

export function buildManifest(): Record<string, unknown> {
  return {
    options: [...OPTIONS, ...LSPS5_CLN_OPTIONS].map((o) => ({
      name: OPTION_PREFIX + o.name,
      type: o.type,
      default: o.default,
      description: o.description,
      dynamic: false,
    })),
    rpcmethods: RPC_METHODS.map((m) => ({ name: m.name, usage: m.usage, description: m.description })),
    // The guard (cln-guard.js) must run after us in the htlc_accepted chain; it says so too.
    hooks: HOOKS.map((name) => (name === 'htlc_accepted' ? { name, before: [GUARD_PLUGIN] } : { name })),
    subscriptions: [...SUBSCRIPTIONS],
    notifications: [],
    featurebits: {},
    // lightningd sends string ids ("cln:htlc_accepted#12"); we echo ids verbatim.
    nonnumericids: true,
    // Stopping the plugin at runtime would hand every held HTLC to default handling.
    dynamic: false,
  };
}

export interface TypeNumbers {
  holdHtlc: bigint;
  heldHtlcAvailable: bigint[];
  releaseHeldHtlc: bigint[];
  asyncHold: bigint;
  trampolineRequest: bigint;
}

export interface ClnSettings {
  dataDir: string;
  logLevel: LogLevel;
  types: TypeNumbers;
  /** Virtual scid, as CLN writes it ("BxTxO"), or undefined. */
  trampolineScid: string | undefined;
  heldHtlcVariants: ('odd' | 'even')[];
  engine: EngineConfigInput;
  /** LSPS0/LSPS5 webhook service; undefined when off. */
  lsps5: Lsps5Config | undefined;
  /** Recipient-LSP mode settings; undefined when the mode is off. */
  recipientLsp: RecipientLspConfigInput | undefined;
}

/** A bad option value: the plugin logs the reason to lightningd's log and exits non-zero. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Turn init's `options` into settings; throws OptionError naming the first bad option. */
export function parseSettings(options: Record<string, unknown>, lightningDir: string): ClnSettings {
  const get = (name: string): string | number | boolean => {
    const spec = OPTIONS.find((o) => o.name === name);
    if (!spec) throw new OptionError(`unknown option ${name}`);
    const v = options[OPTION_PREFIX + name];
    if (v === undefined || v === null) return spec.default;
    if (spec.type === 'int') {
      // lightningd parses int options itself; a string here is tolerated for hand-written configs.
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < 0)
        throw new OptionError(`${OPTION_PREFIX}${name}: not a non-negative integer`);
      return n;
    }
    if (spec.type === 'bool') {
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new OptionError(`${OPTION_PREFIX}${name}: not a boolean`);
    }
    if (typeof v !== 'string') throw new OptionError(`${OPTION_PREFIX}${name}: not a string`);
    return v;
  };
  const int = (n: string): number => get(n) as number;
  const str = (n: string): string => get(n) as string;
  const tlvType = (n: string, parity: 'odd' | 'any'): bigint => {
    const t = BigInt(int(n));
    if (parity === 'odd' && t % 2n === 0n) throw new OptionError(`${OPTION_PREFIX}${n}: must be odd`);
    return t;
  };

  const logLevel = str('log-level') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new OptionError(`${OPTION_PREFIX}log-level: one of ${LOG_LEVELS.join(', ')}`);
  const scid = str('trampoline-scid');
  if (scid !== '' && !/^\d+x\d+x\d+$/.test(scid))
    throw new OptionError(`${OPTION_PREFIX}trampoline-scid: not BxTxO`);

  const variants = str('held-htlc-variants')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (
    variants.length === 0 ||
    variants.some((v) => v !== 'odd' && v !== 'even') ||
    new Set(variants).size !== variants.length
  ) {
    throw new OptionError(`${OPTION_PREFIX}held-htlc-variants: a list of odd and/or even`);
  }

  const lspsProblems: string[] = [];
  const lsps5 = parseLsps5Options(
    (name) => {
      const v = options[OPTION_PREFIX + name];
      return v === undefined || v === null ? undefined : String(v);
    },
    lspsProblems,
    (name) => OPTION_PREFIX + name,
  );
  if (lspsProblems.length > 0) throw new OptionError(lspsProblems.join('; '));

  return {
    lsps5,
    recipientLsp: recipientLspSettings(get),
    heldHtlcVariants: variants as ('odd' | 'even')[],
    dataDir: str('data-dir') || join(lightningDir, 'async-trampoline'),
    logLevel,
    types: {
      holdHtlc: tlvType('hold-htlc-type', 'any'),
      heldHtlcAvailable: [
        tlvType('held-htlc-available-type', 'any'),
        tlvType('held-htlc-available-alias', 'odd'),
      ],
      releaseHeldHtlc: [tlvType('release-held-htlc-type', 'any'), tlvType('release-held-htlc-alias', 'odd')],
      asyncHold: tlvType('async-hold-type', 'odd'),
      trampolineRequest: tlvType('trampoline-request-type', 'odd'),
    },
    trampolineScid: scid === '' ? undefined : scid,
    engine: {
      maxHoldBlocks: int('max-hold-blocks'),
      safetyBlocks: int('safety-blocks'),
      downstreamMinBlocks: int('downstream-min-blocks'),
      minHoldBlocks: int('min-hold-blocks'),
      trampolineFeeBaseMsat: BigInt(int('trampoline-fee-base-msat')),
      trampolineFeePpm: int('trampoline-fee-ppm'),
      caps: {
        perPeerCount: int('max-held-per-peer'),
        perPeerMsat: BigInt(int('max-held-msat-per-peer')),
        globalCount: int('max-held'),
        globalMsat: BigInt(int('max-held-msat')),
      },
    },
  };
}

function recipientLspSettings(
  get: (name: string) => string | number | boolean,
): RecipientLspConfigInput | undefined {
  if (get('recipient-lsp') !== true) return undefined;
  const positive = (name: string): number => {
    const n = get(name) as number;
    if (n < 1) throw new OptionError(`${OPTION_PREFIX}${name}: must be at least 1`);
    return n;
  };
  const out: RecipientLspConfigInput = {
    maxPerClient: positive('recipient-lsp-max-per-client'),
    maxTotal: positive('recipient-lsp-max-total'),
    expiryMs: positive('recipient-lsp-expiry-seconds') * 1000,
  };
  if (out.maxPerClient! > out.maxTotal!)
    throw new OptionError(
      `${OPTION_PREFIX}recipient-lsp-max-per-client: must not exceed ${OPTION_PREFIX}recipient-lsp-max-total`,
    );
  const relay = (get('recipient-lsp-relay') as string).trim();
  if (relay === 'all') out.relayAll = true;
  else if (relay !== '') {
    const ids = relay
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const bad = ids.find((id) => !/^0[23][0-9a-f]{64}$/.test(id));
    if (bad)
      throw new OptionError(`${OPTION_PREFIX}recipient-lsp-relay: "${bad}" is not a node id (33-byte hex)`);
    out.relayClients = ids;
  }
  return out;
}
