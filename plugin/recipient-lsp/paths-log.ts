// Until the sidecar has an admin command (issue #13 builds `message-path <node>` on messagePath()),
// it logs each client's message path: at start for every channel peer, and when a client comes online.
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Logger } from '../ops/log.js';
import type { RecipientLspEngine } from './engine.js';

export function logClientPaths(engine: RecipientLspEngine, clients: Iterable<string>, log: Logger): void {
  const seen = new Set<string>();
  const one = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    engine.messagePath(n).then(
      (p) => log.info('client message path', { client: n, messagePath: bytesToHex(p.messagePath) }),
      (e: unknown) =>
        log.warn('cannot issue a client message path', { client: n, error: (e as Error).message }),
    );
  };
  for (const n of clients) one(n);
  engine.addListener({ clientOnline: one });
}
