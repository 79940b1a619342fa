// Prometheus metrics of the recipient-LSP engine (recipient-lsp/metrics.ts), in the sidecar's registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NoticeDrop, RecipientLspMetrics } from '../recipient-lsp/metrics.js';

export function createRecipientLspPromMetrics(registry: Registry): RecipientLspMetrics {
  const stored = new Counter({
    name: 'async_trampoline_recipient_lsp_notices_stored_total',
    help: 'held_htlc_available notices stored for away clients',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'async_trampoline_recipient_lsp_notices_dropped_total',
    help: 'held_htlc_available notices not kept, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const sent = new Counter({
    name: 'async_trampoline_recipient_lsp_sends_total',
    help: 'releases and relays sent for stored notices',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const size = new Gauge({
    name: 'async_trampoline_recipient_lsp_mailbox_notices',
    help: 'notices stored now',
    registers: [registry],
  });
  return {
    stored: () => stored.inc(),
    dropped: (r: NoticeDrop) => dropped.inc({ reason: r }),
    sent: (kind, result) => sent.inc({ kind, result }),
    mailboxSize: (n) => size.set(n),
  };
}
