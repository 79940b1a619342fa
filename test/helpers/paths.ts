// Where tests find the repo and the shared BOLT vectors (read in place, never copied).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/helpers/paths.js: three levels up is the repo root.
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const vectorsDir = process.env.ASYNC_TRAMPOLINE_VECTORS ?? resolve(repoRoot, '../shared/vectors');

/** Parse a vector file, e.g. readVector('bolt04/onion-test.json'). */
export function readVector<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(resolve(vectorsDir, rel), 'utf8')) as T;
}
