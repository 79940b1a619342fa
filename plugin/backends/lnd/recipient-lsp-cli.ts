// `async-trampoline-lnd message-path <client node id> [flags]`: prints a client's message path as one
// JSON line, beside a running sidecar (same data dir; SQLite WAL lets both open the mailbox). Until
// the sidecar's admin API (issue #13) serves it, this and the sidecar's "client message path" log
// lines are how an operator gets one.
import { bytesToHex } from '@noble/hashes/utils.js';
import { join } from 'node:path';
import type { SidecarConfig } from '../../ops/config.js';
import { nullLogger } from '../../ops/log.js';
import { RecipientLspEngine } from '../../recipient-lsp/engine.js';
import { isNodeId } from '../../recipient-lsp/client-path.js';
import { lndError } from './errors.js';
import { connectLnd, unary } from './grpc.js';
import type { GetInfoResponse } from './messages.js';
import { LndRecipientLspHost } from './recipient-lsp-host.js';
import { MAILBOX_FILE } from './recipient-lsp-wiring.js';

export async function messagePathCommand(nodeId: string | undefined, cfg: SidecarConfig): Promise<string> {
  if (!nodeId || !isNodeId(nodeId))
    throw lndError('config', 'usage: message-path <client node id, 33-byte hex> [sidecar flags]');
  const clients = connectLnd({ rpc: cfg.lndRpc, tlsCertPath: cfg.lndTlsCert, macaroonPath: cfg.lndMacaroon });
  try {
    const info = await unary<GetInfoResponse>(clients.lightning, 'GetInfo', {});
    const offline = async (): Promise<never> => {
      throw lndError('rpc', 'message-path sends nothing');
    };
    const host = new LndRecipientLspHost({
      clients,
      nodeId: info.identity_pubkey,
      dataDir: cfg.dataDir,
      log: nullLogger,
      onion: { onInboundOnionMessage: () => {}, sendOnionMessage: offline, router: undefined as never },
    });
    const engine = await RecipientLspEngine.open({ dbPath: join(cfg.dataDir, MAILBOX_FILE), host });
    try {
      const p = await engine.messagePath(nodeId);
      return JSON.stringify({
        client: p.clientNodeId,
        messagePath: bytesToHex(p.messagePath),
        hasChannel: p.hasChannel,
      });
    } finally {
      await engine.stop();
    }
  } finally {
    clients.close();
  }
}
