// Connects to LND over gRPC: loads the narrow protos in protos/, builds TLS + macaroon credentials,
// and wraps unary calls in promises. The only file that touches @grpc/* directly besides the
// stream owners (interceptor, onion messages, blocks, pay), which take the raw clients from here.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { lndError } from './errors.js';

// dist/plugin/backends/lnd/grpc.js and plugin/backends/lnd/grpc.ts both sit at a fixed depth below
// the repo root; protos/ is not compiled, so find it from the repo root.
function findProtosDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const dir = resolve(here, up, 'protos');
    try {
      readFileSync(resolve(dir, 'lightning.proto'));
      return dir;
    } catch {
      // try the next candidate
    }
  }
  throw lndError('config', `cannot find the protos/ directory from ${here}`);
}

export const protosDir = findProtosDir();

/** Loader options shared by the backend and the drift test: 64-bit values stay exact strings. */
export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [protosDir],
};

export const protoFiles = [
  'lightning.proto',
  'routerrpc/router.proto',
  'signrpc/signer.proto',
  'chainrpc/chainnotifier.proto',
  'verrpc/verrpc.proto',
];

type ServiceCtor = new (
  address: string,
  creds: grpc.ChannelCredentials,
  opts?: grpc.ClientOptions,
) => grpc.Client;

interface LoadedPackages {
  lnrpc: { Lightning: ServiceCtor };
  routerrpc: { Router: ServiceCtor };
  signrpc: { Signer: ServiceCtor };
  chainrpc: { ChainNotifier: ServiceCtor };
  verrpc: { Versioner: ServiceCtor };
}

let loaded: LoadedPackages | undefined;
function packages(): LoadedPackages {
  if (!loaded) {
    const def = protoLoader.loadSync(protoFiles, loaderOptions);
    loaded = grpc.loadPackageDefinition(def) as unknown as LoadedPackages;
  }
  return loaded;
}

export interface LndConnectOptions {
  /** host:port of LND's gRPC listener. */
  rpc: string;
  /** Path to LND's tls.cert. */
  tlsCertPath: string;
  /** Path to a macaroon file (admin.macaroon or a baked one with our permissions). */
  macaroonPath: string;
}

/** Raw grpc-js clients; callers use `unary` for request/response and call stream methods directly. */
export interface LndClients {
  lightning: grpc.Client;
  router: grpc.Client;
  signer: grpc.Client;
  chain: grpc.Client;
  versioner: grpc.Client;
  /** The macaroon as bytes, for CheckMacaroonPermissions. */
  macaroon: Buffer;
  close(): void;
}

function readFileOr(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw lndError('config', `cannot read ${what} at ${path}: ${(e as Error).message}`);
  }
}

export function connectLnd(opts: LndConnectOptions): LndClients {
  const cert = readFileOr(opts.tlsCertPath, 'LND TLS certificate');
  const macaroon = readFileOr(opts.macaroonPath, 'LND macaroon');
  const macHex = macaroon.toString('hex');
  const callCreds = grpc.credentials.createFromMetadataGenerator((_params, cb) => {
    const md = new grpc.Metadata();
    md.add('macaroon', macHex);
    cb(null, md);
  });
  const creds = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(cert), callCreds);
  const p = packages();
  // Keepalive so a silently dead connection (LND killed -9, network drop) ends our streams and the
  // reconnect logic takes over instead of waiting forever. Only while calls are open: LND refuses
  // pings without a stream (grpc.client-allow-ping-without-stream is off) and pings under 5 s apart.
  const clientOpts: grpc.ClientOptions = {
    'grpc.keepalive_time_ms': 15_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 0,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // A loopback IP as TLS server name makes Node warn (RFC 6066 forbids IPs there); LND's own
    // certificate always names localhost, so verify against that name instead.
    ...(isLoopbackIp(opts.rpc) ? { 'grpc.ssl_target_name_override': 'localhost' } : {}),
  };
  const lightning = new p.lnrpc.Lightning(opts.rpc, creds, clientOpts);
  // Sub-servers share one channel with the main service.
  const shared = { ...clientOpts, channelOverride: lightning.getChannel() } as grpc.ClientOptions;
  const router = new p.routerrpc.Router(opts.rpc, creds, shared);
  const signer = new p.signrpc.Signer(opts.rpc, creds, shared);
  const chain = new p.chainrpc.ChainNotifier(opts.rpc, creds, shared);
  const versioner = new p.verrpc.Versioner(opts.rpc, creds, shared);
  return {
    lightning,
    router,
    signer,
    chain,
    versioner,
    macaroon,
    close: () => {
      for (const c of [router, signer, chain, versioner, lightning]) c.close();
    },
  };
}

/** A grpc status error, with its numeric code. */
export interface GrpcError extends Error {
  code?: number;
  details?: string;
}

/** Call a unary method by name; rejects with the grpc error (code + details). */
export function unary<Res>(
  client: grpc.Client,
  method: string,
  req: object,
  timeoutMs = 30_000,
): Promise<Res> {
  return new Promise((resolvePromise, reject) => {
    const fn = (client as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function') {
      reject(lndError('rpc', `no such method ${method}`));
      return;
    }
    const deadline = new Date(Date.now() + timeoutMs);
    (fn as (r: object, o: grpc.CallOptions, cb: (e: GrpcError | null, res: Res) => void) => void).call(
      client,
      req,
      { deadline },
      (err, res) => (err ? reject(err) : resolvePromise(res)),
    );
  });
}

/** Open a server stream by method name. */
export function serverStream(
  client: grpc.Client,
  method: string,
  req: object,
): grpc.ClientReadableStream<unknown> {
  const fn = (client as unknown as Record<string, (r: object) => grpc.ClientReadableStream<unknown>>)[method];
  if (typeof fn !== 'function') throw lndError('rpc', `no such method ${method}`);
  return fn.call(client, req);
}

/** Cancel a stream we are done with: no more data delivered, its cancellation error swallowed. */
export function cancelStream(
  s: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
): void {
  s.removeAllListeners('data');
  s.on('error', () => {});
  s.cancel();
}

/** Open a bidirectional stream by method name. */
export function duplexStream(client: grpc.Client, method: string): grpc.ClientDuplexStream<unknown, unknown> {
  const fn = (client as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, unknown>>)[method];
  if (typeof fn !== 'function') throw lndError('rpc', `no such method ${method}`);
  return fn.call(client);
}

export const GRPC_UNIMPLEMENTED = grpc.status.UNIMPLEMENTED;
export const GRPC_CANCELLED = grpc.status.CANCELLED;
export const GRPC_UNAVAILABLE = grpc.status.UNAVAILABLE;

function isLoopbackIp(hostPort: string): boolean {
  const host = hostPort.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}
