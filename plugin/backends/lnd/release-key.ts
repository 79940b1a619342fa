// The node-local secret for release-path HMACs on LND (CLN has `makesecret`; LND has nothing
// equivalent reachable over RPC): 32 random bytes in a file in the sidecar's data directory, created
// once with mode 0600 and never rotated (rotating it would orphan every release path already sent).
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
  closeSync,
  fsyncSync,
} from 'node:fs';
import { join } from 'node:path';
import { lndError } from './errors.js';

export const RELEASE_KEY_FILE = 'release.key';

export function loadOrCreateReleaseKey(dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, RELEASE_KEY_FILE);
  try {
    // 'wx' fails if the file exists, so two starting processes never both create one.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw lndError('config', `cannot create release key ${path}: ${(e as Error).message}`);
    }
  }
  const key = readFileSync(path);
  if (key.length !== 32) throw lndError('config', `release key ${path} is ${key.length} bytes, expected 32`);
  // Tighten a key left world-readable by hand.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return new Uint8Array(key);
}
