// BOLT 4 onion messages: the `onionmsg_tlv` payload, the `onion_message` wire message (type 513),
// building a message along a blinded path (with hops in front of the intro node), peeling one
// layer, and the async-payment helpers the backends and the recipient agent call. The payload codec
// and peeling live in their own modules; this one re-exports them, so callers import from here.
import { equalBytes } from '@noble/ciphers/utils.js';
import { type BlindedPath, decodeBlindedPath, encodeBlindedPath, introNodeId } from './blinded-path.js';
import { type Ec, activeEc } from './ec.js';
import { codecError } from './errors.js';
import {
  DEFAULT_ASYNC_MESSAGE_TYPES,
  type AsyncMessageTypes,
  type OnionMessagePayload,
  encodeOnionMessage,
  encodeOnionMessagePayload,
} from './onion-message-payload.js';
import { blindPath, buildBlindedPath, randomPrivateKey } from './route-blinding.js';
import { LARGE_ONION_PAYLOAD_SIZE, PAYMENT_ONION_PAYLOAD_SIZE, buildSphinx } from './sphinx.js';

export * from './onion-message-payload.js';
export * from './onion-message-peel.js';

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
