// The skeleton every long-lived LND stream shares: open, reopen with backoff when it ends, cancel on
// stop. A subclass says how to open its stream and what to do with what arrives on it.
import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../ops/log.js';
import { ReconnectLoop, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import type { GrpcError } from './grpc.js';
import { cancelStream } from './grpc.js';

export type LndStream = ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>;

/** The events that end a stream. */
export type StreamEnd = 'error' | 'end' | 'close';

export interface ReconnectingStreamOptions {
  /** Logged (error) when opening throws. */
  openFailed: string;
  /** Logged (warn) when the current stream ends and a reopen is scheduled. */
  ended: string;
  backoff?: BackoffOptions;
  /** Which events end the stream; `error` and `end` unless said otherwise. */
  endOn?: readonly StreamEnd[];
}

export abstract class ReconnectingStream<S extends LndStream> {
  private current: S | undefined;
  protected readonly loop: ReconnectLoop;
  private readonly endOn: readonly StreamEnd[];

  protected constructor(
    protected readonly log: Logger,
    private readonly lines: ReconnectingStreamOptions,
  ) {
    this.loop = new ReconnectLoop(() => this.open(), lines.backoff ?? DEFAULT_BACKOFF);
    this.endOn = lines.endOn ?? ['error', 'end'];
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    const s = this.current;
    this.current = undefined;
    this.dropped();
    if (s) cancelStream(s);
  }

  /** The open stream, if any. */
  protected get stream(): S | undefined {
    return this.current;
  }

  /** Opens one stream; may throw, which is logged and retried. */
  protected abstract openStream(): S;

  /** Wires up a stream just opened (its end events are already handled). */
  protected abstract attach(s: S): void;

  /** Runs whenever the current stream is let go of: on stop, and when it ends. */
  protected dropped(): void {}

  /** Fields of the `ended` log line. */
  protected endedFields(_why: StreamEnd, err: GrpcError | undefined): Record<string, unknown> {
    return { error: err?.details ?? err?.message };
  }

  private open(): void {
    if (this.loop.stopped) return;
    let s: S;
    try {
      s = this.openStream();
    } catch (e) {
      this.log.error(this.lines.openFailed, { error: (e as Error).message });
      this.loop.retry();
      return;
    }
    this.current = s;
    const ended = (why: StreamEnd, err?: GrpcError): void => {
      if (this.current !== s) return;
      this.current = undefined;
      this.dropped();
      if (this.loop.stopped) return;
      this.log.warn(this.lines.ended, this.endedFields(why, err));
      this.loop.retry();
    };
    for (const why of this.endOn) s.on(why, (e?: GrpcError) => ended(why, why === 'error' ? e : undefined));
    this.attach(s);
  }
}
