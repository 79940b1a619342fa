// Issue 11 scenario 5 (S -> L -> X -> RL -> R, L and RL not peers), shared by the LND and the CLN
// L: what X relayed by its own log, what L and RL say they routed through X, RL's counters, and the
// hold/notice/release sequence both modes of both files walk through.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Sidecar, LogLine } from '../../../scripts/regtest/lsp.js';
import type { LogTail } from './logs.js';
import { releasedFor, storedFor } from './logs.js';

export type Place = 'sender' | 'lsp' | 'middle' | 'rlsp' | 'recipient';

/** The parts of either network the checks read. */
export interface MultihopNet {
  nodeInfo(name: 'middle'): Promise<{ logFile: string }>;
  lncli<T = Record<string, unknown>>(name: string, ...args: string[]): Promise<T>;
  mine(n: number): Promise<string[]>;
}

/** Checks on the onion-message path via X; `id` gives a place's node id in hex. */
export class ViaX {
  constructor(
    private readonly net: MultihopNet,
    private readonly id: (n: Place) => string,
    private readonly rlsp: Sidecar,
  ) {}

  /** Lines of X's LND log where it forwarded an onion message from `from` on to `to`. */
  async xForwarded(from: Place, to: Place): Promise<number> {
    const log = readFileSync((await this.net.nodeInfo('middle')).logFile, 'utf8');
    return log.split('\n').filter(
      (l) =>
        l.includes('Forwarding onion message') &&
        l.includes(`peer=${this.id(from)}`) &&
        // LND logs the next node's key shortened to its first 6 bytes.
        l.includes(`next_node_id=${this.id(to).slice(0, 12)}`),
    ).length;
  }

  /** A node (L or RL) routed an onion message to `to` through exactly X. */
  routedViaX(to: Place): (l: LogLine) => boolean {
    return (l) =>
      l.message === 'onion message routed over the graph' &&
      l.to === this.id(to) &&
      Array.isArray(l.via) &&
      l.via.length === 1 &&
      l.via[0] === this.id('middle');
  }

  /** A sample of RL's /metrics (summed over labels that match `labels`). */
  async rlMetric(name: string, labels = ''): Promise<number> {
    const { status, body } = await this.rlsp.scrape('/metrics');
    assert.equal(status, 200);
    return body
      .split('\n')
      .filter((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }
}

/** R's message path as RL's sidecar issued it (its 'client message path' line for `client`). */
export async function clientMessagePath(rlsp: Sidecar, client: string): Promise<Uint8Array> {
  const line = await rlsp.waitLog(
    'client message path for R',
    (l) => l.message === 'client message path' && l.client === client,
  );
  return new Uint8Array(Buffer.from(String(line.messagePath), 'hex'));
}

/** No channel of these LND nodes closed or closing. */
export async function assertLndChannelsOpen(net: MultihopNet, names: readonly string[]): Promise<void> {
  for (const n of names) {
    const closed = await net.lncli<{ channels: unknown[] }>(n, 'closedchannels');
    assert.equal(closed.channels.length, 0, `${n} closed no channel`);
    const p = await net.lncli<{
      pending_force_closing_channels?: unknown[];
      waiting_close_channels?: unknown[];
    }>(n, 'pendingchannels');
    assert.equal(
      (p.pending_force_closing_channels ?? []).length + (p.waiting_close_channels ?? []).length,
      0,
      `${n} is closing no channel`,
    );
  }
}

/** What holdStoreRelease needs of one scenario's network. */
export interface HoldRun {
  net: MultihopNet;
  via: ViaX;
  /** L's log (sidecar or plugin) and RL's sidecar. */
  l: LogTail;
  rlsp: Sidecar;
  recipient: string;
  /** Blocks mined while R sleeps. */
  holdMined: number;
  /** L's line saying it sent the notice, when L logs one (the CLN plugin does). */
  noticeSent?: string;
  /** Exactly one HTLC with this hash at L, incoming from S (waits or asserts). */
  heldAtL(hash: string): Promise<void>;
  htlcsAtRl(hash: string): Promise<unknown[]>;
  recipientReturns(): Promise<void>;
}

const RELEASES_SENT = ['async_trampoline_recipient_lsp_sends_total', 'kind="release",result="ok"'] as const;

/**
 * From the notice to R's return: L holds, L routes the notice to RL via X, RL stores it, blocks
 * pass, nothing reaches RL or a release; then R returns, RL routes the release to L via X and L
 * lets the payment go on. `mL`/`mR`: L's and RL's log marks from before the payment.
 */
export async function holdStoreRelease(h: HoldRun, hash: string, mL: number, mR: number): Promise<void> {
  const { via, l, rlsp } = h;
  const noticesViaX = await via.xForwarded('lsp', 'rlsp');
  const releasesViaX = await via.xForwarded('rlsp', 'lsp');
  await l.waitLog('holding', (x) => x.message === 'holding htlc', mL);
  await h.heldAtL(hash);
  await l.waitLog('L routed the notice via X', via.routedViaX('rlsp'), mL);
  if (h.noticeSent !== undefined) await l.waitLog('notice injected', (x) => x.message === h.noticeSent, mL);
  await rlsp.waitLog('stored for R', storedFor(h.recipient), mR);
  assert.ok((await via.xForwarded('lsp', 'rlsp')) > noticesViaX, 'X forwarded the notice from L to RL');
  const releasesBefore = await via.rlMetric(...RELEASES_SENT);
  assert.ok((await via.rlMetric('async_trampoline_recipient_lsp_mailbox_notices')) >= 1, 'in the mailbox');
  await h.net.mine(h.holdMined);
  await h.heldAtL(hash);
  assert.deepEqual(await h.htlcsAtRl(hash), [], 'nothing forwarded to RL yet');
  assert.equal(
    rlsp.count((x) => x.message === 'released for client', mR),
    0,
  );
  assert.equal(
    l.count((x) => x.message === 'hold released', mL),
    0,
  );
  await h.recipientReturns();
  await rlsp.waitLog('RL released for R', releasedFor(h.recipient), mR);
  await rlsp.waitLog('RL routed the release via X', via.routedViaX('lsp'), mR);
  await l.waitLog('L got the release', (x) => x.message === 'hold released', mL);
  assert.ok((await via.xForwarded('rlsp', 'lsp')) > releasesViaX, 'X forwarded the release from RL to L');
  assert.ok((await via.rlMetric(...RELEASES_SENT)) > releasesBefore, 'RL counted the release as sent');
}
