// `npm run bench`: every speed figure beside its baseline, measured in the same run, with the target
// we hold ourselves to (a 2-core machine). Figures are informative; they never fail a test.
//   npm run bench                      engine (100,000 holds) and onion figures
//   npm run bench -- --holds 20000     a smaller engine run
//   npm run bench -- --network         real regtest network figures (needs the node binaries)
import { parseArgs } from 'node:util';
import { benchEngine } from './bench/engine.js';
import { benchOnion } from './bench/onion.js';
import { renderTable } from './bench/table.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      holds: { type: 'string', default: '100000' },
      batch: { type: 'string', default: '200' },
      'budget-ms': { type: 'string', default: '1500' },
      network: { type: 'boolean', default: false },
      payments: { type: 'string', default: '25' },
      only: { type: 'string' },
    },
  });
  const log = (s: string): void => console.error(`[bench] ${s}`);
  if (!(globalThis as { gc?: unknown }).gc)
    log('run with node --expose-gc (npm run bench does) for exact memory figures');
  if (values.network) {
    const { benchNetwork } = await import('./bench/network.js');
    console.log(renderTable('regtest network (LND)', await benchNetwork(Number(values.payments), log)));
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
