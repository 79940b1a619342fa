// Prometheus metrics of the recipient-LSP engine (recipient-lsp/metrics.ts), in the host's registry,
// and the same counts as plain numbers for the stats command (CLN has no /metrics endpoint).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NoticeDrop, RecipientLspMetrics } from '../recipient-lsp/metrics.js';

/** The recipient-LSP counters as `stats` shows them (snake_case keys, as lightningd's commands). */
export interface RecipientLspCounts {
  notices_stored: number;
  /** By reason: client_cap, total_cap, expired, unverified, not_client, no_reply_path. */
  notices_dropped: Record<string, number>;
  /** By `<kind>_<result>`: release_ok, release_error, relay_ok, relay_error. */
  sends: Record<string, number>;
  mailbox_notices: number;
}

export function createRecipientLspPromMetrics(
  registry: Registry,
): RecipientLspMetrics & { counts(): RecipientLspCounts } {
  const c: RecipientLspCounts = { notices_stored: 0, notices_dropped: {}, sends: {}, mailbox_notices: 0 };
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
    counts: () => structuredClone(c),
    stored: () => {
      stored.inc();
      c.notices_stored += 1;
    },
    dropped: (r: NoticeDrop) => {
      dropped.inc({ reason: r });
      c.notices_dropped[r] = (c.notices_dropped[r] ?? 0) + 1;
    },
    sent: (kind, result) => {
      sent.inc({ kind, result });
      c.sends[`${kind}_${result}`] = (c.sends[`${kind}_${result}`] ?? 0) + 1;
    },
    mailboxSize: (n) => {
      size.set(n);
      c.mailbox_notices = n;
    },
  };
}
