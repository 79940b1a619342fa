// The interceptor stream against an in-process gRPC server speaking our Router proto, standing in for
// LND: answers go only to keys offered on the live stream, each once; after a reconnect the replay
// is answered, and stale answers from the old stream are dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions, protoFiles, type LndClients } from '../../../plugin/backends/lnd/grpc.js';
import { HtlcInterceptorStream, type Offer } from '../../../plugin/backends/lnd/interceptor.js';
import { toInterceptResponse } from '../../../plugin/backends/lnd/htlc-map.js';
import type { ForwardHtlcInterceptRequest } from '../../../plugin/backends/lnd/messages.js';
import { nullLogger } from '../../../plugin/ops/log.js';

type Ctor = new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client;
const pkgs = grpc.loadPackageDefinition(protoLoader.loadSync(protoFiles, loaderOptions)) as unknown as {
  routerrpc: { Router: Ctor & { service: grpc.ServiceDefinition } };
};

function request(htlcId: number): Record<string, unknown> {
  return {
    incoming_circuit_key: { chan_id: '1', htlc_id: String(htlcId) },
    incoming_amount_msat: '1000',
    incoming_expiry: 100,
    payment_hash: Buffer.alloc(32, htlcId),
    outgoing_requested_chan_id: '2',
    outgoing_amount_msat: '900',
    outgoing_expiry: 60,
    auto_fail_height: 90,
  };
}

/** A fake LND: each HtlcInterceptor stream is handed to the test, which drives it. */
async function fakeLnd() {
  const streams: grpc.ServerDuplexStream<unknown, unknown>[] = [];
  const received: { stream: number; res: { incoming_circuit_key: { htlc_id: string }; action: string } }[] =
    [];
  const waiters: (() => void)[] = [];
  const server = new grpc.Server();
  server.addService(pkgs.routerrpc.Router.service, {
    HtlcInterceptor: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      const idx = streams.push(call) - 1;
      call.on('data', (res: unknown) => {
        received.push({ stream: idx, res: res as (typeof received)[number]['res'] });
        for (const w of waiters.splice(0)) w();
      });
      call.on('error', () => {});
      for (const w of waiters.splice(0)) w();
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await new Promise<void>((r) => waiters.push(r));
  };
  return { server, port, streams, received, until };
}

test('answers only live offers, once each; a reconnect drops stale answers and the replay is answered', async () => {
  const lnd = await fakeLnd();
  const router = new pkgs.routerrpc.Router(`127.0.0.1:${lnd.port}`, grpc.credentials.createInsecure());
  const clients = { router } as unknown as LndClients;
  const offers: { req: ForwardHtlcInterceptRequest; offer: Offer }[] = [];
  const s = new HtlcInterceptorStream(
    clients,
    (req, offer) => {
      offers.push({ req, offer });
    },
    nullLogger,
    { baseMs: 10, maxMs: 50 },
  );
  s.start();
  try {
    await lnd.until(() => lnd.streams.length === 1);
    lnd.streams[0]!.write(request(1));
    lnd.streams[0]!.write(request(2));
    await waitUntil(() => offers.length === 2);
    const [o1, o2] = offers;
    const ck = (o: (typeof offers)[number]) => o.req.incoming_circuit_key!;

    assert.equal(s.answer(o1!.offer, toInterceptResponse(ck(o1!), { kind: 'continue' })), true);
    // A second answer for the same offer is never sent (LND would end the stream).
    assert.equal(s.answer(o1!.offer, toInterceptResponse(ck(o1!), { kind: 'continue' })), false);
    await lnd.until(() => lnd.received.length === 1);
    assert.deepEqual(
      lnd.received.map((r) => [r.stream, r.res.incoming_circuit_key.htlc_id, r.res.action]),
      [[0, '1', 'RESUME']],
    );

    // LND goes away (restart): the stream ends before htlc 2 is answered.
    lnd.streams[0]!.end();
    await lnd.until(() => lnd.streams.length === 2);
    // The old offer is stale: nothing is sent for it.
    assert.equal(
      s.answer(
        o2!.offer,
        toInterceptResponse(ck(o2!), { kind: 'fail', reason: 'expired', trampoline: false }),
      ),
      false,
    );
    // LND replays htlc 2 on the new stream; that offer is answerable, once.
    lnd.streams[1]!.write(request(2));
    await waitUntil(() => offers.length === 3);
    const o3 = offers[2]!;
    assert.equal(o3.offer.key, '1:2');
    assert.notEqual(o3.offer.stream, o2!.offer.stream);
    assert.equal(
      s.answer(o3.offer, toInterceptResponse(ck(o3), { kind: 'fail', reason: 'expired', trampoline: false })),
      true,
    );
    await lnd.until(() => lnd.received.length === 2);
    assert.deepEqual(
      lnd.received.map((r) => [r.stream, r.res.incoming_circuit_key.htlc_id, r.res.action]),
      [
        [0, '1', 'RESUME'],
        [1, '2', 'FAIL'],
      ],
    );
    // A key never offered is never answered.
    assert.equal(
      s.answer(
        { key: '1:9', stream: o3.offer.stream },
        toInterceptResponse({ chan_id: '1', htlc_id: '9' }, { kind: 'continue' }),
      ),
      false,
    );
  } finally {
    s.stop();
    router.close();
    lnd.server.forceShutdown();
  }
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}
