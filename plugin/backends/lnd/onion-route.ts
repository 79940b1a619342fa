// Onion-message routes over LND's graph (the search is backends/onion-route.ts).
// LND 0.21 relays onion messages; 0.20 neither relays nor advertises the feature, so through 0.20
// nodes only a direct peer is reachable.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Logger } from '../../ops/log.js';
import { lndError } from './errors.js';
import type { GrpcError, LndClients } from './grpc.js';
import { unary } from './grpc.js';
import type { Peer } from './messages.js';
import { ONION_MESSAGE_FEATURE_BITS, shortestOnionRoute, type OnionGraph } from '../onion-route.js';

export interface GraphMsg {
  nodes: { pub_key: string; features: Record<string, unknown> }[];
  edges: { node1_pub: string; node2_pub: string }[];
}

/** LND's DescribeGraph as the shared route finder wants it (feature map keys are bit numbers). */
export function toOnionGraph(g: GraphMsg): OnionGraph {
  const bits = ONION_MESSAGE_FEATURE_BITS.map(String);
  return {
    relays: new Set(
      g.nodes.filter((n) => bits.some((b) => n.features && b in n.features)).map((n) => n.pub_key),
    ),
    edges: g.edges.map((e) => [e.node1_pub, e.node2_pub] as const),
  };
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
    let route = shortestOnionRoute(toOnionGraph(await this.describe(false)), this.ourNodeId, to, peers);
    if (!route)
      route = shortestOnionRoute(toOnionGraph(await this.describe(true)), this.ourNodeId, to, peers);
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
