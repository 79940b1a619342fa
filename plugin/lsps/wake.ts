// The one wiring point between the recipient-LSP mailbox (plugin/recipient-lsp/) and LSPS5: a
// notice stored for an away client raises lsps5.onion_message_incoming to its webhooks; a client
// coming or going resets its notification cooldowns (bLIP-55: reset once the client comes online
// and then goes offline). Called synchronously by the mailbox; the webhook calls run on their own.
import type { Logger } from '../ops/log.js';
import type { RecipientLspListener } from '../recipient-lsp/engine.js';
import type { Lsps5Service } from './lsps5/service.js';

export function wakeSleepingClients(
  mailbox: { addListener(l: Partial<RecipientLspListener>): void },
  lsps5: Lsps5Service,
  log: Logger,
): void {
  mailbox.addListener({
    noticeStored: (client) => {
      lsps5
        .onionMessageIncoming(client)
        .then((r) => log.debug('LSPS5 wake for a stored notice', { client, outcome: r.kind }))
        .catch((e: unknown) => log.warn('LSPS5 wake failed', { client, error: (e as Error).message }));
    },
    clientOnline: (client) => lsps5.clientConnected(client),
    clientOffline: (client) => lsps5.clientConnected(client),
  });
}
