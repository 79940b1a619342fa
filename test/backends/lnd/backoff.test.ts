import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, ReconnectLoop } from '../../../plugin/backends/lnd/backoff.js';

test('backoff doubles from its base up to its cap and starts over after reset', () => {
  const b = new Backoff({ baseMs: 100, maxMs: 500 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 500, 500]);
  b.reset();
  assert.equal(b.next(), 100);
});

test('reconnect loop: one pending reopen at a time, none after stop, healthy resets the delay', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let opens = 0;
    const loop = new ReconnectLoop(() => opens++, { baseMs: 100, maxMs: 1_000 });
    loop.retry();
    mock.timers.tick(1_000);
    assert.equal(opens, 0, 'retry before start opens nothing');
    loop.start();
    assert.equal(opens, 1);
    loop.start();
    assert.equal(opens, 1, 'a second start is a no-op');
    loop.retry();
    loop.retry();
    mock.timers.tick(99);
    assert.equal(opens, 1);
    mock.timers.tick(1);
    assert.equal(opens, 2, 'two retries while one is pending reopen once');
    loop.retry();
    mock.timers.tick(199);
    assert.equal(opens, 2, 'the second delay has doubled');
    mock.timers.tick(1);
    assert.equal(opens, 3);
    loop.healthy();
    loop.retry();
    mock.timers.tick(100);
    assert.equal(opens, 4, 'after healthy() the delay is the base again');
    loop.retry();
    loop.stop();
    mock.timers.tick(10_000);
    assert.equal(opens, 4, 'stop cancels the pending reopen');
    assert.equal(loop.stopped, true);
  } finally {
    mock.timers.reset();
  }
});
