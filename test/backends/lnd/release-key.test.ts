import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../../helpers/temp-dirs.js';
import { RELEASE_KEY_FILE, loadOrCreateReleaseKey } from '../../../plugin/backends/lnd/release-key.js';
import { LndError } from '../../../plugin/backends/lnd/errors.js';

const fresh = tempDirs('at-relkey-');

test('created once as 32 private bytes, then read back unchanged', () => {
  const dir = join(fresh(), 'nested');
  const a = loadOrCreateReleaseKey(dir);
  assert.equal(a.length, 32);
  assert.equal(statSync(join(dir, RELEASE_KEY_FILE)).mode & 0o777, 0o600);
  assert.deepEqual(loadOrCreateReleaseKey(dir), a);
  assert.notDeepEqual(loadOrCreateReleaseKey(fresh()), a);
});

test('a world-readable key file is tightened to 0600', () => {
  const dir = fresh();
  loadOrCreateReleaseKey(dir);
  chmodSync(join(dir, RELEASE_KEY_FILE), 0o644);
  loadOrCreateReleaseKey(dir);
  assert.equal(statSync(join(dir, RELEASE_KEY_FILE)).mode & 0o777, 0o600);
});

test('a key file of the wrong length is refused, not replaced', () => {
  const dir = fresh();
  writeFileSync(join(dir, RELEASE_KEY_FILE), Buffer.alloc(31), { mode: 0o600 });
  assert.throws(
    () => loadOrCreateReleaseKey(dir),
    (e: unknown) => e instanceof LndError && e.code === 'config',
  );
});
