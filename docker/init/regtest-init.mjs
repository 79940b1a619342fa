// One-shot regtest setup for docker-compose.yml: mines coins, funds the CLN and LND nodes, and opens a
// channel each way between them. Plain Node 20, no dependencies. Safe to run again: it stops early
// when the channels already exist.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';

/* global fetch -- Node 20's built-in */

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const log = (...a) => console.error('[init]', ...a);

async function bitcoind(method, params = [], wallet) {
  const url = env('BITCOIND_URL') + (wallet ? `/wallet/${wallet}` : '');
  const auth = Buffer.from(`${env('BITCOIND_RPCUSER')}:${env('BITCOIND_RPCPASSWORD')}`).toString('base64');
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '1.0', id: method, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`bitcoind ${method}: ${body.error.message}`);
  return body.result;
}

/** One call over CLN's unix socket: write the request, read until one whole JSON object arrived. */
function cln(method, params = {}) {
  return new Promise((resolve, reject) => {
    const sock = createConnection(env('CLN_RPC'));
    let buf = '';
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      try {
        const msg = JSON.parse(buf);
        sock.end();
        if (msg.error) reject(new Error(`cln ${method}: ${msg.error.message}`));
        else resolve(msg.result);
      } catch {
        // not complete yet
      }
    });
    sock.write(JSON.stringify({ jsonrpc: '2.0', id: `init:${method}`, method, params }));
  });
}

/** LND REST with its own TLS certificate as the only CA (it names "lnd" via --tlsextradomain). */
function lnd(method, path, body) {
  const macaroon = readFileSync(env('LND_MACAROON')).toString('hex');
  const ca = readFileSync(env('LND_TLS_CERT'));
  const url = new URL(path, env('LND_REST'));
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: { 'grpc-metadata-macaroon': macaroon } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const json = text ? JSON.parse(text) : {};
        if (res.statusCode !== 200) reject(new Error(`lnd ${path}: ${res.statusCode} ${text}`));
        else resolve(json);
      });
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

async function until(what, fn) {
  for (let i = 0; i < 120; i++) {
    try {
      if (await fn()) return;
    } catch (e) {
      if (i % 10 === 9) log(`still waiting for ${what}: ${e.message}`);
    }
    await sleep(1000);
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function mine(n) {
  const addr = await bitcoind('getnewaddress', [], 'init');
  await bitcoind('generatetoaddress', [n, addr]);
}

async function main() {
  await until('bitcoind', () => bitcoind('getblockchaininfo'));
  const wallets = await bitcoind('listwallets');
  if (!wallets.includes('init')) {
    try {
      await bitcoind('createwallet', ['init']);
    } catch {
      await bitcoind('loadwallet', ['init']);
    }
  }
  await until('cln', () => cln('getinfo'));
  await until('lnd', () => lnd('GET', '/v1/getinfo'));
  const clnId = (await cln('getinfo')).id;
  const lndId = (await lnd('GET', '/v1/getinfo')).identity_pubkey;
  log('cln', clnId, 'lnd', lndId);

  const existing = (await cln('listpeerchannels')).channels ?? [];
  if (existing.some((c) => c.state === 'CHANNELD_NORMAL')) {
    log('channels already open; nothing to do');
    return;
  }

  if ((await bitcoind('getblockcount')) < 101) await mine(101);
  const clnAddr = (await cln('newaddr', { addresstype: 'bech32' })).bech32;
  const lndAddr = (await lnd('GET', '/v1/newaddress')).address;
  await bitcoind('sendtoaddress', [clnAddr, 1], 'init');
  await bitcoind('sendtoaddress', [lndAddr, 1], 'init');
  await mine(6);
  await until('cln funds', async () =>
    ((await cln('listfunds')).outputs ?? []).some((o) => o.status === 'confirmed'),
  );
  await until(
    'lnd funds',
    async () => Number((await lnd('GET', '/v1/balance/blockchain')).confirmed_balance) > 0,
  );

  await cln('connect', { id: lndId, host: 'lnd', port: 9735 });
  await cln('fundchannel', { id: lndId, amount: 1_000_000, push_msat: 100_000_000 });
  await mine(6);
  await lnd('POST', '/v1/channels', {
    node_pubkey: Buffer.from(clnId, 'hex').toString('base64'),
    local_funding_amount: '1000000',
    push_sat: '100000',
  });
  await mine(6);
  await until('two active channels', async () => {
    const chans = (await cln('listpeerchannels')).channels ?? [];
    return chans.filter((c) => c.state === 'CHANNELD_NORMAL').length >= 2;
  });
  log('ready: cln <-> lnd, one channel each way');
}

main().catch((e) => {
  log('failed:', e.message);
  process.exit(1);
});
