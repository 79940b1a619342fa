// Real-lightningd scenarios for the CLN plugin: S (LND) -> L (CLN v26.06.6 with cln.js and
// cln-guard.js as important plugins) -> RL (LND) -> R (LND), on btcd through our bitcoin-cli shim.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClnLspNetwork } from '../../scripts/regtest/cln-network.js';
import type { LndVersion } from '../../scripts/regtest/binaries.js';

const version = (process.env.ASYNC_TRAMPOLINE_CLN_LND_VERSION ?? 'v0.21.2-beta') as LndVersion;

describe('CLN LSP: async HTLCs held by the plugin on a real lightningd', { timeout: 30 * 60_000 }, () => {
  let net: ClnLspNetwork;
  let failed = false;
  before(async () => {
    net = await ClnLspNetwork.start({ lndVersion: version });
  });
  after(async () => {
    await net?.teardown({ keepLogs: failed || !!process.env.KEEP_LOGS });
  });
  test('a plain payment through the LSP is forwarded at once', async () => {
    try {
      const inv = await net.lncli<{ payment_request: string; r_hash: string }>(
        'recipient',
        'addinvoice',
        '--amt=1000',
      );
      const r = await net.lncli<{ status: string }>(
        'sender',
        'payinvoice',
        '--force',
        '--json',
        inv.payment_request,
      );
      assert.equal(r.status, 'SUCCEEDED');
    } catch (e) {
      failed = true;
      throw e;
    }
  });
});
