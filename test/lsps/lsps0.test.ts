// LSPS0 transport: the spec's "bad message format" examples, JSON-RPC answers byte for byte, and
// lsps0.list_protocols as bLIP-50 shows it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeInbound } from '../../plugin/lsps/lsps0/codec.js';
import { Lsps0Server, LspsMethodError } from '../../plugin/lsps/lsps0/server.js';
import { memoryLogger } from '../../plugin/ops/log.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string => (b ? new TextDecoder().decode(b) : '(no answer)');
const PARSE_ERROR = '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}';

function server(): { s: Lsps0Server; log: ReturnType<typeof memoryLogger>; active: string[] } {
  const log = memoryLogger();
  const active: string[] = [];
  const s = new Lsps0Server({
    log,
    onPeerActive: (p) => active.push(p),
    protocols: [
      {
        number: 5,
        methods: {
          'lsps5.echo': { params: ['a', 'b'], handle: (_peer, p) => ({ got: p }) },
          'lsps5.refuse': {
            params: [],
            handle: () => {
              throw new LspsMethodError(503, 'full', { max_webhooks: 4 });
            },
          },
          'lsps5.crash': {
            params: [],
            handle: () => {
              throw new Error('secret internal detail');
            },
          },
        },
      },
      { number: 1, methods: {} },
    ],
  });
  return { s, log, active };
}

describe('LSPS0 message format checks', () => {
  // bLIP-50: '" { } " would pass this check, but "{" and " [ ] " would not'; ' { } { ' and ' { } { }' would not.
  for (const ok of [
    ' { "jsonrpc": "2.0", "method": "m", "id": "x" } ',
    '\t\r\n{"jsonrpc":"2.0","method":"m","id":1}\n',
  ])
    it(`accepts ${JSON.stringify(ok)}`, () => assert.equal(decodeInbound(enc(ok)).kind, 'request'));

  const bad: [string, Uint8Array][] = [
    ['"{"', enc('{')],
    ['" [ ] "', enc(' [ ] ')],
    ['" { } { "', enc(' { } { ')],
    ['" { } { }"', enc(' { } { }')],
    ['" { } " (no JSON-RPC request in it)', enc(' { } ')],
    ['a 0 byte inside a string', enc('{"jsonrpc":"2.0","method":"m\u0000","id":"x"}')],
    ['invalid UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d)],
    ['a byte-order mark', enc('\ufeff{"jsonrpc":"2.0","method":"m","id":"x"}')],
    ['jsonrpc 1.0', enc('{"jsonrpc":"1.0","method":"m","id":"x"}')],
    ['a method that is not a string', enc('{"jsonrpc":"2.0","method":5,"id":"x"}')],
    ['an object id', enc('{"jsonrpc":"2.0","method":"m","id":{}}')],
    ['params that are a string', enc('{"jsonrpc":"2.0","method":"m","params":"x","id":"x"}')],
  ];
  for (const [what, payload] of bad)
    it(`answers parse error, id null, to ${what}`, async () => {
      const { s, log } = server();
      assert.equal(dec(await s.handle('02aa', payload)), PARSE_ERROR);
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'LSPS0 message with bad format'));
    });
});

describe('LSPS0 server', () => {
  it('lsps0.list_protocols lists the registered LSPS numbers, never 0, sorted', async () => {
    const { s } = server();
    // The request exactly as bLIP-50 shows it.
    const req = `{
  "method": "lsps0.list_protocols",
  "jsonrpc": "2.0",
  "id": "example#3cad6a54d302edba4c9ade2f7ffac098",
  "params": {}
}`;
    assert.equal(
      dec(await s.handle('02aa', enc(req))),
      '{"jsonrpc":"2.0","id":"example#3cad6a54d302edba4c9ade2f7ffac098","result":{"protocols":[1,5]}}',
    );
  });

  it('an unknown method gets -32601 with the request id', async () => {
    const { s } = server();
    assert.equal(
      dec(await s.handle('02aa', enc('{"jsonrpc":"2.0","method":"lsps9.nope","params":{},"id":"abc"}'))),
      '{"jsonrpc":"2.0","id":"abc","error":{"code":-32601,"message":"Method not found"}}',
    );
  });

  it('unrecognized params get -32602 naming them in data.unrecognized', async () => {
    const { s } = server();
    const a = JSON.parse(
      dec(
        await s.handle(
          '02aa',
          enc('{"jsonrpc":"2.0","method":"lsps5.echo","params":{"a":1,"zz":2,"yy":3},"id":"i"}'),
        ),
      ),
    ) as { error: { code: number; data: { unrecognized: string[] } } };
    assert.equal(a.error.code, -32602);
    assert.deepEqual(a.error.data.unrecognized.sort(), ['yy', 'zz']);
  });

  it('by-position params get -32602 with an empty unrecognized list', async () => {
    const { s } = server();
    const a = JSON.parse(
      dec(await s.handle('02aa', enc('{"jsonrpc":"2.0","method":"lsps5.echo","params":[1],"id":"i"}'))),
    ) as {
      error: { code: number; data: { unrecognized: string[] } };
    };
    assert.equal(a.error.code, -32602);
    assert.deepEqual(a.error.data.unrecognized, []);
  });

  it('omitted params are {}; results and method errors echo the id', async () => {
    const { s } = server();
    assert.equal(
      dec(await s.handle('02aa', enc('{"jsonrpc":"2.0","method":"lsps5.echo","id":7}'))),
      '{"jsonrpc":"2.0","id":7,"result":{"got":{}}}',
    );
    assert.equal(
      dec(await s.handle('02aa', enc('{"jsonrpc":"2.0","method":"lsps5.refuse","params":{},"id":"r"}'))),
      '{"jsonrpc":"2.0","id":"r","error":{"code":503,"message":"full","data":{"max_webhooks":4}}}',
    );
  });

  it('a handler that throws gets -32603 without its message, and a log line', async () => {
    const { s, log } = server();
    const a = dec(
      await s.handle('02aa', enc('{"jsonrpc":"2.0","method":"lsps5.crash","params":{},"id":"c"}')),
    );
    assert.equal(a, '{"jsonrpc":"2.0","id":"c","error":{"code":-32603,"message":"Internal error"}}');
    assert.ok(log.lines.some((l) => l.level === 'error' && l.fields.error === 'secret internal detail'));
  });

  it('a notification from a client is not answered; every message marks its peer active', async () => {
    const { s, active } = server();
    assert.equal(
      await s.handle('02bb', enc('{"jsonrpc":"2.0","method":"lsps5.echo","params":{}}')),
      undefined,
    );
    await s.handle('02cc', enc('{'));
    assert.deepEqual(active, ['02bb', '02cc']);
  });

  it('a peer over its request rate gets -32000 until its bucket refills; other peers are not affected', async () => {
    let t = 0;
    const s = new Lsps0Server({
      log: memoryLogger(),
      protocols: [],
      perPeerBurst: 3,
      perPeerPerSecond: 1,
      now: () => t,
    });
    const req = enc('{"jsonrpc":"2.0","method":"lsps0.list_protocols","id":"q"}');
    const code = async (peer: string): Promise<number | undefined> =>
      (JSON.parse(dec(await s.handle(peer, req))) as { error?: { code: number } }).error?.code;
    for (let i = 0; i < 3; i++) assert.equal(await code('02aa'), undefined);
    assert.equal(await code('02aa'), -32000);
    assert.equal(await code('02bb'), undefined);
    t += 1000;
    assert.equal(await code('02aa'), undefined);
    assert.equal(await code('02aa'), -32000);
  });
});
