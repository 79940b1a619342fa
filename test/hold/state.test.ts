import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HoldError } from '../../plugin/hold/errors.js';
import {
  HOLD_STATES,
  assertTransition,
  canTransition,
  isActive,
  isTerminal,
} from '../../plugin/hold/state.js';
import { backoffMs } from '../../plugin/hold/notifier.js';

describe('hold state machine', () => {
  it('allows the documented moves only', () => {
    const allowed = HOLD_STATES.flatMap((a) =>
      HOLD_STATES.filter((b) => canTransition(a, b)).map((b) => `${a}>${b}`),
    );
    assert.deepEqual(allowed.sort(), [
      'held>expired',
      'held>failed',
      'held>forwarded',
      'held>paying',
      'paying>failed',
      'paying>settled',
      'received>failed',
      'received>forwarded',
      'received>held',
    ]);
    assert.throws(
      () => assertTransition('paying', 'expired'),
      (e: unknown) => e instanceof HoldError && e.code === 'invalid_transition',
    );
  });

  it('marks final and active states', () => {
    assert.deepEqual(HOLD_STATES.filter(isTerminal), ['forwarded', 'settled', 'failed', 'expired']);
    assert.deepEqual(HOLD_STATES.filter(isActive), ['held', 'paying']);
  });

  it('notifier backoff doubles up to its cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 60].map((n) => backoffMs(n, 1000, 5000)),
      [1000, 2000, 4000, 5000, 5000, 5000],
    );
  });
});
