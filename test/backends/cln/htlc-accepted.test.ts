import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  answerFor,
  HtlcInputError,
  isValidHtlcAnswer,
  parseHtlcAccepted,
} from '../../../plugin/backends/cln/htlc-accepted.js';
import { parseSettings } from '../../../plugin/backends/cln/manifest.js';
import { LightningdStandin, hex } from '../../helpers/lightningd-standin.js';
import { encodeAsyncHold } from '../../../plugin/protocol/async-hold.js';
import { encodeTrampolineRequest } from '../../../plugin/protocol/trampoline-request.js';

const types = parseSettings({}, '/tmp').types;
const standin = new LightningdStandin({ blockheight: 800 });
after(() => standin.close());
const path = Buffer.from(
  '02' + '11'.repeat(32) + '02' + '22'.repeat(32) + '01' + '03' + '33'.repeat(32) + '0002abcd',
  'hex',
);

// The request properties CLN's doc/schemas/hook/htlc_accepted.json allows (additionalProperties: false).
const SCHEMA = {
  top: { allowed: ['peer_id', 'onion', 'htlc', 'forward_to'], required: ['onion', 'htlc'] },
  onion: {
    allowed: [
      'payload',
      'type',
      'short_channel_id',
      'next_node_id',
      'forward_msat',
      'outgoing_cltv_value',
      'total_msat',
      'payment_secret',
      'payment_metadata',
      'next_onion',
      'shared_secret',
    ],
    required: ['payload', 'next_onion', 'shared_secret'],
  },
  htlc: {
    allowed: [
      'short_channel_id',
      'id',
      'amount_msat',
      'cltv_expiry',
      'cltv_expiry_relative',
      'payment_hash',
      'extra_tlvs',
    ],
    required: [
      'short_channel_id',
      'id',
      'amount_msat',
      'cltv_expiry',
      'cltv_expiry_relative',
      'payment_hash',
    ],
  },
};

/** htlc_accepted params for HTLC 1 ending at our node (no forward), at block 900. */
function finalHop(amountMsat: bigint, customRecords?: Map<bigint, Uint8Array>): Record<string, unknown> {
  return standin.htlcAcceptedParams({
    htlcId: 1,
    paymentHash: new Uint8Array(32),
    amountMsat,
    cltvExpiry: 900,
    customRecords,
  });
}

function checkShape(
  obj: Record<string, unknown>,
  s: { allowed: string[]; required: string[] },
  what: string,
): void {
  for (const k of Object.keys(obj)) assert.ok(s.allowed.includes(k), `${what}.${k} is not in CLN's schema`);
  for (const k of s.required) assert.ok(k in obj, `${what}.${k} is required by CLN's schema`);
}

test('the stand-in’s htlc_accepted payloads fit CLN’s schema', () => {
  const p = standin.htlcAcceptedParams({
    htlcId: 1,
    paymentHash: new Uint8Array(32),
    amountMsat: 1000n,
    cltvExpiry: 900,
    outgoingScid: '1x2x3',
    extraTlvs: [{ type: 75537n, value: new Uint8Array(0) }],
    peerId: '02' + '11'.repeat(32),
  });
  checkShape(p, SCHEMA.top, 'request');
  checkShape(p.onion as Record<string, unknown>, SCHEMA.onion, 'onion');
  checkShape(p.htlc as Record<string, unknown>, SCHEMA.htlc, 'htlc');
});

test('parse: a forward with hold_htlc and async_hold becomes the engine’s InterceptedHtlc', () => {
  const hash = sha256(Uint8Array.of(1));
  const p = standin.htlcAcceptedParams({
    scid: '103x1x0',
    htlcId: 7,
    paymentHash: hash,
    amountMsat: 100_000n,
    forwardMsat: 99_000n,
    cltvExpiry: 900,
    outgoingCltv: 860,
    outgoingScid: '105x2x1',
    extraTlvs: [{ type: 75537n, value: new Uint8Array(0) }],
    customRecords: new Map([[4280151n, encodeAsyncHold({ messagePaths: [path], maxHoldBlocks: 50 })]]),
    peerId: '03' + 'AB'.repeat(32),
  });
  const { htlc, height } = parseHtlcAccepted(p, types);
  assert.equal(height, 800);
  assert.equal(htlc.key, '103x1x0/7');
  assert.equal(htlc.incomingChannel, '103x1x0');
  assert.equal(htlc.incomingPeer, '03' + 'ab'.repeat(32));
  assert.equal(hex(htlc.paymentHash), hex(hash));
  assert.equal(htlc.amountInMsat, 100_000n);
  assert.equal(htlc.amountOutMsat, 99_000n);
  assert.equal(htlc.incomingExpiry, 900);
  assert.equal(htlc.outgoingExpiry, 860);
  assert.equal(htlc.outgoingChannel, '105x2x1');
  assert.equal(htlc.holdFlag, true);
  assert.equal(htlc.asyncHold?.maxHoldBlocks, 50);
  assert.equal(hex(htlc.asyncHold!.messagePaths[0]!), hex(path));
  assert.equal(htlc.trampoline, undefined);
});

test('parse: final-hop trampoline request; no hold flag without extra_tlvs', () => {
  const p = finalHop(
    5000n,
    new Map([
      [4280151n, encodeAsyncHold({ releaseToken: new Uint8Array(32).fill(9) })],
      [4280153n, encodeTrampolineRequest({ kind: 'invoice', invoice: 'lnbc1x', amtToForward: 4000n })],
    ]),
  );
  const { htlc } = parseHtlcAccepted(p, types);
  assert.equal(htlc.holdFlag, false);
  assert.equal(htlc.amountOutMsat, undefined, 'final hop');
  assert.equal(htlc.outgoingExpiry, undefined);
  assert.deepEqual(htlc.trampoline, {
    invoice: 'lnbc1x',
    amtToForwardMsat: 4000n,
    outgoingNodeId: undefined,
    keysendPreimage: undefined,
  });
  assert.equal(hex(htlc.asyncHold!.releaseToken!), '09'.repeat(32));
});

test('parse: amounts as "123msat" strings are read; numbers past 2^53 are refused, not rounded', () => {
  const p = finalHop(1n);
  (p.htlc as Record<string, unknown>).amount_msat = '123msat';
  assert.equal(parseHtlcAccepted(p, types).htlc.amountInMsat, 123n);
  (p.htlc as Record<string, unknown>).amount_msat = 2 ** 60;
  assert.throws(() => parseHtlcAccepted(p, types), HtlcInputError);
});

test('parse: a malformed async_hold is an input error flagged trampoline when a trampoline_request is there', () => {
  const p = finalHop(
    5000n,
    new Map([
      [4280151n, Uint8Array.of(2, 1, 0)], // release_token of 1 byte
      [4280153n, encodeTrampolineRequest({ kind: 'invoice', invoice: 'lnbc1x' })],
    ]),
  );
  assert.throws(
    () => parseHtlcAccepted(p, types),
    (e: unknown) => e instanceof HtlcInputError && e.trampoline,
  );
});

test('parse: arbitrary junk never throws anything but HtlcInputError', () => {
  fc.assert(
    fc.property(fc.anything(), (junk) => {
      try {
        parseHtlcAccepted(junk, types);
      } catch (e) {
        assert.ok(e instanceof HtlcInputError, String(e));
      }
    }),
    { numRuns: 500 },
  );
  const good = finalHop(1n);
  fc.assert(
    fc.property(fc.constantFrom('onion', 'htlc'), fc.string(), fc.anything(), (part, key, value) => {
      const p = structuredClone(good) as Record<string, Record<string, unknown>>;
      p[part]![key] = value;
      try {
        parseHtlcAccepted(p, types);
      } catch (e) {
        assert.ok(e instanceof HtlcInputError, String(e));
      }
    }),
    { numRuns: 500 },
  );
});

test('answers: each verdict encodes to a valid answer; a settle whose preimage does not match becomes a fail', () => {
  const pre = new Uint8Array(32).fill(5);
  const hash = sha256(pre);
  assert.deepEqual(answerFor({ kind: 'continue' }, hash), { result: 'continue' });
  assert.deepEqual(answerFor({ kind: 'fail', reason: 'expired', trampoline: false }, hash), {
    result: 'fail',
    failure_message: '2002',
  });
  assert.deepEqual(answerFor({ kind: 'fail', reason: 'payment_failed', trampoline: true }, hash), {
    result: 'fail',
    failure_message: '2019',
  });
  assert.deepEqual(answerFor({ kind: 'settle', preimage: pre }, hash), {
    result: 'resolve',
    payment_key: hex(pre),
  });
  assert.deepEqual(answerFor({ kind: 'settle', preimage: new Uint8Array(32) }, hash), {
    result: 'fail',
    failure_message: '2019',
  });
});

test('answers: the validator refuses everything lightningd would choke on', () => {
  for (const bad of [
    null,
    {},
    { result: 'resolve' },
    { result: 'resolve', payment_key: 'zz'.repeat(32) },
    { result: 'resolve', payment_key: '00'.repeat(31) },
    { result: 'fail' },
    { result: 'fail', failure_message: '200' },
    { result: 'fail', failure_message: '20' },
    { result: 'continue', extra: 1 },
    { result: 'stop' },
    [],
  ]) {
    assert.equal(isValidHtlcAnswer(bad), false, JSON.stringify(bad));
  }
});
