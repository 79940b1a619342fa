// The LSPS5 option block: off by default, defaults when on, every bad value reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, envName, parseSidecarConfig } from '../../plugin/ops/config.js';
import { DEFAULT_LSPS5 } from '../../plugin/lsps/config.js';

const base = ['--data-dir', '/tmp/x', '--lnd-tls-cert', '/c', '--lnd-macaroon', '/m'];

test('LSPS5 is off unless asked for; on, it takes the defaults and the flags', () => {
  assert.equal(parseSidecarConfig(base, {}).lsps5, undefined);
  assert.deepEqual(parseSidecarConfig([...base, '--lsps5=true'], {}).lsps5, DEFAULT_LSPS5);
  const c = parseSidecarConfig(
    [...base, '--lsps5=true', '--lsps5-max-webhooks=2', '--lsps5-allow-http=true'],
    {
      [envName('lsps5-cooldown-ms')]: '1000',
    },
  );
  assert.deepEqual(c.lsps5, { ...DEFAULT_LSPS5, maxWebhooks: 2, allowHttp: true, cooldownMs: 1000 });
});

test('bad LSPS5 values are all reported', () => {
  try {
    parseSidecarConfig(
      [
        ...base,
        '--lsps5=yes',
        '--lsps5-max-webhooks=0',
        '--lsps5-retry-base-ms=9000',
        '--lsps5-retry-max-ms=10',
      ],
      {},
    );
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const all = e.problems.join('\n');
    assert.match(all, /--lsps5: "yes" is not true or false/);
    assert.match(all, /--lsps5-max-webhooks: "0" is not a whole number of at least 1/);
    assert.match(all, /--lsps5-retry-max-ms must be at least --lsps5-retry-base-ms/);
  }
});
