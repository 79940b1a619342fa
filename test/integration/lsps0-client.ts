// A small LSPS0 client for real-node tests: it speaks from a client LND node over
// SendCustomMessage / SubscribeCustomMessages (type 37913), sending the payload bytes it is given
// exactly, and matches answers by JSON-RPC id. LSPS0 clients time out and may resend; so does this
// one, because LND gives no sign of when the LSP's subscription is in place.
import { randomBytes } from 'node:crypto';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { cancelStream, serverStream, unary, type LndClients } from '../../plugin/backends/lnd/grpc.js';

export interface Answer {
  jsonrpc: string;
  id: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

export class Lsps0Client {
  private stream: ClientReadableStream<unknown>;
  /** Every 37913 payload the LSP sent us, as text, in arrival order. */
  readonly received: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly lnd: LndClients,
    private readonly lspNodeId: string,
  ) {
    this.stream = serverStream(lnd.lightning, 'SubscribeCustomMessages', {});
    this.stream.on('data', (m: { peer: Buffer; type: number; data: Buffer }) => {
      if (m.type !== 37913 || m.peer.toString('hex') !== this.lspNodeId) return;
      this.received.push(m.data.toString('utf8'));
      for (const w of this.waiters.splice(0)) w();
    });
    this.stream.on('error', () => {});
  }

  static newId(): string {
    // bLIP-50: a high-entropy id, at least 80 random bits.
    return randomBytes(16).toString('hex');
  }

  /** Sends `payload` byte for byte; resolves with the first answer `match` accepts. */
  async send(payload: string, match: (a: Answer) => boolean, timeoutMs = 60_000): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const from = this.received.length;
      await unary(this.lnd.lightning, 'SendCustomMessage', {
        peer: Buffer.from(this.lspNodeId, 'hex'),
        type: 37913,
        data: Buffer.from(payload, 'utf8'),
      });
      const resendAt = Math.min(deadline, Date.now() + 3000);
      while (Date.now() < resendAt) {
        for (const text of this.received.slice(from)) {
          const a = JSON.parse(text) as Answer;
          if (match(a)) return a;
        }
        await new Promise<void>((res) => {
          this.waiters.push(res);
          setTimeout(res, 200);
        });
      }
      if (Date.now() >= deadline) throw new Error(`no LSPS0 answer to ${payload.slice(0, 80)}`);
    }
  }

  /** A request as bLIP-50 writes them (method, jsonrpc, id, params), answered by its id. */
  call(method: string, params: Record<string, unknown> = {}): Promise<Answer> {
    const id = Lsps0Client.newId();
    const payload = `{"method":${JSON.stringify(method)},"jsonrpc":"2.0","id":"${id}","params":${JSON.stringify(params)}}`;
    return this.send(payload, (a) => a.id === id);
  }

  close(): void {
    cancelStream(this.stream);
  }
}
