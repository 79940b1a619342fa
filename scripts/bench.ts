// `npm run bench`: runs every benchmark and prints its figures, with the targets we hold ourselves to.
// Figures are informative (machines differ); they never fail a test.
import { benchEngine } from './bench/engine.js';
import { benchOnion } from './bench/onion.js';

interface Target {
  /** The figure must be at least (`min`) or at most (`max`) this. */
  min?: number;
  max?: number;
}

// Targets for a 2-core machine: an LSP must take bursts of async HTLCs and answer each release with
// at most a few ECDH operations.
const targets: Record<string, Target> = {
  ecdh_per_s_native: { min: 5_000 },
  onion_message_round_trips_per_s_native: { min: 300 },
  intake_holds_per_s: { min: 2_000 },
  releases_per_s: { min: 2_000 },
  memory_per_10k_holds_bytes: { max: 100 * 1024 * 1024 },
};

function row(name: string, value: number): string {
  const t = targets[name];
  const verdict =
    t === undefined
      ? ''
      : (t.min !== undefined && value < t.min) || (t.max !== undefined && value > t.max)
        ? 'BELOW TARGET'
        : 'ok';
  const bound = t === undefined ? '' : t.min !== undefined ? `>= ${t.min}` : `<= ${t.max}`;
  return `${name.padEnd(44)} ${value.toFixed(value < 100 ? 2 : 0).padStart(12)}  ${bound.padEnd(10)} ${verdict}`;
}

async function main(): Promise<void> {
  const suites: [string, () => Promise<Record<string, number>>][] = [
    ['onion (protocol/)', benchOnion],
    ['engine (hold/)', benchEngine],
  ];
  for (const [name, run] of suites) {
    console.log(`\n== ${name}`);
    const figures = await run();
    for (const [k, v] of Object.entries(figures)) console.log(row(k, v));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
