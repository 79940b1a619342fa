import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonObjectStream, frame, stringifyJson } from '../../../plugin/backends/cln/framing.js';

function collector(): { s: JsonObjectStream; msgs: unknown[]; garbage: string[] } {
  const msgs: unknown[] = [];
  const garbage: string[] = [];
  const s = new JsonObjectStream({ message: (m) => msgs.push(m), garbage: (r) => garbage.push(r) });
  return { s, msgs, garbage };
}

const messages = [
  {
    jsonrpc: '2.0',
    id: 'cln:getmanifest#1',
    method: 'getmanifest',
    params: { 'allow-deprecated-apis': false },
  },
  {
    jsonrpc: '2.0',
    id: 'x',
    method: 'm',
    params: { s: 'brace } and " quote \\ and ünïcødé ₿ 🚀', a: [1, { b: [] }] },
  },
  { jsonrpc: '2.0', method: 'block_added', params: { block_added: { hash: '00'.repeat(32), height: 101 } } },
];

test('framing: a stream of messages split at every byte boundary yields the same messages', () => {
  const bytes = Buffer.from(messages.map((m) => frame(m)).join(''), 'utf8');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { s, msgs, garbage } = collector();
    s.push(bytes.subarray(0, cut));
    s.push(bytes.subarray(cut));
    assert.deepEqual(msgs, messages, `cut at byte ${cut}`);
    assert.deepEqual(garbage, []);
  }
});

test('framing: one byte at a time, and all at once', () => {
  const bytes = Buffer.from(messages.map((m) => frame(m)).join(''), 'utf8');
  const one = collector();
  for (const b of bytes) one.s.push(Uint8Array.of(b));
  assert.deepEqual(one.msgs, messages);
  const all = collector();
  all.s.push(bytes);
  assert.deepEqual(all.msgs, messages);
});

test('framing: objects without the blank-line separator are still split', () => {
  const { s, msgs } = collector();
  s.push(messages.map((m) => JSON.stringify(m)).join(''));
  assert.deepEqual(msgs, messages);
});

test('framing: garbage is reported and dropped; the messages around it survive', () => {
  const { s, msgs, garbage } = collector();
  const good = frame(messages[0]);
  s.push('hello world\n' + good);
  s.push('}}]]\n' + good);
  s.push('{"unterminated": [1, 2\n\n' + good); // abandoned at the blank line
  s.push('{not json at all}\n\n' + good);
  s.push('{"raw newline in a string\n' + good);
  s.push('\u0000\u0001\xff\n' + good);
  assert.equal(msgs.length, 6);
  for (const m of msgs) assert.deepEqual(m, messages[0]);
  assert.equal(garbage.length, 6);
});

test('framing: end() reports an unfinished message', () => {
  const { s, msgs, garbage } = collector();
  s.push('{"jsonrpc": "2.0"');
  s.end();
  assert.deepEqual(msgs, []);
  assert.deepEqual(garbage, ['stream ended inside a message']);
});

test('stringifyJson: bigint stays exact, undefined fields are left out, strings are escaped', () => {
  const big = 2n ** 64n - 1n;
  const text = stringifyJson({ a: big, b: undefined, c: 'x"\u0000bigint0\u0000', d: [1n, null] });
  assert.equal(text, `{"a":${big},"c":"x\\"\\u0000bigint0\\u0000","d":[1,null]}`);
  assert.equal(frame({}), '{}\n\n');
});
