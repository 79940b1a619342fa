// The wiring point between the recipient-LSP mailbox and LSPS5: noticeStored wakes the client's
// webhooks once per cooldown, clientOffline/clientOnline reset that cooldown.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RecipientLspListener } from '../../plugin/recipient-lsp/engine.js';
import { DEFAULT_LSPS5, startLsps } from '../../plugin/lsps/lsps.js';
import { wakeSleepingClients } from '../../plugin/lsps/wake.js';
import { memoryLogger } from '../../plugin/ops/log.js';
import { Receiver, SimLspsHost } from './sim-host.js';

const CLIENT = '02' + 'c1'.repeat(32);

test('a stored notice wakes the client; its coming and going resets the cooldown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lsps5-wake-'));
  const host = new SimLspsHost();
  const hook = await Receiver.start();
  const log = memoryLogger();
  const lsps = await startLsps({
    host,
    dataDir: dir,
    nodeId: host.nodeId,
    log,
    config: { ...DEFAULT_LSPS5, allowHttp: true, cooldownMs: 3_600_000 },
  });
  try {
    const listeners: Partial<RecipientLspListener>[] = [];
    wakeSleepingClients({ addListener: (l) => listeners.push(l) }, lsps.service, log);
    const emit = (ev: keyof RecipientLspListener): void => listeners.forEach((l) => l[ev]?.(CLIENT));
    await host.call(CLIENT, 'lsps5.set_webhook', { app_name: 'w', webhook: hook.url() });
    await hook.waitCalls(1);

    emit('noticeStored');
    await hook.waitCalls(2);
    assert.equal(JSON.parse(hook.calls[1]!.body).method, 'lsps5.onion_message_incoming');
    emit('noticeStored'); // within the cooldown: nobody woken
    const outcome = (): unknown[] =>
      log.lines.filter((l) => l.msg === 'LSPS5 wake for a stored notice').map((l) => l.fields.outcome);
    while (outcome().length < 2) await new Promise((r) => setImmediate(r));
    assert.deepEqual(outcome(), ['queued', 'cooldown']);

    emit('clientOnline');
    emit('clientOffline');
    emit('noticeStored');
    await hook.waitCalls(3);
    assert.equal(hook.calls.length, 3);
  } finally {
    await lsps.stop();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
