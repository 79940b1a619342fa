// The recipient-LSP engine: keeps held_htlc_available notices for clients that are away and answers
// them when the client is back. A notice counts only if it came over a message path we issued for
// that client (client-path.ts) and the client has a channel with us. It is committed to the mailbox
// before anything else happens; when the client is connected with an active channel, release_held_htlc
// goes out over every stored reply path (or, in relay mode, the notice goes to the client), and only
// then is the notice marked done. A crash between send and mark sends it again after restart, which
// the sender's LSP treats as a duplicate release: at least once, never lost.
import { bytesToHex } from '@noble/hashes/utils.js';
import { systemClock, type Clock, type TimerHandle } from '../hold/clock.js';
import { nullLogger, type Logger } from '../ops/log.js';
import { clientId, clientPathId, isNodeId, verifyClientPathId } from './client-path.js';
import {
  resolveRecipientLspConfig,
  type RecipientLspConfig,
  type RecipientLspConfigInput,
} from './config.js';
import type { InboundHeldHtlcAvailable, PeerState, RecipientLspEvents, RecipientLspHost } from './host.js';
import { Mailbox } from './mailbox.js';
import { nullRecipientLspMetrics, type NoticeDrop, type RecipientLspMetrics } from './metrics.js';

/** Where a simulated crash may strike: before a mailbox write, or before a send to the host. */
export type RecipientLspCrashStep = 'write' | 'send';

/**
 * Hooks for other parts of the service (e.g. LSPS5 webhooks). Called synchronously; a throwing
 * listener is logged and never disturbs the engine.
 */
export interface RecipientLspListener {
  /** A notice for this client was durably stored while the client is away: time to wake it. */
  noticeStored(clientNodeId: string): void;
  /** The client is connected with an active channel (first time since start or since it left). */
  clientOnline(clientNodeId: string): void;
  /** The client disconnected. */
  clientOffline(clientNodeId: string): void;
}

export interface RecipientLspEngineOptions {
  /** The mailbox's SQLite file (its own file in the data dir). */
  dbPath: string;
  host: RecipientLspHost;
  config?: RecipientLspConfigInput;
  logger?: Logger;
  clock?: Clock;
  metrics?: RecipientLspMetrics;
  /** Test hook: asked before every mailbox write and send; returning true kills the engine there. */
  crashPoint?: (step: RecipientLspCrashStep) => boolean;
  /** Called once if the engine dies (mailbox failure); the host should exit and be restarted. */
  onFatal?: (why: string) => void;
}

export interface ClientMessagePath {
  clientNodeId: string;
  /** Encoded blinded_path for the sender's async_hold.message_paths. */
  messagePath: Uint8Array;
  /** Whether the node has a channel with us now (a path may be issued before the channel opens). */
  hasChannel: boolean;
}

export interface RecipientLspStats {
  stored: number;
  perClient: Record<string, number>;
  online: string[];
}

class Dead extends Error {}

export class RecipientLspEngine {
  readonly config: RecipientLspConfig;
  readonly events: RecipientLspEvents;
  private readonly host: RecipientLspHost;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly metrics: RecipientLspMetrics;
  private readonly crashPoint: ((s: RecipientLspCrashStep) => boolean) | undefined;
  private readonly onFatal: ((why: string) => void) | undefined;
  private readonly listeners: Partial<RecipientLspListener>[] = [];
  private key: Uint8Array | undefined;
  private readonly online = new Set<string>();
  private readonly releasing = new Set<string>();
  private readonly again = new Set<string>();
  private readonly retries = new Map<string, { timer: TimerHandle; attempt: number }>();
  private sweepTimer: TimerHandle | undefined;
  private started = false;
  private dead = false;

  private constructor(
    private readonly mailbox: Mailbox,
    opts: RecipientLspEngineOptions,
  ) {
    this.config = resolveRecipientLspConfig(opts.config);
    this.host = opts.host;
    this.log = (opts.logger ?? nullLogger).child({ component: 'recipient-lsp' });
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? nullRecipientLspMetrics;
    this.crashPoint = opts.crashPoint;
    this.onFatal = opts.onFatal;
    for (const c of this.config.relayClients)
      if (!isNodeId(c)) throw new RangeError(`recipient-lsp relay client ${c}: not a node id`);
    const guard =
      <A extends unknown[]>(fn: (...a: A) => void) =>
      (...a: A): void => {
        if (this.dead || !this.started) return;
        try {
          fn(...a);
        } catch (e) {
          if (!(e instanceof Dead))
            this.log.warn('recipient-lsp event handler failed', { error: (e as Error).message });
        }
      };
    this.events = {
      heldHtlcAvailable: guard((m: InboundHeldHtlcAvailable) => this.onNotice(m)),
      peerOnline: guard((n: string) => this.check(n)),
      channelActive: guard((n: string) => this.check(n)),
      peerOffline: guard((n: string) => this.onOffline(n)),
    };
  }

  static async open(opts: RecipientLspEngineOptions): Promise<RecipientLspEngine> {
    return new RecipientLspEngine(Mailbox.open(opts.dbPath), opts);
  }

  get stopped(): boolean {
    return this.dead;
  }

  addListener(l: Partial<RecipientLspListener>): void {
    this.listeners.push(l);
  }

  async start(): Promise<void> {
    this.key = await this.host.pathKey();
    if (this.key.length !== 32) throw new RangeError('recipient-lsp path key must be 32 bytes');
    this.started = true;
    try {
      this.sweep();
    } catch (e) {
      if (e instanceof Dead) return;
      throw e;
    }
    await this.host.start(this.events);
    // Clients may have come back while we were down: check everyone with mail.
    for (const n of this.mailbox.clientsWithPending()) this.check(n);
    this.log.info('recipient-lsp started', { stored: this.mailbox.storedCount() });
  }

  async stop(): Promise<void> {
    if (this.dead) return;
    this.shutdown();
    if (this.started) await this.host.stop();
    this.log.info('recipient-lsp stopped');
  }

  /** The message path for a client: give it to the client's senders (static invoice or out of band). */
  async messagePath(nodeId: string): Promise<ClientMessagePath> {
    if (!isNodeId(nodeId)) throw new RangeError(`"${nodeId}" is not a 33-byte hex node id`);
    // Works without start(): an operator command may issue a path beside the running service.
    this.key ??= await this.host.pathKey();
    const key = this.key;
    this.write(() => this.mailbox.putClient(bytesToHex(clientId(key, nodeId)), nodeId, this.clock.now()));
    const state = await this.host.peerState(nodeId);
    return {
      clientNodeId: nodeId,
      messagePath: await this.host.messagePath(clientPathId(key, nodeId)),
      hasChannel: state.hasChannel,
    };
  }

  /** Per client: relay notices to it instead of releasing (for clients that answer themselves). */
  setRelay(nodeId: string, relay: boolean): boolean {
    return this.write(() => this.mailbox.setRelay(nodeId, relay));
  }

  stats(): RecipientLspStats {
    return {
      stored: this.mailbox.storedCount(),
      perClient: Object.fromEntries(this.mailbox.storedPerClient()),
      online: [...this.online],
    };
  }

  // ---- events ----

  private onNotice(m: InboundHeldHtlcAvailable): void {
    const arrived = this.clock.now();
    const check = verifyClientPathId(this.needKey(), m.pathId, (id) => this.mailbox.clientById(id)?.nodeId);
    if (!check.ok) {
      this.drop('unverified', undefined, 'held_htlc_available over a path that does not verify; dropped', {
        why: check.why,
      });
      return;
    }
    const nodeId = check.nodeId;
    if (!m.replyPath) {
      this.drop('no_reply_path', nodeId, 'held_htlc_available without a reply path; dropped');
      return;
    }
    const replyPath = m.replyPath;
    this.peerState(nodeId)
      .then((state) => {
        if (this.dead) return;
        if (state && !state.hasChannel) {
          this.drop('not_client', nodeId, 'held_htlc_available for a node without a channel to us; dropped');
          return;
        }
        this.store(nodeId, replyPath, arrived, state);
      })
      .catch(this.fatalOr('notice'));
  }

  private store(nodeId: string, replyPath: Uint8Array, arrived: number, state: PeerState | undefined): void {
    const r = this.write(() =>
      this.mailbox.store(nodeId, replyPath, arrived, {
        perClient: this.config.maxPerClient,
        total: this.config.maxTotal,
      }),
    );
    if (!r.stored) {
      this.log.debug('held_htlc_available already stored', { client: nodeId });
      return;
    }
    this.metrics.stored();
    for (const e of r.evicted)
      this.drop(e.reason, e.nodeId, 'mailbox full; oldest notice dropped (the next retry brings it back)', {
        storing: nodeId,
      });
    this.metrics.mailboxSize(this.mailbox.storedCount());
    this.log.info('held_htlc_available stored', { client: nodeId, ready: state?.ready ?? false });
    if (state?.ready) {
      this.markOnline(nodeId);
      this.release(nodeId);
    } else this.emit('noticeStored', nodeId);
  }

  private check(nodeId: string): void {
    this.peerState(nodeId)
      .then((state) => {
        if (this.dead || !state?.ready || !state.hasChannel) return;
        this.markOnline(nodeId);
        if (this.mailbox.pending(nodeId).length > 0) this.release(nodeId);
      })
      .catch(this.fatalOr('peer check'));
  }

  private onOffline(nodeId: string): void {
    const r = this.retries.get(nodeId);
    if (r) this.clock.clearTimeout(r.timer);
    this.retries.delete(nodeId);
    if (this.online.delete(nodeId)) this.emit('clientOffline', nodeId);
  }

  private markOnline(nodeId: string): void {
    if (this.online.has(nodeId)) return;
    this.online.add(nodeId);
    this.emit('clientOnline', nodeId);
  }

  // ---- release ----

  /** Send every stored notice of a ready client; one run per client at a time. */
  private release(nodeId: string): void {
    if (this.releasing.has(nodeId)) {
      this.again.add(nodeId);
      return;
    }
    this.releasing.add(nodeId);
    this.releaseRun(nodeId)
      .catch(this.fatalOr('release'))
      .finally(() => {
        this.releasing.delete(nodeId);
        if (this.again.delete(nodeId) && !this.dead) this.release(nodeId);
      });
  }

  private async releaseRun(nodeId: string): Promise<void> {
    this.sweep();
    const relay =
      this.config.relayAll ||
      this.config.relayClients.includes(nodeId) ||
      (this.mailbox.clientByNode(nodeId)?.relay ?? false);
    const kind = relay ? 'relay' : 'release';
    let failed = 0;
    let sent = 0;
    for (const n of this.mailbox.pending(nodeId)) {
      if (this.dead) return;
      if (this.crashPoint?.('send')) this.dieThrow('crash point: send');
      try {
        if (relay) await this.host.relayNotice(nodeId, n.replyPath);
        else await this.host.sendRelease(n.replyPath);
      } catch (e) {
        failed++;
        this.metrics.sent(kind, 'error');
        this.log.warn(`${kind} for a stored notice failed; kept`, {
          client: nodeId,
          error: (e as Error).message,
        });
        continue;
      }
      this.metrics.sent(kind, 'ok');
      sent++;
      if (this.dead) return;
      this.write(() => this.mailbox.markDone(n.id, relay ? 'relayed' : 'released', this.clock.now()));
    }
    this.metrics.mailboxSize(this.mailbox.storedCount());
    if (sent > 0)
      this.log.info(relay ? 'notices relayed to client' : 'released for client', { client: nodeId, sent });
    if (failed > 0) this.scheduleRetry(nodeId);
    else this.retries.delete(nodeId);
  }

  private scheduleRetry(nodeId: string): void {
    const prev = this.retries.get(nodeId);
    if (prev) this.clock.clearTimeout(prev.timer);
    const attempt = (prev?.attempt ?? -1) + 1;
    const ms = Math.min(this.config.retryCapMs, this.config.retryBaseMs * 2 ** Math.min(attempt, 30));
    const timer = this.clock.setTimeout(() => {
      if (!this.dead) this.check(nodeId);
    }, ms);
    this.retries.set(nodeId, { timer, attempt });
  }

  // ---- housekeeping ----

  private sweep(): void {
    if (this.dead) return;
    const now = this.clock.now();
    const gone = this.write(() => this.mailbox.expire(now - this.config.expiryMs));
    for (const g of gone) this.drop('expired', g.nodeId, 'notice expired; dropped');
    this.write(() => this.mailbox.prune(now - this.config.retentionMs));
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      try {
        this.sweep();
      } catch (e) {
        this.fatalOr('sweep')(e);
      }
    }, this.config.sweepMs);
  }

  private drop(
    reason: NoticeDrop,
    nodeId: string | undefined,
    msg: string,
    fields: Record<string, unknown> = {},
  ): void {
    this.metrics.dropped(reason);
    const f = { reason, ...(nodeId ? { client: nodeId } : {}), ...fields };
    if (reason === 'unverified' || reason === 'not_client') this.log.warn(msg, f);
    else this.log.info(msg, f);
  }

  private async peerState(nodeId: string): Promise<PeerState | undefined> {
    try {
      return await this.host.peerState(nodeId);
    } catch (e) {
      // Not knowing is not a reason to lose a verified notice: store it, release on the next event.
      this.log.warn('cannot read peer state', { client: nodeId, error: (e as Error).message });
      return undefined;
    }
  }

  private emit(ev: keyof RecipientLspListener, nodeId: string): void {
    for (const l of this.listeners) {
      try {
        l[ev]?.(nodeId);
      } catch (e) {
        this.log.warn('recipient-lsp listener threw', { event: ev, error: (e as Error).message });
      }
    }
  }

  private needKey(): Uint8Array {
    if (!this.key) throw new Error('recipient-lsp engine not started');
    return this.key;
  }

  /** Run a mailbox write; a crash point or a failing write kills the engine (nothing half-done). */
  private write<T>(fn: () => T): T {
    if (this.dead) throw new Dead('engine is dead');
    if (this.crashPoint?.('write')) this.dieThrow('crash point: write');
    try {
      return fn();
    } catch (e) {
      this.dieThrow(`mailbox write failed: ${(e as Error).message}`);
    }
  }

  private dieThrow(why: string): never {
    this.die(why);
    throw new Dead(why);
  }

  private fatalOr(what: string): (e: unknown) => void {
    return (e: unknown) => {
      // A Dead error has already stopped the engine.
      if (!(e instanceof Dead))
        this.log.warn(`recipient-lsp ${what} failed`, { error: (e as Error).message });
    };
  }

  private die(why: string): void {
    if (this.dead) return;
    this.log.error('recipient-lsp engine died', { why });
    this.shutdown();
    try {
      this.onFatal?.(why);
    } catch (e) {
      this.log.error('onFatal handler threw', { error: String(e) });
    }
  }

  private shutdown(): void {
    this.dead = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    for (const r of this.retries.values()) this.clock.clearTimeout(r.timer);
    this.retries.clear();
    this.mailbox.close();
  }
}
