// The LND network most scenarios share: S -> L -> RL -> R on btcd, L running the sidecar, S's
// clients open; and the two LSP sidecars of the recipient-LSP scenarios (L's, RL's) on either network.
// Parts are kept as they start, so stop() tears down whatever a failed start left.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RegtestNetwork, type LndVersion } from '../../../scripts/regtest/network.js';
import { waitSenderKnowsRecipient } from '../../../scripts/regtest/recipient.js';
import { Sidecar, clientsFor, testLog, type SidecarNetwork } from '../../../scripts/regtest/lsp.js';
import { cancelStream, duplexStream, unary, type LndClients } from '../../../plugin/backends/lnd/grpc.js';
import { recordMap } from '../../../plugin/backends/lnd/htlc-map.js';
import { LndOnionTransport, type InboundOnionMessage } from '../../../plugin/backends/lnd/onion-transport.js';
import { clientMessagePath } from './multihop.js';
import { fromHex, hex } from './scenario.js';

export interface StartedLspNetwork {
  net: RegtestNetwork;
  sidecar: Sidecar;
  sender: LndClients;
}

export class LspNetwork {
  net: RegtestNetwork | undefined;
  sidecar: Sidecar | undefined;
  sender: LndClients | undefined;
  /** Node ids by name, filled in by start(). */
  readonly pk: Record<string, Uint8Array> = {};

  /** `knowRecipient`: wait until S's graph has R's features (needed to build routes to R). */
  constructor(
    private readonly version: LndVersion,
    private readonly opts: { knowRecipient?: boolean } = {},
  ) {}

  async start(): Promise<StartedLspNetwork> {
    const net = (this.net = await RegtestNetwork.start({ lndVersion: this.version }));
    for (const n of ['sender', 'lsp', 'rlsp', 'recipient'] as const)
      this.pk[n] = fromHex(await net.node(n).pubkey());
    if (this.opts.knowRecipient) await waitSenderKnowsRecipient(net, this.pk.recipient!);
    const sidecar = (this.sidecar = new Sidecar(net));
    await sidecar.start();
    const sender = (this.sender = clientsFor(await net.nodeInfo('sender')));
    return { net, sidecar, sender };
  }

  /** Closes S's clients, stops the sidecar, tears the network down (its logs kept if asked). */
  async stop(keepLogs: boolean): Promise<void> {
    this.sender?.close();
    await this.sidecar?.kill('SIGTERM');
    await this.net?.teardown({ keepLogs });
  }
}

/** R offline (stopped), unless it already is. */
export async function stopRecipient(net: RegtestNetwork): Promise<void> {
  if (net.node('recipient').isRunning) await net.stopNode('recipient');
}

/** R back online, its channel with RL active. */
export async function startRecipient(net: RegtestNetwork): Promise<void> {
  await net.startNode('recipient');
  await net.waitChannelActive('rlsp', 'recipient');
}

export interface StartedLspSidecars {
  /** L's sidecar (sender-LSP mode), when L is an LND node. */
  lsp: Sidecar | undefined;
  /** RL's sidecar, --recipient-lsp. */
  rlsp: Sidecar;
  sender: LndClients;
  /** R's message path, as RL's sidecar issued it (its log). */
  messagePath: Uint8Array;
}

/**
 * The sidecars of the recipient-LSP scenarios: L's (sender-LSP mode; left out when L is lightningd
 * with our plugin) and RL's (--recipient-lsp, plus `rlspArgs`), R's message path from RL's log, and
 * S's clients. Started in that order; stop() undoes whatever started.
 */
export class LspSidecars {
  lsp: Sidecar | undefined;
  rlsp: Sidecar | undefined;
  sender: LndClients | undefined;

  constructor(private readonly opts: { senderLsp: boolean; rlspArgs?: readonly string[] }) {}

  async start(net: SidecarNetwork, recipient: Uint8Array): Promise<StartedLspSidecars> {
    const lsp = this.opts.senderLsp ? (this.lsp = new Sidecar(net)) : undefined;
    const rlsp = (this.rlsp = new Sidecar(
      net,
      ['--recipient-lsp=true', ...(this.opts.rlspArgs ?? [])],
      'rlsp',
    ));
    await lsp?.start();
    await rlsp.start();
    const messagePath = await clientMessagePath(rlsp, hex(recipient));
    const sender = (this.sender = clientsFor(await net.nodeInfo('sender')));
    return { lsp, rlsp, sender, messagePath };
  }

  /** Closes S's clients and stops both sidecars (SIGTERM). */
  async stop(): Promise<void> {
    this.sender?.close();
    await this.lsp?.kill('SIGTERM');
    await this.rlsp?.kill('SIGTERM');
  }
}

/**
 * S's own onion-message transport (LND 0.21's native one, or 0.20's custom messages), its ECDH by S's
 * signer: lets a scenario send onion messages as S, e.g. notices to RL over a path of its choosing.
 */
export function senderOnionTransport(
  sender: LndClients,
  a: { ourNodeId: Uint8Array; native: boolean; onMessage?: (m: InboundOnionMessage) => void; label: string },
): LndOnionTransport {
  return new LndOnionTransport(
    sender,
    {
      kind: a.native ? 'native' : 'custom-message',
      ourNodeId: a.ourNodeId,
      ecdh: async (p) =>
        new Uint8Array(
          (
            await unary<{ shared_key: Buffer }>(sender.signer, 'DeriveSharedKey', {
              ephemeral_pubkey: Buffer.from(p),
            })
          ).shared_key,
        ),
    },
    a.onMessage ?? (() => {}),
    testLog.child({ node: a.label }),
  );
}

/**
 * RL's mailbox in data dir `dir` (a sidecar's, or lightningd's plugin dir), read beside the running
 * node (WAL): stored notices per client node id (hex).
 */
export function storedNotices(dir: string): Map<string, number> {
  const db = new Database(join(dir, 'recipient-lsp.sqlite'), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    const rows = db
      .prepare(`SELECT node_id, count(*) AS n FROM notices WHERE state = 'stored' GROUP BY node_id`)
      .all() as { node_id: string; n: number }[];
    return new Map(rows.map((r) => [r.node_id, r.n]));
  } finally {
    db.close();
  }
}

/**
 * The test's own HtlcInterceptor at an LND node. It records every forward offered (`seen`, with the
 * custom record types of its update_add_htlc). With `hold`, a forward waits until resume(its hash);
 * without, it goes on at once. On a node with --requireinterceptor a closed stream leaves held
 * forwards held (LND offers them to the next interceptor).
 */
export class ForwardInterceptor {
  private stream: ReturnType<typeof duplexStream> | undefined;
  private closed = false;
  private readonly resumed = new Set<string>();
  readonly seen: { paymentHash: string; wireTypes: bigint[] }[] = [];
  /** Payment hashes (hex) of the forwards offered, by incoming circuit. */
  readonly held = new Map<string, string>();

  constructor(
    private readonly clients: LndClients,
    private readonly opts: { hold: boolean },
  ) {
    this.open();
  }

  private open(): void {
    const s = (this.stream = duplexStream(this.clients.router, 'HtlcInterceptor'));
    s.on('data', (raw: unknown) => {
      const req = raw as {
        incoming_circuit_key: { chan_id: string; htlc_id: string };
        payment_hash: Buffer;
        in_wire_custom_records?: Record<string, Buffer>;
      };
      const hash = hex(req.payment_hash);
      this.seen.push({ paymentHash: hash, wireTypes: [...recordMap(req.in_wire_custom_records).keys()] });
      this.held.set(`${req.incoming_circuit_key.chan_id}:${req.incoming_circuit_key.htlc_id}`, hash);
      if (!this.opts.hold || this.resumed.has(hash)) this.answer(req.incoming_circuit_key);
    });
    // LND takes one interceptor at a time and may not have seen the last one go yet: try again.
    s.on('error', () => {
      if (!this.closed) setTimeout(() => this.closed || this.open(), 500);
    });
  }

  private answer(key: { chan_id: string; htlc_id: string }): void {
    this.stream?.write({ incoming_circuit_key: key, action: 'RESUME' });
  }

  /** Let the forwards of `hash` go on (those offered later too). */
  resume(hash: string): void {
    this.resumed.add(hash);
    for (const [k, h] of this.held) {
      const [chan_id, htlc_id] = k.split(':') as [string, string];
      if (h === hash) this.answer({ chan_id, htlc_id });
    }
  }

  close(): void {
    this.closed = true;
    if (this.stream) cancelStream(this.stream);
  }
}
