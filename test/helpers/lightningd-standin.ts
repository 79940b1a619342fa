// A lightningd stand-in: spawns the built plugin executable exactly as lightningd does (the file
// itself, run from the lightning-dir with LIGHTNINGD_PLUGIN/LIGHTNINGD_VERSION set), speaks the real
// plugin protocol over its stdin/stdout (string ids, "\n\n" framing, getmanifest then init), serves
// the JSON-RPC unix socket named in init's configuration, and shapes hook payloads and notifications
// as CLN v25.09+ does (doc/schemas/hook/htlc_accepted.json, onion_message_recv_secret.json,
// notification/block_added.json). It also peels onion messages with its node key, as connectd would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { JsonObjectStream, frame } from '../../plugin/backends/cln/framing.js';
import { activeEc, ecdhFromPrivateKey } from '../../plugin/protocol/ec.js';
import { encodeBigSize, concatBytes } from '../../plugin/protocol/bigsize.js';
import { encodeHopPayload, type HopPayload } from '../../plugin/protocol/hop-payload.js';
import { encodeTlvStream, type TlvRecord } from '../../plugin/protocol/tlv.js';
import {
  DEFAULT_ASYNC_MESSAGE_TYPES,
  peelOnionMessage,
  type PeeledOnionMessage,
} from '../../plugin/protocol/onion-message.js';
import { randomPrivateKey } from '../../plugin/protocol/route-blinding.js';
import { parseScid, scidToString } from '../../plugin/protocol/short-channel-id.js';
import { repoRoot } from './paths.js';

export const PLUGIN_PATH = join(repoRoot, 'dist/plugin/cln.js');
export const GUARD_PATH = join(repoRoot, 'dist/plugin/cln-guard.js');
/** The lightningd version the suite runs for real (test/integration/cln-async.test.ts). */
export const LIGHTNINGD_VERSION = 'v26.06.6';
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

export interface RpcCall {
  id: unknown;
  method: string;
  params: Record<string, unknown>;
}

export type RpcHandler = (params: Record<string, unknown>, call: RpcCall) => Promise<unknown> | unknown;

export interface JsonRpcReply {
  id: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export interface HtlcSpec {
  scid?: string;
  htlcId: number;
  paymentHash: Uint8Array;
  amountMsat: bigint;
  cltvExpiry: number;
  /** Forward fields; omit outgoingScid for the final-hop form. */
  outgoingScid?: string;
  forwardMsat?: bigint;
  outgoingCltv?: number;
  /** Our hop-payload records (async_hold, trampoline_request, ...). */
  customRecords?: Map<bigint, Uint8Array>;
  /** update_add_htlc TLVs (e.g. hold_htlc) as CLN passes them in htlc.extra_tlvs. */
  extraTlvs?: TlvRecord[];
  /** A replay after a restart: real lightningd keeps no extra_tlvs across restarts, so none is sent. */
  replay?: boolean;
  peerId?: string;
}

/** The TLV types CLN's onionmsg_tlv knows (wire/onion_wire.csv); any other even one drops the message. */
const CLN_KNOWN_ONIONMSG = new Set([2n, 4n, 64n, 66n, 68n]);

export class LightningdStandin {
  readonly dir: string;
  readonly lightningDir: string;
  readonly nodeKey: Uint8Array;
  readonly nodeId: Uint8Array;
  blockheight: number;
  readonly rpcCalls: RpcCall[] = [];
  readonly rpcHandlers = new Map<string, RpcHandler>();
  /** injectonionmessage calls, decoded. */
  readonly injected: { pathKey: Uint8Array; packet: Uint8Array }[] = [];
  /** Notifications the plugin sent us (e.g. log). */
  readonly notifications: { method: string; params: unknown }[] = [];
  /** Every answer the plugin wrote, in order. */
  readonly answers: JsonRpcReply[] = [];
  /** Ids answered more than once: always a protocol breach. */
  readonly duplicateAnswers: string[] = [];
  /** Lines the plugin wrote to stdout that are not JSON-RPC: lightningd would kill it for these. */
  readonly stdoutGarbage: string[] = [];
  stderr = '';

  private proc: ChildProcessWithoutNullStreams | undefined;
  /** Set while we kill or stop the plugin on purpose; any other exit fails every pending request. */
  private exitExpected = false;
  private exitPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private readonly waiting = new Map<
    string,
    { resolve: (r: JsonRpcReply) => void; reject: (e: Error) => void }
  >();
  private readonly answered = new Set<string>();
  private nextId = 1;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /** Incoming HTLCs lightningd still has (listpeerchannels): every one offered, unless vanished. */
  readonly offered = new Map<string, { scid: string; id: number; paymentHash: string; peerId?: string }>();
  /** Keys of HTLCs lightningd resolved without the plugin (e.g. the guard failed them). */
  readonly vanished = new Set<string>();
  /** The Bitcoin backend's tip (getchaininfo); after a restart real lightningd lags it. */
  chainTip: number | undefined;
  /** How many injectonionmessage calls fail with "unknown next peer" (peers not reconnected yet). */
  unknownNextPeer = 0;
  /** The executable to run (the plugin, or the guard); lightningd names plugins by basename. */
  readonly pluginPath: string;
  /** What listconfigs says lightningd loads; without the guard the plugin refuses to start. */
  loadedPlugins: string[] = [PLUGIN_PATH, GUARD_PATH];

  constructor(
    opts: {
      nodeKey?: Uint8Array;
      blockheight?: number;
      options?: Record<string, unknown>;
      pluginPath?: string;
    } = {},
  ) {
    this.pluginPath = opts.pluginPath ?? PLUGIN_PATH;
    this.dir = mkdtempSync(join(tmpdir(), 'lightningd-standin-'));
    this.lightningDir = join(this.dir, 'regtest');
    mkdirSync(this.lightningDir);
    this.nodeKey = opts.nodeKey ?? randomPrivateKey();
    this.nodeId = activeEc().publicKey(this.nodeKey);
    this.blockheight = opts.blockheight ?? 1000;
    this.options = opts.options ?? {};
    this.rpcHandlers.set('getinfo', () => ({
      id: hex(this.nodeId),
      alias: 'standin',
      color: '000000',
      num_peers: 0,
      num_pending_channels: 0,
      num_active_channels: 0,
      num_inactive_channels: 0,
      version: LIGHTNINGD_VERSION,
      blockheight: this.blockheight,
      network: 'regtest',
      fees_collected_msat: 0,
      'lightning-dir': this.lightningDir,
      address: [],
      binding: [],
    }));
    // Like CLN: a key derived from the node secret and the caller's string, stable across restarts.
    this.rpcHandlers.set('makesecret', (p) => {
      const input =
        typeof p.string === 'string' ? Buffer.from(p.string, 'utf8') : Buffer.from(String(p.hex), 'hex');
      return { secret: hex(sha256(concatBytes(this.nodeKey, input))) };
    });
    this.rpcHandlers.set('injectonionmessage', (p) => {
      if (this.unknownNextPeer > 0) {
        this.unknownNextPeer--;
        throw new Error('onion msg: unknown next peer');
      }
      this.injected.push({ pathKey: unhex(String(p.path_key)), packet: unhex(String(p.message)) });
      return {};
    });
    this.rpcHandlers.set('listpays', () => ({ pays: [] }));
    this.rpcHandlers.set('getchaininfo', () => {
      const tip = Math.max(this.chainTip ?? 0, this.blockheight);
      return { chain: 'regtest', headercount: tip, blockcount: tip, ibd: false };
    });
    this.rpcHandlers.set('listconfigs', () => {
      // Our options as lightningd reports them (value_int / value_str), for the guard.
      const configs: Record<string, unknown> = {
        'important-plugin': { values_str: this.loadedPlugins, sources: ['cmdline'] },
      };
      for (const [k, v] of Object.entries(this.options)) {
        configs[k] = typeof v === 'number' ? { value_int: v } : { value_str: String(v) };
      }
      if (!('async-trampoline-hold-htlc-type' in configs) && this.loadedPlugins.includes(PLUGIN_PATH)) {
        configs['async-trampoline-hold-htlc-type'] = { value_int: 75537, source: 'default' };
      }
      return { configs };
    });
    // One channel per scid that has offered HTLCs, with the fields real lightningd always returns
    // (doc/schemas/listpeerchannels.json requires peer_id, peer_connected, state, opener, features),
    // filtered by `id` as lightningd does.
    this.rpcHandlers.set('listpeerchannels', (p) => {
      const byScid = new Map<string, { peerId: string; htlcs: Record<string, unknown>[] }>();
      for (const [key, h] of this.offered) {
        if (this.vanished.has(key)) continue;
        const chan = byScid.get(h.scid) ?? { peerId: h.peerId ?? this.peerIdOf(h.scid), htlcs: [] };
        chan.htlcs.push({
          direction: 'in',
          id: h.id,
          payment_hash: h.paymentHash,
          state: 'RCVD_ADD_ACK_REVOCATION',
        });
        byScid.set(h.scid, chan);
      }
      const channels = [...byScid].map(([scid, c]) => ({
        peer_id: c.peerId,
        peer_connected: true,
        state: 'CHANNELD_NORMAL',
        opener: 'remote',
        features: ['option_static_remotekey', 'option_anchors'],
        short_channel_id: scid,
        htlcs: c.htlcs,
      }));
      return { channels: p.id === undefined ? channels : channels.filter((c) => c.peer_id === p.id) };
    });
    this.rpcHandlers.set('listforwards', () => ({ forwards: [] }));
  }

  options: Record<string, unknown>;

  /** The peer of a channel whose HTLCs named none: a node id fixed by the scid. */
  peerIdOf(scid: string): string {
    return hex(activeEc().publicKey(sha256(Buffer.from(`standin peer ${scid}`, 'utf8'))));
  }

  get rpcFile(): string {
    return 'lightning-rpc';
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Serve the RPC socket, spawn the plugin, getmanifest, init. Returns the manifest. */
  async start(): Promise<Record<string, unknown>> {
    if (!this.server) await this.listen();
    this.spawn();
    const manifest = await this.request('getmanifest', { 'allow-deprecated-apis': false });
    if (!manifest.result) throw new Error(`getmanifest failed: ${JSON.stringify(manifest)}`);
    const init = await this.request('init', {
      options: this.options,
      configuration: {
        'lightning-dir': this.lightningDir,
        'rpc-file': this.rpcFile,
        startup: true,
        network: 'regtest',
        feature_set: {
          init: '08a0000a8a5961',
          node: '88a0000a8a5961',
          channel: '',
          invoice: '02000002024100',
        },
        'torv3-enabled': true,
        always_use_proxy: false,
      },
    });
    // Real lightningd drops `important` from a plugin answering disable; ours never does (it exits).
    if (!init.result || 'disable' in init.result) throw new Error(`init failed: ${JSON.stringify(init)}`);
    return manifest.result;
  }

  private spawn(): void {
    // The file itself, as lightningd execs it: this needs the shebang and the executable bit.
    const proc = spawn(this.pluginPath, [], {
      cwd: this.lightningDir,
      env: { ...process.env, LIGHTNINGD_PLUGIN: '1', LIGHTNINGD_VERSION },
      stdio: 'pipe',
    });
    this.proc = proc;
    this.exitExpected = false;
    this.exitPromise = new Promise((res) =>
      proc.on('exit', (code, signal) => {
        if (!this.exitExpected) this.failWaiting(`plugin exited unexpectedly (${code ?? signal})`);
        res({ code, signal });
      }),
    );
    // A spawn failure (missing file, no executable bit) emits 'error' and never 'exit'.
    proc.on('error', (e) => this.failWaiting(`could not run ${this.pluginPath}: ${e.message}`));
    const stream = new JsonObjectStream({
      message: (v) => this.onPluginMessage(v),
      garbage: (reason, sample) => this.stdoutGarbage.push(`${reason}: ${sample}`),
    });
    proc.stdout.on('data', (d: Buffer) => stream.push(d));
    proc.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 1_000_000) this.stderr = this.stderr.slice(-500_000);
    });
    proc.stdin.on('error', () => {});
  }

  private onPluginMessage(v: unknown): void {
    const m = v as Record<string, unknown>;
    if (m.jsonrpc !== '2.0') {
      this.stdoutGarbage.push(`no jsonrpc field: ${JSON.stringify(v).slice(0, 80)}`);
      return;
    }
    if (typeof m.method === 'string' && m.id === undefined) {
      this.notifications.push({ method: m.method, params: m.params });
      return;
    }
    const id = String(m.id);
    const reply: JsonRpcReply = { id };
    if (m.result !== undefined) reply.result = m.result as Record<string, unknown>;
    if (m.error !== undefined) reply.error = m.error as { code: number; message: string };
    if (this.answered.has(id)) this.duplicateAnswers.push(id);
    this.answered.add(id);
    this.answers.push(reply);
    const w = this.waiting.get(id);
    if (w) {
      this.waiting.delete(id);
      w.resolve(reply);
    }
  }

  /** Send a request with a CLN-style string id; resolves with the plugin's answer. */
  request(method: string, params: unknown): Promise<JsonRpcReply> {
    const id = `cln:${method}#${this.nextId++}`;
    const p = this.expect(id);
    this.write(frame({ jsonrpc: '2.0', id, method, params }));
    return p;
  }

  /** Wait for the answer to an id written some other way (e.g. by writeRaw). */
  expect(id: string): Promise<JsonRpcReply> {
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  notify(method: string, params: unknown): void {
    this.write(frame({ jsonrpc: '2.0', method, params }));
  }

  write(data: string | Uint8Array): void {
    if (!this.proc) throw new Error('plugin not running');
    this.proc.stdin.write(data);
  }

  private failWaiting(why: string): void {
    const err = new Error(`${why}; stderr tail:\n${this.stderr.slice(-2000)}`);
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  // ---- hooks and notifications, shaped as CLN sends them ----

  htlcAccepted(spec: HtlcSpec): Promise<JsonRpcReply> {
    return this.request('htlc_accepted', this.htlcAcceptedParams(spec));
  }

  htlcAcceptedParams(spec: HtlcSpec): Record<string, unknown> {
    const forward = spec.outgoingScid !== undefined;
    const payload: HopPayload = {
      amtToForward: spec.forwardMsat ?? spec.amountMsat,
      outgoingCltvValue: spec.outgoingCltv ?? spec.cltvExpiry,
      customRecords: spec.customRecords ?? new Map(),
    };
    if (forward) payload.shortChannelId = parseScid(spec.outgoingScid as string);
    const tlv = encodeHopPayload(payload);
    const onion: Record<string, unknown> = {
      // CLN's raw_payload keeps the BigSize length prefix.
      payload: hex(concatBytes(encodeBigSize(tlv.length), tlv)),
      type: 'tlv',
    };
    if (forward) onion.short_channel_id = spec.outgoingScid;
    onion.forward_msat = Number(payload.amtToForward);
    onion.outgoing_cltv_value = payload.outgoingCltvValue;
    onion.next_onion = '00'.repeat(1366);
    onion.shared_secret = hex(sha256(Uint8Array.of(spec.htlcId & 0xff)));
    const scid = spec.scid ?? '103x1x0';
    this.offered.set(`${scid}/${spec.htlcId}`, {
      scid,
      id: spec.htlcId,
      paymentHash: hex(spec.paymentHash),
      ...(spec.peerId ? { peerId: spec.peerId } : {}),
    });
    const htlc: Record<string, unknown> = {
      short_channel_id: scid,
      id: spec.htlcId,
      amount_msat: Number(spec.amountMsat),
      cltv_expiry: spec.cltvExpiry,
      cltv_expiry_relative: spec.cltvExpiry - this.blockheight,
      payment_hash: hex(spec.paymentHash),
    };
    if (spec.extraTlvs && !spec.replay) htlc.extra_tlvs = hex(encodeTlvStream(spec.extraTlvs));
    const params: Record<string, unknown> = {};
    if (spec.peerId) params.peer_id = spec.peerId;
    params.onion = onion;
    if (forward) params.forward_to = '22'.repeat(32);
    params.htlc = htlc;
    return params;
  }

  blockAdded(height: number): void {
    this.blockheight = height;
    this.notify('block_added', {
      block_added: { hash: hex(sha256(Uint8Array.of(height & 0xff, height >> 8))), height },
    });
  }

  /**
   * connectd's part: peel an onion message that reached our node. A message for one of our paths goes
   * to onion_message_recv_secret (pathsecret = the 32-byte path_id; unknown_fields = the odd TLVs it
   * does not know); one with an unknown even TLV is dropped, as CLN drops it; a forward is returned.
   */
  async receiveOnionMessage(msg: {
    pathKey: Uint8Array;
    packet: Uint8Array;
  }): Promise<
    | { kind: 'forward'; peeled: PeeledOnionMessage & { kind: 'forward' } }
    | { kind: 'dropped'; why: string }
    | { kind: 'delivered'; reply: JsonRpcReply }
  > {
    const peeled = await peelOnionMessage(msg, ecdhFromPrivateKey(this.nodeKey), { ourNodeId: this.nodeId });
    if (peeled.kind === 'forward') return { kind: 'forward', peeled };
    const t = DEFAULT_ASYNC_MESSAGE_TYPES;
    const fields: { number: bigint; value: Uint8Array }[] = [];
    const add = (n: bigint, v: Uint8Array | undefined): void => {
      if (v !== undefined) fields.push({ number: n, value: v });
    };
    add(t.heldHtlcAvailable, peeled.payload.heldHtlcAvailable);
    add(t.heldHtlcAvailableOdd, peeled.payload.heldHtlcAvailableOdd);
    add(t.releaseHeldHtlc, peeled.payload.releaseHeldHtlc);
    add(t.releaseHeldHtlcOdd, peeled.payload.releaseHeldHtlcOdd);
    for (const u of peeled.payload.unknown ?? []) add(u.type, u.value);
    const even = fields.find((f) => f.number % 2n === 0n && !CLN_KNOWN_ONIONMSG.has(f.number));
    if (even) return { kind: 'dropped', why: `unknown even onionmsg_tlv ${even.number}` };
    if (!peeled.pathId || peeled.pathId.length !== 32) return { kind: 'dropped', why: 'no 32-byte path_id' };
    const rp = peeled.replyPath;
    const reply = await this.request('onion_message_recv_secret', {
      onion_message: {
        pathsecret: hex(peeled.pathId),
        // As lightningd writes it (doc/schemas/hook/onion_message_recv_secret.json).
        ...(rp
          ? {
              reply_blindedpath: {
                ...('nodeId' in rp.firstNode
                  ? { first_node_id: hex(rp.firstNode.nodeId) }
                  : { first_scid: scidToString(rp.firstNode.scid), first_scid_dir: rp.firstNode.direction }),
                first_path_key: hex(rp.firstPathKey),
                hops: rp.hops.map((h) => ({
                  blinded_node_id: hex(h.blindedNodeId),
                  encrypted_recipient_data: hex(h.encryptedRecipientData),
                })),
              },
            }
          : {}),
        unknown_fields: fields
          .sort((a, b) => (a.number < b.number ? -1 : 1))
          .map((f) => ({ number: Number(f.number), value: hex(f.value) })),
      },
    });
    return { kind: 'delivered', reply };
  }

  // ---- lifecycle ----

  /** Kill the plugin (lightningd's view: the process died) and wait for it to be gone. */
  async kill(
    signal: NodeJS.Signals = 'SIGKILL',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const proc = this.proc;
    if (!proc || !this.exitPromise) throw new Error('plugin not running');
    this.exitExpected = true;
    proc.kill(signal);
    const r = await this.exitPromise;
    this.proc = undefined;
    // Requests the dead plugin never answered stay unanswered (lightningd replays HTLCs on restart).
    this.waiting.clear();
    return r;
  }

  /** Close stdin, as lightningd does at shutdown, and wait for the plugin to exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const proc = this.proc;
    if (!proc || !this.exitPromise) return undefined;
    this.exitExpected = true;
    proc.stdin.end();
    const r = await this.exitPromise;
    this.proc = undefined;
    return r;
  }

  async exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    return this.exitPromise;
  }

  async close(): Promise<void> {
    if (this.proc) await this.kill('SIGKILL').catch(() => undefined);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private listen(): Promise<void> {
    const path = join(this.lightningDir, this.rpcFile);
    this.server = createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      const stream = new JsonObjectStream({
        message: (v) => void this.onRpc(v as Record<string, unknown>, sock),
        garbage: () => sock.destroy(),
      });
      sock.on('data', (d) => stream.push(d));
    });
    const server = this.server;
    return new Promise((res) => server.listen(path, () => res()));
  }

  private async onRpc(req: Record<string, unknown>, sock: Socket): Promise<void> {
    const call: RpcCall = {
      id: req.id,
      method: String(req.method),
      params: (req.params ?? {}) as Record<string, unknown>,
    };
    this.rpcCalls.push(call);
    const h = this.rpcHandlers.get(call.method);
    let out: Record<string, unknown>;
    if (!h)
      out = {
        jsonrpc: '2.0',
        id: req.id,
        error: { code: -32601, message: `Unknown command '${call.method}'` },
      };
    else {
      try {
        out = { jsonrpc: '2.0', id: req.id, result: await h(call.params, call) };
      } catch (e) {
        out = { jsonrpc: '2.0', id: req.id, error: { code: 205, message: (e as Error).message } };
      }
    }
    if (!sock.destroyed) sock.write(frame(out));
  }
}
