// Onion benchmarks: ECDH per second for each EC implementation, and onion messages built and
// peeled per second (held_htlc_available out over a 2-hop path, release back). Time-bounded;
// prints nothing (the bench runner prints the numbers).
import { type Ec, allEcs, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import {
  buildHeldHtlcAvailable,
  buildReleaseHeldHtlc,
  buildReleasePath,
  peelOnionMessage,
} from '../../plugin/protocol/onion-message.js';

const BUDGET_MS = 1000;

/** Calls `f` until the time budget is spent; returns calls per second. */
async function rate(f: () => unknown, budgetMs = BUDGET_MS): Promise<number> {
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

async function roundTrip(ec: Ec): Promise<void> {
  const [L, P, R] = [key(0x4c), key(0x50), key(0x52)];
  const [lId, pId] = [ec.publicKey(L), ec.publicKey(P)];
  const messagePath = buildReleasePath(ec.publicKey(R), key(0x99), { ec });
  const held = buildHeldHtlcAvailable({
    messagePath,
    replyPathId: key(0xaa),
    ourNodeId: lId,
    via: [pId],
    ec,
  });
  const atP = await peelOnionMessage(held.wireMessage, ecdhFromPrivateKey(P, ec), { ec });
  if (atP.kind !== 'forward') throw new Error('bench: expected a forward at P');
  const atR = await peelOnionMessage(atP.wireMessage, ecdhFromPrivateKey(R, ec), { ec });
  if (atR.kind !== 'receive' || !atR.replyPath) throw new Error('bench: expected a receive at R');
  const rel = buildReleaseHeldHtlc({ replyPath: atR.replyPath, ec });
  const back = await peelOnionMessage(rel.wireMessage, ecdhFromPrivateKey(L, ec), { ec });
  if (back.kind !== 'receive' || !back.releaseHeldHtlc) throw new Error('bench: release not received');
}

export async function benchOnion(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const ec of allEcs()) {
    const priv = key(0x11);
    const point = ec.publicKey(key(0x22));
    out[`ecdh_per_s_${ec.name}`] = Math.round(await rate(() => ec.ecdh(point, priv)));
    // One round trip = 2 messages built (held_htlc_available, release_held_htlc) and 3 layers peeled.
    out[`onion_message_round_trips_per_s_${ec.name}`] = Math.round(await rate(() => roundTrip(ec)));
  }
  return out;
}
