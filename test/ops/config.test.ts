import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, envName, parseSidecarConfig } from '../../plugin/ops/config.js';

const base = ['--data-dir', '/tmp/x', '--lnd-tls-cert', '/c', '--lnd-macaroon', '/m'];

test('defaults and flags', () => {
  const c = parseSidecarConfig([...base, '--max-hold-blocks', '100', '--cap-global-msat', '5000'], {});
  assert.equal(c.lndRpc, 'localhost:10009');
  assert.equal(c.types.holdHtlc, 75537n);
  assert.equal(c.types.onionMessageCustom, 513);
  assert.deepEqual(c.heldHtlcVariants, ['odd', 'even']);
  assert.equal(c.engine.maxHoldBlocks, 100);
  assert.equal(c.engine.caps?.globalMsat, 5000n);
});

test('env fills in, flags win', () => {
  const env = { [envName('lnd-rpc')]: 'lnd.example:10010', [envName('log-level')]: 'debug' };
  const c = parseSidecarConfig([...base, '--log-level', 'warn'], env);
  assert.equal(c.lndRpc, 'lnd.example:10010');
  assert.equal(c.logLevel, 'warn');
});

test('every problem is reported at once', () => {
  try {
    parseSidecarConfig(['--lnd-rpc', 'nope', '--release-held-htlc-alias', '74', '--safety-blocks=-3'], {});
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const joined = e.problems.join('\n');
    assert.match(joined, /--lnd-rpc: "nope" is not host:port/);
    assert.match(joined, /--release-held-htlc-alias: 74 must be odd/);
    assert.match(joined, /--data-dir is required/);
    assert.match(joined, /the four onion message types must be distinct/);
    assert.match(joined, /--safety-blocks: "-3" is not a whole number/);
  }
});

test('unknown flags are refused', () => {
  assert.throws(() => parseSidecarConfig([...base, '--bogus', '1'], {}), ConfigError);
});

test('metrics endpoint: off by default, host:port parsed, a bad value reported', () => {
  assert.equal(parseSidecarConfig(base, {}).metricsListen, undefined);
  assert.deepEqual(parseSidecarConfig([...base, '--metrics-listen', '127.0.0.1:9109'], {}).metricsListen, {
    host: '127.0.0.1',
    port: 9109,
  });
  assert.deepEqual(parseSidecarConfig([...base, '--metrics-listen', '[::1]:9109'], {}).metricsListen, {
    host: '::1',
    port: 9109,
  });
  assert.throws(
    () => parseSidecarConfig([...base, '--metrics-listen', 'nowhere'], {}),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith('--metrics-listen')),
  );
});
