import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isSupportedVersion,
  onionTransportFor,
  parseLndVersion,
} from '../../../plugin/backends/lnd/preflight.js';

test('LND version strings parse and only 0.20.x / 0.21.x are supported', () => {
  const v21 = parseLndVersion('0.21.2-beta commit=v0.21.2-beta')!;
  assert.deepEqual([v21.major, v21.minor, v21.patch], [0, 21, 2]);
  assert.equal(isSupportedVersion(v21), true);
  assert.equal(isSupportedVersion(parseLndVersion('0.20.2-beta commit=v0.20.2-beta')!), true);
  assert.equal(isSupportedVersion(parseLndVersion('0.19.3-beta')!), false);
  assert.equal(isSupportedVersion(parseLndVersion('0.22.0-beta')!), false);
  assert.equal(parseLndVersion('lnd'), undefined);
});

test('native onion messages from 0.21, custom message 513 before', () => {
  assert.equal(onionTransportFor(parseLndVersion('0.21.0-beta')!), 'native');
  assert.equal(onionTransportFor(parseLndVersion('0.20.2-beta')!), 'custom-message');
});
