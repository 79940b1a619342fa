// Crash property of the webhook store: a worker applies seeded set/remove operations and is
// SIGKILLed at a random moment; the store reopened must hold exactly the model after every
// operation it answered, or after one more (the one in flight may have committed). Every answer
// matches the model (insert-or-replace with the cap) and no client ever exceeds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebhookStore } from '../../plugin/lsps/lsps5/store.js';
import { MAX, applyModel, operations, type Model } from './store-ops.js';

const RUNS = Number(process.env.LSPS5_CRASH_RUNS ?? 24);
const worker = join(dirname(fileURLToPath(import.meta.url)), 'store-worker.js');

function snapshot(store: WebhookStore, clients: string[]): string {
  return JSON.stringify(
    clients.map((c) =>
      store
        .list(c)
        .map((w) => [w.appName, w.url])
        .sort(),
    ),
  );
}
function modelSnapshot(m: Model, clients: string[]): string {
  return JSON.stringify(clients.map((c) => [...(m.get(c) ?? new Map<string, string>())].sort()));
}

test(`webhook store survives SIGKILL at any point (${RUNS} runs)`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lsps5-crash-'));
  let cutShort = 0;
  try {
    for (let seed = 1; seed <= RUNS; seed++) {
      const path = join(dir, `${seed}.sqlite`);
      const ops = operations(seed);
      const answers: string[] = [];
      const child = spawn(process.execPath, [worker, path, String(seed)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        answers.push(...lines);
      });
      // Kill once a seeded number of answers has arrived (or never, for the last run: a clean end).
      const killAfter = seed === RUNS ? Infinity : (seed * 37) % ops.length;
      await new Promise<void>((res) => {
        const check = setInterval(() => {
          if (answers.length >= killAfter) child.kill('SIGKILL');
        }, 1);
        child.on('exit', () => {
          clearInterval(check);
          res();
        });
      });
      if (answers.length < ops.length) cutShort++;
      const model: Model = new Map();
      for (const [i, line] of answers.entries()) {
        const [idx, json] = [Number(line.slice(0, line.indexOf(' '))), line.slice(line.indexOf(' ') + 1)];
        assert.equal(idx, i);
        assert.deepEqual(JSON.parse(json), applyModel(model, ops[i]!), `seed ${seed} op ${i}`);
      }
      const clients = [...new Set(ops.map((o) => o.client))];
      const store = new WebhookStore(path);
      const got = snapshot(store, clients);
      for (const c of clients) assert.ok(store.list(c).length <= MAX);
      store.close();
      const answered = modelSnapshot(model, clients);
      const next = ops[answers.length];
      if (next) applyModel(model, next);
      const oneMore = modelSnapshot(model, clients);
      assert.ok(got === answered || got === oneMore, `seed ${seed}: store after ${answers.length} answers`);
    }
    // The property means something only if most workers really died mid-way.
    assert.ok(cutShort >= RUNS / 2, `only ${cutShort} of ${RUNS} workers were killed before the end`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
