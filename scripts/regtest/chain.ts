// Chain helpers shared by the regtest networks (network.ts, cln-network.ts): their timed start-up
// log, the chain's start with coinbases to S, mine and wait until the running nodes have the blocks,
// an LND node's sync and graph checks, and the mempool wait of funding txs.
import { BURN_ADDRESS, type Btcd } from './btcd.js';
import type { LndNode } from './lnd-node.js';
import { waitFor } from './wait.js';

/** A network's log: each line stamped with the seconds since the network began; `step` times one step. */
export class StepLog {
  private readonly t0 = Date.now();

  constructor(private readonly out: (line: string) => void) {}

  log(msg: string): void {
    this.out(`${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)}s ${msg}`);
  }

  async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    this.log(`${what} ...`);
    const r = await fn();
    this.log(`${what}: ${((Date.now() - t) / 1000).toFixed(1)}s`);
    return r;
  }
}

/**
 * Starts btcd with its coinbases paid to a new address of `sender`'s wallet, and leaves `sender`
 * stopped. btcd has no generatetoaddress and wipes a regtest chain on every start, so it restarts
 * with the address while the chain is still the genesis block. S is the only lnd up for that, and it
 * stops first: an lnd whose btcd restarted under it could lose its chain client ("RPCC: Received
 * unexpected reply: null") and never sync.
 */
export async function startChainMiningTo(
  btcd: Btcd,
  sender: LndNode,
  senderArgs: string[],
  steps: StepLog,
): Promise<void> {
  await steps.step('start btcd', () => btcd.start(BURN_ADDRESS));
  const addr = await steps.step(`start ${sender.name} for its mining address`, async () => {
    await sender.start(senderArgs, 'rpc');
    const { address } = (await sender.lncli('newaddress', 'p2wkh')) as { address: string };
    await sender.stop();
    return address;
  });
  await steps.step(`restart btcd mining to ${sender.name} ${addr}`, () => btcd.restart(addr));
}

/** Anything that can say it has reached a height: an LND or a lightningd node that is running. */
export type SyncWaiter = (height: number) => Promise<void>;

/** Mines `n` blocks and waits until every waiter (one per running node) has synced them. */
export async function mineAndSync(btcd: Btcd, n: number, waiters: readonly SyncWaiter[]): Promise<string[]> {
  const hashes = await btcd.generate(n);
  const h = await btcd.height();
  await Promise.all(waiters.map((w) => w(h)));
  return hashes;
}

/** Waits until LND says it is synced to the chain at `height` or beyond (default: btcd's tip). */
export async function waitLndSynced(node: LndNode, btcd: Btcd, height?: number): Promise<void> {
  const h = height ?? (await btcd.height());
  await waitFor(
    `${node.name} synced to height ${h}`,
    async () => {
      const info = (await node.lncli('getinfo')) as { synced_to_chain: boolean; block_height: number };
      return info.synced_to_chain && info.block_height >= h;
    },
    { timeoutMs: 120_000 },
  );
}

/**
 * Waits until an LND node's graph has `edges` channels with both directions' policies known, and a
 * node announcement (with features) for `nodes` nodes: BuildRoute refuses to attach a payment address
 * to a final hop whose features it has not seen ("cannot attach payment addr").
 *
 * `notNeeded` lists directions, as [author, other end] node ids, whose policy the observer may lack:
 * a channel between them counts with the other end's policy alone.
 */
export async function waitLndGraph(
  node: LndNode,
  edges: number,
  nodes: number,
  timeoutMs = 120_000,
  notNeeded: readonly (readonly [string, string])[] = [],
): Promise<void> {
  await waitFor(
    `${node.name} graph with ${edges} channels and every node announced`,
    async () => {
      const g = (await node.lncli('describegraph')) as {
        nodes: { features?: Record<string, unknown> }[];
        edges: { node1_pub: string; node2_pub: string; node1_policy: unknown; node2_policy: unknown }[];
      };
      const announced = g.nodes.filter((n) => n.features && Object.keys(n.features).length > 0).length;
      const skip = (author: string, other: string): boolean =>
        notNeeded.some(([a, o]) => a === author && o === other);
      const known = g.edges.filter(
        (e) =>
          (e.node1_policy || skip(e.node1_pub, e.node2_pub)) &&
          (e.node2_policy || skip(e.node2_pub, e.node1_pub)),
      ).length;
      return known >= edges && announced >= nodes;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** Waits until every txid is in btcd's mempool. */
export async function waitMempool(btcd: Btcd, txids: readonly string[]): Promise<void> {
  await waitFor(
    `transactions in btcd mempool: ${txids.join(', ')}`,
    async () => {
      const pool = JSON.parse(await btcd.cli('getrawmempool')) as string[];
      return txids.every((t) => pool.includes(t));
    },
    { timeoutMs: 30_000 },
  );
}
