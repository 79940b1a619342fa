// Routes for onion messages over the channel graph: the shortest chain of nodes from us to a target
// (a message path's or reply path's intro node) whose every relaying node advertises onion messages
// (feature 38/39). The result is the `via` list for protocol/onion-message.ts, first entry our peer.
// LND 0.21 relays onion messages; 0.20 neither relays nor advertises the feature, so through 0.20
// nodes only a direct peer is reachable.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Logger } from '../../ops/log.js';
import { lndError } from './errors.js';
import type { GrpcError, LndClients } from './grpc.js';
import { unary } from './grpc.js';
import type { Peer } from './messages.js';

export const ONION_MESSAGE_FEATURE_BITS = ['38', '39'];

export interface GraphMsg {
  nodes: { pub_key: string; features: Record<string, unknown> }[];
  edges: { node1_pub: string; node2_pub: string }[];
}

/** Shortest path from `from` to `to` through relays that advertise onion messages; undefined if none. */
export function shortestOnionRoute(
  g: GraphMsg,
  from: string,
  to: string,
  peers: ReadonlySet<string>,
  maxHops = 8,
): string[] | undefined {
  const relays = new Set(
    g.nodes
      .filter((n) => ONION_MESSAGE_FEATURE_BITS.some((b) => n.features && b in n.features))
      .map((n) => n.pub_key),
  );
  const adj = new Map<string, Set<string>>();
  const link = (a: string, b: string): void => {
    (adj.get(a) ?? adj.set(a, new Set()).get(a)!).add(b);
  };
  for (const e of g.edges) {
    link(e.node1_pub, e.node2_pub);
    link(e.node2_pub, e.node1_pub);
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
        // The first hop must be connected; relays must speak onion messages; the target need not
        // advertise (it is the intro of a path it made, so it reads them).
        if (n === from && !peers.has(m)) continue;
        if (m !== to && !relays.has(m)) continue;
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

/** Finds `via` lists with LND's graph, cached briefly (DescribeGraph is not cheap on mainnet). */
export class OnionRouter {
  private graph: { at: number; g: GraphMsg } | undefined;

  constructor(
    private readonly clients: LndClients,
    private readonly ourNodeId: string,
    private readonly log: Logger,
    private readonly cacheMs = 60_000,
  ) {}

  /** Nodes to pass through before `target`; [] when it is us or a connected peer. */
  async via(target: Uint8Array): Promise<Uint8Array[]> {
    const to = bytesToHex(target);
    if (to === this.ourNodeId) return [];
    const peers = await this.peers();
    if (peers.has(to)) return [];
    let route = shortestOnionRoute(await this.describe(false), this.ourNodeId, to, peers);
    if (!route) route = shortestOnionRoute(await this.describe(true), this.ourNodeId, to, peers);
    if (!route)
      throw lndError(
        'rpc',
        `no onion-message route to ${to}: not a peer, and no chain of nodes advertising onion messages (feature 38/39) reaches it`,
      );
    this.log.debug('onion message routed over the graph', { to, via: route });
    return route.map((h) => hexToBytes(h));
  }

  private async peers(): Promise<Set<string>> {
    try {
      const r = await unary<{ peers: Peer[] }>(this.clients.lightning, 'ListPeers', {});
      return new Set(r.peers.map((p) => p.pub_key));
    } catch (e) {
      throw lndError('rpc', `ListPeers failed: ${(e as GrpcError).details ?? (e as Error).message}`);
    }
  }

  private async describe(fresh: boolean): Promise<GraphMsg> {
    const now = Date.now();
    if (!fresh && this.graph && now - this.graph.at < this.cacheMs) return this.graph.g;
    try {
      const g = await unary<GraphMsg>(this.clients.lightning, 'DescribeGraph', { include_unannounced: true });
      this.graph = { at: now, g };
      return g;
    } catch (e) {
      throw lndError('rpc', `DescribeGraph failed: ${(e as GrpcError).details ?? (e as Error).message}`);
    }
  }
}
