// The package as an operator gets it: `npm pack` gives a tarball of built JavaScript, which installs
// into an empty prefix with no build step of ours; from there `async-trampoline --help` runs, the
// CLN plugin answers getmanifest at a stable path, the native store loads, and the systemd unit
// verifies against the installed binary. Needs the npm registry for the dependencies (minutes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
// npm 11 runs a dependency's install script only when allowed; these three build or fetch native code.
const ALLOW = '--allow-scripts=better-sqlite3,secp256k1,protobufjs';

test(
  'npm pack -> npm install -g into an empty prefix -> async-trampoline runs',
  { timeout: 15 * 60_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'at-pack-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    // dist/ is built already (the tests run from it); prepack would only build it again.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: repoRoot,
      maxBuffer: 16 << 20,
    });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    for (const f of [
      'dist/plugin/cli.js',
      'dist/plugin/cln.js',
      'dist/plugin/lnd.js',
      'protos/lightning.proto',
      'contrib/systemd/async-trampoline-lnd.service',
      'README.md',
      'package.json',
    ])
      assert.ok(files.includes(f), `${f} in the tarball`);
    assert.deepEqual(
      files.filter((f) => /^(dist\/(test|scripts)|test|scripts|plugin)\//.test(f) || f.endsWith('.ts')),
      [],
      'no sources, tests or dev scripts',
    );

    const prefix = join(work, 'prefix');
    await run(
      'npm',
      [
        'install',
        '-g',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ALLOW,
        '--prefix',
        prefix,
        join(work, info!.filename),
      ],
      {
        cwd: work,
        maxBuffer: 16 << 20,
      },
    );
    const bin = join(prefix, 'bin');
    // No second executable for the CLN plugin: lightningd orders the htlc_accepted chain by file name
    // (cln.js, then cln-guard.js), so the plugins are loaded by their own paths.
    assert.deepEqual(readdirSync(bin).sort(), ['async-trampoline']);

    const help = await run(join(bin, 'async-trampoline'), ['--help'], { cwd: work });
    assert.match(help.stdout, /^usage: async-trampoline <command>/);
    assert.match(help.stdout, /list \[state\]/);
    const lndHelp = await run(join(bin, 'async-trampoline'), ['lnd', '--help'], { cwd: work });
    assert.match(lndHelp.stderr, /--max-held-per-peer/);
    const pluginPath = (await run(join(bin, 'async-trampoline'), ['cln-plugin-path'])).stdout.trim();
    const installed = join(prefix, 'lib', 'node_modules', 'async-trampoline');
    assert.equal(pluginPath, join(installed, 'dist', 'plugin', 'cln.js'));
    assert.ok(
      existsSync(join(installed, 'dist', 'plugin', 'cln-guard.js')),
      'the guard ships beside the plugin',
    );

    // The installed CLN plugin answers lightningd's first call.
    const manifest = await getManifest(pluginPath);
    assert.ok(
      (manifest.options as { name: string }[]).some((o) => o.name === 'async-trampoline-max-held-per-peer'),
    );

    // The native store (better-sqlite3) and the protos load from the installed tree: nothing to build.
    const store = join(installed, 'dist', 'plugin', 'hold', 'store.js');
    const db = join(work, 'probe.sqlite');
    await run(process.execPath, [
      '--input-type=module',
      '-e',
      `const { HoldStore } = await import(${JSON.stringify(store)}); HoldStore.open(${JSON.stringify(db)}).close();`,
    ]);
    assert.ok(existsSync(db));
    assert.ok(existsSync(join(installed, 'protos', 'routerrpc', 'router.proto')));

    // The systemd unit, pointed at the installed binary, passes systemd-analyze verify.
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
    if (!analyze) {
      t.diagnostic('systemd-analyze not installed: unit file not verified');
      return;
    }
    const unit = readFileSync(join(installed, 'contrib', 'systemd', 'async-trampoline-lnd.service'), 'utf8');
    assert.match(unit, /^Restart=always$/m);
    const unitPath = join(work, 'async-trampoline-lnd.service');
    writeFileSync(unitPath, unit.replace('/usr/local/bin/async-trampoline', join(bin, 'async-trampoline')));
    const v = await run(analyze, ['verify', unitPath]).catch((e: { stdout: string; stderr: string }) => e);
    assert.equal(`${v.stdout}${v.stderr}`.trim(), '', 'systemd-analyze verify says nothing');
  },
);

function getManifest(plugin: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(plugin, [], {
      env: { ...process.env, LIGHTNINGD_PLUGIN: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(
      () => (p.kill('SIGKILL'), reject(new Error(`no getmanifest answer: ${out}`))),
      30_000,
    );
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        const msg = JSON.parse(out) as { result: Record<string, unknown> };
        clearTimeout(timer);
        p.kill('SIGTERM');
        resolve(msg.result);
      } catch {
        // not a whole message yet
      }
    });
    p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getmanifest', params: {} })}\n\n`);
  });
}
