// Tests against clightningjs 0.2.2 itself (node_modules), each passing when the defect that made us
// replace a part of it is shown. The library runs in child processes: it calls process.exit, keeps
// intervals alive and crashes on unhandled rejections, none of which a test runner survives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { JsonObjectStream } from '../../../plugin/backends/cln/framing.js';
import { repoRoot } from '../../helpers/paths.js';

interface Child {
  proc: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function runCjs(script: string): Child {
  const proc = spawn(process.execPath, ['--input-type=commonjs', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, LIGHTNINGD_PLUGIN: '1' },
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdin.on('error', () => {}); // the child may die before we finish writing
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

function rpcSocket(onRequest: (req: Record<string, unknown>, sock: Socket) => void): Promise<{
  server: Server;
  path: string;
  dir: string;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'cljs-'));
  const path = join(dir, 'lightning-rpc');
  const server = createServer((sock) => {
    const s = new JsonObjectStream({
      message: (v) => onRequest(v as Record<string, unknown>, sock),
      garbage: () => {},
    });
    sock.on('data', (d) => s.push(d));
    sock.on('error', () => {});
  });
  return new Promise((res) => server.listen(path, () => res({ server, path, dir })));
}

test(
  'clightningjs Plugin: a getmanifest written in two halves 200 ms apart kills the plugin with a JSON SyntaxError',
  { timeout: 60_000 },
  async () => {
    // start() attaches the stdin reader; only then can the halves arrive as two chunks (under load the
    // child may not read at all before both are written, and one whole message would not crash it).
    const child = runCjs(
      `const Plugin = require('clightningjs'); new Plugin({ dynamic: false }).start(); process.stderr.write('started\\n');`,
    );
    while (!child.stderr().includes('started')) await sleep(20);
    const msg =
      JSON.stringify({ jsonrpc: '2.0', id: 'cln:getmanifest#1', method: 'getmanifest', params: {} }) + '\n\n';
    const half = Math.floor(msg.length / 2);
    child.proc.stdin.write(msg.slice(0, half));
    await sleep(200); // pacing only: lets the first half arrive as its own chunk, as a pipe may deliver it
    child.proc.stdin.write(msg.slice(half));
    const code = await child.exited;
    assert.notEqual(code, 0, 'the plugin process exited with an error');
    assert.match(child.stderr(), /SyntaxError/);
    assert.doesNotMatch(child.stdout(), /"result"/, 'no manifest was ever written');
  },
);

test('clightningjs RpcWrapper: every call uses id 0, so overlapping calls receive each other’s answers', async () => {
  const seen: Record<string, unknown>[] = [];
  const sockets: Socket[] = [];
  const { server, path, dir } = await rpcSocket((req, sock) => {
    seen.push(req);
    sockets.push(sock);
    if (seen.length === 2) {
      // Answer the second call (getinfo) first, then the first (listpeers), each under the id it was sent with.
      const [a, b] = seen as [Record<string, unknown>, Record<string, unknown>];
      sock.write(JSON.stringify({ jsonrpc: '2.0', id: b.id, result: { answer: 'for getinfo' } }) + '\n\n');
      setTimeout(() => {
        sock.write(
          JSON.stringify({ jsonrpc: '2.0', id: a.id, result: { answer: 'for listpeers' } }) + '\n\n',
        );
      }, 50);
    }
  });
  try {
    const child = runCjs(`
      const Rpc = require('clightningjs/src/rpc.js');
      const rpc = new Rpc(${JSON.stringify(path)});
      Promise.all([rpc.call('listpeers'), rpc.call('getinfo')]).then((r) => {
        process.stdout.write(JSON.stringify(r));
        process.exit(0);
      });`);
    const code = await child.exited;
    assert.equal(code, 0);
    const [listpeers, getinfo] = JSON.parse(child.stdout()) as [{ answer: string }, { answer: string }];
    assert.deepEqual(
      seen.map((r) => r.id),
      [0, 0],
      'both requests carried id 0',
    );
    assert.equal(listpeers.answer, 'for getinfo', 'listpeers resolved with the getinfo answer');
    assert.equal(getinfo.answer, 'for getinfo');
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function hookThatThrows(
  handler: string,
): Promise<{ stdout: string; code: number | null; alive: boolean }> {
  const { server, dir } = await rpcSocket(() => {});
  try {
    const child = runCjs(`
      const Plugin = require('clightningjs');
      const p = new Plugin({ dynamic: false });
      p.addHook('htlc_accepted', ${handler});
      p.start();`);
    const send = (m: object): void => void child.proc.stdin.write(JSON.stringify(m) + '\n\n');
    send({ jsonrpc: '2.0', id: 'cln:getmanifest#1', method: 'getmanifest', params: {} });
    send({
      jsonrpc: '2.0',
      id: 'cln:init#2',
      method: 'init',
      params: {
        options: {},
        configuration: { 'lightning-dir': dir, 'rpc-file': 'lightning-rpc', startup: true },
      },
    });
    send({
      jsonrpc: '2.0',
      id: 'cln:htlc_accepted#3',
      method: 'htlc_accepted',
      params: { onion: {}, htlc: {} },
    });
    // The defect is that the process dies; a ceiling only bounds the wait if it (wrongly) lives on.
    const outcome = await Promise.race([
      child.exited.then(() => 'exited'),
      sleep(15_000, undefined, { ref: false }).then(() => 'alive'),
    ]);
    const alive = outcome === 'alive';
    if (alive) child.proc.kill('SIGKILL');
    const code = await child.exited;
    return { stdout: child.stdout(), code, alive };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('clightningjs Plugin: an async hook handler that throws leaves the hook unanswered and kills the plugin', async () => {
  const r = await hookThatThrows(`async () => { throw new Error('boom'); }`);
  assert.match(r.stdout, /cln:init#2/, 'the plugin got as far as init');
  assert.doesNotMatch(r.stdout, /cln:htlc_accepted#3/, 'no answer to the hook was ever written');
  assert.equal(r.alive, false, 'the plugin died (lightningd then hands held HTLCs to default handling)');
  assert.notEqual(r.code, 0);
});

test('clightningjs Plugin: a hook handler that throws synchronously leaves the hook unanswered too', async () => {
  const r = await hookThatThrows(`() => { throw new Error('boom'); }`);
  assert.doesNotMatch(r.stdout, /cln:htlc_accepted#3/);
});

// In-process: requiring the Plugin class starts nothing.
const require = createRequire(import.meta.url);
interface CljsPlugin {
  addOption(name: string, def: unknown, description: string, type?: string): void;
  addHook(name: string, cb: () => unknown): void;
  subscribe(name: string): void;
  _getmanifest(params: object): Record<string, unknown>;
}
const CljsPlugin = require('clightningjs') as new (p?: object) => CljsPlugin;

test('clightningjs Plugin: options whose default is 0, false or "" cannot be registered', () => {
  const p = new CljsPlugin({ dynamic: false });
  assert.throws(() => p.addOption('async-trampoline-data-dir', '', 'data dir'));
  assert.throws(() => p.addOption('async-trampoline-min-hold-blocks', 0, 'blocks', 'int'));
  p.addOption('async-trampoline-log-level', 'info', 'level');
});

test('clightningjs Plugin: its manifest shape is sound (ours follows it) but it cannot declare nonnumericids', () => {
  const p = new CljsPlugin({ dynamic: false });
  p.addHook('htlc_accepted', () => ({ result: 'continue' }));
  p.subscribe('block_added');
  const m = p._getmanifest({});
  // Sound: the overall shape, which ours follows.
  assert.deepEqual(m.hooks, ['htlc_accepted']);
  assert.deepEqual(m.subscriptions, ['block_added']);
  assert.equal(m.dynamic, false);
  // lightningd sends string ids regardless; declaring nonnumericids states that we handle them.
  assert.equal('nonnumericids' in m, false);
});
