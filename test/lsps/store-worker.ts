// Child process for the webhook store's crash test: applies the seeded operation list to the store
// and prints one line per operation once the store call has returned (the moment the LSP would
// answer the client). The parent SIGKILLs it at a random moment.
import { WebhookStore } from '../../plugin/lsps/lsps5/store.js';
import { operations } from './store-ops.js';

const [path, seed] = [process.argv[2]!, Number(process.argv[3])];
const store = new WebhookStore(path);
for (const [i, op] of operations(seed).entries()) {
  const r =
    op.kind === 'set'
      ? store.set(op.client, op.appName, op.url, op.max, i)
      : store.remove(op.client, op.appName);
  process.stdout.write(`${i} ${JSON.stringify(r)}\n`);
}
store.close();
