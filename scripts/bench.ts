// `npm run bench`: every speed figure beside its baseline, measured in the same run, with the target
// we hold ourselves to (a 2-core machine). Figures are informative; they never fail a test.
// `npm run bench -- --help` lists the options.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEngine } from './bench/engine.js';
import { benchOnion } from './bench/onion.js';
import { renderTable } from './bench/table.js';

const USAGE = `usage: npm run bench -- [options]
  (no option)                engine (100,000 holds, durable store on disk) and onion figures
  --holds N                  engine run with N holds (even; default 100000)
  --batch N                  engine: HTLCs per intake batch (default 200)
  --budget-ms MS             onion: time per figure (default 1500)
  --only engine|onion        one of the two default tables
  --network                  real regtest network figures (needs the node binaries):
                             release-to-settle vs a plain payment, pass-through vs no LSP software
  --host lnd|cln             with --network: the LSP on LND with the sidecar (lnd, default; LND
                             version from ASYNC_TRAMPOLINE_LND_VERSIONS) or on lightningd with the
                             plugin (cln; S, RL and R on LND ASYNC_TRAMPOLINE_CLN_LND_VERSION)
  --payments N               with --network: payments of each kind (default 25, at least 20 for
                             the published figures)
  --plugin-cpu-prof DIR      with --network --host cln: L's plugins run with node --cpu-prof and
                             write their profiles to DIR when lightningd stops
  --help                     this text`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', default: false },
      host: { type: 'string' },
      'plugin-cpu-prof': { type: 'string' },
      holds: { type: 'string', default: '100000' },
      batch: { type: 'string', default: '200' },
      'budget-ms': { type: 'string', default: '1500' },
      network: { type: 'boolean', default: false },
      payments: { type: 'string', default: '25' },
      only: { type: 'string' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const host = values.host ?? 'lnd';
  if (host !== 'lnd' && host !== 'cln') throw new Error(`--host ${host}: lnd or cln`);
  if (values.host !== undefined && !values.network) throw new Error('--host applies to --network');
  if (values['plugin-cpu-prof'] !== undefined && host !== 'cln')
    throw new Error('--plugin-cpu-prof applies to --network --host cln');
  const payments = Number(values.payments);
  if (!Number.isInteger(payments) || payments < 1) throw new Error('--payments: a positive integer');
  const log = (s: string): void => console.error(`[bench] ${s}`);
  if (!(globalThis as { gc?: unknown }).gc)
    log('run with node --expose-gc (npm run bench does) for exact memory figures');
  if (values.network && host === 'cln') {
    const { benchClnNetwork } = await import('./bench/cln-network.js');
    const dir = values['plugin-cpu-prof'];
    const figures = await benchClnNetwork({
      payments,
      log,
      ...(dir ? { pluginCpuProfDir: resolve(dir) } : {}),
    });
    console.log(renderTable('regtest network (L on Core Lightning)', figures));
    return;
  }
  if (values.network) {
    const { benchNetwork } = await import('./bench/network.js');
    console.log(renderTable('regtest network (LND)', await benchNetwork(payments, log)));
    return;
  }
  if (values.only !== 'engine')
    console.log(renderTable('onion messages, one core', await benchOnion(Number(values['budget-ms']), log)));
  if (values.only !== 'onion') {
    const holds = Number(values.holds);
    if (!Number.isInteger(holds) || holds < 2 || holds % 2 !== 0) throw new Error('--holds: an even number');
    const engine = await benchEngine({ holds, batch: Number(values.batch), log });
    console.log(
      renderTable(`engine, durable store on disk (${holds.toLocaleString('en-US')} holds)`, engine),
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
