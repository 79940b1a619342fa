#!/usr/bin/env node
// Runs the recipient agent next to a recipient's LND (`node dist/plugin/recipient/lnd-agent-main.js`):
// while it runs, every held_htlc_available reaching this node is answered with release_held_htlc.
// With --lsp it also logs a message path through that LSP for the sender to put in async_hold.
import { bytesToHex } from '@noble/hashes/utils.js';
import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../ops/log.js';
import { LndRecipientAgent, newPathId } from './lnd-agent.js';
import { recipientMessagePath } from './message-path.js';

const USAGE = `usage: lnd-agent-main --lnd-rpc host:port --lnd-tls-cert FILE --lnd-macaroon FILE [--lsp NODE_ID] [--log-level L]
  --lsp NODE_ID   our LSP: releases to a reply path whose intro is not our peer go through it, and the
                  logged message path starts there
`;

async function main(): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: process.argv.slice(2),
      options: {
        'lnd-rpc': { type: 'string', default: 'localhost:10009' },
        'lnd-tls-cert': { type: 'string', default: join(homedir(), '.lnd', 'tls.cert') },
        'lnd-macaroon': { type: 'string' },
        lsp: { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (v.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  const lsp = typeof v.lsp === 'string' ? v.lsp : undefined;
  const problems: string[] = [];
  if (typeof v['lnd-macaroon'] !== 'string') problems.push('--lnd-macaroon is required');
  if (lsp !== undefined && !/^0[23][0-9a-f]{64}$/.test(lsp))
    problems.push('--lsp: not a 33-byte hex node id');
  if (!['debug', 'info', 'warn', 'error'].includes(String(v['log-level'])))
    problems.push('--log-level: debug, info, warn or error');
  if (problems.length > 0) {
    process.stderr.write(`${problems.map((p) => `- ${p}`).join('\n')}\n${USAGE}`);
    return 2;
  }
  const log = createLogger({ level: v['log-level'] as 'info', component: 'recipient-agent' });
  const via = lsp ? [new Uint8Array(Buffer.from(lsp, 'hex'))] : [];
  const agent = new LndRecipientAgent({
    lnd: {
      rpc: String(v['lnd-rpc']),
      tlsCertPath: String(v['lnd-tls-cert']),
      macaroonPath: String(v['lnd-macaroon']),
    },
    log,
    via,
  });
  await agent.start();
  agent.onRelease((r) => log.info('released a held HTLC', { replyIntro: r.replyIntro }));
  if (lsp) {
    const path = recipientMessagePath({
      recipientNodeId: new Uint8Array(Buffer.from(agent.nodeId, 'hex')),
      through: via,
      pathId: newPathId(),
    });
    log.info('message path for async_hold', { messagePath: bytesToHex(path) });
  }
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      agent.stop().finally(() => resolve(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`lnd-agent: fatal: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
