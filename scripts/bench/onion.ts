// Onion-message benchmarks per EC implementation, one core, in-process node keys. The baseline of
// every figure is one raw ECDH of the same implementation, so the ratio says how many ECDHs an
// operation costs. Time-bounded; prints nothing itself.
import { type Ec, allEcs, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import { encodeBlindedPath } from '../../plugin/protocol/blinded-path.js';
import {
  buildHeldHtlcAvailable,
  buildReleaseHeldHtlc,
  buildReleasePath,
  peelOnionMessage,
} from '../../plugin/protocol/onion-message.js';
import { buildBlindedPath } from '../../plugin/protocol/route-blinding.js';
import type { Figure } from './table.js';

/** Calls `f` until the time budget is spent; returns calls per second. */
async function rate(f: () => unknown, budgetMs: number): Promise<number> {
  for (let i = 0; i < 20; i++) await f(); // warm up
  const start = performance.now();
  let n = 0;
  let elapsed = 0;
  do {
    for (let i = 0; i < 10; i++) await f();
    n += 10;
    elapsed = performance.now() - start;
  } while (elapsed < budgetMs);
  return (n * 1000) / elapsed;
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
  const ecdhR = ecdhFromPrivateKey(R, ec);
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
  void ecdhR;
  void buildReleasePath;

  const priv = key(0x11);
  const point = ec.publicKey(key(0x22));
  const ecdh = await rate(() => ec.ecdh(point, priv), budgetMs);
  const base = { name: `raw ECDH ${ec.name}`, value: ecdh };
  const native = ec.name === 'native';
  const fig = (name: string, value: number, min: number): Figure => ({
    name: `${name} (${ec.name})`,
    value,
    unit: '/s',
    baseline: base,
    ...(native ? { target: { min } } : {}),
  });
  return [
    fig(
      'peel a release at the LSP (final layer)',
      await rate(() => peelOnionMessage(release.wireMessage, ecdhL, { ec }), budgetMs),
      3_000,
    ),
    fig(
      'peel a forward layer',
      await rate(() => peelOnionMessage(sample.wireMessage, ecdhA, { ec }), budgetMs),
      3_000,
    ),
    fig('build held_htlc_available, 3 hops + reply path', await rate(held, budgetMs), 1_000),
    fig(
      'build release_held_htlc',
      await rate(() => buildReleaseHeldHtlc({ replyPath, variant: 'odd', ec }), budgetMs),
      1_000,
    ),
  ];
}
