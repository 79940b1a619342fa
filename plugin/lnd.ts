#!/usr/bin/env node
// The LND sidecar: a long-running process next to an LSP's LND that holds async HTLCs through the
// HtlcInterceptor and releases them on release_held_htlc. Refuses to start on an LND that would put
// held HTLCs at risk. Exits 0 on SIGTERM/SIGINT after a clean stop (held HTLCs stay held by LND,
// which requires the interceptor, and are replayed to us on the next start).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HoldEngine } from './hold/engine.js';
import { LndBackend } from './backends/lnd/lnd-backend.js';
import { connectLnd, type LndClients } from './backends/lnd/grpc.js';
import { describeProblems, preflight, type PreflightResult } from './backends/lnd/preflight.js';
import { ConfigError, parseSidecarConfig, sidecarHelp, type SidecarConfig } from './ops/config.js';
import { createLogger, type Logger } from './ops/log.js';
import { createPromMetrics, serveMetrics } from './ops/metrics.js';
import { startRecipientLsp } from './backends/lnd/recipient-lsp-wiring.js';
import { messagePathCommand } from './backends/lnd/recipient-lsp-cli.js';
import { LndLspsHost } from './backends/lnd/lsps-host.js';
import { LSPS0_MESSAGE_TYPE } from './lsps/lsps0/codec.js';
import { startLsps, type RunningLsps } from './lsps/lsps.js';
import { wakeSleepingClients } from './lsps/wake.js';

const EXIT_CONFIG = 2;
const EXIT_PREFLIGHT = 3;

async function preflightUntilReachable(
  clients: LndClients,
  cfg: SidecarConfig,
  log: Logger,
): Promise<PreflightResult> {
  // LND may still be starting (or unlocking its wallet): wait for it, but refuse at once on any
  // other problem.
  for (let attempt = 0; ; attempt++) {
    const r = await preflight(clients, { role: 'sidecar', onionMessageType: cfg.types.onionMessageCustom });
    if (!(r.problems.length === 1 && r.problems[0]!.code === 'unreachable')) return r;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
    log.warn('LND not reachable yet; retrying', { error: r.problems[0]!.message, retryMs: delay });
    await new Promise((res) => setTimeout(res, delay));
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write(sidecarHelp());
    return 0;
  }
  // `message-path <node>`: print a recipient-LSP client's message path and exit.
  const command = argv[0] === 'message-path' ? argv.splice(0, 2)[1] : undefined;
  const isCommand = argv.length < process.argv.length - 2;
  let cfg: SidecarConfig;
  try {
    cfg = parseSidecarConfig(argv, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return EXIT_CONFIG;
    }
    throw e;
  }
  if (isCommand) {
    try {
      process.stdout.write(`${await messagePathCommand(command, cfg)}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`message-path: ${(e as Error).message}\n`);
      return EXIT_CONFIG;
    }
  }
  const log = createLogger({ level: cfg.logLevel, json: cfg.logJson, component: 'lnd-sidecar' });
  let clients: LndClients;
  try {
    clients = connectLnd({ rpc: cfg.lndRpc, tlsCertPath: cfg.lndTlsCert, macaroonPath: cfg.lndMacaroon });
  } catch (e) {
    log.error('cannot set up the LND connection', { error: (e as Error).message });
    return EXIT_CONFIG;
  }

  const pf = await preflightUntilReachable(clients, cfg, log);
  for (const w of pf.warnings) log.warn(w);
  if (pf.problems.length > 0 || !pf.facts) {
    for (const p of pf.problems) log.error(p.message, { check: p.code });
    process.stderr.write(`refusing to start:\n${describeProblems(pf.problems)}\n`);
    clients.close();
    return EXIT_PREFLIGHT;
  }
  const facts = pf.facts;
  log.info('LND ok', {
    node: facts.nodeId,
    version: facts.version.text,
    onionMessages: facts.onionTransport,
    height: facts.blockHeight,
  });

  const messageTypes = {
    heldHtlcAvailable: cfg.types.heldHtlcAvailable,
    heldHtlcAvailableOdd: cfg.types.heldHtlcAvailableOdd,
    releaseHeldHtlc: cfg.types.releaseHeldHtlc,
    releaseHeldHtlcOdd: cfg.types.releaseHeldHtlcOdd,
  };
  const backend = new LndBackend({
    clients,
    facts,
    dataDir: cfg.dataDir,
    log: log.child({ component: 'lnd-backend' }),
    htlcTypes: {
      holdHtlc: cfg.types.holdHtlc,
      asyncHold: cfg.types.asyncHold,
      trampolineRequest: cfg.types.trampolineRequest,
      keysendPreimage: cfg.types.keysendPreimage,
    },
    messageTypes,
    heldHtlcVariants: cfg.heldHtlcVariants,
    customMessageType: cfg.types.onionMessageCustom,
  });
  backend.onInterceptorConnected(() => log.info('interceptor connected'));
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const metrics = createPromMetrics({ defaultMetrics: true });
  const engine = await HoldEngine.open({
    dbPath: join(cfg.dataDir, 'holds.sqlite'),
    backend,
    config: cfg.engine,
    logger: log,
    metrics,
    // The engine stopped answering (store failure): exit so a supervisor restarts us. Safe, because
    // LND requires the interceptor and holds every pending HTLC until we reconnect.
    onFatal: (why) => {
      log.error('engine died; exiting', { why });
      backend.stop().finally(() => process.exit(1));
    },
  });
  await engine.start();
  // Recipient-LSP mode beside the hold engine: same LND, same onion transport, its own mailbox file.
  const recipientLsp = cfg.recipientLsp
    ? await startRecipientLsp({
        clients,
        backend,
        nodeId: facts.nodeId,
        dataDir: cfg.dataDir,
        config: cfg.recipientLsp,
        variants: cfg.heldHtlcVariants,
        types: messageTypes,
        log,
        registry: metrics.registry,
        onFatal: (why) => {
          log.error('recipient-lsp engine died; exiting', { why });
          backend.stop().finally(() => process.exit(1));
        },
      })
    : undefined;
  let lsps: RunningLsps | undefined;
  if (cfg.lsps5) {
    try {
      lsps = await startLsps({
        host: new LndLspsHost(clients, LSPS0_MESSAGE_TYPE, log.child({ component: 'lsps-host' })),
        dataDir: cfg.dataDir,
        config: cfg.lsps5,
        log,
        nodeId: facts.nodeId,
      });
    } catch (e) {
      // Most likely the macaroon: LSPS5 needs message:write (SignMessage), offchain:read/write
      // (custom messages) and peers:read (ListPeers).
      log.error('cannot start the LSPS5 webhook service', { error: (e as Error).message });
      process.stderr.write(
        `refusing to start: --lsps5 needs SignMessage (message:write), Send/SubscribeCustomMessages (offchain) and ListPeers (peers:read): ${(e as Error).message}\n`,
      );
      await recipientLsp?.stop();
      await engine.stop();
      clients.close();
      return EXIT_PREFLIGHT;
    }
    // A notice stored for an away client wakes it through its webhooks.
    if (recipientLsp) wakeSleepingClients(recipientLsp, lsps.service, log.child({ component: 'lsps5' }));
    else
      log.warn(
        '--lsps5 without --recipient-lsp: webhooks can be registered, but nothing raises notifications',
      );
  }
  const metricsServer = cfg.metricsListen
    ? await serveMetrics(metrics.registry, cfg.metricsListen.port, cfg.metricsListen.host)
    : undefined;
  log.info('sidecar running', {
    dataDir: cfg.dataDir,
    metrics: cfg.metricsListen ? `${cfg.metricsListen.host}:${cfg.metricsListen.port}` : 'off',
    recipientLsp: recipientLsp !== undefined,
    lsps5: lsps !== undefined,
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      (lsps?.stop() ?? Promise.resolve())
        .catch((e: unknown) => log.error('LSPS stop failed', { error: (e as Error).message }))
        .then(() => recipientLsp?.stop())
        .catch((e: unknown) => log.error('recipient-lsp stop failed', { error: (e as Error).message }))
        .then(() => engine.stop())
        .catch((e: unknown) => log.error('engine stop failed', { error: (e as Error).message }))
        .finally(() => {
          clients.close();
          metricsServer?.close();
          resolve(0);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => {
    // Exit now rather than when the event loop drains: a payment being tracked or a reconnect
    // timer must not keep a stopped sidecar alive (everything durable is already committed).
    process.exit(code);
  },
  (e: unknown) => {
    // Dying is safe: LND requires the interceptor and keeps every held HTLC until we are back.
    process.stderr.write(`async-trampoline-lnd: fatal: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
