// Start-up checks for the LND sidecar: refuse to run on an LND that would put held HTLCs at risk,
// with one clear message per problem (all problems at once, so an operator fixes them in one go).
import type { LndClients, GrpcError } from './grpc.js';
import { unary, GRPC_UNIMPLEMENTED } from './grpc.js';
import { LndError, lndError } from './errors.js';
import type { GetInfoResponse, Version } from './messages.js';

export interface LndVersion {
  major: number;
  minor: number;
  patch: number;
  /** As LND reports it, e.g. "0.21.2-beta commit=v0.21.2-beta". */
  text: string;
}

/** How onion messages reach us and leave us on this LND. */
export type OnionTransport = 'native' | 'custom-message';

export interface LndFacts {
  nodeId: string;
  version: LndVersion;
  blockHeight: number;
  buildTags: string[] | undefined;
  requireInterceptor: boolean;
  onionTransport: OnionTransport;
}

export interface PreflightOptions {
  /** Custom message type carrying onion messages on LND 0.20 (BOLT 4 onion_message is 513). */
  onionMessageType: number;
  /** Which parts of LND this process needs: the LSP sidecar, the recipient agent, or the sender SDK. */
  role: 'sidecar' | 'recipient' | 'sender';
  /** Sidecar modes turned on; their calls are checked only then. */
  modes?: readonly SidecarMode[];
}

/** Sidecar features that call LND beyond sender-LSP mode. */
export type SidecarMode = 'recipient-lsp' | 'lsps5';

export interface PreflightResult {
  facts: LndFacts | undefined;
  problems: LndError[];
  warnings: string[];
}

/** Parse GetInfo's version string ("0.21.2-beta commit=..."). */
export function parseLndVersion(text: string): LndVersion | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text };
}

export function isSupportedVersion(v: LndVersion): boolean {
  return v.major === 0 && (v.minor === 20 || v.minor === 21);
}

/** Native onion messages arrived in 0.21 (SendOnionMessage / SubscribeOnionMessages). */
export function onionTransportFor(v: LndVersion): OnionTransport {
  return v.major === 0 && v.minor < 21 ? 'custom-message' : 'native';
}

interface MethodNeed {
  method: string;
  perms: [string, string][];
  roles: PreflightOptions['role'][];
  /** Only on LND versions with native onion messages. */
  onlyNative?: boolean;
  onlyCustom?: boolean;
  /** Used when allowed; without it a check is skipped with a warning. */
  optional?: boolean;
  /** Called only in one of these sidecar modes (the baked macaroon still grants it, so one covers all). */
  modes?: readonly SidecarMode[];
}

// Every RPC each role calls, with LND's own permission for it (rpcserver.go / sub-server permission
// maps). Checked with CheckMacaroonPermissions so a macaroon with uri caveats is judged correctly.
// The sidecar's rows are exactly the calls in plugin/backends/lnd/ (test/backends/lnd/macaroon.test.ts
// keeps the two in sync) and so exactly what `bakeMacaroonCommand` grants.
export const LND_CALLS: readonly MethodNeed[] = [
  {
    method: '/lnrpc.Lightning/GetInfo',
    perms: [['info', 'read']],
    roles: ['sidecar', 'recipient', 'sender'],
  },
  { method: '/verrpc.Versioner/GetVersion', perms: [['info', 'read']], roles: ['sidecar'], optional: true },
  {
    method: '/lnrpc.Lightning/CheckMacaroonPermissions',
    perms: [['macaroon', 'read']],
    roles: ['sidecar'],
    optional: true,
  },
  { method: '/routerrpc.Router/HtlcInterceptor', perms: [['offchain', 'write']], roles: ['sidecar'] },
  { method: '/routerrpc.Router/SendPaymentV2', perms: [['offchain', 'write']], roles: ['sidecar'] },
  { method: '/routerrpc.Router/TrackPaymentV2', perms: [['offchain', 'read']], roles: ['sidecar', 'sender'] },
  { method: '/lnrpc.Lightning/DecodePayReq', perms: [['offchain', 'read']], roles: ['sidecar'] },
  { method: '/routerrpc.Router/SendToRouteV2', perms: [['offchain', 'write']], roles: ['sender'] },
  { method: '/routerrpc.Router/BuildRoute', perms: [['offchain', 'read']], roles: ['sender'] },
  {
    method: '/signrpc.Signer/DeriveSharedKey',
    perms: [['signer', 'generate']],
    roles: ['sidecar', 'recipient'],
  },
  {
    method: '/chainrpc.ChainNotifier/RegisterBlockEpochNtfn',
    perms: [['onchain', 'read']],
    roles: ['sidecar'],
  },
  { method: '/lnrpc.Lightning/ListPeers', perms: [['peers', 'read']], roles: ['sidecar', 'recipient'] },
  { method: '/lnrpc.Lightning/ListChannels', perms: [['offchain', 'read']], roles: ['sidecar'] },
  { method: '/lnrpc.Lightning/ConnectPeer', perms: [['peers', 'write']], roles: ['recipient'] },
  {
    method: '/lnrpc.Lightning/SendOnionMessage',
    perms: [['offchain', 'write']],
    roles: ['sidecar', 'recipient'],
    onlyNative: true,
  },
  {
    method: '/lnrpc.Lightning/SubscribeOnionMessages',
    perms: [['offchain', 'read']],
    roles: ['sidecar', 'recipient'],
    onlyNative: true,
  },
  {
    method: '/lnrpc.Lightning/SendCustomMessage',
    perms: [['offchain', 'write']],
    roles: ['sidecar', 'recipient'],
    onlyCustom: true,
  },
  {
    method: '/lnrpc.Lightning/SubscribeCustomMessages',
    perms: [['offchain', 'read']],
    roles: ['sidecar', 'recipient'],
    onlyCustom: true,
  },
  // Graph routing of onion messages whose first node is not our peer (backends/lnd/onion-route.ts).
  { method: '/lnrpc.Lightning/DescribeGraph', perms: [['info', 'read']], roles: ['sidecar'] },
  // Recipient-LSP mode: clients coming and going (backends/lnd/peer-events.ts).
  {
    method: '/lnrpc.Lightning/SubscribePeerEvents',
    perms: [['peers', 'read']],
    roles: ['sidecar'],
    modes: ['recipient-lsp'],
  },
  {
    method: '/lnrpc.Lightning/SubscribeChannelEvents',
    perms: [['offchain', 'read']],
    roles: ['sidecar'],
    modes: ['recipient-lsp'],
  },
  // LSPS5: LSPS0 rides on custom messages on every LND version; notifications are signed by the node.
  {
    method: '/lnrpc.Lightning/SendCustomMessage',
    perms: [['offchain', 'write']],
    roles: ['sidecar'],
    modes: ['lsps5'],
  },
  {
    method: '/lnrpc.Lightning/SubscribeCustomMessages',
    perms: [['offchain', 'read']],
    roles: ['sidecar'],
    modes: ['lsps5'],
  },
  {
    method: '/lnrpc.Lightning/SignMessage',
    perms: [['message', 'write']],
    roles: ['sidecar'],
    modes: ['lsps5'],
  },
  {
    // Reads protocol.custom-message to check LND 0.20 passes onion messages to us.
    method: '/lnrpc.Lightning/GetDebugInfo',
    perms: [
      ['info', 'read'],
      ['offchain', 'read'],
      ['onchain', 'read'],
      ['peers', 'read'],
    ],
    roles: ['sidecar'],
    onlyCustom: true,
    optional: true,
  },
];

const applies = (n: MethodNeed, role: PreflightOptions['role'], transport: OnionTransport): boolean =>
  n.roles.includes(role) &&
  !(n.onlyNative && transport !== 'native') &&
  !(n.onlyCustom && transport !== 'custom-message');

const modeOn = (n: MethodNeed, modes: readonly SidecarMode[] | undefined): boolean =>
  n.modes === undefined || modes === undefined || n.modes.some((m) => modes.includes(m));

/**
 * The gRPC methods `role` calls on an LND with this onion transport, in the given sidecar modes
 * (default: every mode, which is what the baked macaroon grants).
 */
export function callsOf(
  role: PreflightOptions['role'],
  transport: OnionTransport,
  modes?: readonly SidecarMode[],
): string[] {
  return [
    ...new Set(LND_CALLS.filter((n) => applies(n, role, transport) && modeOn(n, modes)).map((n) => n.method)),
  ];
}

/**
 * The least-privilege macaroon for the sidecar: `lncli bakemacaroon` with one uri: permission per
 * method it calls, nothing else. LND refuses a uri it does not know, so 0.20 and 0.21 differ.
 */
export function bakeMacaroonCommand(
  transport: OnionTransport,
  /** Where lncli writes it; null: lncli prints it instead. */
  saveTo: string | null = 'async-trampoline.macaroon',
  role: PreflightOptions['role'] = 'sidecar',
): string[] {
  const uris = callsOf(role, transport).map((m) => `uri:${m}`);
  return ['bakemacaroon', ...(saveTo === null ? [] : [`--save_to=${saveTo}`]), ...uris];
}

const BAKE_HINT =
  'bake a macaroon with exactly the calls the sidecar makes: `async-trampoline bakemacaroon` prints the lncli line';

// A call no role needs: a macaroon that may make it holds more than the sidecar should have.
const CANARY = { method: '/lnrpc.Lightning/SendCoins', perms: [{ entity: 'onchain', action: 'write' }] };

/** Sub-servers (build tags) each role needs. routerrpc and verrpc are always compiled in. */
function neededTags(role: PreflightOptions['role']): string[] {
  if (role === 'sidecar') return ['signrpc', 'chainrpc'];
  if (role === 'recipient') return ['signrpc'];
  return [];
}

const msg = (e: unknown): string => {
  const g = e as GrpcError;
  return g.details ?? g.message ?? String(e);
};

export async function preflight(c: LndClients, opts: PreflightOptions): Promise<PreflightResult> {
  const problems: LndError[] = [];
  const warnings: string[] = [];
  let info: GetInfoResponse;
  try {
    info = await unary<GetInfoResponse>(c.lightning, 'GetInfo', {});
  } catch (e) {
    problems.push(
      lndError('unreachable', `cannot call LND GetInfo: ${msg(e)} (check --lnd-rpc, TLS cert, macaroon)`),
    );
    return { facts: undefined, problems, warnings };
  }

  const version = parseLndVersion(info.version);
  if (!version || !isSupportedVersion(version)) {
    problems.push(
      lndError(
        'unsupported_version',
        `LND ${info.version || '(unknown)'} is not supported: need 0.20.x or 0.21.x`,
      ),
    );
  }

  let buildTags: string[] | undefined;
  try {
    const v = await unary<Version>(c.versioner, 'GetVersion', {});
    buildTags = v.build_tags;
  } catch (e) {
    warnings.push(
      `cannot read LND build tags (verrpc GetVersion: ${msg(e)}); sub-servers are probed on first use`,
    );
  }
  if (buildTags) {
    for (const tag of neededTags(opts.role)) {
      if (!buildTags.includes(tag)) {
        problems.push(
          lndError(
            'missing_subserver',
            `LND was built without the '${tag}' sub-server (build tags: ${buildTags.join(',')}); rebuild with tags="${tag} ..."`,
          ),
        );
      }
    }
  }

  if (opts.role === 'sidecar' && !info.require_htlc_interceptor) {
    problems.push(
      lndError(
        'interceptor_not_required',
        'LND runs without --requireinterceptor: it would forward every held HTLC the moment this sidecar disconnects; restart lnd with requireinterceptor=true',
      ),
    );
  }

  const transport = version ? onionTransportFor(version) : 'native';
  if (version && opts.role !== 'sender') {
    await checkOnionTransport(c, transport, opts.onionMessageType, info, problems, warnings);
  }

  let canCheck = true;
  const checked = new Set<string>();
  for (const need of LND_CALLS) {
    if (!applies(need, opts.role, transport) || !modeOn(need, opts.modes ?? [])) continue;
    if (checked.has(need.method)) continue;
    checked.add(need.method);
    try {
      const res = await unary<{ valid: boolean }>(c.lightning, 'CheckMacaroonPermissions', {
        macaroon: c.macaroon,
        permissions: need.perms.map(([entity, action]) => ({ entity, action })),
        fullMethod: need.method,
      });
      if (!res.valid) throw new Error('not valid');
    } catch (e) {
      const code = (e as GrpcError).code;
      if (code === GRPC_UNIMPLEMENTED) {
        warnings.push('LND has no CheckMacaroonPermissions; macaroon permissions are not checked up front');
        canCheck = false;
        break;
      }
      const perms = need.perms.map(([a, b]) => `${a}:${b}`).join(' ');
      const text = `the macaroon may not call ${need.method} (needs ${perms}): ${msg(e)}`;
      if (need.optional) {
        warnings.push(text);
        continue;
      }
      problems.push(lndError('macaroon_permission', text));
      // Without macaroon:read every check fails the same way; one line says it.
      if (/macaroon/.test(msg(e)) && /permission denied/.test(msg(e)) && need.method.endsWith('GetInfo')) {
        canCheck = false;
        break;
      }
    }
  }
  if (problems.some((p) => p.code === 'macaroon_permission')) {
    warnings.push(BAKE_HINT);
  } else if (canCheck && opts.role === 'sidecar') {
    try {
      const res = await unary<{ valid: boolean }>(c.lightning, 'CheckMacaroonPermissions', {
        macaroon: c.macaroon,
        permissions: CANARY.perms,
        fullMethod: CANARY.method,
      });
      if (res.valid)
        warnings.push(
          `the macaroon allows more than the sidecar needs (it may even send on-chain funds); ${BAKE_HINT}`,
        );
    } catch {
      // Refused: as it should be.
    }
  }

  const facts: LndFacts | undefined = version
    ? {
        nodeId: info.identity_pubkey,
        version,
        blockHeight: info.block_height,
        buildTags,
        requireInterceptor: info.require_htlc_interceptor,
        onionTransport: transport,
      }
    : undefined;
  return { facts, problems, warnings };
}

async function checkOnionTransport(
  c: LndClients,
  transport: OnionTransport,
  customType: number,
  info: GetInfoResponse,
  problems: LndError[],
  warnings: string[],
): Promise<void> {
  if (transport === 'native') {
    // LND advertises onion_messages (bit 38/39) unless started with protocol.no-onion-messages.
    const f = info.features;
    if (!('38' in f) && !('39' in f)) {
      problems.push(
        lndError(
          'config',
          'LND 0.21 has onion messages turned off (protocol.no-onion-messages); remove that option',
        ),
      );
    }
    return;
  }
  // 0.20: onion messages below the custom range reach SubscribeCustomMessages only with
  // protocol.custom-message=<type>. GetDebugInfo reports the running config when the macaroon allows.
  try {
    const dbg = await unary<{ config: Record<string, string> }>(c.lightning, 'GetDebugInfo', {});
    const value = dbg.config['protocol.custom-message'] ?? '';
    if (!value.split(/[\s,[\]]+/).includes(String(customType))) {
      problems.push(
        lndError(
          'custom_message_not_enabled',
          `LND 0.20 does not pass onion messages (type ${customType}) to plugins: start lnd with protocol.custom-message=${customType}`,
        ),
      );
    }
  } catch (e) {
    warnings.push(
      `cannot read LND's config (GetDebugInfo: ${msg(e)}); make sure lnd runs with protocol.custom-message=${customType}`,
    );
  }
}

/** One line per problem, for the sidecar's refusal to start. */
export function describeProblems(problems: LndError[]): string {
  return problems.map((p) => `- [${p.code}] ${p.message}`).join('\n');
}
