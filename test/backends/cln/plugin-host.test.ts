import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { JsonObjectStream, frame } from '../../../plugin/backends/cln/framing.js';
import { NO_ANSWER, PluginHost, type HookHandler } from '../../../plugin/backends/cln/plugin-host.js';
import { memoryLogger } from '../../../plugin/ops/log.js';

interface Answer {
  id: string;
  result?: Record<string, unknown>;
  error?: { code: number };
}

function harness(hook: HookHandler): {
  send(m: object): void;
  answer(id: string): Promise<Answer>;
  all: Answer[];
} {
  const input = new PassThrough();
  const output = new PassThrough();
  const all: Answer[] = [];
  const waiters = new Map<string, (a: Answer) => void>();
  const s = new JsonObjectStream({
    message: (v) => {
      const a = v as Answer;
      all.push(a);
      waiters.get(String(a.id))?.(a);
    },
    garbage: () => assert.fail('plugin wrote garbage'),
  });
  output.on('data', (d: Buffer) => s.push(d));
  const host = new PluginHost({
    input,
    output,
    logger: memoryLogger(),
    manifest: () => ({ dynamic: false }),
    init: async () => undefined,
    onInitFailure: () => {},
    hooks: { htlc_accepted: hook },
    notifications: {},
    methods: {
      boom: async () => {
        throw new Error('kaboom');
      },
    },
  });
  host.start();
  const send = (m: object): void => void input.write(frame({ jsonrpc: '2.0', ...m }));
  send({
    id: 'i',
    method: 'init',
    params: { options: {}, configuration: { 'lightning-dir': '/x', 'rpc-file': 'r' } },
  });
  return { send, answer: (id) => new Promise((res) => waiters.set(id, res)), all };
}

const fail = { result: 'fail', failure_message: '2002' };
const hookWith = (handle: HookHandler['handle']): HookHandler => ({
  handle,
  validate: (a): a is object => typeof a === 'object' && a !== null && 'result' in a,
  fallback: () => fail,
});

test('host: a hook handler that throws gets the fallback answer', async () => {
  const h = harness(
    hookWith(() => {
      throw new Error('sync boom');
    }),
  );
  const a = h.answer('h1');
  h.send({ id: 'h1', method: 'htlc_accepted', params: {} });
  assert.deepEqual((await a).result, fail);
});

test('host: a hook handler that rejects, or returns an invalid answer, gets the fallback answer', async () => {
  const h = harness(
    hookWith(async (p) => ((p as { bad?: boolean }).bad ? { nope: 1 } : Promise.reject(new Error('x')))),
  );
  const a1 = h.answer('h1');
  const a2 = h.answer('h2');
  h.send({ id: 'h1', method: 'htlc_accepted', params: {} });
  h.send({ id: 'h2', method: 'htlc_accepted', params: { bad: true } });
  assert.deepEqual((await a1).result, fail);
  assert.deepEqual((await a2).result, fail);
});

test('host: NO_ANSWER writes nothing for that id; ids are echoed verbatim (numbers too)', async () => {
  let n = 0;
  const h = harness(hookWith(async () => (n++ === 0 ? NO_ANSWER : { result: 'continue' })));
  await h.answer('i');
  h.send({ id: 'first', method: 'htlc_accepted', params: {} });
  const a = h.answer('7');
  h.send({ id: 7, method: 'htlc_accepted', params: {} });
  const got = await a;
  assert.equal(got.id as unknown, 7);
  assert.ok(!h.all.some((x) => x.id === 'first'));
});

test('host: a failing method answers a JSON-RPC error; an unknown method -32601', async () => {
  const h = harness(hookWith(async () => ({ result: 'continue' })));
  const a = h.answer('m1');
  const b = h.answer('m2');
  h.send({ id: 'm1', method: 'boom', params: {} });
  h.send({ id: 'm2', method: 'nope', params: {} });
  assert.equal((await a).error?.code, -32603);
  assert.equal((await b).error?.code, -32601);
});
