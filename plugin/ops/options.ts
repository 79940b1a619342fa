// The option table's machinery: how one row becomes a CLN option, a sidecar flag, an environment
// variable and a config-file key, and how a raw text value becomes a typed one. The rows themselves
// live in config-table.ts, one block per feature.
export type Host = 'cln' | 'lnd';

/** How a value is written and checked. Every source (flag, env, file, lightningd) arrives as text. */
export type OptionKind =
  | 'string'
  | 'path'
  | 'uint'
  | 'msat'
  | 'tlv-type'
  | 'bool'
  | 'level'
  | 'variants'
  | 'scid'
  | 'host-port'
  | 'port';

export interface OptionSpec {
  /** kebab-case: CLN `async-trampoline-<name>`, sidecar `--<name>`, env `ASYNC_TRAMPOLINE_<NAME>`, file `<name>=`. */
  name: string;
  kind: OptionKind;
  /** One line for --help, the CLN manifest and the README. */
  help: string;
  /** Which hosts take it. */
  hosts: readonly Host[];
  /** Default as written in a config file; undefined: unset (off, or required where `required`). */
  default?: string;
  /** A host whose default differs (e.g. CLN's data dir under the lightning dir). */
  hostDefault?: Partial<Record<Host, string>>;
  /** Must be set on these hosts. */
  required?: readonly Host[];
  /** The README's default column, when the defaults alone would not say it. */
  docDefault?: string;
  /** Bounds of a uint. */
  min?: number;
  max?: number;
  /** Older names, still accepted (with a warning) on the hosts that used them. */
  aliases?: readonly Alias[];
}

export interface Alias {
  name: string;
  hosts: readonly Host[];
}

export const aliasesOn = (spec: OptionSpec, host: Host): string[] =>
  (spec.aliases ?? []).filter((a) => a.hosts.includes(host)).map((a) => a.name);

export const ENV_PREFIX = 'ASYNC_TRAMPOLINE_';
export const CLN_PREFIX = 'async-trampoline-';

export const envName = (name: string): string => `${ENV_PREFIX}${name.replace(/-/g, '_').toUpperCase()}`;
export const clnName = (name: string): string => `${CLN_PREFIX}${name}`;

export function defaultFor(spec: OptionSpec, host: Host): string | undefined {
  return spec.hostDefault?.[host] ?? spec.default;
}

export type OptionValue = string | number | bigint | boolean | string[] | { host: string; port: number };

const U64_MAX = (1n << 64n) - 1n;
const LEVELS = ['debug', 'info', 'warn', 'error'];

/** Parse one text value by its kind; a string is the problem, phrased for `<where>: "<value>" <problem>`. */
export function parseValue(
  spec: OptionSpec,
  text: string,
): { ok: true; value: OptionValue } | { ok: false; why: string } {
  const v = text.trim();
  switch (spec.kind) {
    case 'string':
    case 'path':
      return { ok: true, value: v };
    case 'uint': {
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      if (!/^\d+$/.test(v) || Number(v) > max || Number(v) < (spec.min ?? 0))
        return {
          ok: false,
          why: spec.min
            ? `is not a whole number of at least ${spec.min}`
            : `is not a whole number from 0 to ${max}`,
        };
      return { ok: true, value: Number(v) };
    }
    case 'port':
      if (!/^\d+$/.test(v) || Number(v) > 65535) return { ok: false, why: 'is not a port from 0 to 65535' };
      return { ok: true, value: Number(v) };
    case 'msat':
    case 'tlv-type':
      if (!/^\d+$/.test(v) || BigInt(v) > U64_MAX)
        return { ok: false, why: `is not a whole number from 0 to ${U64_MAX}` };
      return { ok: true, value: BigInt(v) };
    case 'bool':
      if (v !== 'true' && v !== 'false') return { ok: false, why: 'is not true or false' };
      return { ok: true, value: v === 'true' };
    case 'level':
      if (!LEVELS.includes(v)) return { ok: false, why: `is not ${LEVELS.join(', ')}` };
      return { ok: true, value: v };
    case 'variants': {
      const parts = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (
        parts.length === 0 ||
        parts.some((p) => p !== 'odd' && p !== 'even') ||
        new Set(parts).size !== parts.length
      )
        return { ok: false, why: 'must be odd, even or odd,even' };
      return { ok: true, value: parts };
    }
    case 'scid':
      if (v !== '' && !/^\d+x\d+x\d+$/.test(v)) return { ok: false, why: 'is not a short channel id BxTxO' };
      return { ok: true, value: v };
    case 'host-port': {
      const m = /^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(v);
      if (!m || Number(m[2]) > 65535) return { ok: false, why: 'is not host:port' };
      return { ok: true, value: { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } };
    }
  }
}

/** Where a value came from, for messages an operator can act on. */
export type Source = 'flag' | 'env' | 'file' | 'default' | 'lightningd';

export function describeSource(spec: OptionSpec, source: Source, host: Host, file?: string): string {
  if (host === 'cln') return clnName(spec.name);
  switch (source) {
    case 'flag':
      return `--${spec.name}`;
    case 'env':
      return envName(spec.name);
    case 'file':
      return `${file ?? 'config file'}: ${spec.name}`;
    default:
      return `--${spec.name} (default)`;
  }
}

/** The options one host takes, with a lookup that also finds deprecated names. */
export class OptionTable {
  readonly rows: readonly OptionSpec[];
  private readonly byName = new Map<string, { spec: OptionSpec; deprecated: boolean }>();

  constructor(all: readonly OptionSpec[], host: Host) {
    this.rows = all.filter((o) => o.hosts.includes(host));
    for (const spec of this.rows) {
      for (const n of [spec.name, ...aliasesOn(spec, host)]) {
        if (this.byName.has(n)) throw new Error(`option ${n} is defined twice`);
        this.byName.set(n, { spec, deprecated: n !== spec.name });
      }
    }
  }

  lookup(name: string): { spec: OptionSpec; deprecated: boolean } | undefined {
    return this.byName.get(name);
  }
}

/** Check that the table is well formed (names unique across hosts, kebab-case); used by a test. */
export function tableProblems(all: readonly OptionSpec[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const o of all) {
    for (const n of [o.name, ...(o.aliases ?? []).map((a) => a.name)]) {
      if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(n)) out.push(`${n}: not kebab-case`);
      if (seen.has(n)) out.push(`${n}: defined twice`);
      seen.add(n);
    }
    if (o.default !== undefined) {
      const r = parseValue(o, o.default);
      if (!r.ok) out.push(`${o.name}: default "${o.default}" ${r.why}`);
    }
  }
  return out;
}
