import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import { activeEc, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import {
  type ReleaseHeldHtlcVariantMessage,
  buildReleasePath,
  peelOnionMessage,
} from '../../plugin/protocol/onion-message.js';
import { sendReleases } from '../../plugin/recipient/release.js';

const ec = activeEc();
const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const L = key(0x4c);
const P = key(0x50);
const pathId = key(0xaa);
const replyPath = decodeBlindedPath(buildReleasePath(ec.publicKey(L), pathId));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('recipient: sendReleases', () => {
  it('sends 75 then 74 by default, each its own message carrying 0x00, to the same path_id', async () => {
    const sent: ReleaseHeldHtlcVariantMessage[] = [];
    const r = await sendReleases(async (m) => void sent.push(m), { replyPath });
    assert.deepEqual(r, { sent: ['odd', 'even'], failed: [] });
    assert.deepEqual(
      sent.map((m) => m.variant),
      ['odd', 'even'],
    );
    const [odd, even] = await Promise.all(
      sent.map((m) => peelOnionMessage(m.wireMessage, ecdhFromPrivateKey(L, ec))),
    );
    assert.ok(odd!.kind === 'receive' && even!.kind === 'receive');
    assert.equal(hex(odd.payload.releaseHeldHtlcOdd!), '00', 'odd: 75 = 0x00');
    assert.equal(odd.payload.releaseHeldHtlc, undefined, 'odd: no 74');
    assert.equal(hex(even.payload.releaseHeldHtlc!), '00', 'even: 74 = 0x00');
    assert.equal(even.payload.releaseHeldHtlcOdd, undefined, 'even: no 75');
    assert.equal(hex(odd.pathId!), hex(pathId));
    assert.equal(hex(even.pathId!), hex(pathId));
  });

  it('routes through `via` and honours the configured variants', async () => {
    const sent: ReleaseHeldHtlcVariantMessage[] = [];
    await sendReleases(async (m) => void sent.push(m), {
      replyPath,
      via: [ec.publicKey(P)],
      variants: ['even'],
    });
    assert.deepEqual(
      sent.map((m) => [m.variant, hex(m.firstNodeId)]),
      [['even', hex(ec.publicKey(P))]],
    );
  });

  it('one failed send does not stop the other; none sent is an error naming each failure', async () => {
    const tried: string[] = [];
    const r = await sendReleases(
      async (m) => {
        tried.push(m.variant);
        if (m.variant === 'odd') throw new Error('peer offline');
      },
      { replyPath },
    );
    assert.deepEqual(tried, ['odd', 'even']);
    assert.deepEqual(r, { sent: ['even'], failed: [{ variant: 'odd', error: 'peer offline' }] });
    await assert.rejects(
      sendReleases(
        async () => {
          throw new Error('no route');
        },
        { replyPath },
      ),
      /release_held_htlc not sent: odd: no route; even: no route/,
    );
  });
});
