// Crash property for the mailbox: the engine is killed before any mailbox write or send, reopened on
// the same file, while notices arrive (good, forged, for non-clients), clients come and go, sends
// fail and time passes. Over many seeded schedules: the mailbox never exceeds its caps; nothing is
// sent for a notice that did not verify or whose client had no channel; a release goes out only
// after its client was ready; and once every client is back for good, every notice the mailbox ever
// held (and did not drop over a cap) has been sent, and nothing stays stored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { nullLogger } from '../../plugin/ops/log.js';
import { RecipientLspEngine, type RecipientLspCrashStep } from '../../plugin/recipient-lsp/engine.js';
import { ManualClock, drain } from '../helpers/manual-clock.js';
import { tmpBase } from '../hold/setup.js';
import { SimRlHost, hexOf, pathIdOf } from './sim-rl-host.js';
import { prng } from '../helpers/prng.js';

const RUNS = Number(process.env.RLSP_PROPERTY_RUNS ?? 600);

const CLIENTS = ['02' + 'a1'.repeat(32), '03' + 'b2'.repeat(32), '02' + 'c3'.repeat(32)];
const NON_CLIENT = '02' + 'ee'.repeat(32);

interface Tally {
  crashes: number;
  steps: Set<RecipientLspCrashStep>;
  sent: number;
  evicted: number;
}

async function runSchedule(seed: number, tally: Tally): Promise<void> {
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const ctx = `seed ${seed}`;
  const dir = mkdtempSync(join(tmpBase, 'rlsp-crash-'));
  const dbPath = join(dir, 'mailbox.sqlite');
  const host = new SimRlHost();
  host.rnd = rnd;
  host.failRate = rnd() < 0.5 ? 0.2 : 0;
  const clock = new ManualClock();
  const caps = rnd() < 0.5 ? { maxPerClient: 3, maxTotal: 5 } : { maxPerClient: 50, maxTotal: 100 };
  const relayClients = rnd() < 0.3 ? [CLIENTS[0]!] : [];
  const config = { ...caps, relayClients, retryBaseMs: 500, retryCapMs: 2_000, expiryMs: 1e12 };
  for (const c of CLIENTS) host.setPeer(c, { hasChannel: true, connected: rnd() < 0.3 });

  let crashesLeft = int(0, 4);
  let stepsToCrash: number | undefined;
  const crashPoint = (step: RecipientLspCrashStep): boolean => {
    if (stepsToCrash === undefined) return false;
    if (--stepsToCrash >= 0) return false;
    stepsToCrash = undefined;
    tally.crashes++;
    tally.steps.add(step);
    return true;
  };
  let engine: RecipientLspEngine;
  const paths = new Map<string, Uint8Array>();
  const open = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 6) throw new Error(`${ctx}: engine dies at every start`);
      stepsToCrash = crashesLeft > 0 ? (crashesLeft--, int(0, 10)) : undefined;
      engine = await RecipientLspEngine.open({ dbPath, host, config, logger: nullLogger, clock, crashPoint });
      await engine.start();
      await drain();
      if (engine.stopped) continue;
      // Issue (again: idempotent) every client's path, and one for a node without a channel.
      try {
        for (const n of [...CLIENTS, NON_CLIENT])
          paths.set(n, pathIdOf((await engine.messagePath(n)).messagePath));
      } catch {
        // crashed while writing the client row
      }
      if (!engine.stopped) return;
    }
  };
  await open();

  // What the test knows: every reply path delivered, and over which path; steps at which a client was ready.
  const delivered = new Map<string, { client: string; valid: boolean; step: number }>();
  const readySteps = new Map<string, number[]>();
  const everStored = new Set<string>();
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const snapshot = (step: number): void => {
    const rows = db.prepare(`SELECT node_id, reply_path, state FROM notices`).all() as {
      node_id: string;
      reply_path: Buffer;
      state: string;
    }[];
    const per = new Map<string, number>();
    let total = 0;
    for (const r of rows) {
      if (r.state !== 'stored') continue;
      total++;
      per.set(r.node_id, (per.get(r.node_id) ?? 0) + 1);
      everStored.add(r.reply_path.toString('hex'));
    }
    assert.ok(total <= caps.maxTotal, `${ctx} step ${step}: ${total} stored > total cap`);
    for (const [n, k] of per) assert.ok(k <= caps.maxPerClient, `${ctx} step ${step}: ${n} has ${k}`);
    for (const c of CLIENTS)
      if (host.ready(c)) (readySteps.get(c) ?? readySteps.set(c, []).get(c)!).push(step);
  };

  let seq = 0;
  const sendsAt: number[] = [];
  for (let step = 0, steps = int(10, 40); step < steps; step++) {
    const r = rnd();
    const c = CLIENTS[int(0, CLIENTS.length - 1)]!;
    if (r < 0.45) {
      const kind = rnd();
      const rp = new TextEncoder().encode(`s${seed}-reply-${seq++}`);
      let pathId = paths.get(c)!;
      let owner = c;
      let valid = true;
      if (kind < 0.1) {
        pathId = Uint8Array.from(pathId);
        pathId[17]! ^= 0x40;
        valid = false;
      } else if (kind < 0.18) {
        pathId = paths.get(NON_CLIENT)!;
        owner = NON_CLIENT;
        valid = false;
      }
      delivered.set(hexOf(rp), { client: owner, valid, step });
      host.deliver({ pathId, replyPath: rp }, owner);
    } else if (r < 0.7) {
      const p = host.peers.get(c)!;
      host.setPeer(
        c,
        p.connected
          ? rnd() < 0.5
            ? { connected: false }
            : { active: !p.active }
          : { connected: true, active: rnd() < 0.7 },
      );
    } else if (r < 0.85) clock.advance(int(100, 3_000));
    else if (engine!.stopped === false && rnd() < 0.5) {
      // A clean restart now and then, on top of the crashes.
      await engine!.stop();
    }
    await drain();
    while (sendsAt.length < host.sends.length) sendsAt.push(step);
    snapshot(step);
    if (engine!.stopped) await open();
  }

  // Wind down: no more crashes or failures, every client back for good.
  crashesLeft = 0;
  stepsToCrash = undefined;
  host.failRate = 0;
  if (engine!.stopped) await open();
  for (const c of CLIENTS) host.setPeer(c, { connected: true, active: true });
  for (let i = 0; i < 10; i++) {
    clock.advance(2_000);
    await drain();
  }
  while (sendsAt.length < host.sends.length) sendsAt.push(Infinity);
  snapshot(Infinity);
  const stored = (
    db.prepare(`SELECT count(*) AS n FROM notices WHERE state = 'stored'`).get() as { n: number }
  ).n;
  db.close();
  await engine!.stop();
  rmSync(dir, { recursive: true, force: true });

  assert.equal(stored, 0, `${ctx}: nothing left stored once every client is back`);
  const sentReplies = new Map<string, number>();
  host.sends.forEach((s, i) => {
    const d = delivered.get(s.replyHex);
    assert.ok(d, `${ctx}: sent something never delivered`);
    assert.ok(d.valid, `${ctx}: sent for a forged path or a non-client`);
    const relay = relayClients.includes(d.client);
    assert.equal(s.kind, relay ? 'relay' : 'release', `${ctx}: relay mode respected`);
    if (relay) assert.equal(s.to, d.client);
    const at = sendsAt[i]!;
    const ready = readySteps.get(d.client) ?? [];
    assert.ok(
      s.ready || ready.some((x) => x >= d.step && x <= at),
      `${ctx}: sent for ${d.client.slice(0, 6)} at step ${at} without it being ready since step ${d.step}`,
    );
    sentReplies.set(s.replyHex, (sentReplies.get(s.replyHex) ?? 0) + 1);
  });
  for (const r of everStored) {
    // Stored and then gone without a send: only an eviction over a cap may do that.
    if (!sentReplies.has(r)) {
      assert.ok(caps.maxTotal <= 5, `${ctx}: stored notice ${r} vanished without a send (caps large)`);
      tally.evicted++;
    }
  }
  tally.sent += host.sends.length;
}

describe('recipient-LSP mailbox: crash property', () => {
  it(`caps hold, nothing forged is sent, nothing stored is lost, across ${RUNS} crash schedules`, async () => {
    const tally: Tally = { crashes: 0, steps: new Set(), sent: 0, evicted: 0 };
    for (let seed = 1; seed <= RUNS; seed++) await runSchedule(seed, tally);
    assert.ok(tally.crashes > RUNS / 3, `crashes: ${tally.crashes}`);
    for (const s of ['write', 'send'] as const)
      assert.ok(tally.steps.has(s), `crashed at least once at ${s}`);
    assert.ok(tally.sent > RUNS, `sends: ${tally.sent}`);
    assert.ok(tally.evicted > 0, 'some schedule evicted over a cap');
  });
});
