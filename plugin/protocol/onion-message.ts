// BOLT 4 onion messages: the `onionmsg_tlv` payload, the `onion_message` wire message (type 513),
// building a message along a blinded path (with hops in front of the intro node), peeling one
// layer, and the async-payment helpers the backends and the recipient agent call.
import { equalBytes } from '@noble/ciphers/utils.js';
import { Reader, concatBytes, u16 } from './bigsize.js';
import { type BlindedPath, decodeBlindedPath, encodeBlindedPath, introNodeId } from './blinded-path.js';
import { type Ec, type Ecdh, activeEc } from './ec.js';
import type { EncryptedData } from './encrypted-data.js';
import { codecError } from './errors.js';
import { generateKey } from './keys.js';
import {
  blindPath,
  blindedEcdh,
  buildBlindedPath,
  randomPrivateKey,
  unblindWithSecret,
} from './route-blinding.js';
import { LARGE_ONION_PAYLOAD_SIZE, PAYMENT_ONION_PAYLOAD_SIZE, buildSphinx, peelSphinx } from './sphinx.js';
import { type TlvRecord, decodeTlvStream, encodeTlvStream } from './tlv.js';

export const ONION_MESSAGE_TYPE = 513;

/** onionmsg_tlv type numbers of the async-payment messages; config values (the draft will renumber). */
export interface AsyncMessageTypes {
  heldHtlcAvailable: bigint;
  heldHtlcAvailableOdd: bigint;
  releaseHeldHtlc: bigint;
  releaseHeldHtlcOdd: bigint;
}

/** LDK's numbers (72/74) and our odd aliases (73/75) that CLN and LND hand to plugins. */
export const DEFAULT_ASYNC_MESSAGE_TYPES: Readonly<AsyncMessageTypes> = Object.freeze({
  heldHtlcAvailable: 72n,
  heldHtlcAvailableOdd: 73n,
  releaseHeldHtlc: 74n,
  releaseHeldHtlcOdd: 75n,
});

export const ONIONMSG_TYPES = {
  replyPath: 2n,
  encryptedRecipientData: 4n,
  invoiceRequest: 64n,
  invoice: 66n,
  invoiceError: 68n,
  /** LDK's static_invoice (async payments), kept opaque. */
  staticInvoice: 70n,
} as const;

export interface OnionMessagePayload {
  replyPath?: BlindedPath;
  encryptedRecipientData?: Uint8Array;
  invoiceRequest?: Uint8Array;
  invoice?: Uint8Array;
  invoiceError?: Uint8Array;
  staticInvoice?: Uint8Array;
  /**
   * Contents of held_htlc_available under its even / odd number, as received (0x00 from us and LDK,
   * empty from some senders); the record's presence is the message.
   */
  heldHtlcAvailable?: Uint8Array;
  heldHtlcAvailableOdd?: Uint8Array;
  releaseHeldHtlc?: Uint8Array;
  releaseHeldHtlcOdd?: Uint8Array;
  /** Unknown odd records (e.g. other applications' messages), kept as they came. */
  unknown?: TlvRecord[];
}

type PayloadKey = Exclude<keyof OnionMessagePayload, 'replyPath' | 'unknown'>;

interface PayloadLayout {
  fields: [PayloadKey, bigint][];
  byType: Map<bigint, PayloadKey>;
  known: Set<bigint>;
}

// Every payload encoded or decoded needs the checked type table; build it once per numbering
// (keyed by the numbers themselves, so a caller mutating its types object cannot get a stale one).
const layouts = new Map<string, PayloadLayout>();

function layoutFor(t: AsyncMessageTypes): PayloadLayout {
  const nums = [t.heldHtlcAvailable, t.heldHtlcAvailableOdd, t.releaseHeldHtlc, t.releaseHeldHtlcOdd];
  const id = nums.map((n) => `${typeof n}:${String(n)}`).join(',');
  let l = layouts.get(id);
  if (!l) {
    const fixed = Object.values(ONIONMSG_TYPES) as bigint[];
    if (new Set(nums).size !== 4 || nums.some((n) => n < 64n || fixed.includes(n)))
      throw codecError('invalid', 'async message types: must be distinct, >= 64 and not BOLT-assigned');
    const fields = byteFields(t);
    const byType = new Map(fields.map(([k, n]) => [n, k]));
    l = { fields, byType, known: new Set([ONIONMSG_TYPES.replyPath, ...byType.keys()]) };
    layouts.set(id, l);
  }
  return l;
}

function byteFields(types: AsyncMessageTypes): [PayloadKey, bigint][] {
  const T = ONIONMSG_TYPES;
  return [
    ['encryptedRecipientData', T.encryptedRecipientData],
    ['invoiceRequest', T.invoiceRequest],
    ['invoice', T.invoice],
    ['invoiceError', T.invoiceError],
    ['staticInvoice', T.staticInvoice],
    ['heldHtlcAvailable', types.heldHtlcAvailable],
    ['heldHtlcAvailableOdd', types.heldHtlcAvailableOdd],
    ['releaseHeldHtlc', types.releaseHeldHtlc],
    ['releaseHeldHtlcOdd', types.releaseHeldHtlcOdd],
  ];
}

export function encodeOnionMessagePayload(
  p: OnionMessagePayload,
  types: AsyncMessageTypes = DEFAULT_ASYNC_MESSAGE_TYPES,
): Uint8Array {
  const { fields, known } = layoutFor(types);
  const recs: TlvRecord[] = [];
  if (p.replyPath) recs.push({ type: ONIONMSG_TYPES.replyPath, value: encodeBlindedPath(p.replyPath) });
  for (const [key, type] of fields) {
    const v = p[key];
    if (v) recs.push({ type, value: v });
  }
  for (const u of p.unknown ?? []) {
    if (known.has(u.type) || u.type % 2n === 0n)
      throw codecError('invalid', `onionmsg_tlv: unknown record type ${u.type} must be odd and unknown`);
    recs.push(u);
  }
  return encodeTlvStream(recs);
}

export function decodeOnionMessagePayload(
  buf: Uint8Array,
  types: AsyncMessageTypes = DEFAULT_ASYNC_MESSAGE_TYPES,
): OnionMessagePayload {
  const { byType, known } = layoutFor(types);
  const out: OnionMessagePayload = {};
  for (const { type, value } of decodeTlvStream(buf, known, 'onionmsg_tlv')) {
    const v = Uint8Array.from(value);
    if (type === ONIONMSG_TYPES.replyPath) out.replyPath = decodeBlindedPath(v);
    else {
      const key = byType.get(type);
      if (key) out[key] = v;
      else (out.unknown ??= []).push({ type, value: v });
    }
  }
  return out;
}

// --- the onion_message wire message --------------------------------------------------------

export interface OnionMessage {
  pathKey: Uint8Array;
  packet: Uint8Array;
}

/** `onion_message` bytes; with the 2-byte type 513 unless `withType` is false (LND custom messages). */
export function encodeOnionMessage(m: OnionMessage, withType = true): Uint8Array {
  if (m.packet.length > 0xffff) throw codecError('out_of_range', 'onion_message: packet too long');
  const body = concatBytes(m.pathKey, u16(m.packet.length), m.packet);
  return withType ? concatBytes(u16(ONION_MESSAGE_TYPE), body) : body;
}

export function decodeOnionMessage(buf: Uint8Array, withType = true): OnionMessage {
  const r = new Reader(buf);
  if (withType) {
    const t = r.u16('message type');
    if (t !== ONION_MESSAGE_TYPE) throw codecError('invalid', `onion_message: type ${t}, expected 513`);
  }
  const pathKey = Uint8Array.from(r.bytes(33, 'path_key'));
  const len = r.u16('onion_message_packet length');
  const packet = Uint8Array.from(r.bytes(len, 'onion_message_packet'));
  if (r.remaining !== 0) throw codecError('trailing', `onion_message: ${r.remaining} trailing bytes`);
  return { pathKey, packet };
}

// --- building ------------------------------------------------------------------------------

export interface BuildOnionMessageOptions {
  /** Where the message goes: a blinded path (e.g. a reply path or a recipient's message path). */
  destination: BlindedPath;
  /** Node ids to pass through before the destination's intro node; via[0] receives the message. */
  via?: readonly Uint8Array[];
  /** The final payload (encrypted_recipient_data is filled in here). */
  payload: Omit<OnionMessagePayload, 'encryptedRecipientData'>;
  types?: AsyncMessageTypes;
  /** Sphinx session key (random when absent). */
  sessionKey?: Uint8Array;
  /** Secret of the blinded prefix over `via` (random when absent). */
  prefixSessionKey?: Uint8Array;
  /** The intro node's id when the destination names it by scid (the caller looked the channel up). */
  introNodeId?: Uint8Array;
  ec?: Ec;
}

export interface OutgoingOnionMessage {
  /** The peer to hand the message to. */
  firstNodeId: Uint8Array;
  pathKey: Uint8Array;
  packet: Uint8Array;
  /** The whole `onion_message` including its type 513. */
  wireMessage: Uint8Array;
}

/** Every hop of an onion message is blinded; hops in front of the intro node get a prefix path. */
export function buildOnionMessage(opts: BuildOnionMessageOptions): OutgoingOnionMessage {
  const ec = opts.ec ?? activeEc();
  const types = opts.types ?? DEFAULT_ASYNC_MESSAGE_TYPES;
  const dest = opts.destination;
  const intro = introNodeId(dest) ?? opts.introNodeId;
  const via = opts.via ?? [];
  let path: BlindedPath = dest;
  if (via.length > 0) {
    if (!intro) throw codecError('invalid', 'onion message: intro node given by scid; pass introNodeId');
    // The prefix's last hop hands on the destination's own first path key.
    const next = [...via.slice(1), intro];
    const prefix = blindPath(
      opts.prefixSessionKey ?? randomPrivateKey(ec),
      via.map((nodeId, i) => ({
        nodeId,
        data:
          i === via.length - 1
            ? { nextNodeId: next[i]!, nextPathKeyOverride: dest.firstPathKey }
            : { nextNodeId: next[i]! },
      })),
      ec,
    );
    path = {
      firstNode: prefix.firstNode,
      firstPathKey: prefix.firstPathKey,
      hops: [...prefix.hops, ...dest.hops],
    };
  }
  const firstNodeId = via[0] ?? intro;
  if (!firstNodeId) throw codecError('invalid', 'onion message: intro node given by scid; pass introNodeId');

  const last = path.hops.length - 1;
  const hops = path.hops.map((h, i) => ({
    pubkey: h.blindedNodeId,
    payload: encodeOnionMessagePayload(
      i === last
        ? { ...opts.payload, encryptedRecipientData: h.encryptedRecipientData }
        : { encryptedRecipientData: h.encryptedRecipientData },
      types,
    ),
  }));
  const need = hops.reduce((n, h) => n + h.payload.length + 3 + 32, 0);
  const payloadSize =
    need <= PAYMENT_ONION_PAYLOAD_SIZE ? PAYMENT_ONION_PAYLOAD_SIZE : LARGE_ONION_PAYLOAD_SIZE;
  const { packet } = buildSphinx({
    sessionKey: opts.sessionKey ?? randomPrivateKey(ec),
    hops,
    payloadSize,
    ec,
  });
  const msg = { pathKey: path.firstPathKey, packet };
  return { firstNodeId: Uint8Array.from(firstNodeId), ...msg, wireMessage: encodeOnionMessage(msg) };
}

// --- peeling -------------------------------------------------------------------------------

export interface ForwardOnionMessage {
  kind: 'forward';
  nextNodeId?: Uint8Array;
  shortChannelId?: bigint;
  nextPathKey: Uint8Array;
  packet: Uint8Array;
  wireMessage: Uint8Array;
}

export interface ReceivedOnionMessage {
  kind: 'receive';
  /** encrypted_data_tlv path_id of the final hop (absent if the path's creator set none). */
  pathId?: Uint8Array;
  payload: OnionMessagePayload;
  replyPath?: BlindedPath;
  encryptedData: EncryptedData;
  /** The message carries held_htlc_available (even or odd number). */
  heldHtlcAvailable: boolean;
  /** The message carries release_held_htlc (even or odd number). */
  releaseHeldHtlc: boolean;
}

export type PeeledOnionMessage = ForwardOnionMessage | ReceivedOnionMessage;

export interface PeelOptions {
  types?: AsyncMessageTypes;
  ec?: Ec;
}

/** Peel exactly one layer with the node-key ECDH oracle. Throws CodecError on any bad input. */
export async function peelOnionMessageLayer(
  msg: OnionMessage,
  ecdh: Ecdh,
  opts: PeelOptions = {},
): Promise<PeeledOnionMessage> {
  const ec = opts.ec ?? activeEc();
  const types = opts.types ?? DEFAULT_ASYNC_MESSAGE_TYPES;
  if (!ec.isPoint(msg.pathKey)) throw codecError('invalid', 'onion_message: invalid path_key');
  const ss = await ecdh(msg.pathKey);
  // The layer is encrypted to our blinded key k·HMAC("blinded_node_id", ss).
  const tweak = generateKey('blinded_node_id', ss);
  const layer = await peelSphinx(msg.packet, blindedEcdh(ecdh, tweak, ec), { ec });
  const payload = decodeOnionMessagePayload(layer.payload, types);
  if (!payload.encryptedRecipientData)
    throw codecError('missing_field', 'onionmsg_tlv: no encrypted_recipient_data');
  // path_key was checked above and ss is in hand: unblind without a second check or oracle call.
  const hop = unblindWithSecret(msg.pathKey, ss, payload.encryptedRecipientData, ec);
  if (layer.next) {
    const extra = Object.keys(payload).filter((k) => k !== 'encryptedRecipientData');
    if (extra.length > 0)
      throw codecError('invalid', `onion message: forward hop carries ${extra.join(', ')}`);
    const { nextNodeId, shortChannelId } = hop.data;
    if (!nextNodeId && shortChannelId === undefined)
      throw codecError(
        'missing_field',
        'onion message: forward hop without next_node_id or short_channel_id',
      );
    if (nextNodeId && !ec.isPoint(nextNodeId)) throw codecError('invalid', 'next_node_id: not a valid point');
    const next = { pathKey: hop.nextPathKey, packet: layer.next };
    const out: ForwardOnionMessage = {
      kind: 'forward',
      nextPathKey: hop.nextPathKey,
      packet: layer.next,
      wireMessage: encodeOnionMessage(next),
    };
    if (nextNodeId) out.nextNodeId = nextNodeId;
    else out.shortChannelId = shortChannelId!;
    return out;
  }
  const out: ReceivedOnionMessage = {
    kind: 'receive',
    payload,
    encryptedData: hop.data,
    heldHtlcAvailable: payload.heldHtlcAvailable !== undefined || payload.heldHtlcAvailableOdd !== undefined,
    releaseHeldHtlc: payload.releaseHeldHtlc !== undefined || payload.releaseHeldHtlcOdd !== undefined,
  };
  if (hop.data.pathId) out.pathId = hop.data.pathId;
  if (payload.replyPath) out.replyPath = payload.replyPath;
  return out;
}

/** How many self-addressed layers (dummy hops) peelOnionMessage unwraps before giving up. */
const MAX_SELF_HOPS = 16;

/**
 * Peel an onion message addressed to us. Accepts the wire message (with type 513) or its parts.
 * With `ourNodeId`, layers forwarded to ourselves (dummy hops, or a path through us) are peeled
 * too, so the result is a `receive` or a `forward` to another node.
 */
export async function peelOnionMessage(
  input: Uint8Array | OnionMessage,
  ecdh: Ecdh,
  opts: PeelOptions & { ourNodeId?: Uint8Array } = {},
): Promise<PeeledOnionMessage> {
  let msg = input instanceof Uint8Array ? decodeOnionMessage(input) : input;
  for (let i = 0; ; i++) {
    const r = await peelOnionMessageLayer(msg, ecdh, opts);
    const self =
      r.kind === 'forward' && opts.ourNodeId && r.nextNodeId && equalBytes(r.nextNodeId, opts.ourNodeId);
    if (!self) return r;
    if (i >= MAX_SELF_HOPS) throw codecError('invalid', 'onion message: too many hops through ourselves');
    msg = { pathKey: r.nextPathKey, packet: r.packet };
  }
}

// --- async-payment helpers -----------------------------------------------------------------

export const PATH_ID_LENGTH = 32;

/**
 * The record value we write for held_htlc_available and release_held_htlc, under every number: their
 * (empty) TLV stream length-prefixed, i.e. one 0x00 byte. LDK writes them this way and refuses a
 * zero-length value ("Unable to decode our hop data"). On input only the record's presence counts, so
 * the zero-length form other senders use is accepted too.
 */
export const asyncMessageContents = (): Uint8Array => Uint8Array.of(0);

export interface ReleasePathOptions {
  sessionKey?: Uint8Array;
  /** Dummy hops after us (only where the host is known to accept them; see PROTOCOL.md). */
  dummyHops?: number;
  ec?: Ec;
}

function pathFor(ourNodeId: Uint8Array, pathId: Uint8Array, opts: ReleasePathOptions): BlindedPath {
  if (pathId.length !== PATH_ID_LENGTH)
    throw codecError('invalid', `path_id: ${pathId.length} bytes, need 32`);
  const ec = opts.ec ?? activeEc();
  if (!ec.isPoint(ourNodeId)) throw codecError('invalid', 'our node id: not a valid point');
  const o: Parameters<typeof buildBlindedPath>[2] = { ec };
  if (opts.sessionKey) o.sessionKey = opts.sessionKey;
  if (opts.dummyHops) o.dummyHops = opts.dummyHops;
  return buildBlindedPath([ourNodeId], { pathId }, o);
}

/** A blinded message path ending at us (intro node = us) carrying `pathId`: the encoded blinded_path. */
export function buildReleasePath(
  ourNodeId: Uint8Array,
  pathId: Uint8Array,
  opts: ReleasePathOptions = {},
): Uint8Array {
  return encodeBlindedPath(pathFor(ourNodeId, pathId, opts));
}

export interface HeldHtlcAvailableArgs {
  /** One of the recipient's message paths (encoded blinded_path, or decoded). */
  messagePath: Uint8Array | BlindedPath;
  /** 32-byte path_id of the fresh reply path that ends at our node. */
  replyPathId: Uint8Array;
  ourNodeId: Uint8Array;
  types?: AsyncMessageTypes;
  /**
   * Make our node the packet's first hop (CLN `injectonionmessage` needs this). Skipped when the
   * message path's intro node is us already.
   */
  prependOurNode?: boolean;
  /** Further clear hops before the intro node (after ourselves when prepending). */
  via?: readonly Uint8Array[];
  /** The intro node's id when the path names it by scid. */
  introNodeId?: Uint8Array;
  sessionKey?: Uint8Array;
  prefixSessionKey?: Uint8Array;
  replyPathSessionKey?: Uint8Array;
  /** Which number the message carries: the odd alias (default; CLN and LND hosts) or the even type (LDK). */
  variant?: HeldHtlcVariant;
  ec?: Ec;
}

export interface BuiltAsyncMessage extends OutgoingOnionMessage {
  /** The reply path we embedded (held_htlc_available only). */
  replyPath?: BlindedPath;
}

const asPath = (p: Uint8Array | BlindedPath): BlindedPath =>
  p instanceof Uint8Array ? decodeBlindedPath(p) : p;

function viaList(
  dest: BlindedPath,
  ourNodeId: Uint8Array | undefined,
  prepend: boolean | undefined,
  via: readonly Uint8Array[] = [],
  intro?: Uint8Array,
): Uint8Array[] {
  const list = [...via];
  if (prepend && ourNodeId) {
    const introId = introNodeId(dest) ?? intro;
    const introIsUs =
      list.length === 0 && introId !== undefined && introId !== null && equalBytes(introId, ourNodeId);
    if (!introIsUs) list.unshift(ourNodeId);
  }
  return list;
}

function build(
  dest: BlindedPath,
  payload: OnionMessagePayload,
  args: {
    ourNodeId?: Uint8Array;
    prependOurNode?: boolean;
    via?: readonly Uint8Array[];
    introNodeId?: Uint8Array;
    types?: AsyncMessageTypes;
    sessionKey?: Uint8Array;
    prefixSessionKey?: Uint8Array;
    ec?: Ec;
  },
): OutgoingOnionMessage {
  const o: BuildOnionMessageOptions = {
    destination: dest,
    via: viaList(dest, args.ourNodeId, args.prependOurNode, args.via, args.introNodeId),
    payload,
  };
  if (args.types) o.types = args.types;
  if (args.sessionKey) o.sessionKey = args.sessionKey;
  if (args.prefixSessionKey) o.prefixSessionKey = args.prefixSessionKey;
  if (args.introNodeId) o.introNodeId = args.introNodeId;
  if (args.ec) o.ec = args.ec;
  return buildOnionMessage(o);
}

function replyPathFor(args: HeldHtlcAvailableArgs): BlindedPath {
  const ro: ReleasePathOptions = {};
  if (args.replyPathSessionKey) ro.sessionKey = args.replyPathSessionKey;
  if (args.ec) ro.ec = args.ec;
  return pathFor(args.ourNodeId, args.replyPathId, ro);
}

/**
 * How an async-payment message is numbered: only the odd alias, or only the even type. Never both
 * in one message: CLN and LND drop an onion message with an unknown even TLV before any plugin sees
 * it, and LND 0.21 also drops one with more than one final-hop record >= 64.
 */
export type HeldHtlcVariant = 'odd' | 'even';
/** release_held_htlc comes in the same two encodings. */
export type ReleaseHeldHtlcVariant = HeldHtlcVariant;

export const DEFAULT_HELD_HTLC_VARIANTS: readonly HeldHtlcVariant[] = Object.freeze(['odd', 'even']);
export const DEFAULT_RELEASE_HELD_HTLC_VARIANTS: readonly ReleaseHeldHtlcVariant[] = Object.freeze([
  'odd',
  'even',
]);

// Variants often come from config or JSON, so a bad one is a typed error, not a silent default.
function checkVariant(v: unknown, what: string): asserts v is HeldHtlcVariant {
  if (v !== 'odd' && v !== 'even')
    throw codecError('invalid', `${what} variant ${String(v)}: expected odd or even`);
}

function checkVariants(
  variants: readonly unknown[],
  sessionKeys: readonly Uint8Array[] | undefined,
  what: string,
): void {
  for (const v of variants) checkVariant(v, what);
  if (sessionKeys && sessionKeys.length !== variants.length)
    throw codecError('invalid', `${what} variants: need one session key per variant`);
}

function heldHtlcMessage(
  dest: BlindedPath,
  replyPath: BlindedPath,
  variant: HeldHtlcVariant,
  args: Omit<HeldHtlcAvailableArgs, 'messagePath' | 'replyPathId' | 'variant'>,
): BuiltAsyncMessage {
  const c = asyncMessageContents();
  const payload: OnionMessagePayload =
    variant === 'odd' ? { replyPath, heldHtlcAvailableOdd: c } : { replyPath, heldHtlcAvailable: c };
  const out = build(dest, payload, { ...args, types: args.types ?? DEFAULT_ASYNC_MESSAGE_TYPES });
  return { ...out, replyPath };
}

/**
 * held_htlc_available, under exactly one number (`variant`, default odd), to the recipient over one
 * of its message paths, with a fresh reply path to us carrying `replyPathId`.
 */
export function buildHeldHtlcAvailable(args: HeldHtlcAvailableArgs): BuiltAsyncMessage {
  const variant = args.variant ?? 'odd';
  checkVariant(variant, 'held_htlc_available');
  return heldHtlcMessage(asPath(args.messagePath), replyPathFor(args), variant, args);
}

export interface HeldHtlcVariantsArgs extends Omit<HeldHtlcAvailableArgs, 'sessionKey' | 'variant'> {
  /** One message per entry, in this order; default odd then even. */
  variants?: readonly HeldHtlcVariant[];
  /** Sphinx session keys, one per variant (random when absent; tests inject them). */
  sessionKeys?: readonly Uint8Array[];
}

export interface HeldHtlcVariantMessage extends BuiltAsyncMessage {
  variant: HeldHtlcVariant;
  /** The reply path, shared by every variant: a release over any of them names the same path_id. */
  replyPath: BlindedPath;
}

/**
 * held_htlc_available once per encoding variant, each its own onion message: a recipient behind
 * CLN or LND gets only the odd alias, and LDK, which knows only the even type, only the even one.
 * All variants carry the same fresh reply path (path_id `replyPathId`), built once.
 */
export function buildHeldHtlcAvailableVariants(args: HeldHtlcVariantsArgs): HeldHtlcVariantMessage[] {
  const variants = args.variants ?? DEFAULT_HELD_HTLC_VARIANTS;
  checkVariants(variants, args.sessionKeys, 'held_htlc_available');
  const dest = asPath(args.messagePath);
  const replyPath = replyPathFor(args);
  return variants.map((variant, i) => {
    const sessionKey = args.sessionKeys?.[i];
    const out = heldHtlcMessage(dest, replyPath, variant, sessionKey ? { ...args, sessionKey } : args);
    return { ...out, variant, replyPath };
  });
}

export interface ReleaseHeldHtlcArgs {
  /** The reply path from held_htlc_available (encoded or decoded). */
  replyPath: Uint8Array | BlindedPath;
  types?: AsyncMessageTypes;
  /** Our own node id, needed only with prependOurNode. */
  ourNodeId?: Uint8Array;
  prependOurNode?: boolean;
  via?: readonly Uint8Array[];
  introNodeId?: Uint8Array;
  sessionKey?: Uint8Array;
  prefixSessionKey?: Uint8Array;
  /** Which number the message carries: the odd alias (default; CLN and LND hosts) or the even type (LDK). */
  variant?: ReleaseHeldHtlcVariant;
  ec?: Ec;
}

function releaseMessage(
  dest: BlindedPath,
  variant: ReleaseHeldHtlcVariant,
  args: Omit<ReleaseHeldHtlcArgs, 'replyPath' | 'variant'>,
): OutgoingOnionMessage {
  const c = asyncMessageContents();
  const payload: OnionMessagePayload = variant === 'odd' ? { releaseHeldHtlcOdd: c } : { releaseHeldHtlc: c };
  return build(dest, payload, args);
}

/**
 * release_held_htlc, under exactly one number (`variant`, default odd), back over the reply path
 * (the recipient agent's answer).
 */
export function buildReleaseHeldHtlc(args: ReleaseHeldHtlcArgs): OutgoingOnionMessage {
  const variant = args.variant ?? 'odd';
  checkVariant(variant, 'release_held_htlc');
  return releaseMessage(asPath(args.replyPath), variant, args);
}

export interface ReleaseHeldHtlcVariantsArgs extends Omit<ReleaseHeldHtlcArgs, 'sessionKey' | 'variant'> {
  /** One message per entry, in this order; default odd then even. */
  variants?: readonly ReleaseHeldHtlcVariant[];
  /** Sphinx session keys, one per variant (random when absent; tests inject them). */
  sessionKeys?: readonly Uint8Array[];
}

export interface ReleaseHeldHtlcVariantMessage extends OutgoingOnionMessage {
  variant: ReleaseHeldHtlcVariant;
}

/**
 * release_held_htlc once per encoding variant, each its own onion message over the same reply path:
 * the odd alias for an LSP on CLN or LND, the even type for one on LDK.
 */
export function buildReleaseHeldHtlcVariants(
  args: ReleaseHeldHtlcVariantsArgs,
): ReleaseHeldHtlcVariantMessage[] {
  const variants = args.variants ?? DEFAULT_RELEASE_HELD_HTLC_VARIANTS;
  checkVariants(variants, args.sessionKeys, 'release_held_htlc');
  const dest = asPath(args.replyPath);
  return variants.map((variant, i) => {
    const sessionKey = args.sessionKeys?.[i];
    return { ...releaseMessage(dest, variant, sessionKey ? { ...args, sessionKey } : args), variant };
  });
}
