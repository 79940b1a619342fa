// Waiting on a component's JSON log lines: the sidecar (scripts/regtest/lsp.ts Sidecar) and our CLN
// plugin (its lines on lightningd's stderr) offer the same two calls, so scenarios read either alike.
import type { PluginLogLine } from '../../../scripts/regtest/cln-node.js';
import type { LogLine } from '../../../scripts/regtest/lsp.js';
import { waitFor } from '../../../scripts/regtest/wait.js';

/** What a scenario needs of a log: wait for a line from index `from`, count lines from there. */
export interface LogTail {
  waitLog(what: string, pred: (l: LogLine) => boolean, from?: number): Promise<LogLine>;
  count(pred: (l: LogLine) => boolean, from?: number): number;
}

/** A CLN plugin's log as a LogTail; `mark()` is the index the next line will have. */
export interface PluginLog extends LogTail {
  lines(): PluginLogLine[];
  mark(): number;
}

/** The plugin log of a lightningd node; waits are labelled `${label}: what`. */
export function pluginLog(node: { pluginLines(): PluginLogLine[] }, label: string): PluginLog {
  const lines = (): PluginLogLine[] => node.pluginLines();
  return {
    lines,
    mark: () => lines().length,
    waitLog: (what, pred, from = 0) =>
      waitFor(`${label}: ${what}`, () => lines().slice(from).find(pred), {
        timeoutMs: 120_000,
        intervalMs: 300,
      }),
    count: (pred, from = 0) => lines().slice(from).filter(pred).length,
  };
}

/** RL's line: it stored a held_htlc_available for `client` (hex node id). */
export const storedFor =
  (client: string) =>
  (l: LogLine): boolean =>
    l.message === 'held_htlc_available stored' && l.client === client;

/** RL's line: it released the stored notices of `client` (hex node id). */
export const releasedFor =
  (client: string) =>
  (l: LogLine): boolean =>
    l.message === 'released for client' && l.client === client;
