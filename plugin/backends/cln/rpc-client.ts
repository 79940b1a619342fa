// Client for lightningd's JSON-RPC unix socket. Replaces clightningjs's RpcWrapper (see README), which
// sent every request with id 0 and let each pending call take the next chunk of bytes, so overlapping
// calls received each other's answers. Here every call gets its own string id, answers are matched by
// id whatever their order, a slow call never blocks the others, and a lost connection fails only
// the calls in flight (the next call reconnects).
import { createConnection, type Socket } from 'node:net';
import type { Logger } from '../../ops/log.js';
import { JsonObjectStream, frame } from './framing.js';
import { classify, type JsonRpcErrorObject } from './jsonrpc.js';

export class ClnRpcError extends Error {
  override readonly name = 'ClnRpcError';
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method} failed (${code}): ${message}`);
  }
}

/** Code used when the call never got an answer (socket closed, timeout). */
export const RPC_TRANSPORT_ERROR = -1;

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export interface ClnRpcOptions {
  socketPath: string;
  logger: Logger;
  /** Prefix for our request ids; lightningd shows it in its logs. */
  idPrefix?: string;
  /** Per-call timeout; 0 (default) waits forever, as xpay may legitimately take minutes. */
  timeoutMs?: number;
}

export interface RpcCaller {
  call<T = unknown>(
    method: string,
    params?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): Promise<T>;
}

export class ClnRpc implements RpcCaller {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly opts: ClnRpcOptions) {
    this.log = opts.logger.child({ component: 'cln-rpc' });
  }

  async call<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    callOpts: { timeoutMs?: number } = {},
  ): Promise<T> {
    if (this.closed) throw new ClnRpcError(method, RPC_TRANSPORT_ERROR, 'rpc client closed');
    const socket = await this.connect();
    const id = `${this.opts.idPrefix ?? 'async-trampoline'}:${method}#${this.nextId++}`;
    const timeoutMs = callOpts.timeoutMs ?? this.opts.timeoutMs ?? 0;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = {
        method,
        resolve: (v) => resolve(v as T),
        reject,
        timer: undefined,
      };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          // A late answer for this id is then ignored (it is no longer pending).
          this.pending.delete(id);
          reject(new ClnRpcError(method, RPC_TRANSPORT_ERROR, `no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      socket.write(frame({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.failAll('rpc client closed');
  }

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ path: this.opts.socketPath });
      const decoder = new JsonObjectStream({
        message: (v) => this.onMessage(v),
        garbage: (reason, sample) => this.log.warn('dropped bytes from the rpc socket', { reason, sample }),
      });
      s.on('data', (chunk: Buffer) => decoder.push(chunk));
      s.once('connect', () => {
        this.socket = s;
        this.connecting = undefined;
        resolve(s);
      });
      s.on('error', (e: Error) => {
        if (this.connecting) {
          this.connecting = undefined;
          reject(new ClnRpcError('connect', RPC_TRANSPORT_ERROR, e.message));
        }
        this.log.warn('rpc socket error', { error: e.message });
      });
      s.on('close', () => {
        if (this.socket === s) this.socket = undefined;
        decoder.end();
        this.failAll('rpc socket closed');
      });
    });
    return this.connecting;
  }

  private onMessage(v: unknown): void {
    const msg = classify(v);
    if (typeof msg === 'string' || msg.kind !== 'response') {
      // lightningd may send notifications on the socket if asked; we never ask.
      return;
    }
    const key = String(msg.id);
    const p = this.pending.get(key);
    if (!p) {
      this.log.warn('rpc answer for no pending call', { id: key });
      return;
    }
    this.pending.delete(key);
    if (p.timer) clearTimeout(p.timer);
    if (msg.error) p.reject(toError(p.method, msg.error));
    else p.resolve(msg.result);
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(new ClnRpcError(p.method, RPC_TRANSPORT_ERROR, why));
    }
  }
}

function toError(method: string, e: JsonRpcErrorObject): ClnRpcError {
  return new ClnRpcError(method, e.code, e.message, e.data);
}
