#!/usr/bin/env node
// The guard: a second, tiny Core Lightning plugin that sits after async-trampoline (cln.js) in the
// htlc_accepted chain and fails every HTLC that still carries our async markers.
//
// Why: when a plugin dies with an htlc_accepted call pending, lightningd hands that HTLC to the
// next plugin in the chain and then to default handling (a forward), before it shuts down for the
// lost important plugin. So a held HTLC would go out unheld. With the guard next in line, it is
// failed instead. cln.js removes the markers (hold_htlc from extra_tlvs, async_hold and
// trampoline_request from the hop payload) from every HTLC it releases, so the guard passes those
// (and every plain HTLC) with `continue`. Run it as an important plugin too.
import { bytesToHex } from '@noble/hashes/utils.js';
import { resolve } from 'node:path';
import { failAnswer, isValidHtlcAnswer, parseHtlcAccepted } from './backends/cln/htlc-accepted.js';
import { OPTION_PREFIX, manifestOptions, parseSettings, type TypeNumbers } from './backends/cln/manifest.js';
import { PluginHost, errText, type HookHandler } from './backends/cln/plugin-host.js';
import { ClnRpc } from './backends/cln/rpc-client.js';
import { createLogger, type LogLevel } from './ops/log.js';

/* eslint-disable no-console -- redirecting, not writing: stdout carries JSON-RPC only */
console.log = console.error;
console.info = console.error;
console.debug = console.error;
/* eslint-enable no-console */

/** lightningd names plugins by the basename of their path; the guard must come after this one. */
export const GUARDED_PLUGIN = 'cln.js';

const LEVEL = (process.env.ASYNC_TRAMPOLINE_LOG_LEVEL as LogLevel | undefined) ?? 'info';
const logger = createLogger({ level: LEVEL, component: 'async-trampoline-guard' });
let types: TypeNumbers | undefined;
/** Set right below; the hook and log helpers run only after it exists. */
const hostRef: { current?: PluginHost } = {};

function logToLightningd(level: 'info' | 'warn' | 'broken', message: string): void {
  hostRef.current?.notify('log', { level, message: `async-trampoline-guard: ${message}` });
}

/** Our plugin's option values as lightningd holds them (listconfigs), in init's `options` shape. */
async function optionsFromLightningd(rpc: ClnRpc): Promise<Record<string, unknown> | string> {
  const r = await rpc.call<{ configs?: Record<string, Record<string, unknown>> }>('listconfigs');
  const configs = r.configs ?? {};
  const out: Record<string, unknown> = {};
  for (const o of manifestOptions()) {
    const name = String(o.name);
    const c = configs[name];
    if (!c) continue;
    out[name] = c.value_int ?? c.value_str ?? c.value_bool;
  }
  if (!(`${OPTION_PREFIX}hold-htlc-type` in out)) {
    return `the async-trampoline plugin (${GUARDED_PLUGIN}) is not loaded; load both as important-plugin`;
  }
  return out;
}

const htlcGuard: HookHandler = {
  handle: async (params) => {
    if (!types) return failAnswer(false);
    let marked: boolean;
    let trampoline = false;
    let key = '?';
    try {
      const { htlc } = parseHtlcAccepted(params, types);
      key = htlc.key;
      trampoline = htlc.trampoline !== undefined;
      marked = htlc.holdFlag || htlc.asyncHold !== undefined || trampoline;
      if (marked) {
        logger.warn('failing an HTLC that still carries async markers (the plugin did not release it)', {
          key,
          paymentHash: bytesToHex(htlc.paymentHash),
        });
        logToLightningd('warn', `failed HTLC ${key}: it still carries async markers`);
      }
    } catch (e) {
      // cln.js fails every HTLC it cannot read; one reaching us unread means cln.js is gone.
      logger.warn('failing an HTLC whose payload we cannot read', { error: errText(e) });
      return failAnswer(false);
    }
    return marked ? failAnswer(trampoline) : { result: 'continue' };
  },
  validate: isValidHtlcAnswer,
  fallback: () => failAnswer(false),
};

const host = new PluginHost({
  input: process.stdin,
  output: process.stdout,
  logger,
  manifest: () => ({
    options: [],
    rpcmethods: [],
    hooks: [{ name: 'htlc_accepted', after: [GUARDED_PLUGIN] }],
    subscriptions: [],
    notifications: [],
    featurebits: {},
    nonnumericids: true,
    dynamic: false,
  }),
  init: async (params) => {
    const rpc = new ClnRpc({
      socketPath: resolve(params.configuration.lightningDir, params.configuration.rpcFile),
      logger,
      idPrefix: 'async-trampoline-guard',
    });
    try {
      const opts = await optionsFromLightningd(rpc);
      if (typeof opts === 'string') return opts;
      types = parseSettings(opts, params.configuration.lightningDir).types;
    } catch (e) {
      return `cannot read the async-trampoline options: ${errText(e)}`;
    } finally {
      rpc.close();
    }
    logger.info('guard ready', { holdHtlcType: types.holdHtlc, asyncHoldType: types.asyncHold });
    return undefined;
  },
  onInitFailure: () => process.exit(1),
  hooks: { htlc_accepted: htlcGuard },
  notifications: {},
  methods: {},
  onEnd: () => process.exit(0),
});

process.on('uncaughtException', (e) => logger.error('uncaught exception', { error: errText(e) }));
process.on('unhandledRejection', (e) => logger.error('unhandled rejection', { error: errText(e) }));
hostRef.current = host;
host.start();
