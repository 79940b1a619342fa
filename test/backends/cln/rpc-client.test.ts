import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClnRpc, ClnRpcError } from '../../../plugin/backends/cln/rpc-client.js';
import { JsonObjectStream, frame } from '../../../plugin/backends/cln/framing.js';
import { nullLogger } from '../../../plugin/ops/log.js';

interface Req {
  id: string;
  method: string;
  params: Record<string, unknown>;
}

async function server(
  onReq: (r: Req, sock: Socket) => void,
): Promise<{ path: string; close(): void; sockets: Socket[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'clnrpc-'));
  const path = join(dir, 'lightning-rpc');
  const sockets: Socket[] = [];
  const srv: Server = createServer((sock) => {
    sockets.push(sock);
    const s = new JsonObjectStream({ message: (v) => onReq(v as Req, sock), garbage: () => {} });
    sock.on('data', (d) => s.push(d));
    sock.on('error', () => {});
  });
  await new Promise<void>((res) => srv.listen(path, res));
  return {
    path,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('rpc client: overlapping calls get distinct string ids and their own answers, in any order', async () => {
  const held: { r: Req; sock: Socket }[] = [];
  const srv = await server((r, sock) => {
    held.push({ r, sock });
    if (held.length === 3) {
      for (const { r: q, sock: s } of [...held].reverse()) {
        s.write(frame({ jsonrpc: '2.0', id: q.id, result: { echo: q.method } }));
      }
    }
  });
  const rpc = new ClnRpc({ socketPath: srv.path, logger: nullLogger });
  try {
    const out = await Promise.all([
      rpc.call('getinfo'),
      rpc.call('listpeers'),
      rpc.call('makesecret', { string: 'x' }),
    ]);
    assert.deepEqual(out, [{ echo: 'getinfo' }, { echo: 'listpeers' }, { echo: 'makesecret' }]);
    const ids = held.map((h) => h.r.id);
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.equal(typeof id, 'string');
  } finally {
    rpc.close();
    srv.close();
  }
});

test('rpc client: a slow call does not hold up the others', async () => {
  let slow: { r: Req; sock: Socket } | undefined;
  const srv = await server((r, sock) => {
    if (r.method === 'xpay') slow = { r, sock };
    else sock.write(frame({ jsonrpc: '2.0', id: r.id, result: { n: r.params.n } }));
  });
  const rpc = new ClnRpc({ socketPath: srv.path, logger: nullLogger });
  try {
    const pay = rpc.call('xpay', { invstring: 'lnbc1' });
    let settled = false;
    void pay.then(() => (settled = true));
    const fast = await Promise.all(Array.from({ length: 20 }, (_, n) => rpc.call('getinfo', { n })));
    assert.deepEqual(
      fast.map((f) => (f as { n: number }).n),
      Array.from({ length: 20 }, (_, n) => n),
    );
    assert.equal(settled, false, 'xpay is still pending');
    assert.ok(slow);
    slow.sock.write(frame({ jsonrpc: '2.0', id: slow.r.id, result: { payment_preimage: '11'.repeat(32) } }));
    assert.deepEqual(await pay, { payment_preimage: '11'.repeat(32) });
  } finally {
    rpc.close();
    srv.close();
  }
});

test('rpc client: an error answer rejects with ClnRpcError; a closed socket fails pending calls; the next call reconnects', async () => {
  let drop = false;
  const srv = await server((r, sock) => {
    if (drop) {
      drop = false;
      sock.destroy();
      return;
    }
    if (r.method === 'bad')
      sock.write(frame({ jsonrpc: '2.0', id: r.id, error: { code: -32602, message: 'nope' } }));
    else sock.write(frame({ jsonrpc: '2.0', id: r.id, result: {} }));
  });
  const rpc = new ClnRpc({ socketPath: srv.path, logger: nullLogger });
  try {
    await assert.rejects(rpc.call('bad'), (e: unknown) => e instanceof ClnRpcError && e.code === -32602);
    drop = true;
    await assert.rejects(rpc.call('getinfo'), (e: unknown) => e instanceof ClnRpcError && e.code === -1);
    assert.deepEqual(await rpc.call('getinfo'), {});
    assert.equal(srv.sockets.length, 2);
  } finally {
    rpc.close();
    srv.close();
  }
});
