// The LND sidecar's configuration: its flags, `--help`, and the whole parse (flags, environment,
// config file, defaults) into a SidecarConfig; the sidecar refuses to start on any problem.
import { parseArgs } from 'node:util';
import type { EngineConfigInput } from '../hold/policy.js';
import type { Lsps5Config } from '../lsps/config.js';
import type { RecipientLspConfigInput } from '../recipient-lsp/config.js';
import { configFilePath, readConfigFile } from './config-file.js';
import { ConfigError, resolveOptions, type OptionValues } from './config-resolve.js';
import { engineConfigOf, lsps5Of, recipientLspOf, typeProblems } from './config-rules.js';
import { CONFIG_FLAG, OPTIONS } from './config-table.js';
import type { LogLevel } from './log.js';
import { OptionTable, aliasesOn, defaultFor, envName } from './options.js';

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
