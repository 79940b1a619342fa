// The option table: one vocabulary for both hosts. Each row of OPTIONS is one setting with one name,
// used as the CLN option `async-trampoline-<name>`, the sidecar flag `--<name>`, the environment
// variable `ASYNC_TRAMPOLINE_<NAME>` and the sidecar config-file key; the README's option reference is
// generated from it (`npm run docs:options`). A feature adds its settings as one block below and
// reads them from `values` (sidecar) or `ClnSettings.values` (CLN).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultEngineConfig } from '../hold/policy.js';
import { DEFAULT_LSPS5 } from '../lsps/config.js';
import { defaultRecipientLspConfig } from '../recipient-lsp/config.js';
import type { OptionSpec } from './options.js';

const both = ['cln', 'lnd'] as const;
const lnd = ['lnd'] as const;
const cln = ['cln'] as const;
const d = defaultEngineConfig;
const rl = defaultRecipientLspConfig;

/** Where the service runs: data, logs, how to reach LND, the operator endpoints. */
const SERVICE_OPTIONS: OptionSpec[] = [
  {
    name: 'data-dir',
    kind: 'path',
    hosts: both,
    default: join(homedir(), '.async-trampoline'),
    hostDefault: { cln: '' },
    docDefault: '`~/.async-trampoline` (CLN: `<lightning-dir>/async-trampoline`)',
    help: 'hold database, release key, admin token and the sidecar config file',
  },
  {
    name: 'log-level',
    kind: 'level',
    hosts: both,
    default: 'info',
    help: 'debug, info, warn or error (stderr)',
  },
  { name: 'log-json', kind: 'bool', hosts: lnd, default: 'true', help: 'JSON log lines (false: plain text)' },
  {
    name: 'lnd-rpc',
    kind: 'host-port',
    hosts: lnd,
    default: 'localhost:10009',
    help: "LND's gRPC host:port",
  },
  {
    name: 'lnd-tls-cert',
    kind: 'path',
    hosts: lnd,
    default: join(homedir(), '.lnd', 'tls.cert'),
    help: "LND's tls.cert",
  },
  {
    name: 'lnd-macaroon',
    kind: 'path',
    hosts: lnd,
    required: lnd,
    help: 'macaroon baked with exactly the calls the sidecar makes (README: least privilege)',
  },
  {
    name: 'admin-port',
    kind: 'port',
    hosts: lnd,
    default: '9736',
    help: 'loopback port of the admin endpoint the CLI talks to (127.0.0.1 only; 0: off)',
  },
  {
    name: 'metrics-listen',
    kind: 'host-port',
    hosts: lnd,
    help: 'serve Prometheus /metrics and /healthz at host:port (e.g. 127.0.0.1:9109); off when unset',
  },
];

/** Wire type numbers: options because the BOLT draft is unmerged and will renumber them. */
const TYPE_OPTIONS: OptionSpec[] = [
  {
    name: 'hold-htlc-type',
    kind: 'tlv-type',
    hosts: both,
    default: '75537',
    help: 'update_add_htlc TLV type of hold_htlc',
  },
  {
    name: 'async-hold-type',
    kind: 'tlv-type',
    hosts: both,
    default: '4280151',
    help: 'hop payload type of async_hold (odd)',
  },
  {
    name: 'trampoline-request-type',
    kind: 'tlv-type',
    hosts: both,
    default: '4280153',
    help: 'hop payload type of trampoline_request (odd)',
  },
  {
    name: 'keysend-preimage-type',
    kind: 'tlv-type',
    hosts: lnd,
    default: '5482373484',
    help: 'keysend preimage record type',
  },
  {
    name: 'held-htlc-available-type',
    kind: 'tlv-type',
    hosts: both,
    default: '72',
    help: 'onion message type of held_htlc_available',
  },
  {
    name: 'held-htlc-available-alias',
    kind: 'tlv-type',
    hosts: both,
    default: '73',
    help: 'odd alias of held_htlc_available',
  },
  {
    name: 'release-held-htlc-type',
    kind: 'tlv-type',
    hosts: both,
    default: '74',
    help: 'onion message type of release_held_htlc',
  },
  {
    name: 'release-held-htlc-alias',
    kind: 'tlv-type',
    hosts: both,
    default: '75',
    help: 'odd alias of release_held_htlc (hosts drop unknown even types, so this one arrives)',
  },
  {
    name: 'held-htlc-variants',
    kind: 'variants',
    hosts: both,
    default: 'odd,even',
    help: 'held_htlc_available encodings to send, each its own message: odd (CLN/LND agents), even (LDK)',
  },
  {
    name: 'onion-message-custom-type',
    kind: 'uint',
    max: 0xffff,
    hosts: lnd,
    default: '513',
    help: 'LND 0.20: custom message type of onion messages (lnd needs protocol.custom-message=<this>)',
  },
];

/** The hold engine's policy. */
const ENGINE_OPTIONS: OptionSpec[] = [
  {
    name: 'max-hold-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.maxHoldBlocks}`,
    help: 'longest hold, in blocks (the sender may ask for less)',
  },
  {
    name: 'safety-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.safetyBlocks}`,
    help: 'fail this many blocks before the incoming HTLC expires',
  },
  {
    name: 'downstream-min-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.downstreamMinBlocks}`,
    help: 'blocks the next hop needs before our outgoing expiry',
  },
  {
    name: 'min-hold-blocks',
    kind: 'uint',
    hosts: both,
    default: `${d.minHoldBlocks}`,
    help: 'refuse at intake an HTLC whose deadline is closer than this',
  },
  {
    name: 'max-held-per-peer',
    kind: 'uint',
    hosts: both,
    default: `${d.caps.perPeerCount}`,
    aliases: [{ name: 'cap-per-peer-count', hosts: lnd }],
    help: 'most holds per incoming peer',
  },
  {
    name: 'max-held-msat-per-peer',
    kind: 'msat',
    hosts: both,
    default: `${d.caps.perPeerMsat}`,
    aliases: [{ name: 'cap-per-peer-msat', hosts: lnd }],
    help: 'most msat held per incoming peer',
  },
  {
    name: 'max-held',
    kind: 'uint',
    hosts: both,
    default: `${d.caps.globalCount}`,
    aliases: [{ name: 'cap-global-count', hosts: lnd }],
    help: 'most holds in total',
  },
  {
    name: 'max-held-msat',
    kind: 'msat',
    hosts: both,
    default: `${d.caps.globalMsat}`,
    aliases: [{ name: 'cap-global-msat', hosts: lnd }],
    help: 'most msat held in total',
  },
  {
    name: 'notify-base-ms',
    kind: 'uint',
    hosts: both,
    default: `${d.notifyBaseMs}`,
    help: 'first held_htlc_available retry delay, doubling',
  },
  {
    name: 'notify-cap-ms',
    kind: 'uint',
    hosts: both,
    default: `${d.notifyCapMs}`,
    help: 'longest held_htlc_available retry delay',
  },
  {
    name: 'trampoline-fee-base-msat',
    kind: 'msat',
    hosts: both,
    default: `${d.trampolineFeeBaseMsat}`,
    help: 'trampoline mode: base fee we keep',
  },
  {
    name: 'trampoline-fee-ppm',
    kind: 'uint',
    hosts: both,
    default: `${d.trampolineFeePpm}`,
    help: 'trampoline mode: proportional fee we keep',
  },
  {
    name: 'trampoline-scid',
    kind: 'scid',
    hosts: cln,
    default: '',
    help: 'virtual short channel id (BxTxO) senders address trampoline HTLCs to; empty: final-hop form only',
  },
];

/** Recipient-LSP mode (plugin/recipient-lsp/): keep held_htlc_available for away clients. */
const RECIPIENT_LSP_OPTIONS: OptionSpec[] = [
  {
    name: 'recipient-lsp',
    kind: 'bool',
    hosts: both,
    default: 'false',
    help: "also act as our clients' LSP: keep held_htlc_available while they are away, release when they return",
  },
  {
    name: 'recipient-lsp-max-per-client',
    kind: 'uint',
    hosts: both,
    default: `${rl.maxPerClient}`,
    help: 'stored notices per client, newest kept',
  },
  {
    name: 'recipient-lsp-max-total',
    kind: 'uint',
    hosts: both,
    default: `${rl.maxTotal}`,
    help: 'stored notices in total, newest kept',
  },
  {
    name: 'recipient-lsp-expiry-seconds',
    kind: 'uint',
    hosts: both,
    default: `${rl.expiryMs / 1000}`,
    help: 'drop a stored notice after this long',
  },
  {
    name: 'recipient-lsp-relay',
    kind: 'string',
    hosts: both,
    default: '',
    help: 'relay notices to these clients instead of releasing ("all", or comma-separated node ids)',
  },
];

/** LSPS0 transport and LSPS5 webhooks (bLIP-55, plugin/lsps/): wake sleeping clients. */
const LSPS5_OPTIONS: OptionSpec[] = [
  {
    name: 'lsps5',
    kind: 'bool',
    hosts: both,
    default: 'false',
    help: 'serve LSPS0 (peer message 37913) and LSPS5 webhook registration; notify sleeping clients',
  },
  {
    name: 'lsps5-max-webhooks',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.maxWebhooks}`,
    help: 'webhooks per client node',
  },
  {
    name: 'lsps5-allow-http',
    kind: 'bool',
    hosts: both,
    default: 'false',
    help: 'also accept http:// webhooks (tests and regtest only; bLIP-55 requires https)',
  },
  {
    name: 'lsps5-cooldown-ms',
    kind: 'uint',
    hosts: both,
    default: `${DEFAULT_LSPS5.cooldownMs}`,
    help: 'at most one notification per client and method this often (reset when the client is seen online)',
  },
  {
    name: 'lsps5-webhook-timeout-ms',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.timeoutMs}`,
    help: 'give up one webhook call after this long without an answer',
  },
  {
    name: 'lsps5-retry-base-ms',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.retryBaseMs}`,
    help: 'first retry delay of a webhook call that got no answer (doubling)',
  },
  {
    name: 'lsps5-retry-max-ms',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.retryMaxMs}`,
    help: 'longest retry delay of a webhook call',
  },
  {
    name: 'lsps5-attempts',
    kind: 'uint',
    min: 1,
    hosts: both,
    default: `${DEFAULT_LSPS5.maxAttempts}`,
    help: 'calls per notification and webhook, the first included',
  },
];

/** Every setting of both hosts. Order is the README's order. */
export const OPTIONS: readonly OptionSpec[] = [
  ...SERVICE_OPTIONS,
  ...ENGINE_OPTIONS,
  ...TYPE_OPTIONS,
  ...RECIPIENT_LSP_OPTIONS,
  ...LSPS5_OPTIONS,
];

/** The sidecar's own flag that is not a setting: where the config file is. */
export const CONFIG_FLAG: OptionSpec = {
  name: 'config',
  kind: 'path',
  hosts: lnd,
  help: 'config file of key=value lines (default <data-dir>/async-trampoline.conf, if it exists)',
};
export const CONFIG_FILE_NAME = 'async-trampoline.conf';
