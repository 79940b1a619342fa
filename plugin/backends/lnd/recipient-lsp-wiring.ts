// Starts recipient-LSP mode inside the LND sidecar: the LND host over the sidecar's backend (one
// onion transport for both roles), the engine on its own mailbox file, its metrics in the sidecar's
// registry, and the client message paths logged for operators.
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../../ops/log.js';
import { createRecipientLspPromMetrics } from '../../ops/recipient-lsp-metrics.js';
import type { AsyncMessageTypes } from '../../protocol/onion-message.js';
import type { RecipientLspConfigInput } from '../../recipient-lsp/config.js';
import { RecipientLspEngine } from '../../recipient-lsp/engine.js';
import { logClientPaths } from '../../recipient-lsp/paths-log.js';
import type { LndClients } from './grpc.js';
import { unary } from './grpc.js';
import { LndRecipientLspHost, type LndOnionPort } from './recipient-lsp-host.js';

export const MAILBOX_FILE = 'recipient-lsp.sqlite';

export interface RecipientLspWiring {
  clients: LndClients;
  backend: LndOnionPort;
  nodeId: string;
  dataDir: string;
  config: RecipientLspConfigInput;
  variants: ('odd' | 'even')[];
  types: AsyncMessageTypes;
  log: Logger;
  registry: Registry;
  onFatal: (why: string) => void;
}

export async function startRecipientLsp(w: RecipientLspWiring): Promise<RecipientLspEngine> {
  const log = w.log.child({ component: 'recipient-lsp' });
  const host = new LndRecipientLspHost({
    clients: w.clients,
    nodeId: w.nodeId,
    dataDir: w.dataDir,
    onion: w.backend,
    log,
    types: w.types,
    variants: w.variants,
  });
  const engine = await RecipientLspEngine.open({
    dbPath: join(w.dataDir, MAILBOX_FILE),
    host,
    config: w.config,
    logger: w.log,
    metrics: createRecipientLspPromMetrics(w.registry),
    onFatal: w.onFatal,
  });
  await engine.start();
  let peers: string[] = [];
  try {
    const r = await unary<{ channels: { remote_pubkey: string }[] }>(w.clients.lightning, 'ListChannels', {});
    peers = [...new Set(r.channels.map((c) => c.remote_pubkey))];
  } catch (e) {
    log.warn('ListChannels failed; client message paths are logged as clients come online', {
      error: (e as Error).message,
    });
  }
  logClientPaths(engine, peers, log);
  return engine;
}
