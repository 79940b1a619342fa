// The reconnecting-stream skeleton shared by every LND stream, over a stand-in stream: a failed open
// and an ended stream are logged and reopened after the backoff; stop cancels and reopens nothing.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { ReconnectingStream } from '../../../plugin/backends/lnd/stream.js';
import { memoryLogger } from '../../../plugin/ops/log.js';

class FakeStream extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
    this.emit('error', Object.assign(new Error('Cancelled'), { code: 1, details: 'Cancelled' }));
  }
}

class Probe extends ReconnectingStream<ClientReadableStream<unknown>> {
  opened: FakeStream[] = [];
  failNext = false;
  dropCount = 0;
  constructor(log: ReturnType<typeof memoryLogger>) {
    super(log, {
      openFailed: 'cannot open probe',
      ended: 'probe ended; reconnecting',
      backoff: { baseMs: 100, maxMs: 1_000 },
    });
  }
  protected openStream(): ClientReadableStream<unknown> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('no such method');
    }
    const s = new FakeStream();
    this.opened.push(s);
    return s as unknown as ClientReadableStream<unknown>;
  }
  protected attach(s: ClientReadableStream<unknown>): void {
    s.on('data', () => this.loop.healthy());
  }
  protected override dropped(): void {
    this.dropCount++;
  }
}

test('reconnecting stream: logs and reopens after failures and ends; stop cancels, reopens nothing', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const log = memoryLogger();
    const p = new Probe(log);
    p.failNext = true;
    p.start();
    assert.equal(p.opened.length, 0);
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.msg, l.fields.error]),
      [['error', 'cannot open probe', 'no such method']],
    );
    mock.timers.tick(100);
    assert.equal(p.opened.length, 1, 'a failed open is retried after the base delay');

    p.opened[0]!.emit('error', Object.assign(new Error('boom'), { code: 14, details: 'unavailable' }));
    p.opened[0]!.emit('end');
    assert.equal(p.dropCount, 1, 'a second end event of the same stream is ignored');
    assert.deepEqual(log.lines.at(-1), {
      level: 'warn',
      msg: 'probe ended; reconnecting',
      fields: { error: 'unavailable' },
    });
    mock.timers.tick(199);
    assert.equal(p.opened.length, 1, 'the delay doubled after the second failure in a row');
    mock.timers.tick(1);
    assert.equal(p.opened.length, 2);

    p.opened[1]!.emit('data', {});
    p.opened[1]!.emit('end');
    mock.timers.tick(100);
    assert.equal(p.opened.length, 3, 'data proved the stream healthy: the delay is the base again');

    const warns = log.lines.length;
    p.stop();
    assert.equal(p.opened[2]!.cancelled, true, 'stop cancels the open stream');
    assert.equal(log.lines.length, warns, 'the cancellation is not logged as an end');
    mock.timers.tick(10_000);
    assert.equal(p.opened.length, 3, 'nothing reopens after stop');
  } finally {
    mock.timers.reset();
  }
});
