#!/usr/bin/env node
// A `bitcoin-cli` for lightningd's bcli plugin (`--bitcoin-cli=`), backed by btcd's JSON-RPC.
//
// bcli runs `bitcoin-cli -regtest [-rpcconnect= -rpcport= -rpcuser=] [-stdinrpcpass] [-stdin] <method>`
// with the password and (with -stdin) the method's arguments on stdin, one per line. It reads exit
// codes the way bitcoin-cli sets them (the RPC error code's absolute value). btcd lacks
// getnetworkinfo, estimatesmartfee and getmempoolinfo's fee fields, so those are answered here;
// amounts are printed as fixed 8-decimal numbers (bcli parses BTC amounts as decimal text).
//
// Environment (set by the wrapper script the regtest network writes): BTCD_RPC_CERT, the btcd TLS
// certificate (pinned; the host name is not checked: loopback only); SHIM_FEERATE_BTC_KVB, the fee
// rate estimatesmartfee reports (default 0.00005000).
import { request } from 'node:https';
import { readFileSync } from 'node:fs';

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Conn {
  host: string;
  port: number;
  user: string;
  pass: string;
  ca: Buffer;
}

async function btcd(conn: Conn, method: string, params: unknown[]): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: '1.0', id: 1, method, params });
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: conn.host,
        port: conn.port,
        method: 'POST',
        path: '/',
        ca: conn.ca,
        checkServerIdentity: () => undefined,
        auth: `${conn.user}:${conn.pass}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 60_000,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve(data));
      },
    );
    req.on('timeout', () => req.destroy(new Error('btcd RPC timed out')));
    req.on('error', reject);
    req.end(body);
  });
  let parsed: { result?: unknown; error?: { code: number; message: string } | null };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new RpcError(-1, `btcd answered no JSON: ${text.slice(0, 200)}`);
  }
  if (parsed.error) throw new RpcError(parsed.error.code, parsed.error.message);
  return parsed.result;
}

/** BTC as bitcoind prints it: a JSON number with exactly 8 decimals. */
function btc(sats: number): string {
  const neg = sats < 0 ? '-' : '';
  const a = Math.abs(Math.round(sats));
  return `${neg}${Math.floor(a / 1e8)}.${String(a % 1e8).padStart(8, '0')}`;
}

const toSats = (v: unknown): number => Math.round(Number(v) * 1e8);

async function run(argv: string[], stdin: string): Promise<string> {
  const opts = new Map<string, string>();
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const [k, ...v] = argv[i]!.slice(1).split('=');
    opts.set(k!, v.join('='));
  }
  const method = argv[i];
  let args = argv.slice(i + 1);
  const lines = stdin.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let pass = opts.get('rpcpassword') ?? '';
  if (opts.has('stdinrpcpass')) pass = lines.shift() ?? '';
  if (opts.has('stdin')) args = [...args, ...lines];
  if (!method) throw new RpcError(-1, 'no method');
  if (method === 'echo') return args.join(' ');

  const cert = process.env.BTCD_RPC_CERT;
  if (!cert) throw new RpcError(-1, 'BTCD_RPC_CERT is not set');
  const conn: Conn = {
    host: opts.get('rpcconnect') || '127.0.0.1',
    port: Number(opts.get('rpcport') || 18334),
    user: opts.get('rpcuser') ?? '',
    pass,
    ca: readFileSync(cert),
  };
  const call = (m: string, p: unknown[] = []): Promise<unknown> => btcd(conn, m, p);

  switch (method) {
    case 'getnetworkinfo': {
      // -rpcwait: wait for btcd to answer (bcli's startup check), like bitcoin-cli does.
      const waitSec = opts.has('rpcwait') ? Number(opts.get('rpcwaittimeout') || 30) : 0;
      const until = Date.now() + waitSec * 1000;
      for (;;) {
        try {
          await call('getblockcount');
          break;
        } catch (e) {
          if (Date.now() > until) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      // 22.0: the oldest version bcli accepts; below 23.0 it never asks for getblockfrompeer.
      return JSON.stringify({ version: 220000, subversion: '/btcd-shim/', localrelay: true, warnings: '' });
    }
    case 'getblockchaininfo': {
      const r = (await call('getblockchaininfo')) as Record<string, unknown>;
      return JSON.stringify({
        chain: r.chain,
        blocks: r.blocks,
        headers: r.headers,
        bestblockhash: r.bestblockhash,
        initialblockdownload: false,
      });
    }
    case 'getblockhash':
      return String(await call('getblockhash', [Number(args[0])]));
    case 'getblock':
      return String(await call('getblock', [args[0], Number(args[1] ?? 1)]));
    case 'getmempoolinfo': {
      const r = (await call('getmempoolinfo')) as Record<string, unknown>;
      const floor = btc(1000);
      return `{"size":${Number(r.size ?? 0)},"bytes":${Number(r.bytes ?? 0)},"mempoolminfee":${floor},"minrelaytxfee":${floor}}`;
    }
    case 'estimatesmartfee': {
      const rate = process.env.SHIM_FEERATE_BTC_KVB ?? '0.00005000';
      return `{"feerate":${btc(toSats(rate))},"blocks":${Number(args[0] ?? 2)}}`;
    }
    case 'sendrawtransaction':
      return String(await call('sendrawtransaction', [args[0], args[1] === '0']));
    case 'gettxout': {
      const r = (await call('gettxout', [args[0], Number(args[1]), true])) as Record<string, unknown> | null;
      // Spent or unknown: bitcoind prints nothing and exits 0.
      if (!r) return '';
      const spk = r.scriptPubKey as { hex?: unknown } | undefined;
      return `{"bestblock":${JSON.stringify(r.bestblock)},"confirmations":${Number(r.confirmations ?? 0)},"value":${btc(toSats(r.value))},"scriptPubKey":{"hex":${JSON.stringify(spk?.hex ?? '')}},"coinbase":${r.coinbase === true}}`;
    }
    case 'getpeerinfo':
      return '[]';
    default:
      throw new RpcError(-32601, `method ${method} is not offered by the btcd shim`);
  }
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  if (!process.stdin.isTTY) for await (const c of process.stdin) chunks.push(c as Buffer);
  try {
    const out = await run(process.argv.slice(2), Buffer.concat(chunks).toString('utf8'));
    process.stdout.write(out === '' ? '' : `${out}\n`);
  } catch (e) {
    const code = e instanceof RpcError ? e.code : -1;
    const msg = e instanceof Error ? e.message : String(e);
    process.stdout.write(`error code: ${code}\nerror message:\n${msg}\n`);
    process.exitCode = Math.min(255, Math.abs(code) || 1);
  }
}

void main();
