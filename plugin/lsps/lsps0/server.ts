// The LSPS0 JSON-RPC server: one answer per request, built from the LSPS protocols registered with
// it, plus LSPS0's own `lsps0.list_protocols`. Hostile input gets the spec's error and a log line;
// nothing a peer sends can throw out of `handle`.
import type { Logger } from '../../ops/log.js';
import {
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_PARAMS,
  JSONRPC_METHOD_NOT_FOUND,
  JSONRPC_PARSE_ERROR,
  decodeInbound,
  encodeError,
  encodeResult,
  type JsonObject,
} from './codec.js';

/** A protocol-level error a method answers with: its LSPS-defined code, message and optional data. */
export class LspsMethodError extends Error {
  override readonly name = 'LspsMethodError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: JsonObject,
  ) {
    super(message);
  }
}

/** -32602 with the `data.unrecognized` LSPS0 requires (empty when a known parameter is missing or mistyped). */
export const invalidParams = (why: string, unrecognized: string[] = []): LspsMethodError =>
  new LspsMethodError(JSONRPC_INVALID_PARAMS, `Invalid params: ${why}`, { unrecognized });

export interface LspsMethod {
  /** Every parameter name the method knows; any other is answered -32602 with `unrecognized`. */
  params: readonly string[];
  /** Resolves with the `result` object, or throws LspsMethodError. `peer` is the client's node id (hex). */
  handle(peer: string, params: JsonObject): JsonObject | Promise<JsonObject>;
}

export interface LspsProtocol {
  /** The LSPS number listed by lsps0.list_protocols (never 0). */
  number: number;
  methods: Record<string, LspsMethod>;
}

export interface Lsps0ServerOptions {
  protocols: LspsProtocol[];
  log: Logger;
  /** Requests a peer may send at once, refilled at `perPeerPerSecond`; beyond that: -32000. */
  perPeerBurst?: number;
  perPeerPerSecond?: number;
  now?: () => number;
  /** Called for every 37913 message a peer sends: it is connected now (LSPS5 resets cooldowns on this). */
  onPeerActive?: (peer: string) => void;
}

/** JSON-RPC's implementation-defined server error range, which LSPS0 lets LSPs use. */
export const RATE_LIMITED = -32000;

export class Lsps0Server {
  private readonly methods = new Map<string, LspsMethod>();
  private readonly log: Logger;
  // A token bucket per peer: every request costs a store write or a webhook call at most, but a
  // peer flooding set_webhook with changing URLs would make us POST to wherever it likes.
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;
  private readonly rate: number;
  private readonly now: () => number;

  constructor(private readonly opts: Lsps0ServerOptions) {
    this.log = opts.log;
    this.burst = opts.perPeerBurst ?? 20;
    this.rate = opts.perPeerPerSecond ?? 2;
    this.now = opts.now ?? Date.now;
    const numbers = opts.protocols.map((p) => p.number).sort((a, b) => a - b);
    this.methods.set('lsps0.list_protocols', { params: [], handle: () => ({ protocols: numbers }) });
    for (const p of opts.protocols) {
      if (p.number === 0) throw new Error('LSPS0 is not listed in lsps0.list_protocols');
      for (const [name, m] of Object.entries(p.methods)) this.methods.set(name, m);
    }
  }

  /** The answer to one 37913 payload from `peer`, or undefined when JSON-RPC says not to answer. */
  async handle(peer: string, payload: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      this.opts.onPeerActive?.(peer);
    } catch (e) {
      this.log.warn('peer activity hook failed', { error: (e as Error).message });
    }
    const m = decodeInbound(payload);
    if (m.kind === 'bad') {
      this.log.warn('LSPS0 message with bad format', { peer, why: m.why, bytes: payload.length });
      return encodeError(null, JSONRPC_PARSE_ERROR, 'parse error');
    }
    if (m.kind === 'notification') {
      this.log.warn('LSPS0 client sent a notification; ignored', { peer, method: m.method.slice(0, 64) });
      return undefined;
    }
    if (!this.take(peer)) {
      this.log.warn('LSPS0 peer over its request rate; refused', { peer });
      return encodeError(m.id, RATE_LIMITED, 'rate limited: slow down and retry');
    }
    const method = this.methods.get(m.method);
    if (!method) {
      this.log.info('LSPS0 unknown method', { peer, method: m.method.slice(0, 64) });
      return encodeError(m.id, JSONRPC_METHOD_NOT_FOUND, 'Method not found');
    }
    try {
      if (m.byPosition) throw invalidParams('params must be by-name (an object)');
      const unrecognized = Object.keys(m.params).filter((k) => !method.params.includes(k));
      if (unrecognized.length > 0) throw invalidParams('unrecognized parameters', unrecognized);
      return encodeResult(m.id, await method.handle(peer, m.params));
    } catch (e) {
      if (e instanceof LspsMethodError) {
        this.log.info('LSPS0 request refused', { peer, method: m.method, code: e.code });
        return encodeError(m.id, e.code, e.message, e.data);
      }
      this.log.error('LSPS0 method failed', { peer, method: m.method, error: (e as Error).message });
      return encodeError(m.id, JSONRPC_INTERNAL_ERROR, 'Internal error');
    }
  }

  private take(peer: string): boolean {
    const now = this.now();
    const b = this.buckets.get(peer) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (this.buckets.size > 10_000) {
      // Forget peers whose bucket is full again: they cost nothing to recreate.
      for (const [p, x] of this.buckets)
        if (x.tokens + ((now - x.at) / 1000) * this.rate >= this.burst) this.buckets.delete(p);
    }
    this.buckets.set(peer, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
