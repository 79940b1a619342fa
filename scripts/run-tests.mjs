// Runs the compiled tests with node's own test runner.
// Usage: node scripts/run-tests.mjs unit|integration|all
// Integration tests need the real nodes, so `integration` and `all` install them first (cached).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const which = process.argv[2] ?? 'unit';
const root = 'dist/test';

function collect(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return collect(p);
      return p.endsWith('.test.js') ? [p] : [];
    });
}

const all = collect(root);
const isIntegration = (f) => f.startsWith(join(root, 'integration'));
const files =
  which === 'unit'
    ? all.filter((f) => !isIntegration(f))
    : which === 'integration'
      ? all.filter(isIntegration)
      : all;

const install = (script) => {
  const r = spawnSync('bash', [script], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (which === 'all') install('scripts/install-tools.sh');
// test/interop/ (unit and all) drives LDK through a Rust harness; built once into the cache.
if (which !== 'integration') install('scripts/install-ldk-harness.sh');
if (which !== 'unit' && files.some(isIntegration)) install('scripts/install-nodes.sh');
if (files.length === 0) {
  console.error(`no test files found for "${which}" under ${root}`);
  process.exit(1);
}
// One runner invocation so the closing summary covers every test; files run one at a time because
// integration files each start a regtest network and the machine has two cores.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
