// Routes for onion messages over the channel graph, shared by both backends: the shortest chain of
// nodes from us to a target (a message path's or reply path's intro node) whose every relaying node
// advertises onion messages (feature 38/39). The result is the `via` list for
// protocol/onion-message.ts, first entry a connected peer of ours.

export const ONION_MESSAGE_FEATURE_BITS = [38, 39] as const;

export interface OnionGraph {
  /** Nodes that advertise onion messages (feature 38 or 39), hex ids. */
  relays: ReadonlySet<string>;
  /** Channels as pairs of hex node ids (direction does not matter for onion messages). */
  edges: readonly (readonly [string, string])[];
}

/** Shortest path from `from` to `to` through onion-message relays; the nodes between, or undefined. */
export function shortestOnionRoute(
  g: OnionGraph,
  from: string,
  to: string,
  peers: ReadonlySet<string>,
  maxHops = 8,
): string[] | undefined {
  const adj = new Map<string, Set<string>>();
  const link = (a: string, b: string): void => {
    (adj.get(a) ?? adj.set(a, new Set()).get(a)!).add(b);
  };
  for (const [a, b] of g.edges) {
    link(a, b);
    link(b, a);
  }
  // Our own peers are neighbours whether or not their channels are announced yet.
  for (const p of peers) link(from, p);
  const prev = new Map<string, string>([[from, '']]);
  let frontier = [from];
  for (let depth = 0; depth < maxHops && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const n of frontier) {
      for (const m of adj.get(n) ?? []) {
        if (prev.has(m)) continue;
        // The first hop must be connected and relays must speak onion messages; the target need
        // not advertise (it is the intro of a path it made, so it reads them).
        if (n === from && !peers.has(m)) continue;
        if (m !== to && !g.relays.has(m)) continue;
        prev.set(m, n);
        if (m === to) {
          const path: string[] = [];
          for (let x = prev.get(to)!; x !== from; x = prev.get(x)!) path.unshift(x);
          return path;
        }
        next.push(m);
      }
    }
    frontier = next;
  }
  return undefined;
}

/** Whether a BOLT 9 feature bit string (hex, big-endian) sets bit 38 or 39. */
export function hexFeaturesHaveOnionMessages(featuresHex: string): boolean {
  if (!/^([0-9a-f]{2})*$/i.test(featuresHex)) return false;
  const bytes = Buffer.from(featuresHex, 'hex');
  return ONION_MESSAGE_FEATURE_BITS.some((bit) => {
    const i = bytes.length - 1 - Math.floor(bit / 8);
    return i >= 0 && ((bytes[i]! >> (bit % 8)) & 1) === 1;
  });
}
