// A simulated LSPS host for tests: peer messages through memory, signatures with an in-process key
// (the same format LND and CLN produce), and loopback HTTP receivers that record webhook calls.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { activeEc } from '../../plugin/protocol/ec.js';
import { lnSign } from '../../plugin/lsps/ln-signature.js';
import type { LspsHost, PeerMessageHandler } from '../../plugin/lsps/host.js';

export class SimLspsHost implements LspsHost {
  readonly nodeId: string;
  readonly connected = new Set<string>();
  private onMessage: PeerMessageHandler | undefined;
  private waiting = new Map<string, ((s: string) => void)[]>();
  signCalls = 0;

  constructor(private readonly priv: Uint8Array = new Uint8Array(32).fill(0x42)) {
    this.nodeId = bytesToHex(activeEc().publicKey(priv));
  }

  start(h: PeerMessageHandler): Promise<void> {
    this.onMessage = h;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.onMessage = undefined;
    return Promise.resolve();
  }
  send(peer: string, payload: Uint8Array): Promise<void> {
    this.waiting.get(peer)?.shift()?.(new TextDecoder().decode(payload));
    return Promise.resolve();
  }
  signMessage(message: string): Promise<string> {
    this.signCalls++;
    return Promise.resolve(lnSign(utf8ToBytes(message), this.priv));
  }
  isConnected(peer: string): Promise<boolean> {
    return Promise.resolve(this.connected.has(peer));
  }

  /** `peer` sends `payload` (a string as UTF-8); resolves with our answer as text. */
  request(peer: string, payload: string | object): Promise<string> {
    if (!this.onMessage) throw new Error('host not started');
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const answer = new Promise<string>((res) => {
      const list = this.waiting.get(peer) ?? [];
      list.push(res);
      this.waiting.set(peer, list);
    });
    this.onMessage(peer, new TextEncoder().encode(text));
    return answer;
  }

  /** A JSON-RPC call from `peer`; resolves with the parsed answer. */
  async call(peer: string, method: string, params: object = {}): Promise<RpcAnswer> {
    const id = `${method}#${Math.random().toString(16).slice(2)}`;
    const a = JSON.parse(await this.request(peer, { jsonrpc: '2.0', method, params, id })) as RpcAnswer;
    if (a.id !== id) throw new Error(`answer for ${String(a.id)} to request ${id}`);
    return a;
  }
}

export interface RpcAnswer {
  jsonrpc: '2.0';
  id: string | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

export interface WebhookCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Behaviour = { kind: 'answer'; status: number; location?: string } | { kind: 'hang' };

/** A loopback HTTP server that records every call and answers as told. */
export class Receiver {
  readonly calls: WebhookCall[] = [];
  behaviour: Behaviour = { kind: 'answer', status: 200 };
  private server: Server;
  private waiters: { n: number; res: () => void }[] = [];
  private hanging: (() => void)[] = [];

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.calls.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        for (const w of this.waiters.filter((x) => this.calls.length >= x.n)) w.res();
        this.waiters = this.waiters.filter((x) => this.calls.length < x.n);
        const b = this.behaviour;
        if (b.kind === 'hang') {
          this.hanging.push(() => res.destroy());
          return;
        }
        res.writeHead(b.status, b.location ? { location: b.location } : {});
        res.end('ignored by the LSP');
      });
    });
  }

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    await new Promise<void>((res) => r.server.listen(0, '127.0.0.1', res));
    return r;
  }

  url(path = '/push?token=secret-token-123'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Resolves once `n` calls have arrived. */
  waitCalls(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((res) => this.waiters.push({ n, res }));
  }

  async close(): Promise<void> {
    for (const h of this.hanging.splice(0)) h();
    this.server.closeAllConnections();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

/** A loopback URL nothing listens on (a port we bound and released). */
export async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return `http://127.0.0.1:${port}/down`;
}
