// Resolving one host's options from their sources (flag > environment > config file > default; CLN:
// lightningd > default) into typed values. Every bad value is reported at once, one line each.
import { OPTIONS } from './config-table.js';
import {
  OptionTable,
  aliasesOn,
  defaultFor,
  envName,
  parseValue,
  type Host,
  type OptionValue,
  type Source,
} from './options.js';

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
