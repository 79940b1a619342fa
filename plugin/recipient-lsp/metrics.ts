// What the recipient-LSP engine reports for monitoring; ops/recipient-lsp-metrics.ts implements it
// with prom-client as async_trampoline_recipient_lsp_*.

/** Why a notice was not kept: over a cap (newest kept), too old, or over a path we cannot trust. */
export type NoticeDrop =
  'client_cap' | 'total_cap' | 'expired' | 'unverified' | 'not_client' | 'no_reply_path';

export interface RecipientLspMetrics {
  stored(): void;
  dropped(reason: NoticeDrop): void;
  /** One release or relay send for a stored notice. */
  sent(kind: 'release' | 'relay', result: 'ok' | 'error'): void;
  mailboxSize(n: number): void;
}

export const nullRecipientLspMetrics: RecipientLspMetrics = {
  stored: () => {},
  dropped: () => {},
  sent: () => {},
  mailboxSize: () => {},
};
