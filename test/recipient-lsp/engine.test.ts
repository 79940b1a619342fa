// The recipient-LSP engine on a simulated host: client paths verify and name their client, notices
// are stored for clients that are away and released when they return (or at once when they are
// there), the mailbox stays within its caps keeping the newest, notices expire, relay mode relays,
// and the listeners fire.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../plugin/ops/log.js';
import { RecipientLspEngine } from '../../plugin/recipient-lsp/engine.js';
import type { RecipientLspConfigInput } from '../../plugin/recipient-lsp/config.js';
import type { NoticeDrop } from '../../plugin/recipient-lsp/metrics.js';
import { clientPathId, verifyClientPathId } from '../../plugin/recipient-lsp/client-path.js';
import { ManualClock, drain } from '../helpers/manual-clock.js';
import { tmpBase } from '../hold/setup.js';
import { SimRlHost, hexOf, pathIdOf } from './sim-rl-host.js';

const C1 = '02' + 'c1'.repeat(32);
const C2 = '03' + 'c2'.repeat(32);
const STRANGER = '02' + 'dd'.repeat(32);
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let replySeq = 0;
const reply = (): Uint8Array => new TextEncoder().encode(`reply-path-${++replySeq}`);

async function rig(config: RecipientLspConfigInput = {}, dbPath?: string) {
  const dir = mkdtempSync(join(tmpBase, 'rlsp-'));
  dirs.push(dir);
  const host = new SimRlHost();
  const clock = new ManualClock();
  const logger = memoryLogger();
  const drops: NoticeDrop[] = [];
  const metrics = {
    stored: () => {},
    dropped: (r: NoticeDrop) => drops.push(r),
    sent: () => {},
    mailboxSize: () => {},
  };
  const path = dbPath ?? join(dir, 'mailbox.sqlite');
  const engine = await RecipientLspEngine.open({ dbPath: path, host, config, logger, clock, metrics });
  await engine.start();
  const pathOf = async (n: string) => pathIdOf((await engine.messagePath(n)).messagePath);
  return { host, clock, logger, engine, drops, dbPath: path, pathOf };
}

describe('client path ids', () => {
  const key = new Uint8Array(32).fill(1);
  const issued = new Map<string, string>();
  const id = clientPathId(key, C1);
  issued.set(hexOf(id.subarray(0, 16)), C1);
  const lookup = (h: string) => issued.get(h);

  it('verifies and names its client; deterministic', () => {
    assert.deepEqual(verifyClientPathId(key, id, lookup), { ok: true, nodeId: C1 });
    assert.deepEqual(clientPathId(key, C1), id);
  });

  it('a flipped tag bit, another key, a wrong length, an unknown id or none: rejected', () => {
    const bad = Uint8Array.from(id);
    bad[31]! ^= 1;
    assert.deepEqual(verifyClientPathId(key, bad, lookup), { ok: false, why: 'hmac' });
    assert.deepEqual(verifyClientPathId(new Uint8Array(32).fill(2), id, lookup), { ok: false, why: 'hmac' });
    assert.deepEqual(verifyClientPathId(key, id.subarray(0, 31), lookup), { ok: false, why: 'length' });
    assert.deepEqual(verifyClientPathId(key, clientPathId(key, C2), lookup), { ok: false, why: 'unknown' });
    assert.deepEqual(verifyClientPathId(key, undefined, lookup), { ok: false, why: 'missing' });
  });

  it('the tag binds the node id: a path for C1 cannot be re-pointed at C2', () => {
    issued.set(hexOf(id.subarray(0, 16)), C2);
    assert.deepEqual(verifyClientPathId(key, id, lookup), { ok: false, why: 'hmac' });
    issued.set(hexOf(id.subarray(0, 16)), C1);
  });
});

describe('recipient-LSP engine', () => {
  it('stores a notice for an away client, fires noticeStored, releases when it returns, once', async () => {
    const r = await rig();
    const stored: string[] = [];
    const online: string[] = [];
    const offline: string[] = [];
    r.engine.addListener({
      noticeStored: (n) => stored.push(n),
      clientOnline: (n) => online.push(n),
      clientOffline: (n) => offline.push(n),
    });
    r.host.setPeer(C1, { hasChannel: true });
    const rp = reply();
    r.host.deliver({ pathId: await r.pathOf(C1), replyPath: rp }, C1);
    await drain();
    assert.deepEqual(stored, [C1]);
    assert.equal(r.engine.stats().stored, 1);
    assert.equal(r.host.sends.length, 0, 'nothing sent while the client is away');
    // Connected is not enough: the channel must be active too.
    r.host.setPeer(C1, { connected: true });
    await drain();
    assert.equal(r.host.sends.length, 0);
    r.host.setPeer(C1, { active: true });
    await drain();
    assert.deepEqual(
      r.host.sends.map((s) => [s.kind, s.replyHex, s.ready]),
      [['release', hexOf(rp), true]],
    );
    assert.equal(r.engine.stats().stored, 0);
    assert.deepEqual(online, [C1]);
    r.host.setPeer(C1, { connected: false });
    r.host.setPeer(C1, { connected: true, active: true });
    await drain();
    assert.equal(r.host.sends.length, 1, 'a released notice is not sent again');
    assert.deepEqual(offline, [C1]);
    await r.engine.stop();
  });

  it('releases at once when the client is already online; a duplicate message is one notice', async () => {
    const r = await rig();
    r.host.setPeer(C1, { hasChannel: true, connected: true, active: true });
    const pathId = await r.pathOf(C1);
    const rp = reply();
    r.host.deliver({ pathId, replyPath: rp }, C1);
    r.host.deliver({ pathId, replyPath: rp }, C1);
    await drain();
    assert.equal(r.host.sends.length, 1);
    assert.equal(r.engine.stats().stored, 0);
    await r.engine.stop();
  });

  it('drops, with a log line, notices over forged paths, for non-clients and without a reply path', async () => {
    const r = await rig();
    r.host.setPeer(C1, { hasChannel: true, connected: true, active: true });
    const good = await r.pathOf(C1);
    const forged = Uint8Array.from(good);
    forged[20]! ^= 0xff;
    r.host.deliver({ pathId: forged, replyPath: reply() }, C1);
    r.host.deliver({ pathId: undefined, replyPath: reply() }, C1);
    r.host.deliver({ pathId: new Uint8Array(32), replyPath: reply() }, C1);
    // A path issued for a node with no channel to us (STRANGER connected, no channel).
    r.host.setPeer(STRANGER, { connected: true });
    r.host.deliver({ pathId: await r.pathOf(STRANGER), replyPath: reply() }, STRANGER);
    r.host.deliver({ pathId: good, replyPath: undefined });
    await drain();
    assert.equal(r.host.sends.length, 0);
    assert.equal(r.engine.stats().stored, 0);
    assert.deepEqual(r.drops.sort(), [
      'no_reply_path',
      'not_client',
      'unverified',
      'unverified',
      'unverified',
    ]);
    const warned = r.logger.lines.filter((l) => /does not verify/.test(l.msg));
    assert.equal(warned.length, 3);
    assert.ok(r.logger.lines.some((l) => /without a channel to us/.test(l.msg)));
    // No secret in the log: the path id never appears.
    assert.ok(!JSON.stringify(r.logger.lines).includes(hexOf(good)));
    await r.engine.stop();
  });

  it('1,000 notices for one client keep the newest within the per-client cap; total cap across clients', async () => {
    const r = await rig({ maxPerClient: 8, maxTotal: 12 });
    r.host.setPeer(C1, { hasChannel: true });
    r.host.setPeer(C2, { hasChannel: true });
    const p1 = await r.pathOf(C1);
    const p2 = await r.pathOf(C2);
    const replies: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) {
      const rp = reply();
      replies.push(rp);
      r.host.deliver({ pathId: p1, replyPath: rp }, C1);
    }
    await drain(20);
    assert.equal(r.engine.stats().stored, 8);
    assert.equal(r.drops.filter((d) => d === 'client_cap').length, 992);
    for (let i = 0; i < 6; i++) r.host.deliver({ pathId: p2, replyPath: reply() }, C2);
    await drain();
    const s = r.engine.stats();
    assert.equal(s.stored, 12);
    assert.deepEqual(s.perClient, { [C1]: 6, [C2]: 6 });
    r.host.setPeer(C1, { connected: true, active: true });
    await drain();
    // The newest six of C1's thousand, newest first.
    assert.deepEqual(
      r.host.sends.map((x) => x.replyHex),
      replies.slice(-6).reverse().map(hexOf),
    );
    await r.engine.stop();
  });

  it('notices expire; expired ones are never released', async () => {
    const r = await rig({ expiryMs: 60_000, sweepMs: 10_000 });
    r.host.setPeer(C1, { hasChannel: true });
    r.host.deliver({ pathId: await r.pathOf(C1), replyPath: reply() }, C1);
    await drain();
    r.clock.advance(70_000);
    await drain();
    assert.equal(r.engine.stats().stored, 0);
    assert.deepEqual(r.drops, ['expired']);
    r.host.setPeer(C1, { connected: true, active: true });
    await drain();
    assert.equal(r.host.sends.length, 0);
    await r.engine.stop();
  });

  it('survives a restart: a notice stored before it is released after it', async () => {
    const r = await rig();
    r.host.setPeer(C1, { hasChannel: true });
    const rp = reply();
    r.host.deliver({ pathId: await r.pathOf(C1), replyPath: rp }, C1);
    await drain();
    await r.engine.stop();
    // The client came back while we were down: the start-up check releases.
    r.host.peers.set(C1, { hasChannel: true, connected: true, active: true });
    const e2 = await RecipientLspEngine.open({ dbPath: r.dbPath, host: r.host, clock: r.clock });
    await e2.start();
    await drain();
    assert.deepEqual(
      r.host.sends.map((s) => s.replyHex),
      [hexOf(rp)],
    );
    await e2.stop();
  });

  it('a failing send keeps the notice and retries while the client stays online', async () => {
    const r = await rig({ retryBaseMs: 1_000 });
    r.host.setPeer(C1, { hasChannel: true, connected: true, active: true });
    r.host.failRate = 1;
    r.host.deliver({ pathId: await r.pathOf(C1), replyPath: reply() }, C1);
    await drain();
    assert.equal(r.engine.stats().stored, 1);
    r.host.failRate = 0;
    r.clock.advance(1_000);
    await drain();
    assert.equal(r.host.sends.length, 1);
    assert.equal(r.engine.stats().stored, 0);
    await r.engine.stop();
  });

  it('peer state unknown (host RPC fails): a verified notice is kept, released on the next event', async () => {
    const r = await rig();
    r.host.setPeer(C1, { hasChannel: true });
    const pathId = await r.pathOf(C1);
    r.host.peerStateFails = true;
    r.host.deliver({ pathId, replyPath: reply() }, C1);
    await drain();
    assert.equal(r.engine.stats().stored, 1);
    r.host.peerStateFails = false;
    r.host.setPeer(C1, { connected: true, active: true });
    await drain();
    assert.equal(r.host.sends.length, 1);
    await r.engine.stop();
  });

  it('relay mode (per client, or all): the notice goes to the client itself', async () => {
    const r = await rig({ relayClients: [C2] });
    r.host.setPeer(C1, { hasChannel: true });
    r.host.setPeer(C2, { hasChannel: true });
    assert.equal(r.engine.setRelay(C1, true), false, 'no path issued yet');
    const p1 = await r.pathOf(C1);
    assert.equal(r.engine.setRelay(C1, true), true);
    r.host.deliver({ pathId: p1, replyPath: reply() }, C1);
    r.host.deliver({ pathId: await r.pathOf(C2), replyPath: reply() }, C2);
    await drain();
    r.host.setPeer(C1, { connected: true, active: true });
    r.host.setPeer(C2, { connected: true, active: true });
    await drain();
    assert.deepEqual(r.host.sends.map((s) => [s.kind, s.to]).sort(), [
      ['relay', C1],
      ['relay', C2],
    ]);
    await r.engine.stop();
  });

  it('a throwing listener is logged and changes nothing', async () => {
    const r = await rig();
    r.engine.addListener({
      noticeStored: () => {
        throw new Error('webhook down');
      },
    });
    r.host.setPeer(C1, { hasChannel: true });
    r.host.deliver({ pathId: await r.pathOf(C1), replyPath: reply() }, C1);
    await drain();
    assert.equal(r.engine.stats().stored, 1);
    assert.ok(r.logger.lines.some((l) => /listener threw/.test(l.msg)));
    await r.engine.stop();
  });

  it('rejects a bad node id for a message path and a bad config', async () => {
    const r = await rig();
    await assert.rejects(r.engine.messagePath('nope'), /not a 33-byte hex node id/);
    await r.engine.stop();
    await assert.rejects(rig({ maxPerClient: 10, maxTotal: 5 }), /maxPerClient must not exceed maxTotal/);
  });
});
