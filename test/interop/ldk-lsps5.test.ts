// The harness's LSPS5 subcommands against lightning-liquidity itself: `lsps5-verify` is LDK's
// client-side validator (what an LDK wallet runs on each webhook POST), proven here with
// notifications signed as LDK's LSPS5 service signs them (`lsps5-sign`). It also pins down what the
// validator checks, for our LSP's signer: the body and timestamp as LDK re-serialises them.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { harnessPath, ldk } from './ldk-harness.js';

const LSP = 'd4'.repeat(32);
const OTHER = 'e5'.repeat(32);
const T = 1_700_000_000; // 2023-11-14T22:13:20Z

interface Signed {
  lsp_node_id: string;
  timestamp: string;
  signature: string;
  body: string;
}
interface Verdict {
  accepted: boolean;
  error?: string;
  body?: string;
  replay_rejected?: boolean;
}

/** Signed as LDK's service signs at time T, or with `timestamp` and `as-is` the given text verbatim. */
const sign = (body: string, flags: Record<string, string | boolean> = {}): Signed =>
  ldk<Signed>('lsps5-sign', {
    seed: LSP,
    body,
    ...(flags.timestamp === undefined ? { 'timestamp-secs': String(T) } : {}),
    ...flags,
  });

const verify = (s: Signed, over: Partial<Signed> = {}): Verdict => {
  const v = { ...s, ...over };
  return ldk<Verdict>('lsps5-verify', {
    'lsp-node-id': v.lsp_node_id,
    timestamp: v.timestamp,
    signature: v.signature,
    body: v.body,
  });
};

const notification = (method: string, params: object = {}): string =>
  JSON.stringify({ jsonrpc: '2.0', method, params });

describe('LSPS5 webhook notifications through lightning-liquidity', () => {
  before(() => {
    harnessPath();
  });

  it('LDK’s validator accepts notifications LDK’s service way of signing produced, once', () => {
    for (const body of [
      notification('lsps5.webhook_registered'),
      notification('lsps5.payment_incoming'),
      notification('lsps5.expiry_soon', { timeout: 800_144 }),
      notification('lsps5.liquidity_management_request'),
      notification('lsps5.onion_message_incoming'),
    ]) {
      const s = sign(body);
      assert.equal(s.timestamp, '2023-11-14T22:13:20+00:00', 'LDK writes the header this way');
      assert.equal(s.body, body, 'our JSON.stringify matches LDK’s serialisation');
      const v = verify(s);
      assert.equal(v.accepted, true, `${body}: ${v.error}`);
      assert.equal(v.replay_rejected, true, `${body}: the same signature again is a replay`);
    }
  });

  it('refuses a changed body, another LSP, another second, and bodies or timestamps it cannot read', () => {
    const s = sign(notification('lsps5.expiry_soon', { timeout: 800_144 }));
    const bad: [string, Partial<Signed>, RegExp][] = [
      [
        'other timeout',
        { body: notification('lsps5.expiry_soon', { timeout: 800_145 }) },
        /Invalid signature/,
      ],
      ['other method', { body: notification('lsps5.payment_incoming') }, /Invalid signature/],
      ['other LSP', { lsp_node_id: ldk<{ node_id: string }>('node-id', { seed: OTHER }).node_id }, /Invalid/],
      ['other second', { timestamp: '2023-11-14T22:13:21+00:00' }, /Invalid signature/],
      ['unknown method', { body: notification('lsps5.nope') }, /cannot parse the body/],
      ['not JSON', { body: '{"jsonrpc":' }, /cannot parse the body/],
      ['bad timestamp', { timestamp: 'yesterday' }, /x-lsps5-timestamp/],
      ['bad signature', { signature: 'zzzz' }, /Invalid signature/],
    ];
    for (const [what, over, why] of bad) {
      const v = verify(s, over);
      assert.equal(v.accepted, false, what);
      assert.match(v.error ?? '', why, what);
    }
  });

  it('checks the signature over LDK’s serialisation, not the bytes that arrived', () => {
    const canonical = notification('lsps5.payment_incoming');
    const spaced = '{ "params": {}, "method": "lsps5.payment_incoming", "jsonrpc": "2.0" }';
    // A signer that signs its own spacing and key order is refused...
    const asIs = sign(spaced, { 'as-is': true, timestamp: '2023-11-14T22:13:20+00:00' });
    assert.equal(verify(asIs).accepted, false, 'signed over non-canonical text');
    // ...while a signature over the canonical form is accepted whatever the POSTed spacing.
    const s = sign(canonical);
    assert.equal(verify(s, { body: spaced }).accepted, true, 'body re-serialised before checking');
    // The same for the timestamp: LDK re-writes `Z` as `+00:00` before checking.
    const zulu = sign(canonical, { 'as-is': true, timestamp: '2023-11-14T22:13:20Z' });
    assert.equal(verify(zulu).accepted, false, 'signed over `Z`');
    assert.equal(verify(s, { timestamp: '2023-11-14T22:13:20Z' }).accepted, true, 'header `Z` is fine');
  });
});
