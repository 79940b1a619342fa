// Finds the btcd and LND binaries that scripts/install-nodes.sh built, through the manifest it
// writes in the cache directory (outside the repo).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type LndVersion = 'v0.21.2-beta' | 'v0.20.2-beta';

export interface LndBinaries {
  lnd: string;
  lncli: string;
  /** LND's source tree for this tag (its lnrpc/*.proto files, for proto comparisons). */
  src: string;
  commit: string;
}

export interface NodeBinaries {
  btcd: string;
  btcctl: string;
  lnd: LndBinaries;
}

interface Manifest {
  cache: string;
  btcd: { version: string; btcd: string; btcctl: string };
  lndBuildTags: string;
  lnd: Record<string, LndBinaries>;
}

export function cacheDir(): string {
  return process.env.ASYNC_TRAMPOLINE_CACHE ?? join(homedir(), '.cache', 'async-trampoline');
}

export function readManifest(): Manifest {
  const path = join(cacheDir(), 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`no node manifest at ${path}: run \`npm run install-nodes\` first`);
  }
  return JSON.parse(text) as Manifest;
}

export function nodeBinaries(lndVersion: LndVersion): NodeBinaries {
  const m = readManifest();
  const lnd = m.lnd[lndVersion];
  if (!lnd) {
    throw new Error(
      `LND ${lndVersion} is not in ${join(cacheDir(), 'manifest.json')}: run \`npm run install-nodes\``,
    );
  }
  return { btcd: m.btcd.btcd, btcctl: m.btcd.btcctl, lnd };
}
