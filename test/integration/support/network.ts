// The LND network most scenarios share: S -> L -> RL -> R on btcd, L running the sidecar, S's
// clients open. Parts are kept as they start, so stop() tears down whatever a failed start left.
import { RegtestNetwork, type LndVersion } from '../../../scripts/regtest/network.js';
import { waitSenderKnowsRecipient } from '../../../scripts/regtest/recipient.js';
import { Sidecar, clientsFor } from '../../../scripts/regtest/lsp.js';
import type { LndClients } from '../../../plugin/backends/lnd/grpc.js';
import { fromHex } from './scenario.js';

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
