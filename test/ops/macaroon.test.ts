// The least-privilege macaroon grants exactly the gRPC methods the sidecar's code calls: read the
// calls out of plugin/backends/lnd/*.ts and compare them with the preflight's table (which is what the
// documented `lncli bakemacaroon` line and the regtest sidecar's macaroon are made from).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { bakeMacaroonCommand, callsOf } from '../../plugin/backends/lnd/preflight.js';

const SERVICE: Record<string, string> = {
  lightning: 'lnrpc.Lightning',
  router: 'routerrpc.Router',
  signer: 'signrpc.Signer',
  chain: 'chainrpc.ChainNotifier',
  versioner: 'verrpc.Versioner',
};

/** `/pkg.Service/Method` for every unary/stream call in the sidecar's LND backend source. */
function callsInCode(): Set<string> {
  const dir = join(repoRoot, 'plugin', 'backends', 'lnd');
  const out = new Set<string>();
  const call =
    /\b(?:unary|serverStream|duplexStream)(?:<[\s\S]*?>)?\(\s*(?:this\.(?:opts\.)?|w\.)?(?:clients|c)\.(\w+),\s*(?:'(\w+)'|(?:this\.)?(\w+))/g;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(call)) {
      const svc = SERVICE[m[1]!];
      assert.ok(svc, `${f}: unknown client ${m[1]}`);
      // A method chosen at run time: `const method = cond ? 'A' : 'B'`, or a member typed
      // `readonly method: 'A' | 'B'`, in the same file.
      const decl = new RegExp(`(?:const ${m[3]} =|readonly ${m[3]}:)([^;,]*)[;,]`).exec(src)?.[1] ?? '';
      const names = m[2] ? [m[2]] : [...decl.matchAll(/'([A-Z]\w+)'/g)].map((x) => x[1]!);
      assert.ok(names.length > 0, `${f}: cannot tell which method ${m[3]} names`);
      for (const n of names) out.add(`/${svc}/${n}`);
    }
  }
  return out;
}

test('the sidecar macaroon covers exactly the gRPC calls in plugin/backends/lnd/', () => {
  const inCode = [...callsInCode()].sort();
  const granted = [
    ...new Set([...callsOf('sidecar', 'native'), ...callsOf('sidecar', 'custom-message')]),
  ].sort();
  assert.ok(inCode.length >= 15, `found ${inCode.length} calls: the scan must see them`);
  assert.deepEqual(granted, inCode, 'preflight LND_CALLS (sidecar) vs the calls the code makes');
});

test('bakemacaroon lines: uri permissions only, per onion transport', () => {
  const native = bakeMacaroonCommand('native');
  const custom = bakeMacaroonCommand('custom-message');
  assert.equal(native[0], 'bakemacaroon');
  assert.ok(native.slice(2).every((a) => a.startsWith('uri:/')));
  assert.ok(native.includes('uri:/lnrpc.Lightning/SubscribeOnionMessages'));
  // One macaroon for every mode: --lsps5 signs (message:write) and speaks LSPS0 over custom messages on
  // 0.21 too; recipient-LSP mode follows peers and channels.
  for (const m of ['SignMessage', 'SubscribeCustomMessages', 'SubscribePeerEvents', 'SubscribeChannelEvents'])
    assert.ok(native.includes(`uri:/lnrpc.Lightning/${m}`), m);
  // Without those modes the preflight does not ask for them.
  const plain = callsOf('sidecar', 'native', []);
  assert.ok(!plain.includes('/lnrpc.Lightning/SubscribeCustomMessages'));
  assert.ok(!plain.includes('/lnrpc.Lightning/SignMessage'));
  assert.ok(callsOf('sidecar', 'native', ['lsps5']).includes('/lnrpc.Lightning/SignMessage'));
  assert.equal(new Set(custom).size, custom.length, 'no uri twice');
  assert.ok(custom.includes('uri:/lnrpc.Lightning/SubscribeCustomMessages'));
  assert.ok(
    !custom.includes('uri:/lnrpc.Lightning/SendOnionMessage'),
    'LND 0.20 refuses uris it does not know',
  );
  assert.ok(!native.some((a) => /SendCoins|ConnectPeer|SendToRouteV2/.test(a)));
});
