import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { failAt, holdable, isDue } from '../../plugin/hold/deadline.js';

const m = { safetyBlocks: 10, downstreamMinBlocks: 20 };
const base = {
  holdStart: 1000,
  maxHoldBlocks: 100,
  incomingExpiry: 2000,
  outgoingExpiry: 1900,
  autoFailHeight: 1950,
};

describe('deadline rule', () => {
  it('takes the minimum of the four terms, whichever is smallest', () => {
    assert.equal(failAt(base, m), 1100); // hold_start + max_hold_blocks
    assert.equal(failAt({ ...base, incomingExpiry: 1105 }, m), 1095); // incoming − safety
    assert.equal(failAt({ ...base, outgoingExpiry: 1110 }, m), 1090); // outgoing − downstream
    assert.equal(failAt({ ...base, autoFailHeight: 1050 }, m), 1049); // auto_fail_height − 1
  });

  it('ignores the terms a host does not give', () => {
    assert.equal(
      failAt({ ...base, outgoingExpiry: undefined, autoFailHeight: undefined, maxHoldBlocks: 5000 }, m),
      1990,
    );
  });

  it('holdable needs at least the minimum number of blocks; due from the deadline block on', () => {
    assert.equal(holdable(1006, 1000, 6), true);
    assert.equal(holdable(1005, 1000, 6), false);
    assert.equal(isDue(1006, 1005), false);
    assert.equal(isDue(1006, 1006), true);
  });
});
