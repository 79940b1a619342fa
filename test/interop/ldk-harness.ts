// Runs the LDK interop harness (interop/ldk, built by scripts/install-ldk-harness.sh into the cache):
// one subcommand per call, flags with hex values in, one JSON object out.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

let binary: string | undefined;

/**
 * The harness binary for this checkout's sources. The install script is a no-op when the binary is
 * cached (the `all` run builds it before the tests), and builds it otherwise.
 */
export function harnessPath(): string {
  if (binary) return binary;
  const r = spawnSync('bash', [join(repoRoot, 'scripts/install-ldk-harness.sh'), '--print-path'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const path = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !path)
    throw new Error(`scripts/install-ldk-harness.sh failed (exit ${r.status}); see its log above`);
  binary = path;
  return path;
}

export type Flags = Record<string, string | number | bigint | boolean | readonly string[] | undefined>;

/** Run `ldk-interop <cmd>`; a flag `true` is a switch, an array repeats the flag. */
export function ldk<T = Record<string, unknown>>(cmd: string, flags: Flags = {}): T {
  const argv = [cmd];
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || v === false) continue;
    if (v === true) argv.push(`--${k}`);
    else if (Array.isArray(v)) for (const x of v as readonly string[]) argv.push(`--${k}`, x);
    else argv.push(`--${k}`, String(v));
  }
  let out: string;
  try {
    out = execFileSync(harnessPath(), argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number };
    const msg = (err.stdout ?? '').trim() || (err.stderr ?? '').trim();
    throw new Error(`ldk-interop ${cmd} failed (exit ${err.status}): ${msg}`);
  }
  return JSON.parse(out) as T;
}

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** What `peel` prints. */
export interface Peeled {
  kind: 'forward' | 'async_payments' | 'offers' | 'dns_resolver' | 'refused';
  next_node_id?: string;
  onion_message?: string;
  message?: string;
  tlv_type?: number;
  context?: Record<string, unknown>;
  reply_path?: string | null;
  response?: Sent;
  log: string[];
}

/** What LDK's builder subcommands print. */
export interface Sent {
  first_node_id: string;
  onion_message: string;
  reply_path?: string;
}
