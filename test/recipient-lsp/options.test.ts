// Recipient-LSP options on both hosts (sidecar flags, CLN plugin options) and the onion-message route
// search both backends use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseSidecarConfig } from '../../plugin/ops/config.js';
import { OptionError, parseSettings } from '../../plugin/backends/cln/manifest.js';
import { hexFeaturesHaveOnionMessages, shortestOnionRoute } from '../../plugin/backends/onion-route.js';
import { toOnionGraph } from '../../plugin/backends/lnd/onion-route.js';

const base = ['--data-dir', '/tmp/x', '--lnd-tls-cert', '/c', '--lnd-macaroon', '/m'];
const C = '02' + 'c1'.repeat(32);

test('sidecar: recipient-LSP mode is off by default, on with its settings', () => {
  assert.equal(parseSidecarConfig(base, {}).recipientLsp, undefined);
  const c = parseSidecarConfig(
    [
      ...base,
      '--recipient-lsp=true',
      '--recipient-lsp-max-per-client=4',
      '--recipient-lsp-max-total=40',
      '--recipient-lsp-expiry-seconds=60',
      `--recipient-lsp-relay=${C}`,
    ],
    {},
  );
  assert.deepEqual(c.recipientLsp, { maxPerClient: 4, maxTotal: 40, expiryMs: 60_000, relayClients: [C] });
  assert.deepEqual(
    parseSidecarConfig([...base, '--recipient-lsp=true', '--recipient-lsp-relay=all'], {}).recipientLsp,
    // The option table fills in the defaults (the same ones resolveRecipientLspConfig would).
    { maxPerClient: 32, maxTotal: 10_000, expiryMs: 86_400_000, relayAll: true },
  );
});

test('sidecar: bad recipient-LSP values are each reported', () => {
  try {
    parseSidecarConfig(
      [
        ...base,
        '--recipient-lsp=yes',
        '--recipient-lsp-max-per-client=50',
        '--recipient-lsp-max-total=10',
        '--recipient-lsp-expiry-seconds=0',
        '--recipient-lsp-relay=bob',
      ],
      {},
    );
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const all = e.problems.join('\n');
    assert.match(all, /--recipient-lsp: "yes" is not true or false/);
    assert.match(all, /max-per-client must not exceed --recipient-lsp-max-total/);
    assert.match(all, /--recipient-lsp-expiry-seconds: must be at least 1/);
    assert.match(all, /--recipient-lsp-relay: "bob" is not a node id/);
  }
});

test('CLN: async-trampoline-recipient-lsp options', () => {
  assert.equal(parseSettings({}, '/ln').recipientLsp, undefined);
  const s = parseSettings(
    { 'async-trampoline-recipient-lsp': true, 'async-trampoline-recipient-lsp-relay': 'all' },
    '/ln',
  );
  assert.deepEqual(s.recipientLsp, {
    maxPerClient: 32,
    maxTotal: 10_000,
    expiryMs: 86_400_000,
    relayAll: true,
  });
  assert.throws(
    () =>
      parseSettings(
        { 'async-trampoline-recipient-lsp': true, 'async-trampoline-recipient-lsp-max-total': 0 },
        '/ln',
      ),
    OptionError,
  );
  assert.throws(
    () =>
      parseSettings(
        { 'async-trampoline-recipient-lsp': true, 'async-trampoline-recipient-lsp-relay': 'x,y' },
        '/ln',
      ),
    /not a node id/,
  );
});

test('onion routes: shortest chain through nodes advertising onion messages, first hop a peer', () => {
  const [us, a, b, x, t] = ['us', 'a', 'b', 'x', 't'];
  const edges = [
    [us, a],
    [a, b],
    [b, t],
    [us, x],
    [x, t],
  ] as const;
  // x does not advertise onion messages: the longer way round through a and b is taken.
  assert.deepEqual(shortestOnionRoute({ relays: new Set([a, b]), edges }, us, t, new Set([a, x])), [a, b]);
  assert.deepEqual(shortestOnionRoute({ relays: new Set([a, b, x]), edges }, us, t, new Set([a, x])), [x]);
  // No connected first hop, or no relays: no route.
  assert.equal(shortestOnionRoute({ relays: new Set([a, b, x]), edges }, us, t, new Set()), undefined);
  assert.equal(shortestOnionRoute({ relays: new Set(), edges }, us, t, new Set([a, x])), undefined);
  // A direct peer needs nothing between.
  assert.deepEqual(shortestOnionRoute({ relays: new Set(), edges }, us, a, new Set([a])), []);
  // Too far.
  assert.equal(shortestOnionRoute({ relays: new Set([a, b]), edges }, us, t, new Set([a]), 2), undefined);
});

test('onion routes: feature bits 38/39 from CLN hex and LND feature maps', () => {
  // bit 39 set: byte 4 from the end, bit 7 -> 0x80 followed by four zero bytes.
  assert.equal(hexFeaturesHaveOnionMessages('8000000000'), true);
  assert.equal(hexFeaturesHaveOnionMessages('4000000000'), true);
  assert.equal(hexFeaturesHaveOnionMessages('2000000000'), false);
  assert.equal(hexFeaturesHaveOnionMessages('zz'), false);
  const g = toOnionGraph({
    nodes: [
      { pub_key: 'a', features: { '39': {} } },
      { pub_key: 'b', features: { '9': {} } },
    ],
    edges: [{ node1_pub: 'a', node2_pub: 'b' }],
  });
  assert.deepEqual([...g.relays], ['a']);
  assert.deepEqual(g.edges, [['a', 'b']]);
});
