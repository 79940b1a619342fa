// What every real-node test file sets up the same way: which LND versions to run, and scenarios
// that keep the network's logs when one of them fails.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { LndVersion } from '../../../scripts/regtest/network.js';

/** ASYNC_TRAMPOLINE_LND_VERSIONS (space-separated), default both pinned tags. */
export function lndVersions(): LndVersion[] {
  return (process.env.ASYNC_TRAMPOLINE_LND_VERSIONS ?? 'v0.21.2-beta v0.20.2-beta')
    .split(/\s+/)
    .filter(Boolean) as LndVersion[];
}

/** LND 0.21 relays onion messages itself; 0.20 needs a direct peer connection instead. */
export const relaysOnionMessages = (version: LndVersion): boolean => version.startsWith('v0.21.');

export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Asserts that `read()` comes to deep-equal `want` within `timeoutMs`. An HTLC leaves a node's
 * channel list a commitment round after the payer hears the outcome, so "nothing left" is
 * eventual; on timeout the diff shows what stayed.
 */
export async function assertComesTo<T>(
  read: () => Promise<T>,
  want: T,
  message?: string,
  timeoutMs = 30_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await read();
    if (isDeepStrictEqual(got, want)) return;
    if (Date.now() >= until) return assert.deepEqual(got, want, message);
    await sleep(250);
  }
}

/**
 * Remembers whether any scenario failed, so `after` can keep the network's logs for it. `guard`
 * wraps a scenario body; `scenario` registers a guarded test.
 */
export class FailureFlag {
  failed = false;

  guard(fn: () => Promise<void>): () => Promise<void> {
    return async () => {
      try {
        await fn();
      } catch (e) {
        this.failed = true;
        throw e;
      }
    };
  }

  scenario(name: string, fn: () => Promise<void>): void {
    test(name, this.guard(fn));
  }
}
