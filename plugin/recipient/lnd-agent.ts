// The recipient agent for a recipient running LND: while online, answer every held_htlc_available
// that reaches us with release_held_htlc over the message's reply path, so the sender's LSP forwards
// (or pays) the HTLC it holds for us.
//
// On LND 0.21 held_htlc_available arrives through SubscribeOnionMessages as the odd alias (LND drops
// the even type); on 0.20 as custom message 513, peeled by us with DeriveSharedKey. The answer is two
// messages over the same reply path, each with exactly one record (LND 0.21 drops a message with an
// unknown even record or with two records >= 64): the odd alias 75 for an LSP on CLN or LND, then
// 74 for one on LDK, which reads only that. The LSP that drops one of them still gets the other, and
// one that reads both takes the second as a duplicate. LND sends either: it never reads our payload.
import { bytesToHex } from '@noble/hashes/utils.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../ops/log.js';
import { type BlindedPath, introNodeId } from '../protocol/blinded-path.js';
import {
  type AsyncMessageTypes,
  DEFAULT_ASYNC_MESSAGE_TYPES,
  DEFAULT_RELEASE_HELD_HTLC_VARIANTS,
  type ReleaseHeldHtlcVariant,
} from '../protocol/onion-message.js';
import { type ReleasesSent, sendReleases } from './release.js';
import {
  connectLnd,
  unary,
  type LndClients,
  type LndConnectOptions,
  type GrpcError,
} from '../backends/lnd/grpc.js';
import { lndError } from '../backends/lnd/errors.js';
import type { Peer } from '../backends/lnd/messages.js';
import { LndOnionTransport, type InboundOnionMessage } from '../backends/lnd/onion-transport.js';
import { describeProblems, preflight, type LndFacts } from '../backends/lnd/preflight.js';

export interface RecipientAgentOptions {
  lnd: LndConnectOptions;
  log: Logger;
  /** Nodes to route the release through when the reply path's intro is not our peer (our LSP). */
  via?: Uint8Array[];
  /** Only answer messages that came over one of our own message paths with an accepted path_id. */
  acceptPathId?: (pathId: Uint8Array | undefined) => boolean;
  /** Release encodings to send, each its own message; default odd then even (LDK LSPs). */
  releaseVariants?: ReleaseHeldHtlcVariant[];
  types?: AsyncMessageTypes;
  customMessageType?: number;
}

export interface ReleaseSent {
  replyIntro: string;
  pathId: Uint8Array | undefined;
}

export class LndRecipientAgent {
  private clients: LndClients | undefined;
  private transport: LndOnionTransport | undefined;
  private facts: LndFacts | undefined;
  private readonly listeners: ((r: ReleaseSent) => void)[] = [];
  /** Reply paths answered recently (by first path key), so retries of one notice are not re-answered forever. */
  private readonly answered = new Map<string, number>();

  constructor(private readonly opts: RecipientAgentOptions) {}

  get nodeId(): string {
    if (!this.facts) throw lndError('rpc', 'agent not started');
    return this.facts.nodeId;
  }

  /** Called after each release the agent sent (tests and the CLI log it). */
  onRelease(fn: (r: ReleaseSent) => void): void {
    this.listeners.push(fn);
  }

  async start(): Promise<void> {
    const clients = connectLnd(this.opts.lnd);
    const pf = await preflight(clients, {
      role: 'recipient',
      onionMessageType: this.opts.customMessageType ?? 513,
    });
    for (const w of pf.warnings) this.opts.log.warn(w);
    if (pf.problems.length > 0 || !pf.facts) {
      clients.close();
      throw lndError(
        pf.problems[0]?.code ?? 'rpc',
        `recipient agent cannot start:\n${describeProblems(pf.problems)}`,
      );
    }
    this.clients = clients;
    this.facts = pf.facts;
    const ourNodeId = new Uint8Array(Buffer.from(pf.facts.nodeId, 'hex'));
    this.transport = new LndOnionTransport(
      clients,
      {
        kind: pf.facts.onionTransport,
        ourNodeId,
        ecdh: (p) => this.ecdh(p),
        types: this.opts.types ?? DEFAULT_ASYNC_MESSAGE_TYPES,
        ...(this.opts.customMessageType !== undefined
          ? { customMessageType: this.opts.customMessageType }
          : {}),
      },
      (m) => {
        this.onMessage(m).catch((e: unknown) =>
          this.opts.log.warn('could not answer held_htlc_available', { error: (e as Error).message }),
        );
      },
      this.opts.log.child({ part: 'onion' }),
    );
    this.transport.start();
    this.opts.log.info('recipient agent listening', {
      node: pf.facts.nodeId,
      transport: pf.facts.onionTransport,
    });
  }

  async stop(): Promise<void> {
    this.transport?.stop();
    this.clients?.close();
    this.transport = undefined;
    this.clients = undefined;
  }

  private async ecdh(point: Uint8Array): Promise<Uint8Array> {
    const res = await unary<{ shared_key: Buffer }>(this.clients!.signer, 'DeriveSharedKey', {
      ephemeral_pubkey: Buffer.from(point),
    });
    return new Uint8Array(res.shared_key);
  }

  private async onMessage(m: InboundOnionMessage): Promise<void> {
    if (!m.heldHtlcAvailable) return;
    if (!m.replyPath) {
      this.opts.log.warn('held_htlc_available without a reply path; nothing to answer', { peer: m.peer });
      return;
    }
    if (this.opts.acceptPathId && !this.opts.acceptPathId(m.pathId)) {
      this.opts.log.warn('held_htlc_available over a path we did not issue; ignored', { peer: m.peer });
      return;
    }
    const keyOf = bytesToHex(m.replyPath.firstPathKey);
    const now = Date.now();
    for (const [k, t] of this.answered) if (now - t > 10 * 60_000) this.answered.delete(k);
    if (this.answered.has(keyOf)) return;
    this.answered.set(keyOf, now);
    await this.release(m.replyPath);
    for (const fn of this.listeners)
      fn({ replyIntro: bytesToHex(introNodeId(m.replyPath) ?? new Uint8Array()), pathId: m.pathId });
  }

  /** Send release_held_htlc over a reply path (exposed for tests that forge or replay releases). */
  async release(replyPath: BlindedPath): Promise<void> {
    const transport = this.transport;
    if (!transport) throw lndError('rpc', 'agent not started');
    const intro = introNodeId(replyPath);
    if (!intro) throw lndError('rpc', 'reply path names its intro node by channel id; not supported');
    const via = (await this.isPeer(intro)) ? [] : (this.opts.via ?? []);
    if (via.length === 0 && !(await this.isPeer(intro)))
      throw lndError('rpc', `reply path intro ${bytesToHex(intro)} is not our peer and no --via node is set`);
    let r: ReleasesSent;
    try {
      r = await sendReleases((m) => transport.send(m), {
        replyPath,
        via,
        variants: this.opts.releaseVariants ?? DEFAULT_RELEASE_HELD_HTLC_VARIANTS,
        types: this.opts.types ?? DEFAULT_ASYNC_MESSAGE_TYPES,
      });
    } catch (e) {
      throw lndError('rpc', (e as Error).message);
    }
    for (const f of r.failed) this.opts.log.warn('release_held_htlc variant not sent', f);
    this.opts.log.info('release_held_htlc sent', {
      intro: bytesToHex(intro),
      via: via.map((v) => bytesToHex(v)),
      variants: r.sent,
    });
  }

  private async isPeer(node: Uint8Array): Promise<boolean> {
    try {
      const r = await unary<{ peers: Peer[] }>(this.clients!.lightning, 'ListPeers', {});
      return r.peers.some((p) => p.pub_key === bytesToHex(node));
    } catch (e) {
      throw lndError('rpc', `ListPeers failed: ${(e as GrpcError).details ?? (e as Error).message}`);
    }
  }
}

/** A fresh random 32-byte path_id for a message path. */
export const newPathId = (): Uint8Array => new Uint8Array(randomBytes(32));
