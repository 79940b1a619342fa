// Onion benchmarks: ECDH per second for each EC implementation, and onion messages built and
// peeled per second (held_htlc_available out over a 2-hop path, release back; one odd-numbered
// message each way, as a CLN or LND host gets them). Time-bounded; prints nothing (the bench
// runner prints the numbers).
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

/** The three nodes of the round trip: L (us), P (the recipient's LSP), R (the recipient). */
function nodes(ec: Ec) {
  const [L, P, R] = [key(0x4c), key(0x50), key(0x52)];
  // Node ids and ECDH oracles belong to the nodes, not to a message: made once, outside the timing.
  return {
    lId: ec.publicKey(L),
    pId: ec.publicKey(P),
    rId: ec.publicKey(R),
    ecdhL: ecdhFromPrivateKey(L, ec),
    ecdhP: ecdhFromPrivateKey(P, ec),
    ecdhR: ecdhFromPrivateKey(R, ec),
  };
}

async function roundTrip(ec: Ec, n: ReturnType<typeof nodes>): Promise<void> {
  const messagePath = buildReleasePath(n.rId, key(0x99), { ec });
  const held = buildHeldHtlcAvailable({
    messagePath,
    replyPathId: key(0xaa),
    ourNodeId: n.lId,
    via: [n.pId],
    variant: 'odd',
    ec,
  });
  const atP = await peelOnionMessage(held.wireMessage, n.ecdhP, { ec });
  if (atP.kind !== 'forward') throw new Error('bench: expected a forward at P');
  const atR = await peelOnionMessage(atP.wireMessage, n.ecdhR, { ec });
  if (atR.kind !== 'receive' || !atR.replyPath) throw new Error('bench: expected a receive at R');
  const rel = buildReleaseHeldHtlc({ replyPath: atR.replyPath, variant: 'odd', ec });
  const back = await peelOnionMessage(rel.wireMessage, n.ecdhL, { ec });
  if (back.kind !== 'receive' || !back.releaseHeldHtlc) throw new Error('bench: release not received');
}

export async function benchOnion(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const ec of allEcs()) {
    const priv = key(0x11);
    const point = ec.publicKey(key(0x22));
    out[`ecdh_per_s_${ec.name}`] = Math.round(await rate(() => ec.ecdh(point, priv)));
    // One round trip = R's message path, 2 messages built (held_htlc_available, release_held_htlc)
    // and 3 layers peeled.
    const n = nodes(ec);
    out[`onion_message_round_trips_per_s_${ec.name}`] = Math.round(await rate(() => roundTrip(ec, n)));
  }
  return out;
}
