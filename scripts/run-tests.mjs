// Runs the compiled tests with node's own test runner.
// Usage: node scripts/run-tests.mjs unit|integration|all
// Integration tests need the real nodes, so `integration` and `all` install them first (cached).
import { spawn, spawnSync } from 'node:child_process';
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

// Cold builds (LND and btcd from the Go module proxy, lightningd from ../shared/cln, the LDK harness from
// crates.io) run side by side: downloads, configure and linking of one overlap the compiles of the
// others on the two cores. The scripts that use apt (tools, then lightningd's build packages) run one
// after the other, since dpkg takes one lock. Each script prefixes its own log lines.
const run = (script) =>
  new Promise((resolve) => {
    const child = spawn('bash', [script], { stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve({ script, code: code ?? (signal ? 1 : 0) }));
    child.on('error', (err) => {
      console.error(`${script}: ${err.message}`);
      resolve({ script, code: 1 });
    });
  });
const chain = async (scripts) => {
  for (const s of scripts) {
    const r = await run(s);
    if (r.code !== 0) return r;
  }
  return { code: 0 };
};
const aptChain = [];
if (which === 'all') aptChain.push('scripts/install-tools.sh');
// lightningd from ../shared/cln (cold: about 4 min on 2 cores; warm: a second).
if (files.some((f) => f.startsWith(join(root, 'integration', 'cln-'))))
  aptChain.push('scripts/install-cln.sh');
const chains = [aptChain];
if (which !== 'unit' && files.some(isIntegration)) chains.push(['scripts/install-nodes.sh']);
// test/interop/ (unit and all) drives LDK through a Rust harness; built once into the cache.
if (which !== 'integration') chains.push(['scripts/install-ldk-harness.sh']);
const t0 = Date.now();
const results = await Promise.all(chains.filter((c) => c.length > 0).map(chain));
const failedInstall = results.find((r) => r.code !== 0);
if (failedInstall) {
  console.error(`${failedInstall.script} failed (exit ${failedInstall.code}); no tests were run`);
  process.exit(failedInstall.code);
}
console.error(`[run-tests] tools, nodes and harness ready in ${Math.round((Date.now() - t0) / 1000)}s`);
if (files.length === 0) {
  console.error(`no test files found for "${which}" under ${root}`);
  process.exit(1);
}
// One runner invocation so the closing summary covers every test; files run one at a time because
// integration files each start a regtest network and the machine has two cores.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
