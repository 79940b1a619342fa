import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_HTLC_TYPES,
  mentionsAsync,
  toInterceptResponse,
  toInterceptedHtlc,
  u64,
  u64MapKey,
  mapKeyU64,
} from '../../../plugin/backends/lnd/htlc-map.js';
import type { ForwardHtlcInterceptRequest } from '../../../plugin/backends/lnd/messages.js';
import { encodeAsyncHold } from '../../../plugin/protocol/async-hold.js';
import { encodeTrampolineRequest } from '../../../plugin/protocol/trampoline-request.js';
import { encodeBlindedPath } from '../../../plugin/protocol/blinded-path.js';
import { CodecError } from '../../../plugin/protocol/errors.js';

// uint64 map keys as proto-loader decodes them.
const K = u64MapKey;
const point = (b: number): Uint8Array => Uint8Array.from([2, ...new Array<number>(32).fill(b)]);
const path = encodeBlindedPath({
  firstNode: { nodeId: point(1) },
  firstPathKey: point(2),
  hops: [{ blindedNodeId: point(3), encryptedRecipientData: Uint8Array.of(1, 2, 3) }],
});

// scid 100x2x1 as LND's uint64 chan_id
const CHAN = ((100n << 40n) | (2n << 16n) | 1n).toString();
const OUT_CHAN = ((200n << 40n) | (5n << 16n) | 0n).toString();

function req(over: Partial<ForwardHtlcInterceptRequest> = {}): ForwardHtlcInterceptRequest {
  return {
    incoming_circuit_key: { chan_id: CHAN, htlc_id: '7' },
    incoming_amount_msat: '100000',
    incoming_expiry: 500,
    payment_hash: Buffer.alloc(32, 9),
    outgoing_requested_chan_id: OUT_CHAN,
    outgoing_amount_msat: '99000',
    outgoing_expiry: 460,
    custom_records: {},
    onion_blob: Buffer.alloc(0),
    auto_fail_height: 490,
    in_wire_custom_records: {},
    ...over,
  };
}

test('a plain forward maps with circuit key, scids and amounts, not async', () => {
  const h = toInterceptedHtlc(req());
  assert.equal(h.key, `${CHAN}:7`);
  assert.equal(h.incomingChannel, '100x2x1');
  assert.equal(h.outgoingChannel, '200x5x0');
  assert.equal(h.amountInMsat, 100000n);
  assert.equal(h.amountOutMsat, 99000n);
  assert.equal(h.incomingExpiry, 500);
  assert.equal(h.outgoingExpiry, 460);
  assert.equal(h.autoFailHeight, 490);
  assert.equal(h.holdFlag, false);
  assert.equal(h.asyncHold, undefined);
  assert.equal(h.trampoline, undefined);
  assert.equal(mentionsAsync(req()), false);
});

test('hold flag from in_wire_custom_records and async_hold from the hop payload', () => {
  const token = new Uint8Array(32).fill(4);
  const h = toInterceptedHtlc(
    req({
      in_wire_custom_records: { [K(75537n)]: Buffer.alloc(0) },
      custom_records: {
        [K(4280151n)]: Buffer.from(
          encodeAsyncHold({ messagePaths: [path], releaseToken: token, maxHoldBlocks: 144 }),
        ),
      },
    }),
  );
  assert.equal(h.holdFlag, true);
  assert.deepEqual(h.asyncHold?.messagePaths, [path]);
  assert.deepEqual(h.asyncHold?.releaseToken, token);
  assert.equal(h.asyncHold?.maxHoldBlocks, 144);
});

test('configured type numbers are honoured, defaults ignored', () => {
  const types = { ...DEFAULT_HTLC_TYPES, holdHtlc: 80001n };
  const r = req({ in_wire_custom_records: { [K(75537n)]: Buffer.alloc(0) } });
  assert.equal(toInterceptedHtlc(r, types).holdFlag, false);
  assert.equal(
    toInterceptedHtlc(req({ in_wire_custom_records: { [K(80001n)]: Buffer.alloc(0) } }), types).holdFlag,
    true,
  );
});

test('trampoline request with keysend preimage maps to the engine shape', () => {
  const node = point(7);
  const pre = Buffer.alloc(32, 5);
  const h = toInterceptedHtlc(
    req({
      custom_records: {
        [K(4280153n)]: Buffer.from(
          encodeTrampolineRequest({ kind: 'keysend', outgoingNodeId: node, amtToForward: 5000n }),
        ),
        [K(5482373484n)]: pre,
      },
    }),
  );
  assert.equal(h.trampoline?.outgoingNodeId, Buffer.from(node).toString('hex'));
  assert.equal(h.trampoline?.amtToForwardMsat, 5000n);
  assert.deepEqual(h.trampoline?.keysendPreimage, new Uint8Array(pre));
  assert.equal(h.trampoline?.invoice, undefined);
});

test('a malformed async_hold throws CodecError and counts as asking for async', () => {
  const r = req({ custom_records: { [K(4280151n)]: Buffer.from([0x02, 0x01, 0x00]) } });
  assert.throws(() => toInterceptedHtlc(r), CodecError);
  assert.equal(mentionsAsync(r), true);
});

test('zero outgoing channel and auto-fail height mean "none"', () => {
  const h = toInterceptedHtlc(req({ outgoing_requested_chan_id: '0', auto_fail_height: 0 }));
  assert.equal(h.outgoingChannel, undefined);
  assert.equal(h.autoFailHeight, undefined);
});

test('u64 rejects non-numbers and values past 2^64-1', () => {
  assert.equal(u64('18446744073709551615', 'x'), (1n << 64n) - 1n);
  assert.throws(() => u64('18446744073709551616', 'x'), CodecError);
  assert.throws(() => u64('-1', 'x'), CodecError);
  assert.throws(() => u64('1e3', 'x'), CodecError);
});

test('verdicts map to RESUME, FAIL with TEMPORARY_CHANNEL_FAILURE, SETTLE with preimage', () => {
  const ck = { chan_id: CHAN, htlc_id: '7' };
  assert.deepEqual(toInterceptResponse(ck, { kind: 'continue' }), {
    incoming_circuit_key: ck,
    action: 'RESUME',
  });
  assert.deepEqual(toInterceptResponse(ck, { kind: 'fail', reason: 'expired', trampoline: false }), {
    incoming_circuit_key: ck,
    action: 'FAIL',
    failure_code: 'TEMPORARY_CHANNEL_FAILURE',
  });
  const pre = new Uint8Array(32).fill(8);
  assert.deepEqual(toInterceptResponse(ck, { kind: 'settle', preimage: pre }), {
    incoming_circuit_key: ck,
    action: 'SETTLE',
    preimage: Buffer.from(pre),
  });
});

test('uint64 map keys: protobufjs hash strings decode to the number', () => {
  for (const v of [0n, 1n, 75537n, 4280151n, 5482373484n, (1n << 64n) - 1n])
    assert.equal(mapKeyU64(u64MapKey(v)), v);
  // 75537 = 0x012711, little-endian bytes
  assert.equal(mapKeyU64('\x11\x27\x01\x00\x00\x00\x00\x00'), 75537n);
  assert.throws(() => mapKeyU64('75537'), CodecError);
});
