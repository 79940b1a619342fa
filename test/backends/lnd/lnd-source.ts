// Finds LND's own source tree (its .proto files) for a pinned tag: from scripts/install-nodes.sh's
// manifest (it keeps each tag's source), else the Go module cache, else `go mod download`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PINNED_LND_TAGS = ['v0.21.2-beta', 'v0.20.2-beta'] as const;

function go(args: string[]): string {
  return execFileSync('go', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
}

export function goAvailable(): boolean {
  try {
    go(['version']);
    return true;
  } catch {
    return false;
  }
}

/** The directory of github.com/lightningnetwork/lnd@<tag>, downloading it if needed. */
export function lndModuleDir(tag: string): string {
  const fromManifest = manifestSource(tag);
  if (fromManifest) return fromManifest;
  const cache = go(['env', 'GOMODCACHE']).trim();
  const dir = join(cache, 'github.com', 'lightningnetwork', `lnd@${tag}`);
  if (existsSync(join(dir, 'lnrpc', 'lightning.proto'))) return dir;
  const out = JSON.parse(go(['mod', 'download', '-json', `github.com/lightningnetwork/lnd@${tag}`])) as {
    Dir?: string;
    Error?: string;
  };
  if (!out.Dir) throw new Error(`go mod download lnd@${tag} failed: ${out.Error ?? 'no Dir'}`);
  return out.Dir;
}

function manifestSource(tag: string): string | undefined {
  const cacheDir = process.env.ASYNC_TRAMPOLINE_CACHE ?? join(homedir(), '.cache', 'async-trampoline');
  try {
    const m = JSON.parse(readFileSync(join(cacheDir, 'manifest.json'), 'utf8')) as {
      lnd?: Record<string, { src?: string }>;
    };
    const src = m.lnd?.[tag]?.src;
    return src && existsSync(join(src, 'lnrpc', 'lightning.proto')) ? src : undefined;
  } catch {
    return undefined;
  }
}
