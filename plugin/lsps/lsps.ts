// Puts the LSPS pieces together over one host: the LSPS0 server with LSPS5 registered, the webhook
// store and the delivery queue. Both executables (lnd.ts, cln.ts) start it with startLsps and hand
// the returned service to whatever raises notifications (the recipient-LSP mailbox).
import { join } from 'node:path';
import { systemClock, type Clock } from '../hold/clock.js';
import type { Logger } from '../ops/log.js';
import type { LspsHost } from './host.js';
import { lnRecoverNodeId } from './ln-signature.js';
import { Lsps0Server } from './lsps0/server.js';
import { WebhookDelivery } from './lsps5/delivery.js';
import { Lsps5Service } from './lsps5/service.js';
import { WebhookStore } from './lsps5/store.js';
import type { Lsps5Config } from './config.js';

export { DEFAULT_LSPS5, type Lsps5Config } from './config.js';

export interface RunningLsps {
  service: Lsps5Service;
  stop(): Promise<void>;
}

export interface StartLspsOptions {
  host: LspsHost;
  dataDir: string;
  config: Lsps5Config;
  log: Logger;
  /** Our node id (hex): the host's signatures are checked against it once at start. */
  nodeId: string;
  clock?: Clock;
  fetch?: typeof fetch;
  /** LSPS0 requests per peer: burst and refill per second (default 20 and 2). */
  rateLimit?: { burst: number; perSecond: number };
}

export async function startLsps(opts: StartLspsOptions): Promise<RunningLsps> {
  const log = opts.log;
  const clock = opts.clock ?? systemClock;
  // A host that signs with another key (or in another format) would make every notification
  // unverifiable: refuse to start instead.
  const probe = 'async-trampoline: DO NOT SIGN THIS MESSAGE MANUALLY: LSPS5 signing self-check';
  const signer = lnRecoverNodeId(new TextEncoder().encode(probe), await opts.host.signMessage(probe));
  if (signer !== opts.nodeId.toLowerCase())
    throw new Error(
      `the node's message signatures do not verify against its node id ${opts.nodeId} (got ${signer ?? 'malformed'})`,
    );

  const store = new WebhookStore(join(opts.dataDir, 'lsps5.sqlite'));
  const delivery = new WebhookDelivery({
    sign: (m) => opts.host.signMessage(m),
    stillRegistered: (client, appName, url) => store.get(client, appName)?.url === url,
    clock,
    log: log.child({ component: 'lsps5-delivery' }),
    timeoutMs: opts.config.timeoutMs,
    retryBaseMs: opts.config.retryBaseMs,
    retryMaxMs: opts.config.retryMaxMs,
    maxAttempts: opts.config.maxAttempts,
    maxQueue: 16,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const service = new Lsps5Service({
    store,
    delivery,
    clock,
    log: log.child({ component: 'lsps5' }),
    maxWebhooks: opts.config.maxWebhooks,
    allowHttp: opts.config.allowHttp,
    cooldownMs: opts.config.cooldownMs,
    isConnected: (peer) => opts.host.isConnected(peer),
  });
  const server = new Lsps0Server({
    protocols: [service.protocol()],
    log: log.child({ component: 'lsps0' }),
    onPeerActive: (peer) => service.clientConnected(peer),
    now: () => clock.now(),
    ...(opts.rateLimit
      ? { perPeerBurst: opts.rateLimit.burst, perPeerPerSecond: opts.rateLimit.perSecond }
      : {}),
  });
  await opts.host.start((peer, payload) => {
    server
      .handle(peer, payload)
      .then((answer) => (answer ? opts.host.send(peer, answer) : undefined))
      .catch((e: unknown) => log.warn('cannot answer LSPS0 request', { peer, error: (e as Error).message }));
  });
  log.info('LSPS0/LSPS5 service running', {
    maxWebhooks: opts.config.maxWebhooks,
    allowHttp: opts.config.allowHttp,
    cooldownMs: opts.config.cooldownMs,
  });
  return {
    service,
    stop: async () => {
      delivery.stop();
      await opts.host.stop();
      store.close();
    },
  };
}
