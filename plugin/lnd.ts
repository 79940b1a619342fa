#!/usr/bin/env node
// The LND sidecar (`async-trampoline lnd`, or this file run directly): a long-running process next to an LSP's LND that holds async HTLCs through the
// HtlcInterceptor and releases them on release_held_htlc. Refuses to start on an LND that would put
// held HTLCs at risk. Exits 0 on SIGTERM/SIGINT after a clean stop (held HTLCs stay held by LND,
// which requires the interceptor, and are replayed to us on the next start).
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HoldEngine } from './hold/engine.js';
import { LndBackend } from './backends/lnd/lnd-backend.js';
import { connectLnd, type LndClients } from './backends/lnd/grpc.js';
import { describeProblems, preflight, type PreflightResult } from './backends/lnd/preflight.js';
import { ConfigError, parseSidecarConfig, sidecarHelp, type SidecarConfig } from './ops/config.js';
import { createLogger, type Logger } from './ops/log.js';
import { createPromMetrics, serveMetrics } from './ops/metrics.js';
import { startAdminServer, type AdminServer } from './ops/admin-server.js';
import { messagePathAnswer } from './ops/admin.js';
import { startRecipientLsp } from './backends/lnd/recipient-lsp-wiring.js';
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
    const r = await preflight(clients, {
      role: 'sidecar',
      onionMessageType: cfg.types.onionMessageCustom,
      modes: [
        ...(cfg.recipientLsp ? ['recipient-lsp' as const] : []),
        ...(cfg.lsps5 ? ['lsps5' as const] : []),
      ],
    });
    if (!(r.problems.length === 1 && r.problems[0]!.code === 'unreachable')) return r;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
    log.warn('LND not reachable yet; retrying', { error: r.problems[0]!.message, retryMs: delay });
    await new Promise((res) => setTimeout(res, delay));
  }
}

/** Run the sidecar until SIGTERM/SIGINT; resolves to the exit code. */
export async function runSidecar(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write(sidecarHelp());
    return 0;
  }
  let cfg: SidecarConfig;
  try {
    cfg = parseSidecarConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return EXIT_CONFIG;
    }
    throw e;
  }
  const log = createLogger({ level: cfg.logLevel, json: cfg.logJson, component: 'lnd-sidecar' });
  for (const w of cfg.warnings) log.warn(w);
  if (cfg.configFile) log.info('config file read', { path: cfg.configFile });
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
  // Ready only while LND streams HTLCs to us: without the interceptor nothing is being held.
  const ready = (): boolean => backend.interceptorConnected;
  metrics.setBackendConnected(ready);
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
    ? await serveMetrics(metrics.registry, cfg.metricsListen.port, cfg.metricsListen.host, ready)
    : undefined;
  let admin: AdminServer | undefined;
  if (cfg.adminPort !== 0) {
    admin = await startAdminServer({
      dataDir: cfg.dataDir,
      port: cfg.adminPort,
      ctx: {
        engine: () => engine,
        counts: () => metrics.counts(),
        messagePath: recipientLsp ? (node) => messagePathAnswer(recipientLsp, node) : undefined,
        keyForm: '<chan_id>:<htlc_id>',
      },
      ready,
      log: log.child({ component: 'admin' }),
    });
  }
  log.info('sidecar running', {
    dataDir: cfg.dataDir,
    metrics: cfg.metricsListen ? `${cfg.metricsListen.host}:${cfg.metricsListen.port}` : 'off',
    admin: admin ? `127.0.0.1:${admin.port}` : 'off',
    adminToken: admin?.tokenPath,
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
        .finally(async () => {
          clients.close();
          metricsServer?.close();
          await admin?.close();
          resolve(0);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

/** True when this file is the process's entry (not imported by the CLI). */
function isEntry(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) exitWith(runSidecar(process.argv.slice(2)));

/** Exit with the sidecar's code once it stops. */
export function exitWith(run: Promise<number>): void {
  run.then(
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
}
