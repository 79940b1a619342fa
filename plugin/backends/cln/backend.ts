// Core Lightning as an engine Backend. The plugin host hands hook payloads and notifications here;
// this converts them to engine events once, at the edge, and turns engine requests into lightningd
// RPC calls (getinfo, makesecret, injectonionmessage, xpay; getroute/sendonion for keysend).
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type {
  Backend,
  HeldHtlcNotice,
  Height,
  HostEvents,
  HostHtlcState,
  InterceptedHtlc,
  PayRequest,
  PayResult,
  Verdict,
} from '../../hold/backend.js';
import { SupersededError } from '../../hold/backend.js';
import type { Logger } from '../../ops/log.js';
import { decodeBlindedPath, introNodeId, type BlindedPath } from '../../protocol/blinded-path.js';
import {
  DEFAULT_HELD_HTLC_VARIANTS,
  buildHeldHtlcAvailableVariants,
  type AsyncMessageTypes,
} from '../../protocol/onion-message.js';
import { scidToString } from '../../protocol/short-channel-id.js';
import {
  answerFor,
  failAnswer,
  HtlcInputError,
  isValidHtlcAnswer,
  parseHtlcAccepted,
  releasedAnswer,
  type HtlcAcceptedAnswer,
} from './htlc-accepted.js';
import type { TypeNumbers } from './manifest.js';
import {
  CONTINUE,
  isValidOnionMessageAnswer,
  parseBlockAdded,
  parseOnionMessageRecv,
  type OnionMessageRecv,
} from './onion-message-recv.js';
import { payKeysend } from './keysend.js';
import { ClnOnionRouter } from './onion-route.js';
import { NO_ANSWER, errText, type HookHandler } from './plugin-host.js';
import { ClnRpcError, RPC_TRANSPORT_ERROR, type RpcCaller } from './rpc-client.js';

/** makesecret input: the release key is derived from hsm_secret, stable across restarts. */
export const RELEASE_KEY_LABEL = 'async-trampoline release-path key v1';

export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
}

export interface ClnBackendOptions {
  rpc: RpcCaller;
  types: TypeNumbers;
  logger: Logger;
  /** How often trackPayment looks at a payment still pending in listpays. */
  trackPollMs?: number;
  /** held_htlc_available encodings to send, each its own message (default odd, then even). */
  variants?: readonly ('odd' | 'even')[];
}

/** How often trackPayment looks again at a payment lightningd still has pending. */
export const DEFAULT_TRACK_POLL_MS = 5000;

export class ClnBackend implements Backend {
  private events: HostEvents | undefined;
  private height: Height | undefined;
  private id: string | undefined;
  private key: Uint8Array | undefined;
  private readonly log: Logger;
  private readonly releaseTypes: Set<bigint>;
  /** Settles every htlc_accepted still waiting on the engine once the engine has died. */
  private engineDeath: { promise: Promise<'dead'>; resolve: (v: 'dead') => void };
  private dead = false;
  private readonly onionListeners: ((m: OnionMessageRecv) => void)[] = [];
  /** Routes onion messages over the graph when a path's intro is not our peer. */
  readonly router: ClnOnionRouter;

  constructor(private readonly opts: ClnBackendOptions) {
    this.log = opts.logger.child({ component: 'cln-backend' });
    this.router = new ClnOnionRouter(opts.rpc, () => this.nodeId(), this.log.child({ part: 'onion-route' }));
    this.releaseTypes = new Set(opts.types.releaseHeldHtlc);
    let resolve!: (v: 'dead') => void;
    const promise = new Promise<'dead'>((r) => (resolve = r));
    this.engineDeath = { promise, resolve };
  }

  /**
   * The engine died and will answer nothing more: fail every HTLC waiting on it and every later one,
   * rather than leave them pending in lightningd.
   */
  engineDied(): void {
    if (this.dead) return;
    this.dead = true;
    this.log.error('hold engine died; failing HTLCs until restarted');
    this.engineDeath.resolve('dead');
  }

  async start(events: HostEvents): Promise<void> {
    const info = await this.opts.rpc.call<{ id?: unknown; blockheight?: unknown }>('getinfo');
    if (typeof info.id !== 'string' || !/^0[23][0-9a-f]{64}$/.test(info.id))
      throw new Error('getinfo: no node id');
    this.id = info.id;
    if (typeof info.blockheight === 'number') this.noteHeight(info.blockheight);
    this.events = events;
  }

  /**
   * The height deadlines are judged at. Right after a restart lightningd's own height (getinfo,
   * replayed block_added, hook payloads) lags the chain until it has caught up, which happens only
   * after plugin init; its Bitcoin backend already knows the tip (`getchaininfo`), so the higher of
   * the two is used: a deadline that passed while we were down is seen at once.
   */
  private async chainHeight(): Promise<number> {
    const info = await this.opts.rpc.call<{ blockheight?: unknown }>('getinfo');
    if (typeof info.blockheight !== 'number') throw new Error('getinfo: no blockheight');
    let tip: number | undefined;
    try {
      const c = await this.opts.rpc.call<{ blockcount?: unknown }>('getchaininfo', {
        last_height: info.blockheight,
      });
      if (typeof c.blockcount === 'number') tip = c.blockcount;
    } catch (e) {
      this.log.warn('getchaininfo failed; using lightningd height', { error: errText(e) });
    }
    if (tip !== undefined && tip > info.blockheight) {
      this.log.info('lightningd is behind the chain tip; deadlines use the tip', {
        lightningd: info.blockheight,
        tip,
      });
      return tip;
    }
    return info.blockheight;
  }

  async htlcStates(keys: readonly string[]): Promise<ReadonlyMap<string, HostHtlcState>> {
    type Htlc = { direction?: unknown; id?: unknown; state?: unknown };
    type Chan = { short_channel_id?: unknown; alias?: { local?: unknown }; htlcs?: Htlc[] };
    const r = await this.opts.rpc.call<{ channels?: Chan[] }>('listpeerchannels');
    const live = new Set<string>();
    for (const c of r.channels ?? []) {
      const names = [c.short_channel_id, c.alias?.local].filter((x): x is string => typeof x === 'string');
      for (const h of c.htlcs ?? []) {
        // An incoming HTLC being removed (REMOVE states) was failed or fulfilled: no longer ours.
        if (h.direction !== 'in' || typeof h.id !== 'number') continue;
        if (typeof h.state === 'string' && h.state.includes('REMOVE')) continue;
        for (const n of names) live.add(`${n}/${h.id}`);
      }
    }
    const out = new Map<string, HostHtlcState>();
    for (const key of keys) {
      if (live.has(key)) {
        out.set(key, 'pending');
        continue;
      }
      const [scid, id] = key.split('/');
      const f = await this.opts.rpc.call<{ forwards?: { in_htlc_id?: unknown; status?: unknown }[] }>(
        'listforwards',
        { in_channel: scid },
      );
      const fwd = (f.forwards ?? []).find((x) => String(x.in_htlc_id) === id);
      // settled/offered: it went out (never by us: we commit forwarded before answering continue).
      // failed/local_failed, or no forward at all: lightningd failed it back.
      const state: HostHtlcState =
        fwd && (fwd.status === 'settled' || fwd.status === 'offered') ? 'forwarded' : 'failed';
      this.log.info('held HTLC no longer live at lightningd', { key, forward: fwd?.status ?? 'none' });
      out.set(key, state);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.events = undefined;
  }

  async nodeId(): Promise<string> {
    if (this.id) return this.id;
    const info = await this.opts.rpc.call<{ id?: unknown }>('getinfo');
    if (typeof info.id !== 'string') throw new Error('getinfo: no node id');
    this.id = info.id;
    return info.id;
  }

  async currentHeight(): Promise<Height> {
    if (this.height !== undefined) return this.height;
    const h = await this.chainHeight();
    this.noteHeight(h);
    return h;
  }

  async releaseKey(): Promise<Uint8Array> {
    if (this.key) return this.key;
    const r = await this.opts.rpc.call<{ secret?: unknown }>('makesecret', { string: RELEASE_KEY_LABEL });
    if (typeof r.secret !== 'string' || !/^[0-9a-f]{64}$/i.test(r.secret))
      throw new Error('makesecret: no secret');
    this.key = hexToBytes(r.secret);
    return this.key;
  }

  /** CLN exposes no node-key ECDH; it peels onion messages itself and gives us the path_id. */
  async ecdh(_point: Uint8Array): Promise<Uint8Array> {
    throw new UnsupportedError(
      'Core Lightning offers no node-key ECDH; onion messages are peeled by lightningd',
    );
  }

  async sendHeldHtlcAvailable(notice: HeldHtlcNotice): Promise<void> {
    const ourNodeId = hexToBytes(await this.nodeId());
    const dest = decodeBlindedPath(notice.messagePath);
    const intro = introNodeId(dest) ?? (await this.introByScid(dest));
    // One message per encoding (see buildHeldHtlcAvailableVariants); injectonionmessage makes
    // lightningd "receive" the packet, so our node must be its first hop.
    const messages = buildHeldHtlcAvailableVariants({
      messagePath: dest,
      replyPathId: notice.replyPathId,
      ourNodeId,
      variants: this.opts.variants ?? DEFAULT_HELD_HTLC_VARIANTS,
      types: this.messageTypes(),
      prependOurNode: true,
      via: await this.router.via(intro),
      introNodeId: intro,
    });
    for (const msg of messages) {
      // Fails with "unknown next peer" until the peer has reconnected (e.g. right after a restart);
      // the engine's notifier retries with backoff.
      await this.opts.rpc.call('injectonionmessage', {
        path_key: bytesToHex(msg.pathKey),
        message: bytesToHex(msg.packet),
      });
    }
    this.log.debug('held_htlc_available sent', { messages: messages.length });
  }

  /** The node at one end of a channel, for a blinded path whose intro node is named by scid. */
  private async introByScid(p: BlindedPath): Promise<Uint8Array> {
    if (!('scid' in p.firstNode)) throw new Error('unreachable');
    const { scid, direction } = p.firstNode;
    const r = await this.opts.rpc.call<{ channels?: { source?: unknown; destination?: unknown }[] }>(
      'listchannels',
      {
        short_channel_id: scidToString(scid),
      },
    );
    const c = r.channels?.[0];
    if (!c || typeof c.source !== 'string' || typeof c.destination !== 'string') {
      throw new Error(`message path intro channel ${scidToString(scid)} is unknown`);
    }
    // BOLT 4 sciddir: direction 0 is node_id_1, the lesser of the two ids.
    const [lo, hi] = [c.source, c.destination].sort();
    return hexToBytes((direction === 0 ? lo : hi) as string);
  }

  async pay(req: PayRequest): Promise<PayResult> {
    const r = req.request;
    // CLN's keysend picks its own preimage; keysend.ts sends our own onion with the sender's.
    if (!r.invoice) return payKeysend(this.opts.rpc, req);
    const height = await this.currentHeight();
    const maxdelay = req.maxExpiry - height;
    if (maxdelay <= 0) return { ok: false, reason: 'no blocks left for the onward payment' };
    const amount = r.amtToForwardMsat;
    const params: Record<string, unknown> = { invstring: r.invoice, maxdelay };
    if (amount !== undefined) {
      if (amount > req.maxAmountMsat) return { ok: false, reason: 'amount exceeds what we may spend' };
      params.amount_msat = amount;
      params.maxfee = req.maxAmountMsat - amount;
    }
    try {
      const res = await this.opts.rpc.call<{ payment_preimage?: unknown; amount_sent_msat?: unknown }>(
        'xpay',
        params,
      );
      if (typeof res.payment_preimage !== 'string' || !/^[0-9a-f]{64}$/i.test(res.payment_preimage)) {
        return { ok: false, reason: 'xpay returned no preimage' };
      }
      return { ok: true, preimage: hexToBytes(res.payment_preimage) };
    } catch (e) {
      // An error answer from xpay means the payment failed (xpay answers only once every part is
      // resolved). A lost connection says nothing: the payment may be in flight, so throw and let the
      // engine ask trackPayment instead of failing the incoming HTLC while we might still be paying.
      if (e instanceof ClnRpcError && e.code !== RPC_TRANSPORT_ERROR) return { ok: false, reason: e.message };
      throw e;
    }
  }

  /** After a restart: the outcome of an earlier xpay to this hash, from listpays. */
  async trackPayment(paymentHash: Uint8Array): Promise<PayResult | undefined> {
    const hash = bytesToHex(paymentHash);
    const everyMs = this.opts.trackPollMs ?? DEFAULT_TRACK_POLL_MS;
    for (let polls = 0; ; polls++) {
      const r = await this.opts.rpc.call<{ pays?: unknown }>('listpays', { payment_hash: hash });
      const pays = Array.isArray(r.pays) ? (r.pays as Record<string, unknown>[]) : [];
      if (pays.length === 0) return undefined;
      const done = pays.find((p) => p.status === 'complete');
      if (done) {
        const pre = done.preimage;
        if (typeof pre === 'string' && /^[0-9a-f]{64}$/i.test(pre))
          return { ok: true, preimage: hexToBytes(pre) };
        return { ok: false, reason: 'listpays: complete without a preimage' };
      }
      if (pays.every((p) => p.status === 'failed')) return { ok: false, reason: 'earlier payment failed' };
      // Once per lookup: the operator sees why the hold stays paying, without a line every poll.
      if (polls === 0)
        this.log.info('onward payment still pending; polling listpays', {
          payment_hash: hash,
          every_ms: everyMs,
        });
      await new Promise((res) => setTimeout(res, everyMs));
    }
  }

  // --- host events, called by the plugin host -----------------------------------------------

  readonly htlcAcceptedHook: HookHandler<HtlcAcceptedAnswer> = {
    handle: (params) => this.onHtlcAccepted(params),
    validate: isValidHtlcAnswer,
    // Failing is the only answer that can never lose money: continue would forward a held HTLC.
    fallback: () => failAnswer(false),
  };

  readonly onionMessageHook: HookHandler<typeof CONTINUE> = {
    handle: async (params) => {
      this.onOnionMessage(params);
      return CONTINUE;
    },
    validate: isValidOnionMessageAnswer,
    fallback: () => CONTINUE,
  };

  onBlockAdded(params: unknown): void {
    const h = parseBlockAdded(params);
    if (h === undefined) {
      this.log.warn('block_added without a usable height');
      return;
    }
    if (this.noteHeight(h)) this.events?.block(h);
  }

  private async onHtlcAccepted(params: unknown): Promise<HtlcAcceptedAnswer | typeof NO_ANSWER> {
    let parsed;
    try {
      parsed = parseHtlcAccepted(params, this.opts.types);
    } catch (e) {
      const trampoline = e instanceof HtlcInputError && e.trampoline;
      this.log.warn('failing an HTLC whose hook payload we cannot read', { error: errText(e) });
      return failAnswer(trampoline);
    }
    const { htlc, height } = parsed;
    if (height !== undefined && this.noteHeight(height)) this.events?.block(height);
    const events = this.events;
    if (!events) throw new Error('htlc before the engine started');
    if (this.dead) return deadAnswer(htlc);
    let verdict: Verdict | 'dead';
    try {
      verdict = await Promise.race([events.htlc(htlc), this.engineDeath.promise]);
      if (verdict === 'dead') return deadAnswer(htlc);
    } catch (e) {
      if (e instanceof SupersededError) return NO_ANSWER;
      throw e;
    }
    // A released async HTLC leaves without our markers (see releasedAnswer); a plain one as it came.
    if (verdict.kind === 'continue' && isAsync(htlc)) return releasedAnswer(params, this.opts.types);
    return answerFor(verdict, htlc.paymentHash);
  }

  /** Other roles on this node (recipient-LSP mode) see every onion message for our paths. */
  onInboundOnionMessage(fn: (m: OnionMessageRecv) => void): void {
    this.onionListeners.push(fn);
  }

  private onOnionMessage(params: unknown): void {
    const m = parseOnionMessageRecv(params);
    if (!m) return;
    for (const fn of this.onionListeners) {
      try {
        fn(m);
      } catch (e) {
        this.log.warn('onion message listener failed', { error: errText(e) });
      }
    }
    if (!m.fieldTypes.some((t) => this.releaseTypes.has(t))) return;
    this.events?.release(m.pathSecret);
  }

  /** True when `h` is a new best height. */
  private noteHeight(h: number): boolean {
    if (this.height !== undefined && h <= this.height) return false;
    this.height = h;
    return true;
  }

  private messageTypes(): AsyncMessageTypes {
    const t = this.opts.types;
    return {
      heldHtlcAvailable: t.heldHtlcAvailable[0] as bigint,
      heldHtlcAvailableOdd: t.heldHtlcAvailable[1] as bigint,
      releaseHeldHtlc: t.releaseHeldHtlc[0] as bigint,
      releaseHeldHtlcOdd: t.releaseHeldHtlc[1] as bigint,
    };
  }
}

function isAsync(h: InterceptedHtlc): boolean {
  return h.holdFlag || h.asyncHold !== undefined || h.trampoline !== undefined;
}

/** With the engine dead: HTLCs it would never hold pass, async ones fail (never forwarded unheld). */
function deadAnswer(h: InterceptedHtlc): HtlcAcceptedAnswer {
  if (!isAsync(h)) return { result: 'continue' };
  return failAnswer(h.trampoline !== undefined);
}
