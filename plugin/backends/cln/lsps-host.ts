// The LSPS host over Core Lightning: the `custommsg` hook hands us every custom peer message (type
// in its first two bytes; CLN passes only odd types, and 37913 is odd), `sendcustommsg` sends,
// `signmessage` signs (its `zbase` field is the LND-compatible LN signature), `listpeers` tells
// presence. The hook always answers `continue` at once: handling runs after the answer, so a slow
// LSPS request never holds lightningd's peer daemon, and other plugins still see the message.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { LspsHost, PeerMessageHandler } from '../../lsps/host.js';
import type { Logger } from '../../ops/log.js';
import { isObject } from './jsonrpc.js';
import type { HookHandler } from './plugin-host.js';
import type { RpcCaller } from './rpc-client.js';

const CONTINUE = { result: 'continue' } as const;
type Continue = typeof CONTINUE;

/** The custommsg hook's payload: `{ peer_id, payload }`, payload hex with the 2-byte type first. */
export function parseCustomMsg(
  params: unknown,
): { peer: string; type: number; body: Uint8Array } | undefined {
  if (!isObject(params)) return undefined;
  const { peer_id: peer, payload } = params;
  if (typeof peer !== 'string' || !/^0[23][0-9a-fA-F]{64}$/.test(peer)) return undefined;
  if (typeof payload !== 'string' || payload.length < 4 || !/^([0-9a-fA-F]{2})+$/.test(payload))
    return undefined;
  const bytes = hexToBytes(payload);
  return { peer: peer.toLowerCase(), type: (bytes[0]! << 8) | bytes[1]!, body: bytes.subarray(2) };
}

export class ClnLspsHost implements LspsHost {
  private onMessage: PeerMessageHandler | undefined;

  constructor(
    private readonly rpc: RpcCaller,
    private readonly messageType: number,
    private readonly log: Logger,
  ) {}

  /** Register as `hooks.custommsg` at plugin start; it passes everything on until start() is called. */
  readonly custommsgHook: HookHandler<Continue> = {
    handle: (params) => {
      const m = parseCustomMsg(params);
      if (m && m.type === this.messageType && this.onMessage) {
        const deliver = this.onMessage;
        setImmediate(() => {
          try {
            deliver(m.peer, m.body);
          } catch (e) {
            this.log.warn('LSPS message handler failed', { error: (e as Error).message });
          }
        });
      }
      return Promise.resolve(CONTINUE);
    },
    validate: (a): a is Continue => isObject(a) && a.result === 'continue' && Object.keys(a).length === 1,
    fallback: () => CONTINUE,
  };

  start(onMessage: PeerMessageHandler): Promise<void> {
    this.onMessage = onMessage;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.onMessage = undefined;
    return Promise.resolve();
  }

  async send(peer: string, payload: Uint8Array): Promise<void> {
    const msg = new Uint8Array(2 + payload.length);
    msg[0] = this.messageType >> 8;
    msg[1] = this.messageType & 0xff;
    msg.set(payload, 2);
    await this.rpc.call('sendcustommsg', { node_id: peer, msg: bytesToHex(msg) });
  }

  async signMessage(message: string): Promise<string> {
    const r = await this.rpc.call<{ zbase?: unknown }>('signmessage', { message });
    if (typeof r.zbase !== 'string') throw new Error('signmessage returned no zbase signature');
    return r.zbase;
  }

  async isConnected(peer: string): Promise<boolean> {
    const r = await this.rpc.call<{ peers?: { connected?: unknown }[] }>('listpeers', { id: peer });
    return (r.peers ?? []).some((p) => p.connected === true);
  }
}
