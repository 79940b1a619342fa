// Recipient-LSP mode in the built CLN plugin, driven by the lightningd stand-in: the operator asks
// for a client's message path, a sender's LSP sends held_htlc_available over it while the client is
// away (stored), the client reconnects (a `connect` notification only, as real lightningd sends for a
// peer whose channel stays CHANNELD_NORMAL; listpeerchannels already shows it connected)
// and the plugin injects release_held_htlc over the stored reply path, which reaches the sender's LSP.
// A notice over a forged path is dropped. Restarted plugin: the stored notice survives.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { activeEc, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import { decodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import {
  buildHeldHtlcAvailable,
  buildReleasePath,
  peelOnionMessage,
} from '../../plugin/protocol/onion-message.js';
import { randomPrivateKey } from '../../plugin/protocol/route-blinding.js';
import { LightningdStandin, hex } from '../helpers/lightningd-standin.js';

const standins: LightningdStandin[] = [];
after(async () => {
  for (const s of standins) await s.close();
});

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const client = { key: randomPrivateKey() } as { key: Uint8Array; id: string };
client.id = hex(activeEc().publicKey(client.key));
const senderLsp = { key: randomPrivateKey() } as { key: Uint8Array; id: Uint8Array };
senderLsp.id = activeEc().publicKey(senderLsp.key);

function rig(): { s: LightningdStandin; peer: { connected: boolean } } {
  const s = new LightningdStandin({
    options: { 'async-trampoline-recipient-lsp': true, 'async-trampoline-log-level': 'debug' },
  });
  standins.push(s);
  const peer = { connected: false };
  s.rpcHandlers.set('listpeerchannels', (p) => {
    const all = [{ peer_id: client.id, peer_connected: peer.connected, state: 'CHANNELD_NORMAL' }];
    return { channels: p.id === undefined ? all : all.filter((c) => c.peer_id === p.id) };
  });
  // The sender's LSP is our peer: releases go to it directly.
  s.rpcHandlers.set('listpeers', () => ({ peers: [{ id: hex(senderLsp.id), connected: true }] }));
  return { s, peer };
}

/** What the sender's LSP sends: held_htlc_available over the client's path, with a reply path to it. */
function noticeOver(messagePath: Uint8Array, replyPathId: Uint8Array) {
  // The message path's intro is our (stand-in) node: hand the packet to it directly.
  return buildHeldHtlcAvailable({ messagePath, replyPathId, ourNodeId: senderLsp.id });
}

/** Follow an injected packet: our node's layer, then the sender's LSP's; returns what it got. */
async function atSenderLsp(s: LightningdStandin, inj: { pathKey: Uint8Array; packet: Uint8Array }) {
  const first = await s.receiveOnionMessage(inj);
  assert.equal(first.kind, 'forward');
  if (first.kind !== 'forward') throw new Error('unreachable');
  assert.equal(hex(first.peeled.nextNodeId!), hex(senderLsp.id));
  return peelOnionMessage(first.peeled.wireMessage, ecdhFromPrivateKey(senderLsp.key));
}

test('CLN recipient-LSP: message path, notice stored while away, released on connect, survives a restart', async () => {
  const { s, peer } = rig();
  await s.start();
  const mp = await s.request('async-trampoline-message-path', { node_id: client.id });
  assert.ok(mp.result, JSON.stringify(mp.error));
  assert.equal(mp.result.has_channel, true);
  const messagePath = new Uint8Array(Buffer.from(String(mp.result.message_path), 'hex'));
  assert.equal(
    hex((decodeBlindedPath(messagePath).firstNode as { nodeId: Uint8Array }).nodeId),
    hex(s.nodeId),
  );

  // A forged path: dropped, nothing injected.
  const forged = buildHeldHtlcAvailable({
    messagePath: buildReleasePath(s.nodeId, new Uint8Array(randomBytes(32))),
    replyPathId: new Uint8Array(randomBytes(32)),
    ourNodeId: senderLsp.id,
  });
  const f = await s.receiveOnionMessage(forged);
  assert.equal(f.kind, 'delivered');
  await until('forged notice logged', () => /does not verify/.test(s.stderr));

  // The real notice while the client is away: stored, nothing sent.
  const replyPathId = new Uint8Array(randomBytes(32));
  const got = await s.receiveOnionMessage(noticeOver(messagePath, replyPathId));
  assert.equal(got.kind, 'delivered');
  await until('notice stored', () => /held_htlc_available stored/.test(s.stderr));
  await sleep(200);
  assert.equal(s.injected.length, 0, 'nothing sent while the client is away');

  // Restart the plugin: the notice is still in the mailbox.
  await s.stop();
  await s.start();
  await until('restart reports the stored notice', () => /"stored":1/.test(s.stderr));

  // The client reconnects (its channel was normal all along): one release per variant, over the stored
  // reply path.
  peer.connected = true;
  s.notify('connect', {
    connect: { id: client.id, direction: 'in', address: { type: 'ipv4', address: '127.0.0.1', port: 9735 } },
  });
  await until('release injected', () => s.injected.length >= 1);
  const atL = await atSenderLsp(s, s.injected[0]!);
  assert.equal(atL.kind, 'receive');
  assert.ok(atL.kind === 'receive' && atL.releaseHeldHtlc, 'release_held_htlc');
  assert.equal(hex((atL as { pathId?: Uint8Array }).pathId!), hex(replyPathId), 'over the stored reply path');
  await until('both variants', () => s.injected.length === 2);
  await sleep(200);
  assert.equal(s.injected.length, 2, 'released once (odd and even variants), not again');
  assert.deepEqual(s.stdoutGarbage, []);
  assert.deepEqual(s.duplicateAnswers, []);
});

test('CLN recipient-LSP: a notice for an online client is released at once; mode off answers the command with an error', async () => {
  const { s, peer } = rig();
  peer.connected = true;
  await s.start();
  const mp = await s.request('async-trampoline-message-path', [client.id]);
  const messagePath = new Uint8Array(Buffer.from(String(mp.result!.message_path), 'hex'));
  await s.receiveOnionMessage(noticeOver(messagePath, new Uint8Array(randomBytes(32))));
  await until('release injected', () => s.injected.length >= 1);
  const atL = await atSenderLsp(s, s.injected[0]!);
  assert.ok(atL.kind === 'receive' && atL.releaseHeldHtlc);

  const off = new LightningdStandin();
  standins.push(off);
  await off.start();
  const r = await off.request('async-trampoline-message-path', [client.id]);
  assert.match(String(r.error?.message), /recipient-LSP mode is off/);
});
