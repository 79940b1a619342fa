// Onion messages in and out of LND, for both LND generations:
// - 0.21 ('native'): LND peels and forwards itself. SubscribeOnionMessages hands us every message it
//   handled with the final hop's odd records >= 64 (ours: 73 / 75) and encrypted_recipient_data still
//   encrypted; we decrypt that with DeriveSharedKey to read path_id. SendOnionMessage sends a packet
//   we built to a connected peer.
// - 0.20 ('custom-message'): LND passes onion_message (type 513) through SubscribeCustomMessages
//   when started with protocol.custom-message=513; we peel the whole onion with the ECDH oracle and
//   forward what is not for us. SendCustomMessage sends.
// LND 0.21 drops an onion message whose final payload has an unknown even record or more than one
// record >= 64, so what we send carries exactly one of our records: the odd alias, or (a separate
// message, for LDK) the even number.
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import type { BlindedPath } from '../../protocol/blinded-path.js';
import type { Ecdh } from '../../protocol/ec.js';
import {
  type AsyncMessageTypes,
  DEFAULT_ASYNC_MESSAGE_TYPES,
  ONION_MESSAGE_TYPE,
  decodeOnionMessage,
  encodeOnionMessage,
  peelOnionMessage,
} from '../../protocol/onion-message.js';
import { unblindWithSecret } from '../../protocol/route-blinding.js';
import { lndError } from './errors.js';
import { recordMap } from './htlc-map.js';
import type { GrpcError, LndClients } from './grpc.js';
import { serverStream, unary } from './grpc.js';
import type { CustomMessage, OnionMessageUpdate } from './messages.js';
import type { OnionTransport as TransportKind } from './preflight.js';
import { ReconnectingStream } from './stream.js';

/** One onion message addressed to us, reduced to what the async-payment roles need. */
export interface InboundOnionMessage {
  /** The peer that handed it to us, hex. */
  peer: string;
  /** path_id from our hop's encrypted_recipient_data, when the path's creator set one. */
  pathId: Uint8Array | undefined;
  heldHtlcAvailable: boolean;
  releaseHeldHtlc: boolean;
  replyPath: BlindedPath | undefined;
}

export interface OutboundOnionMessage {
  firstNodeId: Uint8Array;
  pathKey: Uint8Array;
  packet: Uint8Array;
}

export interface OnionTransportOptions {
  kind: TransportKind;
  ourNodeId: Uint8Array;
  ecdh: Ecdh;
  types?: AsyncMessageTypes;
  /** 0.20 only: the custom message type carrying onion messages (513 unless LND renumbers). */
  customMessageType?: number;
}

export class LndOnionTransport extends ReconnectingStream<ClientReadableStream<unknown>> {
  private readonly method: 'SubscribeOnionMessages' | 'SubscribeCustomMessages';
  private readonly types: AsyncMessageTypes;
  private readonly customType: number;

  constructor(
    private readonly clients: LndClients,
    private readonly opts: OnionTransportOptions,
    private readonly onMessage: (m: InboundOnionMessage) => void,
    log: Logger,
  ) {
    const method = opts.kind === 'native' ? 'SubscribeOnionMessages' : 'SubscribeCustomMessages';
    super(log, { openFailed: `cannot open ${method}`, ended: `${method} stream ended; reconnecting` });
    this.method = method;
    this.types = opts.types ?? DEFAULT_ASYNC_MESSAGE_TYPES;
    this.customType = opts.customMessageType ?? ONION_MESSAGE_TYPE;
  }

  /**
   * Send a packet whose first hop is `firstNodeId`. When that is our own node (a path we are the
   * intro of), peel our layer first and hand the rest to the next node.
   */
  async send(msg: OutboundOnionMessage): Promise<void> {
    let { firstNodeId, pathKey, packet } = msg;
    if (Buffer.from(firstNodeId).equals(Buffer.from(this.opts.ourNodeId))) {
      const peeled = await peelOnionMessage({ pathKey, packet }, this.opts.ecdh, {
        ourNodeId: this.opts.ourNodeId,
        types: this.types,
      });
      if (peeled.kind !== 'forward' || !peeled.nextNodeId)
        throw lndError('rpc', 'onion message addressed to ourselves or to a channel id we cannot resolve');
      firstNodeId = peeled.nextNodeId;
      pathKey = peeled.nextPathKey;
      packet = peeled.packet;
    }
    await this.sendToPeer(firstNodeId, pathKey, packet);
  }

  private async sendToPeer(peer: Uint8Array, pathKey: Uint8Array, packet: Uint8Array): Promise<void> {
    try {
      if (this.opts.kind === 'native') {
        await unary(this.clients.lightning, 'SendOnionMessage', {
          peer: Buffer.from(peer),
          path_key: Buffer.from(pathKey),
          onion: Buffer.from(packet),
        });
      } else {
        await unary(this.clients.lightning, 'SendCustomMessage', {
          peer: Buffer.from(peer),
          type: this.customType,
          data: Buffer.from(encodeOnionMessage({ pathKey, packet }, false)),
        });
      }
    } catch (e) {
      const g = e as GrpcError;
      throw lndError('rpc', `sending onion message to ${bytesToHex(peer)} failed: ${g.details ?? g.message}`);
    }
  }

  protected openStream(): ClientReadableStream<unknown> {
    return serverStream(this.clients.lightning, this.method, {});
  }

  protected attach(s: ClientReadableStream<unknown>): void {
    s.on('data', (raw: unknown) => {
      this.loop.healthy();
      const work =
        this.opts.kind === 'native'
          ? this.handleNative(raw as OnionMessageUpdate)
          : this.handleCustom(raw as CustomMessage);
      // Bad input from a peer is a log line, never a crash.
      work.catch((e: unknown) => this.log.debug('ignoring onion message', { error: (e as Error).message }));
    });
  }

  private async handleNative(u: OnionMessageUpdate): Promise<void> {
    const rec = recordMap(u.custom_records);
    const has = (t: bigint): boolean => rec.has(t);
    const held = has(this.types.heldHtlcAvailable) || has(this.types.heldHtlcAvailableOdd);
    const release = has(this.types.releaseHeldHtlc) || has(this.types.releaseHeldHtlcOdd);
    // LND reports messages it forwarded too; only final-hop records make one ours.
    if (!held && !release) return;
    let pathId: Uint8Array | undefined;
    if (u.encrypted_recipient_data.length > 0) {
      const ss = await this.opts.ecdh(new Uint8Array(u.path_key));
      const hop = unblindWithSecret(
        new Uint8Array(u.path_key),
        ss,
        new Uint8Array(u.encrypted_recipient_data),
      );
      pathId = hop.data.pathId;
    }
    this.onMessage({
      peer: bytesToHex(u.peer),
      pathId,
      heldHtlcAvailable: held,
      releaseHeldHtlc: release,
      replyPath: fromRpcPath(u.reply_path),
    });
  }

  private async handleCustom(m: CustomMessage): Promise<void> {
    if (m.type !== this.customType) return;
    const msg = decodeOnionMessage(new Uint8Array(m.data), false);
    const peeled = await peelOnionMessage(msg, this.opts.ecdh, {
      ourNodeId: this.opts.ourNodeId,
      types: this.types,
    });
    if (peeled.kind === 'forward') {
      // LND 0.20 does not relay onion messages; we do, to peers we are connected to.
      if (!peeled.nextNodeId) return;
      await this.sendToPeer(peeled.nextNodeId, peeled.nextPathKey, peeled.packet);
      return;
    }
    if (!peeled.heldHtlcAvailable && !peeled.releaseHeldHtlc) return;
    this.onMessage({
      peer: bytesToHex(m.peer),
      pathId: peeled.pathId,
      heldHtlcAvailable: peeled.heldHtlcAvailable,
      releaseHeldHtlc: peeled.releaseHeldHtlc,
      replyPath: peeled.replyPath,
    });
  }
}

function fromRpcPath(p: OnionMessageUpdate['reply_path']): BlindedPath | undefined {
  if (!p || p.introduction_node.length !== 33 || p.blinded_hops.length === 0) return undefined;
  return {
    firstNode: { nodeId: new Uint8Array(p.introduction_node) },
    firstPathKey: new Uint8Array(p.blinding_point),
    hops: p.blinded_hops.map((h) => ({
      blindedNodeId: new Uint8Array(h.blinded_node),
      encryptedRecipientData: new Uint8Array(h.encrypted_data),
    })),
  };
}
