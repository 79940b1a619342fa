// What the plugin tells lightningd in getmanifest, and how the option values lightningd passes back in
// init become our settings. Every option carries the `async-trampoline-` prefix so it can never clash
// with lightningd's own or another plugin's.
import { join } from 'node:path';
import type { LogLevel } from '../../ops/log.js';
import type { EngineConfigInput } from '../../hold/policy.js';
import type { Lsps5Config } from '../../lsps/config.js';
import type { RecipientLspConfigInput } from '../../recipient-lsp/config.js';
import {
  OPTIONS,
  engineConfigOf,
  lsps5Of,
  recipientLspOf,
  resolveOptions,
  typeProblems,
  type OptionValues,
} from '../../ops/config.js';
import { ADMIN_COMMANDS } from '../../ops/admin.js';
import { CLN_PREFIX, OptionTable, aliasesOn, defaultFor, type OptionSpec } from '../../ops/options.js';

export const OPTION_PREFIX = CLN_PREFIX;

type OptionType = 'string' | 'int' | 'bool';

const clnType = (o: OptionSpec): OptionType =>
  o.kind === 'bool' ? 'bool' : ['uint', 'msat', 'tlv-type', 'port'].includes(o.kind) ? 'int' : 'string';

/** The manifest's options: every row of the shared table that CLN takes, and its deprecated names. */
export function manifestOptions(): Record<string, unknown>[] {
  const rows = new OptionTable(OPTIONS, 'cln').rows;
  return rows.flatMap((o) => {
    const type = clnType(o);
    const def = defaultFor(o, 'cln') ?? '';
    const main = {
      name: OPTION_PREFIX + o.name,
      type,
      default: type === 'int' ? Number(def) : type === 'bool' ? def === 'true' : def,
      description: o.help,
      dynamic: false,
    };
    // No default for an alias: lightningd passes it only when the operator set it.
    const aliases = aliasesOn(o, 'cln').map((a) => ({
      name: OPTION_PREFIX + a,
      type,
      description: `deprecated: use ${OPTION_PREFIX}${o.name}`,
      deprecated: true,
      dynamic: false,
    }));
    return [main, ...aliases];
  });
}

export const RPC_METHODS = Object.entries(ADMIN_COMMANDS).map(([command, c]) => ({
  name: `async-trampoline-${command}`,
  usage: c.usage,
  description: c.description,
}));

export const HOOKS = ['htlc_accepted', 'onion_message_recv_secret', 'custommsg'] as const;
// connect, disconnect, channel_state_changed: recipient-LSP mode (ignored when it is off).
export const SUBSCRIPTIONS = ['block_added', 'connect', 'disconnect', 'channel_state_changed'] as const;
/** lightningd names a plugin by its file's basename. */
export const GUARD_PLUGIN = 'cln-guard.js';
/**
 * lightningd's keysend plugin strips the (even) keysend preimage record from a final payload before
 * passing it on; trampoline keysend needs that record, so we see the HTLC first.
 */
export const KEYSEND_PLUGIN = 'keysend';

export function buildManifest(): Record<string, unknown> {
  return {
    options: manifestOptions(),
    rpcmethods: RPC_METHODS.map((m) => ({ name: m.name, usage: m.usage, description: m.description })),
    // The guard (cln-guard.js) must run after us in the htlc_accepted chain; it says so too.
    hooks: HOOKS.map((name) =>
      name === 'htlc_accepted' ? { name, before: [GUARD_PLUGIN, KEYSEND_PLUGIN] } : { name },
    ),
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
  /** Every resolved value, for features that read their own block of the option table. */
  values: OptionValues;
  /** Deprecated option names used; the caller logs them. */
  warnings: string[];
}

/** Bad option values (one line each): the plugin logs them to lightningd's log and exits non-zero. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** Turn init's `options` into settings; throws OptionError naming every bad option. */
export function parseSettings(options: Record<string, unknown>, lightningDir: string): ClnSettings {
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) {
    if (!k.startsWith(OPTION_PREFIX) || v === undefined || v === null) continue;
    given[k.slice(OPTION_PREFIX.length)] =
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : JSON.stringify(v);
  }
  const { values: v, problems, warnings } = resolveOptions('cln', { flags: {}, env: {}, lightningd: given });
  problems.push(...typeProblems(v, 'cln'));
  const recipientLsp = recipientLspOf(v, 'cln', problems);
  const lsps5 = lsps5Of(v, 'cln', problems);
  if (problems.length > 0) throw new OptionError(problems.join('; '));
  const t = (n: string): bigint => v.get<bigint>(n)!;
  const scid = v.get<string>('trampoline-scid') ?? '';
  return {
    lsps5,
    recipientLsp,
    heldHtlcVariants: v.get<('odd' | 'even')[]>('held-htlc-variants')!,
    dataDir: v.get<string>('data-dir') || join(lightningDir, 'async-trampoline'),
    logLevel: v.get<LogLevel>('log-level')!,
    types: {
      holdHtlc: t('hold-htlc-type'),
      heldHtlcAvailable: [t('held-htlc-available-type'), t('held-htlc-available-alias')],
      releaseHeldHtlc: [t('release-held-htlc-type'), t('release-held-htlc-alias')],
      asyncHold: t('async-hold-type'),
      trampolineRequest: t('trampoline-request-type'),
    },
    trampolineScid: scid === '' ? undefined : scid,
    engine: engineConfigOf(v),
    values: v,
    warnings,
  };
}
