import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../helpers/temp-dirs.js';
import {
  CONFIG_FILE_NAME,
  ConfigError,
  OPTIONS,
  envName,
  parseConfigFile,
  parseSidecarConfig,
} from '../../plugin/ops/config.js';
import { tableProblems } from '../../plugin/ops/options.js';
import { buildManifest, OptionError, parseSettings } from '../../plugin/backends/cln/manifest.js';

const dir = tempDirs('at-config-');
const base = (d: string): string[] => ['--data-dir', d, '--lnd-tls-cert', '/c', '--lnd-macaroon', '/m'];
const problemsOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail('expected a ConfigError');
};

test('the option table is well formed: kebab-case, unique names and aliases, defaults that parse', () => {
  assert.deepEqual(tableProblems(OPTIONS), []);
});

test('defaults and flags', () => {
  const c = parseSidecarConfig([...base(dir()), '--max-hold-blocks', '100', '--max-held-msat', '5000'], {});
  assert.equal(c.lndRpc, 'localhost:10009');
  assert.equal(c.types.holdHtlc, 75537n);
  assert.equal(c.types.onionMessageCustom, 513);
  assert.deepEqual(c.heldHtlcVariants, ['odd', 'even']);
  assert.equal(c.engine.maxHoldBlocks, 100);
  assert.equal(c.engine.caps?.globalMsat, 5000n);
  assert.equal(c.engine.caps?.perPeerCount, 200, 'engine default filled in from the table');
  assert.equal(c.adminPort, 9736);
  assert.equal(c.configFile, undefined, 'no config file in the data dir: none read');
});

test('precedence: flag > environment > config file > default', () => {
  const d = dir();
  writeFileSync(
    join(d, CONFIG_FILE_NAME),
    [
      '# lnd.conf style',
      '[Application Options]',
      'safety-blocks = 20',
      'min-hold-blocks=8',
      'max-held=7',
      '; another comment',
      '',
    ].join('\n'),
  );
  const env = { [envName('min-hold-blocks')]: '9', [envName('max-held')]: '5' };
  const c = parseSidecarConfig([...base(d), '--max-held', '3'], env);
  assert.equal(c.configFile, join(d, CONFIG_FILE_NAME));
  assert.equal(c.engine.safetyBlocks, 20, 'file over default');
  assert.equal(c.engine.minHoldBlocks, 9, 'env over file');
  assert.equal(c.engine.caps?.globalCount, 3, 'flag over env');
  assert.equal(c.values.source('safety-blocks'), 'file');
  assert.equal(c.values.source('downstream-min-blocks'), 'default');
});

test('--config names the file; a named file that is missing is a problem', () => {
  const d = dir();
  const f = join(d, 'elsewhere.conf');
  writeFileSync(f, 'lnd-rpc=lnd.example:10010\n');
  assert.equal(parseSidecarConfig([...base(dir()), `--config=${f}`], {}).lndRpc, 'lnd.example:10010');
  assert.equal(
    parseSidecarConfig(base(dir()), { [envName('config')]: f }).lndRpc,
    'lnd.example:10010',
    'ASYNC_TRAMPOLINE_CONFIG',
  );
  const p = problemsOf(() => parseSidecarConfig([...base(d), '--config', join(d, 'nope.conf')], {}));
  assert.match(p.join('\n'), /--config: cannot read .*nope\.conf \(ENOENT\)/);
});

test('old names still work, each with a deprecation warning naming the new one', () => {
  const d = dir();
  writeFileSync(join(d, CONFIG_FILE_NAME), 'cap-global-msat=77\n');
  const c = parseSidecarConfig([...base(d), '--cap-per-peer-count', '4'], {
    [envName('cap-global-count')]: '6',
  });
  assert.equal(c.engine.caps?.perPeerCount, 4);
  assert.equal(c.engine.caps?.globalCount, 6);
  assert.equal(c.engine.caps?.globalMsat, 77n);
  assert.equal(c.warnings.length, 3);
  assert.ok(c.warnings.some((w) => /--cap-per-peer-count is deprecated; use --max-held-per-peer/.test(w)));
  assert.ok(
    c.warnings.some((w) =>
      /ASYNC_TRAMPOLINE_CAP_GLOBAL_COUNT is deprecated; use ASYNC_TRAMPOLINE_MAX_HELD/.test(w),
    ),
  );
  assert.ok(c.warnings.some((w) => /cap-global-msat is deprecated; use .*max-held-msat/.test(w)));
  // The new name wins over the old one at the same level? Both at once is a mistake: said so.
  const p = problemsOf(() =>
    parseSidecarConfig([...base(d), '--cap-global-count', '1', '--max-held', '2'], {}),
  );
  assert.match(p.join('\n'), /set twice/);
});

test('every problem is reported at once, one line each, naming where the value came from', () => {
  const d = dir();
  writeFileSync(join(d, CONFIG_FILE_NAME), 'notify-cap-ms=soon\nbogus-key=1\nthis is not a line\n');
  const p = problemsOf(() =>
    parseSidecarConfig(
      ['--data-dir', d, '--lnd-rpc', 'nope', '--release-held-htlc-alias', '74', '--safety-blocks=-3'],
      { [envName('log-level')]: 'loud' },
    ),
  );
  const file = join(d, CONFIG_FILE_NAME);
  const joined = p.join('\n');
  assert.match(joined, /--lnd-rpc: "nope" is not host:port/);
  assert.match(joined, /--release-held-htlc-alias: 74 must be odd/);
  assert.match(joined, /--lnd-macaroon is required/);
  assert.match(joined, /the four onion message types must be distinct/);
  assert.match(joined, /--safety-blocks: "-3" is not a whole number/);
  assert.match(joined, /ASYNC_TRAMPOLINE_LOG_LEVEL: "loud" is not debug, info, warn, error/);
  assert.ok(
    p.includes(`${file}: notify-cap-ms: "soon" is not a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`),
  );
  assert.ok(p.includes(`${file}: bogus-key: unknown option`));
  assert.ok(p.includes(`${file}:3: "this is not a line" is not key=value`));
  assert.ok(
    p.every((l) => !l.includes('\n')),
    'one line per problem',
  );
});

test('unknown flags are refused', () => {
  assert.throws(() => parseSidecarConfig([...base(dir()), '--bogus', '1'], {}), ConfigError);
});

test('config file: a key set twice is a problem', () => {
  assert.deepEqual(parseConfigFile('f', 'a=1\na=2\n').problems, ['f:2: a is set twice']);
});

test('metrics endpoint: off by default, host:port parsed, a bad value reported', () => {
  const b = base(dir());
  assert.equal(parseSidecarConfig(b, {}).metricsListen, undefined);
  assert.deepEqual(parseSidecarConfig([...b, '--metrics-listen', '127.0.0.1:9109'], {}).metricsListen, {
    host: '127.0.0.1',
    port: 9109,
  });
  assert.deepEqual(parseSidecarConfig([...b, '--metrics-listen', '[::1]:9109'], {}).metricsListen, {
    host: '::1',
    port: 9109,
  });
  assert.match(
    problemsOf(() => parseSidecarConfig([...b, '--metrics-listen', 'nowhere'], {}))[0]!,
    /^--metrics-listen/,
  );
});

test('CLN takes the same names with its prefix, from the same table', () => {
  const m = buildManifest() as { options: { name: string; default: unknown; deprecated?: boolean }[] };
  const names = m.options.map((o) => o.name);
  for (const o of OPTIONS.filter((x) => x.hosts.includes('cln')))
    assert.ok(names.includes(`async-trampoline-${o.name}`), o.name);
  for (const o of OPTIONS.filter((x) => !x.hosts.includes('cln')))
    assert.ok(!names.includes(`async-trampoline-${o.name}`), `${o.name} is sidecar-only`);
  assert.ok(!names.includes('async-trampoline-cap-per-peer-count'), 'sidecar-only old names stay off CLN');
  const s = parseSettings(
    { 'async-trampoline-max-held-per-peer': 5, 'async-trampoline-notify-base-ms': 250 },
    '/ln',
  );
  assert.equal(s.engine.caps?.perPeerCount, 5);
  assert.equal(s.engine.notifyBaseMs, 250);
  assert.equal(s.dataDir, '/ln/async-trampoline');
  assert.throws(
    () =>
      parseSettings({ 'async-trampoline-safety-blocks': -1, 'async-trampoline-log-level': 'loud' }, '/ln'),
    (e: unknown) =>
      e instanceof OptionError &&
      /async-trampoline-safety-blocks: "-1" is not a whole number/.test(e.message) &&
      /async-trampoline-log-level: "loud"/.test(e.message),
  );
});
