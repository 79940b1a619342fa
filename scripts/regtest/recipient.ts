// The recipient's side of the LND regtest network, as the integration tests and the bench set it
// up: S's graph knowing R well enough to build a route to it, and our recipient agent on a node.
import { LndRecipientAgent } from '../../plugin/recipient/lnd-agent.js';
import type { RegtestNetwork } from './network.js';
import { testLog } from './lsp.js';
import { waitFor } from './wait.js';

/** The connection details of a running LND node (LndNode and NodeInfo both have them). */
export interface LndEndpoint {
  grpcHost: string;
  tlsCertPath: string;
  adminMacaroonPath: string;
}

/**
 * Waits until S has R's node announcement with the payment-secret feature (bit 14 or 15):
 * BuildRoute needs R's features from S's graph.
 */
export async function waitSenderKnowsRecipient(net: RegtestNetwork, recipient: Uint8Array): Promise<void> {
  await waitFor('sender knows the recipient node announcement', async () => {
    const info = await net.lncli<{ node?: { features?: Record<string, unknown> } }>(
      'sender',
      'getnodeinfo',
      `--pub_key=${Buffer.from(recipient).toString('hex')}`,
    );
    return info.node?.features !== undefined && ('14' in info.node.features || '15' in info.node.features);
  });
}

/**
 * Our recipient agent on `node`, logging as `name`, not started (so callers can hook onRelease
 * first). `via`: the LSP its reply paths go through; none makes it its own introduction node.
 */
export function recipientAgent(node: LndEndpoint, name: string, via?: Uint8Array[]): LndRecipientAgent {
  return new LndRecipientAgent({
    lnd: { rpc: node.grpcHost, tlsCertPath: node.tlsCertPath, macaroonPath: node.adminMacaroonPath },
    log: testLog.child({ agent: name }),
    ...(via !== undefined ? { via } : {}),
  });
}
