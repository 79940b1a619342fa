// The plugin side of lightningd's stdio JSON-RPC: answers getmanifest and init, dispatches hooks,
// notifications and our RPC methods, and writes nothing but framed JSON-RPC to its output.
//
// Replaces clightningjs's Plugin class (see README): every hook request ends in exactly one valid
// answer. A hook handler that throws, rejects, or returns something its validator refuses gets the
// hook's fallback answer instead, because lightningd treats a missing answer as "pending forever" and
// a malformed one (or a JSON-RPC error) as fatal: it exits, and every held HTLC goes to default handling.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../ops/log.js';
import { JsonObjectStream, frame } from './framing.js';
import { classify, RpcErrorCode, type JsonRpcId, type JsonRpcErrorObject } from './jsonrpc.js';

/** Returned by a hook handler whose request must not be answered (a newer offer of it took over). */
export const NO_ANSWER: unique symbol = Symbol('no-answer');

export interface HookHandler<A extends object = object> {
  handle(params: unknown, id: JsonRpcId): Promise<A | typeof NO_ANSWER>;
  /** True only for an answer lightningd will accept. */
  validate(answer: unknown): answer is A;
  /** Always valid; used when `handle` fails or returns something invalid. */
  fallback(params: unknown): A;
}

export type MethodHandler = (params: unknown) => Promise<unknown>;

/** An error a method handler throws to choose its JSON-RPC error code. */
export class MethodError extends Error {
  override readonly name = 'MethodError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface InitParams {
  options: Record<string, unknown>;
  configuration: {
    lightningDir: string;
    rpcFile: string;
    startup: boolean;
    network: string | undefined;
  };
}

export interface PluginHostConfig {
  input: Readable;
  output: Writable;
  logger: Logger;
  manifest: () => Record<string, unknown>;
  /**
   * Resolves with `undefined` to run, or a reason the plugin cannot run. The reason goes to
   * lightningd's log and then `onInitFailure` runs (the executable exits non-zero there). Never
   * answered with `disable`: lightningd would clear `important` and run on without the plugin.
   */
  init: (params: InitParams) => Promise<string | undefined>;
  /** Called once with the reason init failed, after it was sent to lightningd's log: exit non-zero. */
  onInitFailure: (reason: string) => void;
  hooks: Record<string, HookHandler>;
  notifications: Record<string, (params: unknown) => void>;
  methods: Record<string, MethodHandler>;
  /** lightningd closed our stdin (it is shutting down or killed us). */
  onEnd?: () => void;
}

export class PluginHost {
  private readonly log: Logger;
  private readonly stream: JsonObjectStream;
  private initialized = false;
  private initStarted = false;
  private closed = false;
  /** Hook answers still owed; kept so tests and shutdown can see nothing was left unanswered. */
  private pendingHooks = 0;

  constructor(private readonly cfg: PluginHostConfig) {
    this.log = cfg.logger.child({ component: 'cln-plugin-host' });
    this.stream = new JsonObjectStream({
      message: (v) => this.dispatch(v),
      garbage: (reason, sample) => this.log.warn('dropped input from lightningd', { reason, sample }),
    });
  }

  start(): void {
    const { input, output } = this.cfg;
    input.on('data', (chunk: Buffer | string) => this.stream.push(chunk));
    input.on('end', () => this.finish('stdin ended'));
    input.on('error', (e: Error) => this.finish(`stdin error: ${e.message}`));
    output.on('error', (e: Error) => this.finish(`stdout error: ${e.message}`));
  }

  get hooksInFlight(): number {
    return this.pendingHooks;
  }

  /** Send a JSON-RPC notification to lightningd (e.g. `log`). */
  notify(method: string, params: Record<string, unknown>): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  private finish(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
    this.log.info('lightningd connection closed', { why });
    this.cfg.onEnd?.();
  }

  private write(msg: Record<string, unknown>): void {
    if (this.closed) return;
    this.cfg.output.write(frame(msg));
  }

  private respond(id: JsonRpcId, result: unknown): void {
    this.write({ jsonrpc: '2.0', id, result });
  }

  private respondError(id: JsonRpcId, error: JsonRpcErrorObject): void {
    this.write({ jsonrpc: '2.0', id, error });
  }

  private dispatch(value: unknown): void {
    const msg = classify(value);
    if (typeof msg === 'string') {
      this.log.warn('ignored a message that is not a JSON-RPC request', { reason: msg });
      return;
    }
    if (msg.kind === 'response') {
      this.log.warn('ignored a JSON-RPC response on stdin', { id: msg.id });
      return;
    }
    if (msg.kind === 'notification') {
      const handler = this.cfg.notifications[msg.method];
      if (!handler) return;
      try {
        handler(msg.params);
      } catch (e) {
        this.log.error('notification handler failed', { method: msg.method, error: errText(e) });
      }
      return;
    }
    const { id, method, params } = msg;
    if (method === 'getmanifest') {
      this.respond(id, this.cfg.manifest());
      return;
    }
    if (method === 'init') {
      void this.handleInit(id, params);
      return;
    }
    const hook = this.cfg.hooks[method];
    if (hook) {
      void this.handleHook(hook, id, method, params);
      return;
    }
    const m = this.cfg.methods[method];
    if (m) {
      void this.handleMethod(m, id, method, params);
      return;
    }
    this.respondError(id, { code: RpcErrorCode.methodNotFound, message: `unknown method ${method}` });
  }

  private async handleInit(id: JsonRpcId, raw: unknown): Promise<void> {
    if (this.initStarted) {
      // lightningd sends init once; a second one must not open a second engine on the same database.
      this.log.warn('ignored a repeated init');
      this.respond(id, {});
      return;
    }
    this.initStarted = true;
    let disable: string | undefined; // the reason init failed
    try {
      const params = parseInit(raw);
      disable = await this.cfg.init(params);
    } catch (e) {
      disable = `init failed: ${errText(e)}`;
    }
    if (disable !== undefined) {
      // lightningd logs our stderr nowhere useful; a `log` notification lands in its log file.
      this.log.error('plugin cannot start', { reason: disable });
      this.notify('log', { level: 'broken', message: `cannot start: ${disable}` });
      this.cfg.onInitFailure(disable);
      return;
    }
    this.initialized = true;
    this.respond(id, {});
  }

  private async handleHook(hook: HookHandler, id: JsonRpcId, method: string, params: unknown): Promise<void> {
    this.pendingHooks++;
    let answer: object;
    try {
      if (!this.initialized) throw new Error('hook before init');
      const got = await hook.handle(params, id);
      if (got === NO_ANSWER) {
        this.pendingHooks--;
        return;
      }
      if (hook.validate(got)) answer = got;
      else {
        this.log.error('hook handler produced an invalid answer; sending the fallback', { method });
        answer = hook.fallback(params);
      }
    } catch (e) {
      this.log.error('hook handler failed; sending the fallback', { method, error: errText(e) });
      answer = safeFallback(hook, params, this.log);
    }
    this.pendingHooks--;
    this.respond(id, answer);
  }

  private async handleMethod(
    m: MethodHandler,
    id: JsonRpcId,
    method: string,
    params: unknown,
  ): Promise<void> {
    try {
      const result = await m(params);
      this.respond(id, result ?? {});
    } catch (e) {
      const code = e instanceof MethodError ? e.code : RpcErrorCode.internal;
      if (!(e instanceof MethodError)) this.log.error('method failed', { method, error: errText(e) });
      this.respondError(id, { code, message: errText(e) });
    }
  }
}

function safeFallback(hook: HookHandler, params: unknown, log: Logger): object {
  try {
    const f = hook.fallback(params);
    if (hook.validate(f)) return f;
  } catch (e) {
    log.error('hook fallback failed', { error: errText(e) });
  }
  // Unreachable with the hooks we register (their fallbacks ignore params); still an answer.
  return { result: 'continue' };
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function parseInit(raw: unknown): InitParams {
  if (typeof raw !== 'object' || raw === null) throw new Error('init params are not an object');
  const p = raw as Record<string, unknown>;
  const conf = p.configuration;
  if (typeof conf !== 'object' || conf === null) throw new Error('init without configuration');
  const c = conf as Record<string, unknown>;
  if (typeof c['lightning-dir'] !== 'string' || typeof c['rpc-file'] !== 'string') {
    throw new Error('init configuration lacks lightning-dir or rpc-file');
  }
  const options =
    typeof p.options === 'object' && p.options !== null ? (p.options as Record<string, unknown>) : {};
  return {
    options,
    configuration: {
      lightningDir: c['lightning-dir'],
      rpcFile: c['rpc-file'],
      startup: c.startup !== false,
      network: typeof c.network === 'string' ? c.network : undefined,
    },
  };
}
