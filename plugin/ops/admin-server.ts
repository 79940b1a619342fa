// The sidecar's admin endpoint: loopback HTTP the `async-trampoline` CLI talks to. Authenticated like
// bitcoind's .cookie: a fresh random token written 0600 to the data dir at every start, removed at
// stop; whoever can read that file may operate the sidecar. Answers come from ops/admin.ts, the same
// function behind the CLN RPC methods.
//
//   GET  /v1/list[?state=held]   GET /v1/show/<key>   GET /v1/stats   GET /v1/message-path/<node>
//   POST /v1/release/<key>       POST /v1/fail/<key>  GET /healthz (no token)
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes } from '@noble/ciphers/utils.js';
import { AdminError, adminAnswer, isAdminCommand, type AdminArgs, type AdminContext } from './admin.js';
import { healthz, listen } from './metrics.js';
import type { Logger } from './log.js';

export const TOKEN_FILE = 'admin.token';
const WRITE_COMMANDS = new Set(['release', 'fail']);
const STATUS: Record<AdminError['code'], number> = {
  invalid_params: 400,
  not_found: 404,
  not_active: 409,
  unavailable: 503,
};

export interface AdminServer {
  port: number;
  tokenPath: string;
  close(): Promise<void>;
}

const json = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) + '\n';

/** Writes the token file and listens on 127.0.0.1:port (0: any free port). */
export async function startAdminServer(opts: {
  dataDir: string;
  port: number;
  ctx: AdminContext;
  ready: () => boolean;
  log: Logger;
}): Promise<AdminServer> {
  const token = randomBytes(32).toString('hex');
  const tokenPath = join(opts.dataDir, TOKEN_FILE);
  rmSync(tokenPath, { force: true });
  writeFileSync(tokenPath, `${token}\n`, { mode: 0o600 });
  chmodSync(tokenPath, 0o600); // the umask cannot loosen it, and an old file's mode is replaced
  const want = Buffer.from(`Bearer ${token}`);

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(json(body));
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/healthz') {
      healthz(res, opts.ready());
      return;
    }
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== want.length || !equalBytes(auth, want)) {
      send(401, { error: 'unauthorized', message: `send "Authorization: Bearer <${tokenPath}>"` });
      return;
    }
    const m = /^\/v1\/([a-z-]+)(?:\/(.+))?$/.exec(url.pathname);
    const command = m?.[1] ?? '';
    if (!m || !isAdminCommand(command)) {
      send(404, { error: 'not_found', message: `no such command ${url.pathname}` });
      return;
    }
    const method = WRITE_COMMANDS.has(command) ? 'POST' : 'GET';
    if (req.method !== method) {
      send(405, { error: 'method', message: `${command} takes ${method}` });
      return;
    }
    const arg = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const args: AdminArgs = { key: arg, node: arg, state: url.searchParams.get('state') ?? undefined };
    drain(req)
      .then(() => adminAnswer(opts.ctx, command, args))
      .then(
        (body) => {
          if (WRITE_COMMANDS.has(command)) opts.log.info(`admin ${command}`, { key: arg, ...body });
          send(200, body);
        },
        (e: unknown) => {
          if (e instanceof AdminError) send(STATUS[e.code], { error: e.code, message: e.message });
          else {
            opts.log.error('admin command failed', { command, error: String(e) });
            send(500, { error: 'internal', message: String(e) });
          }
        },
      );
  });
  await listen(server, opts.port, '127.0.0.1');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    port,
    tokenPath,
    close: () =>
      new Promise<void>((resolve) => {
        rmSync(tokenPath, { force: true });
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.resume();
    req.on('end', () => resolve());
    req.on('error', () => resolve());
  });
}

/** Call the admin endpoint (the CLI's side). Throws AdminCallError with the server's message. */
export class AdminCallError extends Error {
  override readonly name = 'AdminCallError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function callAdmin(opts: {
  port: number;
  tokenPath: string;
  command: string;
  arg?: string;
  state?: string;
}): Promise<Record<string, unknown>> {
  let token: string;
  try {
    token = readFileSync(opts.tokenPath, 'utf8').trim();
  } catch (e) {
    throw new AdminCallError(
      0,
      `cannot read ${opts.tokenPath} (${(e as NodeJS.ErrnoException).code ?? String(e)}): is the sidecar running with this --data-dir, and may this user read its files?`,
    );
  }
  const path = `/v1/${opts.command}${opts.arg !== undefined ? `/${encodeURIComponent(opts.arg)}` : ''}`;
  const q = opts.state !== undefined ? `?state=${encodeURIComponent(opts.state)}` : '';
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${opts.port}${path}${q}`, {
      method: WRITE_COMMANDS.has(opts.command) ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${token}` },
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? String(e);
    throw new AdminCallError(
      0,
      `cannot reach the sidecar at 127.0.0.1:${opts.port} (${cause}): is it running, with --admin-port=${opts.port}?`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new AdminCallError(res.status, String(body.message ?? `HTTP ${res.status}`));
  return body;
}
