// The README's option reference and bakemacaroon lines are generated from the tables
// (`npm run docs:options`); this fails when someone edits one without the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { generatedReadme } from '../../scripts/docs-options.js';
import { OPTIONS } from '../../plugin/ops/config.js';

test('README option reference and bakemacaroon lines match the tables (run npm run docs:options)', async () => {
  const path = join(repoRoot, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const want = await generatedReadme(path);
  assert.equal(readme, want, 'README.md is out of date: run npm run docs:options');
  for (const o of OPTIONS) assert.ok(readme.includes(`| \`${o.name}\``), o.name);
});
