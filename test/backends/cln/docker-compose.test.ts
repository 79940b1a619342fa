// docker-compose.yml is validated with `docker-compose config` (the Debian package docker-compose);
// no Docker engine is needed for that. Skipped, saying why, only when the binary is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/paths.js';

const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const skip = hasCompose
  ? false
  : 'docker-compose is not installed (apt-get install docker-compose); compose file not validated';

test('docker-compose.yml passes `docker-compose config`', { skip }, () => {
  const r = spawnSync('docker-compose', ['-f', join(repoRoot, 'docker-compose.yml'), 'config'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const cfg = r.stdout;
  for (const svc of ['bitcoind', 'cln', 'lnd', 'sidecar', 'init']) {
    assert.match(cfg, new RegExp(`^  ${svc}:$`, 'm'), `service ${svc}`);
  }
  assert.match(cfg, /--requireinterceptor/, 'LND holds HTLCs while the sidecar is away');
  assert.match(cfg, /--important-plugin=\/opt\/async-trampoline\/dist\/plugin\/cln\.js/);
  assert.match(cfg, /--important-plugin=\/opt\/async-trampoline\/dist\/plugin\/cln-guard\.js/);
  // The built plugin is mounted read-only into the CLN container.
  assert.match(cfg, /\/dist:\/opt\/async-trampoline\/dist:ro|read_only: true/);
  assert.match(cfg, /condition: service_healthy/);
});

test('the CLN image is the official one plus a Node runtime; the init job is valid JavaScript', () => {
  const dockerfile = readFileSync(join(repoRoot, 'docker/cln/Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM elementsproject\/lightningd:v26\.06\.6$/m);
  assert.match(dockerfile, /COPY --from=node \/usr\/local\/bin\/node/);
  const check = spawnSync(process.execPath, ['--check', join(repoRoot, 'docker/init/regtest-init.mjs')], {
    encoding: 'utf8',
  });
  assert.equal(check.status, 0, check.stderr);
});
