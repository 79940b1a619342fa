// npm run docs:options: regenerate the README's option reference and bakemacaroon lines from the
// tables in plugin/ops/config-table.ts and plugin/backends/lnd/preflight.ts, formatted as prettier would.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { repoRoot } from './regtest/network.js';
import { macaroonReference, optionsReference, withSections } from '../plugin/ops/options-doc.js';

/** The README as it should be: its generated sections rewritten, then prettier-formatted. */
export async function generatedReadme(path: string): Promise<string> {
  const text = withSections(readFileSync(path, 'utf8'), {
    options: optionsReference(),
    macaroon: macaroonReference(),
  });
  return format(text, { ...(await resolveConfig(path)), filepath: path });
}

const isMain = process.argv[1]?.endsWith('docs-options.js');
if (isMain) {
  const path = join(repoRoot(), 'README.md');
  const next = await generatedReadme(path);
  const changed = next !== readFileSync(path, 'utf8');
  if (changed) writeFileSync(path, next);
  console.log(changed ? 'README.md: option reference regenerated' : 'README.md: up to date');
}
