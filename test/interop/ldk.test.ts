// Our onion-message and update_add_htlc codecs against LDK itself: the crates.io `lightning` crate,
// pinned in interop/ldk/Cargo.toml, builds and peels every message below (test/interop/ldk-harness.ts).
// Our nodes: L (the sender's LSP holding the HTLC), P (a recipient's LSP), R (a recipient).
// LDK nodes: A (an LDK LSP or sender holding the HTLC), B (an LDK LSP in front of C), C (an LDK
// async recipient).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type BlindedPath,
  decodeBlindedPath,
  encodeBlindedPath,
  introNodeId,
} from '../../plugin/protocol/blinded-path.js';
import { activeEc, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import {
  type OnionMessage,
  type PeeledOnionMessage,
  buildHeldHtlcAvailable,
  buildHeldHtlcAvailableVariants,
  buildOnionMessage,
  buildReleaseHeldHtlc,
  type ReleaseHeldHtlcVariantMessage,
  decodeOnionMessage,
  encodeOnionMessage,
  peelOnionMessage,
} from '../../plugin/protocol/onion-message.js';
import { decodeUpdateAddTlvs, encodeUpdateAddTlvs } from '../../plugin/protocol/update-add.js';
import { releasePathId, verifyPathId } from '../../plugin/hold/release.js';
import { recipientMessagePath } from '../../plugin/recipient/message-path.js';
import { sendReleases } from '../../plugin/recipient/release.js';
import { repoRoot } from '../helpers/paths.js';
import { type Peeled, type Sent, bytes, harnessPath, hexOf, ldk } from './ldk-harness.js';

const ec = activeEc();
const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const [L, P, R] = [key(0x4c), key(0x50), key(0x52)];
const [lId, pId, rId] = [L, P, R].map((k) => hexOf(ec.publicKey(k))) as [string, string, string];
const [A, B, C] = ['a1', 'b2', 'c3'].map((b) => b.repeat(32)) as [string, string, string];

// LDK's onion_message encoding has no 2-byte type; ours for LND custom messages neither.
const fromLdk = (hex: string): OnionMessage => decodeOnionMessage(bytes(hex), false);
const toLdk = (m: { pathKey: Uint8Array; packet: Uint8Array }): string => hexOf(encodeOnionMessage(m, false));

async function peelAs(priv: Uint8Array, msg: OnionMessage | string): Promise<PeeledOnionMessage> {
  const m = typeof msg === 'string' ? fromLdk(msg) : msg;
  return peelOnionMessage(m, ecdhFromPrivateKey(priv, ec), { ourNodeId: ec.publicKey(priv) });
}

function received(p: PeeledOnionMessage, what: string): Extract<PeeledOnionMessage, { kind: 'receive' }> {
  assert.equal(p.kind, 'receive', what);
  return p as Extract<PeeledOnionMessage, { kind: 'receive' }>;
}

function forwarded(p: PeeledOnionMessage, to: string, what: string): OnionMessage {
  assert.ok(p.kind === 'forward', `${what}: a forward`);
  assert.equal(hexOf(p.nextNodeId!), to, `${what}: next node`);
  return { pathKey: p.nextPathKey, packet: p.packet };
}

/** LDK peels at each seed in turn: forwards to the next one, and whatever the last one makes of it. */
function ldkPeelAlong(message: string, seeds: string[], last: Record<string, boolean> = {}): Peeled {
  let msg = message;
  for (const [i, seed] of seeds.entries()) {
    const isLast = i === seeds.length - 1;
    const got = ldk<Peeled>('peel', { seed, message: msg, ...(isLast ? last : {}) });
    if (isLast) return got;
    assert.equal(got.kind, 'forward', `LDK node ${i} forwards (log: ${got.log.join(' | ')})`);
    assert.equal(got.next_node_id, ldkId(seeds[i + 1]!), `LDK node ${i} forwards to the next one`);
    msg = got.onion_message!;
  }
  throw new Error('no seeds');
}

const ids = new Map<string, string>();
function ldkId(seed: string): string {
  let id = ids.get(seed);
  if (!id) {
    id = ldk<{ node_id: string }>('node-id', { seed }).node_id;
    ids.set(seed, id);
  }
  return id;
}

const LDK_VERSION = /^lightning = "=(0\.2\.\d+)"$/m.exec(
  readFileSync(join(repoRoot, 'interop/ldk/Cargo.toml'), 'utf8'),
)?.[1];

describe(`LDK ${LDK_VERSION} interop (the crates.io lightning crate)`, () => {
  before(() => {
    harnessPath(); // builds it (minutes) only when no run has yet
  });

  it('tests the LDK version the README names, as pinned and locked', () => {
    assert.ok(LDK_VERSION, 'interop/ldk/Cargo.toml pins lightning exactly at 0.2.x');
    assert.equal(ldk<{ lightning: string }>('version').lightning, LDK_VERSION, 'the harness says so too');
    const lock = readFileSync(join(repoRoot, 'interop/ldk/Cargo.lock'), 'utf8');
    assert.match(lock, new RegExp(`name = "lightning"\\nversion = "${LDK_VERSION!.replace(/\./g, '\\.')}"`));
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    assert.ok(readme.includes(`LDK ${LDK_VERSION}`), `README.md names LDK ${LDK_VERSION}`);
  });

  // 1. LDK (as the LSP holding an HTLC for a recipient of ours) tells it; we read message and reply path.
  const intercept = {
    context: 'release-held-htlc',
    'intercept-id': 'ee'.repeat(32),
    scid: '123456789',
    'htlc-id': '7',
  };
  const interceptContext = {
    type: 'release_held_htlc',
    intercept_id: 'ee'.repeat(32),
    prev_outbound_scid_alias: 123456789,
    htlc_id: 7,
  };

  describe('1. LDK builds held_htlc_available to our key; our peeler reads it', () => {
    it('straight to R: 72 with the 0x00 contents, and LDK’s reply path byte for byte', async () => {
      const sent = ldk<Sent>('held-htlc-available', { seed: A, 'to-node': rId, ...intercept });
      assert.equal(sent.first_node_id, rId);
      const got = received(await peelAs(R, sent.onion_message), 'R receives');
      assert.equal(got.heldHtlcAvailable, true, 'held_htlc_available seen');
      assert.equal(got.releaseHeldHtlc, false);
      assert.equal(hexOf(got.payload.heldHtlcAvailable!), '00', 'LDK writes the empty stream as 0x00');
      assert.equal(got.payload.heldHtlcAvailableOdd, undefined, 'LDK knows only 72');
      assert.ok(got.replyPath, 'reply path read');
      assert.equal(hexOf(encodeBlindedPath(got.replyPath)), sent.reply_path, 'reply path re-encodes exactly');
      assert.equal(hexOf(introNodeId(got.replyPath)!), ldkId(A), 'the reply path leads to LDK');
      assert.equal(got.replyPath.hops.length, 4, 'padded with dummy hops as LDK’s router does');
    });

    it('through one clear intermediate hop (P), then to R', async () => {
      const sent = ldk<Sent>('held-htlc-available', { seed: A, via: [pId], 'to-node': rId, ...intercept });
      assert.equal(sent.first_node_id, pId, 'handed to P');
      const atR = forwarded(await peelAs(P, sent.onion_message), rId, 'P');
      const got = received(await peelAs(R, atR), 'R receives');
      assert.ok(got.heldHtlcAvailable && got.replyPath, 'held_htlc_available with its reply path');
      assert.equal(hexOf(encodeBlindedPath(got.replyPath)), sent.reply_path);
    });

    it('over R’s own blinded message path through P, with a reply path through LDK’s LSP B', async () => {
      const pathId = key(0x99);
      const messagePath = recipientMessagePath({
        recipientNodeId: bytes(rId),
        through: [bytes(pId)],
        pathId,
      });
      const sent = ldk<Sent>('held-htlc-available', {
        seed: A,
        'to-path': hexOf(messagePath),
        'reply-via': [ldkId(B)],
        ...intercept,
      });
      assert.equal(sent.first_node_id, pId, 'LDK goes to the intro node P');
      const atR = forwarded(await peelAs(P, sent.onion_message), rId, 'P');
      const got = received(await peelAs(R, atR), 'R receives');
      assert.equal(hexOf(got.pathId!), hexOf(pathId), 'R gets its path_id back');
      assert.ok(got.heldHtlcAvailable && got.replyPath);
      assert.equal(hexOf(encodeBlindedPath(got.replyPath)), sent.reply_path);
      assert.equal(hexOf(introNodeId(got.replyPath)!), ldkId(B), 'reply path starts at B');
    });
  });

  // 2. Our release goes back over LDK's reply path and LDK's peeler yields ReleaseHeldHtlc.
  describe('2. we build release_held_htlc along LDK’s reply path; LDK releases', () => {
    async function replyPathFromLdk(flags: Record<string, string | string[]>): Promise<BlindedPath> {
      const sent = ldk<Sent>('held-htlc-available', { seed: A, 'to-node': rId, ...flags });
      return received(await peelAs(R, sent.onion_message), 'R receives').replyPath!;
    }

    it('the even variant: ReleaseHeldHtlc with the context LDK put in the path', async () => {
      const replyPath = await replyPathFromLdk(intercept);
      const rel = buildReleaseHeldHtlc({ replyPath, variant: 'even' });
      assert.equal(hexOf(rel.firstNodeId), ldkId(A));
      const got = ldk<Peeled>('peel', { seed: A, message: toLdk(rel) });
      assert.equal(got.kind, 'async_payments', `LDK peels it (log: ${got.log.join(' | ')})`);
      assert.equal(got.message, 'release_held_htlc');
      assert.equal(got.tlv_type, 74);
      assert.deepEqual(got.context, interceptContext, 'LDK finds its intercepted HTLC');
    });

    it('through LDK’s LSP B in front of the holder, for an LDK sender (outbound payment)', async () => {
      const paymentId = '5a'.repeat(32);
      const replyPath = await replyPathFromLdk({
        context: 'outbound-payment',
        'payment-id': paymentId,
        'reply-via': [ldkId(B)],
      });
      const rel = buildReleaseHeldHtlc({ replyPath, variant: 'even' });
      assert.equal(hexOf(rel.firstNodeId), ldkId(B));
      const got = ldkPeelAlong(toLdk(rel), [B, A]);
      assert.equal(got.kind, 'async_payments', got.log.join(' | '));
      assert.equal(got.message, 'release_held_htlc');
      assert.deepEqual(got.context, { type: 'outbound_payment', payment_id: paymentId });
    });

    it('of the recipient agent’s two messages LDK takes the even one; the zero-length form it refuses', async () => {
      const replyPath = await replyPathFromLdk(intercept);
      const sent: ReleaseHeldHtlcVariantMessage[] = [];
      await sendReleases(async (m) => void sent.push(m), { replyPath });
      const [odd, even] = sent;
      assert.equal(odd!.variant, 'odd');
      const gotOdd = ldk<Peeled>('peel', { seed: A, message: toLdk(odd!) });
      assert.equal(gotOdd.kind, 'refused', 'LDK does not know 75');
      const gotEven = ldk<Peeled>('peel', { seed: A, message: toLdk(even!) });
      assert.equal(gotEven.message, 'release_held_htlc', gotEven.log.join(' | '));
      // What we sent before: 74 with a zero-length value. LDK cannot decode it.
      const old = buildOnionMessage({
        destination: replyPath,
        payload: { releaseHeldHtlc: new Uint8Array(0) },
      });
      const gotOld = ldk<Peeled>('peel', { seed: A, message: toLdk(old) });
      assert.equal(gotOld.kind, 'refused', 'LDK refuses a zero-length release_held_htlc');
      assert.match(gotOld.log.join('\n'), /Unable to decode our hop data/, 'the error the issue reports');
    });
  });

  // 3. We (the sender's LSP L) notify an LDK async recipient over its message path; it answers.
  describe('3. we build held_htlc_available along LDK’s message path; LDK answers and we accept', () => {
    const releaseKey = key(0x6b);
    const holdId = new Uint8Array(16).fill(0x1d);
    const expiry = 2_000_000_000;

    async function notifyAndRelease(path: string, seeds: string[]): Promise<void> {
      const [odd, even] = buildHeldHtlcAvailableVariants({
        messagePath: bytes(path),
        replyPathId: releasePathId(releaseKey, holdId),
        ourNodeId: bytes(lId),
      });
      assert.equal(hexOf(even!.firstNodeId), ldkId(seeds[0]!), 'sent to the path’s intro node');
      const got = ldkPeelAlong(toLdk(even!), seeds, { respond: true });
      assert.equal(got.kind, 'async_payments', `LDK peels it (log: ${got.log.join(' | ')})`);
      assert.equal(got.message, 'held_htlc_available');
      assert.equal(got.tlv_type, 72);
      assert.deepEqual(got.context, { type: 'inbound_payment', path_absolute_expiry: expiry });
      assert.equal(got.reply_path, hexOf(encodeBlindedPath(even!.replyPath)), 'LDK reads our reply path');
      // LDK's answer, as its messenger sends a response: release_held_htlc to our reply path.
      const answer = got.response!;
      assert.equal(answer.first_node_id, lId, 'LDK answers to L');
      const back = received(await peelAs(L, answer.onion_message), 'L receives the answer');
      assert.equal(back.releaseHeldHtlc, true, 'a release_held_htlc');
      assert.equal(hexOf(back.payload.releaseHeldHtlc!), '00', 'LDK writes 74 with 0x00');
      const v = verifyPathId(releaseKey, back.pathId!);
      assert.ok(v.ok && hexOf(v.holdId) === hexOf(holdId), 'the path_id verifies and names the hold');

      // The odd one of our two messages is for CLN/LND recipients: LDK makes nothing of it.
      const gotOdd = ldkPeelAlong(toLdk(odd!), seeds);
      assert.equal(gotOdd.kind, 'refused', 'LDK does not know 73');
    }

    it('through LDK’s LSP B to the recipient C', async () => {
      const { path } = ldk<{ path: string }>('message-path', { seed: C, via: [ldkId(B)], expiry });
      await notifyAndRelease(path, [B, C]);
    });

    it('straight to C as the intro node, through the dummy hops LDK pads its paths with', async () => {
      const { path } = ldk<{ path: string }>('message-path', { seed: C, expiry });
      await notifyAndRelease(path, [C]);
    });

    it('LDK refuses held_htlc_available with the zero-length contents we used to send', async () => {
      const { path } = ldk<{ path: string }>('message-path', { seed: C, expiry });
      const good = buildHeldHtlcAvailable({
        messagePath: bytes(path),
        replyPathId: releasePathId(releaseKey, holdId),
        ourNodeId: bytes(lId),
        variant: 'even',
      });
      assert.equal(ldk<Peeled>('peel', { seed: C, message: toLdk(good) }).kind, 'async_payments');
      const old = buildOnionMessage({
        destination: decodeBlindedPath(bytes(path)),
        payload: { replyPath: good.replyPath!, heldHtlcAvailable: new Uint8Array(0) },
      });
      const gotOld = ldk<Peeled>('peel', { seed: C, message: toLdk(old) });
      assert.equal(gotOld.kind, 'refused');
      assert.match(gotOld.log.join('\n'), /Unable to decode our hop data/, 'the error the issue reports');
    });
  });

  // 4. update_add_htlc with hold_htlc: LDK's bytes through our TLV codec and back.
  describe('4. LDK’s update_add_htlc with hold_htlc through our codec, byte for byte', () => {
    // The fixed part: channel_id, id, amount, payment_hash, cltv_expiry, the 1366-byte onion.
    const FIXED = 32 + 8 + 8 + 32 + 4 + 1366;
    const onion = hexOf(
      Uint8Array.from([
        0,
        ...ec.publicKey(key(0x33)),
        ...Array.from({ length: 1300 }, (_, i) => (i * 7) & 0xff),
        ...key(0x44),
      ]),
    );
    const pathKey = hexOf(ec.publicKey(key(0x2b)));
    const fields = {
      'channel-id': '0c'.repeat(32),
      'htlc-id': '42',
      'amount-msat': '150000',
      'payment-hash': 'ab'.repeat(32),
      'cltv-expiry': '800144',
      onion,
    };

    it('reads hold_htlc and the blinding point and re-encodes LDK’s TLVs exactly', () => {
      const { message } = ldk<{ message: string }>('update-add', {
        ...fields,
        'blinding-point': pathKey,
        'skimmed-fee-msat': '1000',
        'hold-htlc': true,
      });
      const msg = bytes(message);
      assert.ok(msg.length > FIXED, 'LDK wrote TLVs');
      const tlvs = msg.subarray(FIXED);
      const t = decodeUpdateAddTlvs(tlvs);
      assert.equal(t.holdHtlc, true, 'hold_htlc found');
      assert.equal(hexOf(t.pathKey!), pathKey, 'blinding point found');
      assert.deepEqual([...t.otherRecords.keys()], [65537n], 'skimmed fee kept as an other record');
      assert.equal(hexOf(encodeUpdateAddTlvs(t)), hexOf(tlvs), 'byte for byte');

      const plain = bytes(ldk<{ message: string }>('update-add', fields).message);
      assert.equal(decodeUpdateAddTlvs(plain.subarray(FIXED)).holdHtlc, false, 'no hold_htlc: not held');
    });

    it('LDK reads the TLVs our sender SDK writes', () => {
      const { message } = ldk<{ message: string }>('update-add', fields);
      const ours = encodeUpdateAddTlvs({ pathKey: bytes(pathKey), holdHtlc: true, otherRecords: new Map() });
      const withOurs = hexOf(bytes(message).subarray(0, FIXED)) + hexOf(ours);
      const got = ldk<{ hold_htlc: boolean; blinding_point: string; reencoded: string }>('read-update-add', {
        message: withOurs,
      });
      assert.equal(got.hold_htlc, true);
      assert.equal(got.blinding_point, pathKey);
      assert.equal(got.reencoded, withOurs, 'LDK writes back the same bytes');
    });
  });
});
