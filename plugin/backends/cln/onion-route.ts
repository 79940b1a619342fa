// Onion-message routes over Core Lightning's gossip (listpeers, listchannels, listnodes); the search
// is backends/onion-route.ts. lightningd forwards an injected message only to a connected next hop,
// so a path whose intro is not our peer goes through relays that advertise onion messages.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Logger } from '../../ops/log.js';
import { hexFeaturesHaveOnionMessages, shortestOnionRoute, type OnionGraph } from '../onion-route.js';
import type { RpcCaller } from './rpc-client.js';

export class NoRouteError extends Error {
  override readonly name = 'NoRouteError';
}

export class ClnOnionRouter {
  private graph: { at: number; g: OnionGraph } | undefined;

  constructor(
    private readonly rpc: RpcCaller,
    private readonly ourNodeId: () => Promise<string>,
    private readonly log: Logger,
    private readonly cacheMs = 60_000,
  ) {}

  /**
   * Nodes to pass through after us and before `target`; [] when it is us or a connected peer, or
   * when the gossip cannot be read (then lightningd is handed the message as before and decides).
   */
  async via(target: Uint8Array): Promise<Uint8Array[]> {
    try {
      return await this.find(target);
    } catch (e) {
      if (e instanceof NoRouteError) throw e;
      this.log.warn('cannot read the graph for an onion-message route; sending directly', {
        error: (e as Error).message,
      });
      return [];
    }
  }

  private async find(target: Uint8Array): Promise<Uint8Array[]> {
    const to = bytesToHex(target);
    const us = await this.ourNodeId();
    if (to === us) return [];
    const r = await this.rpc.call<{ peers?: { id?: unknown; connected?: unknown }[] }>('listpeers');
    const peers = new Set(
      (r.peers ?? [])
        .filter((p) => p.connected === true && typeof p.id === 'string')
        .map((p) => p.id as string),
    );
    if (peers.has(to)) return [];
    let route = shortestOnionRoute(await this.describe(false), us, to, peers);
    if (!route) route = shortestOnionRoute(await this.describe(true), us, to, peers);
    if (!route)
      throw new NoRouteError(
        `no onion-message route to ${to}: not a peer, and no chain of nodes advertising onion messages (feature 38/39) reaches it`,
      );
    this.log.debug('onion message routed over the graph', { to, via: route });
    return route.map((h) => hexToBytes(h));
  }

  private async describe(fresh: boolean): Promise<OnionGraph> {
    const now = Date.now();
    if (!fresh && this.graph && now - this.graph.at < this.cacheMs) return this.graph.g;
    const [chans, nodes] = await Promise.all([
      this.rpc.call<{ channels?: { source?: unknown; destination?: unknown }[] }>('listchannels'),
      this.rpc.call<{ nodes?: { nodeid?: unknown; features?: unknown }[] }>('listnodes'),
    ]);
    const g: OnionGraph = {
      relays: new Set(
        (nodes.nodes ?? [])
          .filter((n) => typeof n.nodeid === 'string' && typeof n.features === 'string')
          .filter((n) => hexFeaturesHaveOnionMessages(n.features as string))
          .map((n) => n.nodeid as string),
      ),
      edges: (chans.channels ?? [])
        .filter((c) => typeof c.source === 'string' && typeof c.destination === 'string')
        .map((c) => [c.source as string, c.destination as string] as const),
    };
    this.graph = { at: now, g };
    return g;
  }
}
