#!/usr/bin/env node
// The Core Lightning plugin executable: lightningd starts it (`plugin=` or `important-plugin=`) and
// speaks JSON-RPC over its stdin/stdout. Wires the plugin host, the CLN backend and the hold engine.
// stdout carries JSON-RPC only: console.log/info/debug are redirected to stderr before anything runs.
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { adminMethods } from './backends/cln/admin.js';
import { ClnBackend } from './backends/cln/backend.js';
import { buildManifest, GUARD_PLUGIN, OptionError, parseSettings } from './backends/cln/manifest.js';
import { PluginHost, errText, type HookHandler } from './backends/cln/plugin-host.js';
import { ClnRpc } from './backends/cln/rpc-client.js';
import { HoldEngine } from './hold/engine.js';
import { ClnLspsHost } from './backends/cln/lsps-host.js';
import { LSPS0_MESSAGE_TYPE } from './lsps/lsps0/codec.js';
import { startLsps, type RunningLsps } from './lsps/lsps.js';
import { wakeSleepingClients } from './lsps/wake.js';
import { RecipientLspEngine } from './recipient-lsp/engine.js';
import { ClnRecipientLspHost } from './backends/cln/recipient-lsp-host.js';
import { AdminError, messagePathAnswer } from './ops/admin.js';
import { createLogger, type Logger, type LogLevel } from './ops/log.js';
import { createPromMetrics } from './ops/metrics.js';
import { createRecipientLspPromMetrics, type RecipientLspCounts } from './ops/recipient-lsp-metrics.js';

/* eslint-disable no-console -- redirecting, not writing: a stray console.log from any module must not reach stdout */
console.log = console.error;
console.info = console.error;
console.debug = console.error;
/* eslint-enable no-console */

/** A logger whose level is only known at init; everything logs through the current one. */
function switchableLogger(initial: Logger): { logger: Logger; set(l: Logger): void } {
  let current = initial;
  const make = (fields: Record<string, unknown>): Logger => {
    const pick = (): Logger => (Object.keys(fields).length ? current.child(fields) : current);
    return {
      debug: (m, f) => pick().debug(m, f),
      info: (m, f) => pick().info(m, f),
      warn: (m, f) => pick().warn(m, f),
      error: (m, f) => pick().error(m, f),
      child: (f) => make({ ...fields, ...f }),
    };
  };
  return { logger: make({}), set: (l) => (current = l) };
}

/** Set once the host exists; the logger below needs it and is made first. */
const hostRef: { current?: PluginHost } = {};

const LEVEL = (process.env.ASYNC_TRAMPOLINE_LOG_LEVEL as LogLevel | undefined) ?? 'info';
const log = switchableLogger(createLogger({ level: LEVEL, component: 'async-trampoline' }));
// lightningd does not log a plugin's stderr (it passes it through to its own stderr), so warnings and
// errors also go to lightningd's log as `log` notifications, where operators look.
const logger = teeToLightningd(log.logger, (level, message) =>
  hostRef.current?.notify('log', { level, message }),
);

function teeToLightningd(inner: Logger, send: (level: 'warn' | 'error', message: string) => void): Logger {
  const line = (m: string, f?: Record<string, unknown>): string => {
    if (!f || Object.keys(f).length === 0) return m;
    try {
      return `${m} ${JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`;
    } catch {
      return m;
    }
  };
  return {
    debug: (m, f) => inner.debug(m, f),
    info: (m, f) => inner.info(m, f),
    warn: (m, f) => (inner.warn(m, f), send('warn', line(m, f))),
    error: (m, f) => (inner.error(m, f), send('error', line(m, f))),
    child: (f) => teeToLightningd(inner.child(f), (level, m) => send(level, line(m, f))),
  };
}

let engine: HoldEngine | undefined;
// Counted like the sidecar's /metrics, so async-trampoline-stats shows the same counts.
const metrics = createPromMetrics();
metrics.setBackendConnected(() => engine !== undefined && !engine.stopped);
let backend: ClnBackend | undefined;
let rpc: ClnRpc | undefined;
let deathWatch: NodeJS.Timeout | undefined;
let lspsHost: ClnLspsHost | undefined;
let lsps: RunningLsps | undefined;
let recipientLsp: RecipientLspEngine | undefined;
let recipientLspHost: ClnRecipientLspHost | undefined;
let recipientLspCounts: (() => RecipientLspCounts) | undefined;

// Hooks registered before init delegate to the backend made at init (lightningd calls none before).
const lateHook = (pick: (b: ClnBackend) => HookHandler): HookHandler => ({
  handle: (params, id) => {
    if (!backend) throw new Error('hook before init');
    return pick(backend).handle(params, id);
  },
  validate: (a): a is object => (backend ? pick(backend).validate(a) : false),
  fallback: (params) => {
    if (backend) return pick(backend).fallback(params);
    // Before init only htlc_accepted could matter; failing is the answer that never forwards unheld.
    return { result: 'fail', failure_message: '2002' };
  },
});

const host = new PluginHost({
  input: process.stdin,
  output: process.stdout,
  logger,
  manifest: buildManifest,
  init: async (params) => {
    let settings;
    try {
      settings = parseSettings(params.options, params.configuration.lightningDir);
    } catch (e) {
      if (e instanceof OptionError) return e.message;
      throw e;
    }
    log.set(createLogger({ level: settings.logLevel, component: 'async-trampoline' }));
    for (const w of settings.warnings) logger.warn(w);
    mkdirSync(settings.dataDir, { recursive: true });
    rpc = new ClnRpc({
      // rpc-file is relative to lightning-dir unless the operator configured an absolute path.
      socketPath: resolve(params.configuration.lightningDir, params.configuration.rpcFile),
      logger,
    });
    const noGuard = await guardMissing(rpc);
    if (noGuard) return noGuard;
    backend = new ClnBackend({ rpc, types: settings.types, logger, variants: settings.heldHtlcVariants });
    engine = await HoldEngine.open({
      dbPath: join(settings.dataDir, 'holds.sqlite'),
      backend,
      config: settings.engine,
      logger,
      metrics,
    });
    await engine.start();
    if (settings.lsps5) {
      const h = new ClnLspsHost(rpc, LSPS0_MESSAGE_TYPE, logger);
      try {
        lsps = await startLsps({
          host: h,
          dataDir: settings.dataDir,
          config: settings.lsps5,
          log: logger,
          nodeId: await backend.nodeId(),
        });
      } catch (err) {
        await engine.stop();
        return `cannot start LSPS5: ${errText(err)}`;
      }
      lspsHost = h;
    }
    const e = engine;
    const b = backend;
    deathWatch = setInterval(() => {
      if (e.stopped) {
        b.engineDied();
        clearInterval(deathWatch);
      }
    }, 1000);
    deathWatch.unref();
    if (settings.recipientLsp) {
      // Recipient-LSP mode beside the hold engine: same hook and RPC, its own mailbox file.
      const types = settings.types;
      recipientLspHost = new ClnRecipientLspHost({
        rpc,
        nodeId: () => b.nodeId(),
        onion: b,
        router: b.router,
        types: {
          heldHtlcAvailable: types.heldHtlcAvailable[0]!,
          heldHtlcAvailableOdd: types.heldHtlcAvailable[1]!,
          releaseHeldHtlc: types.releaseHeldHtlc[0]!,
          releaseHeldHtlcOdd: types.releaseHeldHtlc[1]!,
        },
        heldHtlcTypes: types.heldHtlcAvailable,
        variants: settings.heldHtlcVariants,
        logger,
      });
      const rlMetrics = createRecipientLspPromMetrics(metrics.registry);
      recipientLspCounts = () => rlMetrics.counts();
      recipientLsp = await RecipientLspEngine.open({
        dbPath: join(settings.dataDir, 'recipient-lsp.sqlite'),
        host: recipientLspHost,
        config: settings.recipientLsp,
        logger,
        metrics: rlMetrics,
        onFatal: (why) => {
          // lightningd keeps running; notices are retried by senders' LSPs, so log loudly and stop.
          logger.error('recipient-lsp engine died; restart the plugin', { why });
        },
      });
      // A notice stored for an away client wakes it through its webhooks (as on the sidecar).
      if (lsps) wakeSleepingClients(recipientLsp, lsps.service, logger);
      await recipientLsp.start();
    }
    logger.info('async-trampoline ready', {
      dataDir: settings.dataDir,
      trampolineScid: settings.trampolineScid,
      recipientLsp: recipientLsp !== undefined,
    });
    return undefined;
  },
  hooks: {
    htlc_accepted: lateHook((b) => b.htlcAcceptedHook),
    onion_message_recv_secret: lateHook((b) => b.onionMessageHook),
    // Before init, or with LSPS5 off, every custom message passes on untouched.
    custommsg: {
      handle: (params, id) =>
        lspsHost ? lspsHost.custommsgHook.handle(params, id) : Promise.resolve({ result: 'continue' }),
      validate: (a): a is object => isContinue(a),
      fallback: () => ({ result: 'continue' }),
    },
  },
  notifications: {
    block_added: (params) => backend?.onBlockAdded(params),
    connect: (params) => recipientLspHost?.onConnect(params),
    disconnect: (params) => recipientLspHost?.onDisconnect(params),
    channel_state_changed: (params) => recipientLspHost?.onChannelStateChanged(params),
  },
  methods: adminMethods({
    engine: () => engine,
    counts: () => ({
      ...metrics.counts(),
      ...(recipientLspCounts ? { recipient_lsp: recipientLspCounts() } : {}),
    }),
    // Registered always (as async-trampoline-message-path); answers only in recipient-LSP mode.
    messagePath: async (node) => {
      if (!recipientLsp)
        throw new AdminError(
          'unavailable',
          'recipient-LSP mode is off: start lightningd with async-trampoline-recipient-lsp=true',
        );
      return messagePathAnswer(recipientLsp, node);
    },
  }),
  // An important plugin that exits at init stops lightningd (the reason is already in its log).
  onInitFailure: () => void shutdown(1),
  onEnd: () => void shutdown(0),
});

function isContinue(a: unknown): boolean {
  return typeof a === 'object' && a !== null && (a as { result?: unknown }).result === 'continue';
}

/**
 * Without the guard after us in the htlc_accepted chain, our death would let lightningd forward what
 * we hold: refuse to run unless lightningd was told to load it (`plugin` or `important-plugin`).
 */
async function guardMissing(r: ClnRpc): Promise<string | undefined> {
  const c = await r.call<{ configs?: Record<string, { values_str?: unknown }> }>('listconfigs');
  const paths = ['important-plugin', 'plugin'].flatMap((k) => {
    const v = c.configs?.[k]?.values_str;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  });
  if (paths.some((p) => basename(p) === GUARD_PLUGIN)) return undefined;
  return `${GUARD_PLUGIN} is not loaded: add important-plugin=${join(dirname(process.argv[1] ?? '.'), GUARD_PLUGIN)} next to this plugin (it fails held HTLCs if this plugin dies)`;
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (deathWatch) clearInterval(deathWatch);
  try {
    await lsps?.stop();
  } catch (e) {
    logger.error('LSPS stop failed', { error: errText(e) });
  }
  try {
    await recipientLsp?.stop();
    // Unanswered HTLCs stay with lightningd, which replays them to the next run.
    await engine?.stop();
  } catch (e) {
    logger.error('engine stop failed', { error: errText(e) });
  }
  rpc?.close();
  process.exit(code);
}

// Never crash: a dead plugin hands every held HTLC to lightningd's default handling.
process.on('uncaughtException', (e) =>
  logger.error('uncaught exception', { error: errText(e), stack: e.stack }),
);
process.on('unhandledRejection', (e) => logger.error('unhandled rejection', { error: errText(e) }));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.stdout.on('error', () => void shutdown(1));

if (process.env.LIGHTNINGD_PLUGIN !== '1' && process.stdin.isTTY) {
  // Run by hand: nothing would ever arrive on stdin. Say how it is meant to run (on stderr).
  console.error(
    'async-trampoline is a Core Lightning plugin: lightningd --important-plugin=' + process.argv[1],
  );
  process.exit(1);
}
hostRef.current = host;
host.start();
