// Onion-message benchmarks per EC implementation, one core, in-process node keys. The baseline of
// every figure is one raw ECDH of the same implementation, so the ratio says how many ECDHs an
// operation costs. Rates are per CPU-second of this process (process.cpuUsage), which is what "per
// core" means: on a shared machine wall time also counts the time other processes hold the core,
// and that swung the same code's forward-peel ratio from 0.10x to 0.19x within a minute at load 4.
// Time-bounded; prints nothing itself.
import { type Ec, allEcs, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import { encodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import {
  buildHeldHtlcAvailable,
  buildReleaseHeldHtlc,
  peelOnionMessage,
} from '../../plugin/protocol/onion-message.js';
import { decodeOnionMessage } from '../../plugin/protocol/onion-message-payload.js';
import { buildBlindedPath } from '../../plugin/protocol/route-blinding.js';
import { type Figure, median } from './table.js';

/** CPU milliseconds this process has used (user and system, all threads: GC helpers count too). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Calls `f` for `ms` of CPU time; returns calls per CPU-second. */
async function burst(f: () => unknown, ms: number): Promise<number> {
  const start = cpuMs();
  let n = 0;
  let elapsed = 0;
  do {
    for (let i = 0; i < 10; i++) await f();
    n += 10;
    elapsed = cpuMs() - start;
  } while (elapsed < ms);
  return (n * 1000) / elapsed;
}

/**
 * Rates of `f` and of its baseline, measured in many short alternating slices of the budget: on a
 * shared machine the load changes within a second, so each slice of `f` sits next to one of its
 * baseline, and the median of each side drops the slices a neighbour's burst hit.
 */
async function rates(f: () => unknown, base: () => unknown, budgetMs: number): Promise<[number, number]> {
  for (let i = 0; i < 20; i++) await f(); // warm up
  const slices = 30;
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < slices; i++) {
    a.push(await burst(f, budgetMs / slices / 2));
    b.push(await burst(base, budgetMs / slices / 2));
  }
  return [median(a), median(b)];
}

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);

export async function benchOnion(budgetMs: number, log: (s: string) => void): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const ec of allEcs()) {
    log(`onion: ${ec.name}`);
    out.push(...(await benchOne(ec, budgetMs)));
  }
  return out;
}

async function benchOne(ec: Ec, budgetMs: number): Promise<Figure[]> {
  // L is us (the LSP), A and B the recipient's LSP side, R the recipient.
  const [L, A, B, R] = [key(0x4c), key(0x41), key(0x42), key(0x52)];
  const [lId, aId, bId, rId] = [L, A, B, R].map((k) => ec.publicKey(k)) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const ecdhL = ecdhFromPrivateKey(L, ec);
  const ecdhA = ecdhFromPrivateKey(A, ec);
  // The recipient's message path: 3 blinded hops A -> B -> R (its LSP's side, then the recipient).
  const messagePath = encodeBlindedPath(buildBlindedPath([aId, bId, rId], { pathId: key(0x99) }, { ec }));
  const replyPathId = key(0xaa);
  const held = (): ReturnType<typeof buildHeldHtlcAvailable> =>
    buildHeldHtlcAvailable({ messagePath, replyPathId, ourNodeId: lId, variant: 'odd', ec });

  // Messages to peel, made once: a forward layer at A, and a release arriving at L (one layer, final).
  const sample = held();
  const replyPath = sample.replyPath!;
  const release = buildReleaseHeldHtlc({ replyPath, variant: 'odd', ec });
  const check = await peelOnionMessage(release.wireMessage, ecdhL, { ec });
  if (check.kind !== 'receive' || !check.releaseHeldHtlc) throw new Error('bench: release not received');
  const atA = await peelOnionMessage(sample.wireMessage, ecdhA, { ec });
  if (atA.kind !== 'forward') throw new Error('bench: expected a forward at A');

  // What bounds a forward peel: its EC work alone on the same points (ECDH of the path key, ECDH of
  // the ephemeral key with the blinded node key, the two next keys, the next node id's check). The
  // scalars' values do not change the cost.
  const fwd = decodeOnionMessage(sample.wireMessage);
  const fwdEphemeral = fwd.packet.subarray(1, 34);
  const ecOfForward = (): void => {
    ec.ecdh(fwd.pathKey, A);
    ec.ecdh(fwdEphemeral, ec.privMul(A, key(0x33)));
    ec.pointMul(fwd.pathKey, key(0x34));
    ec.pointMul(fwdEphemeral, key(0x35));
    ec.isPoint(bId);
  };

  const priv = key(0x11);
  const point = ec.publicKey(key(0x22));
  const rawEcdh = (): Uint8Array => ec.ecdh(point, priv);
  const native = ec.name === 'native';
  const fig = async (name: string, f: () => unknown, min?: number): Promise<Figure> => {
    const [value, base] = await rates(f, rawEcdh, budgetMs);
    return {
      name: `${name} (${ec.name})`,
      value,
      unit: '/s',
      baseline: { name: `raw ECDH ${ec.name}, interleaved`, value: base },
      ...(native && min !== undefined ? { target: { min } } : {}),
    };
  };
  return [
    await fig(
      'peel a release at the LSP (final layer)',
      () => peelOnionMessage(release.wireMessage, ecdhL, { ec }),
      3_000,
    ),
    await fig('peel a forward layer', () => peelOnionMessage(sample.wireMessage, ecdhA, { ec }), 3_000),
    await fig('  its EC work alone (2 ECDH, 2 point mults, 1 check)', ecOfForward),
    await fig('build held_htlc_available, 3 hops + reply path', held, 1_000),
    await fig(
      'build release_held_htlc',
      () => buildReleaseHeldHtlc({ replyPath, variant: 'odd', ec }),
      1_000,
    ),
  ];
}
