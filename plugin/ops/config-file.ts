// The sidecar's config file: where it is, reading it, and its key=value lines.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE_NAME, OPTIONS } from './config-table.js';
import type { RawSources } from './config-resolve.js';
import { defaultFor, envName } from './options.js';

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
