// The onion-message transport against an in-process gRPC server standing in for LND: on 0.21 it
// reads our odd record and decrypts path_id from encrypted_recipient_data with the ECDH oracle; on
// 0.20 it peels a whole onion_message (custom message 513) itself and relays what is not for us.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions, protoFiles, type LndClients } from '../../../plugin/backends/lnd/grpc.js';
import { LndOnionTransport, type InboundOnionMessage } from '../../../plugin/backends/lnd/onion-transport.js';
import { activeEc, ecdhFromPrivateKey } from '../../../plugin/protocol/ec.js';
import { randomPrivateKey } from '../../../plugin/protocol/route-blinding.js';
import {
  buildOnionMessage,
  buildReleasePath,
  encodeOnionMessage,
} from '../../../plugin/protocol/onion-message.js';
import { decodeBlindedPath } from '../../../plugin/protocol/blinded-path.js';
import { nullLogger } from '../../../plugin/ops/log.js';

type Ctor = new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client;
const pkgs = grpc.loadPackageDefinition(protoLoader.loadSync(protoFiles, loaderOptions)) as unknown as {
  lnrpc: { Lightning: Ctor & { service: grpc.ServiceDefinition } };
};

const ec = activeEc();
const ourKey = randomPrivateKey(ec);
const ourId = ec.publicKey(ourKey);
const ecdh = ecdhFromPrivateKey(ourKey);
const pathId = new Uint8Array(32).fill(0x5a);

async function fakeLnd(
  push: (kind: 'onion' | 'custom', call: grpc.ServerWritableStream<unknown, unknown>) => void,
) {
  const sent: { peer: Buffer; type: number; data: Buffer }[] = [];
  const server = new grpc.Server();
  server.addService(pkgs.lnrpc.Lightning.service, {
    SubscribeOnionMessages: (call: grpc.ServerWritableStream<unknown, unknown>) => push('onion', call),
    SubscribeCustomMessages: (call: grpc.ServerWritableStream<unknown, unknown>) => push('custom', call),
    SendCustomMessage: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      sent.push(call.request as (typeof sent)[number]);
      cb(null, { status: 'ok' });
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const lightning = new pkgs.lnrpc.Lightning(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return { server, lightning, sent };
}

async function receiveOne(kind: 'native' | 'custom-message', push: Parameters<typeof fakeLnd>[0]) {
  const lnd = await fakeLnd(push);
  const got: InboundOnionMessage[] = [];
  const t = new LndOnionTransport(
    { lightning: lnd.lightning } as unknown as LndClients,
    { kind, ourNodeId: ourId, ecdh },
    (m) => got.push(m),
    nullLogger,
  );
  t.start();
  try {
    for (let i = 0; i < 500 && got.length === 0 && lnd.sent.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
  } finally {
    t.stop();
    lnd.lightning.close();
    lnd.server.forceShutdown();
  }
  return { got, sent: lnd.sent };
}

// A release_held_htlc as LND 0.21 hands it over: our final-hop records, encrypted data untouched.
test('0.21: release over our path yields its path_id', async () => {
  const path = decodeBlindedPath(buildReleasePath(ourId, pathId));
  const { got } = await receiveOne('native', (_k, call) => {
    call.write({
      peer: Buffer.alloc(33, 2),
      path_key: Buffer.from(path.firstPathKey),
      onion: Buffer.alloc(0),
      encrypted_recipient_data: Buffer.from(path.hops[0]!.encryptedRecipientData),
      // Encoding takes decimal keys (the client decodes them into protobufjs hash keys).
      custom_records: { '75': Buffer.alloc(0) },
    });
  });
  assert.equal(got.length, 1);
  assert.equal(got[0]!.releaseHeldHtlc, true);
  assert.equal(got[0]!.heldHtlcAvailable, false);
  assert.deepEqual(got[0]!.pathId, pathId);
});

test('0.20: a whole onion_message is peeled with the oracle', async () => {
  const msg = buildOnionMessage({
    destination: decodeBlindedPath(buildReleasePath(ourId, pathId)),
    payload: { releaseHeldHtlcOdd: new Uint8Array(0) },
  });
  const { got } = await receiveOne('custom-message', (_k, call) => {
    call.write({ peer: Buffer.alloc(33, 2), type: 513, data: Buffer.from(encodeOnionMessage(msg, false)) });
  });
  assert.equal(got.length, 1);
  assert.equal(got[0]!.releaseHeldHtlc, true);
  assert.deepEqual(got[0]!.pathId, pathId);
});

test('0.20: a message for another node is relayed to it, not delivered', async () => {
  const otherKey = randomPrivateKey(ec);
  const other = ec.publicKey(otherKey);
  const msg = buildOnionMessage({
    destination: decodeBlindedPath(buildReleasePath(other, pathId)),
    via: [ourId],
    payload: { releaseHeldHtlcOdd: new Uint8Array(0) },
  });
  const { got, sent } = await receiveOne('custom-message', (_k, call) => {
    call.write({ peer: Buffer.alloc(33, 2), type: 513, data: Buffer.from(encodeOnionMessage(msg, false)) });
  });
  assert.equal(got.length, 0);
  assert.equal(sent.length, 1);
  assert.deepEqual(new Uint8Array(sent[0]!.peer), other);
  assert.equal(sent[0]!.type, 513);
});

test('0.20: garbage is ignored, never thrown', async () => {
  const { got, sent } = await receiveOne('custom-message', (_k, call) => {
    call.write({ peer: Buffer.alloc(33, 2), type: 513, data: Buffer.from([1, 2, 3]) });
    call.write({ peer: Buffer.alloc(33, 2), type: 32769, data: Buffer.from([1]) });
  });
  assert.equal(got.length, 0);
  assert.equal(sent.length, 0);
});
