// Sending release_held_htlc over a reply path, for any host: one message per encoding (the odd
// alias for an LSP on CLN or LND, the even type for one on LDK), each sent on its own so that one
// failing send does not keep the other from going out.
import type { BlindedPath } from '../protocol/blinded-path.js';
import {
  type AsyncMessageTypes,
  DEFAULT_RELEASE_HELD_HTLC_VARIANTS,
  type ReleaseHeldHtlcVariant,
  type ReleaseHeldHtlcVariantMessage,
  buildReleaseHeldHtlcVariants,
} from '../protocol/onion-message.js';

export interface SendReleasesArgs {
  replyPath: BlindedPath;
  /** Clear hops before the reply path's intro node (e.g. our LSP when the intro is not our peer). */
  via?: readonly Uint8Array[];
  /** Default odd then even. */
  variants?: readonly ReleaseHeldHtlcVariant[];
  types?: AsyncMessageTypes;
}

export interface ReleasesSent {
  sent: ReleaseHeldHtlcVariant[];
  failed: { variant: ReleaseHeldHtlcVariant; error: string }[];
}

/** Builds and sends every variant; throws only when none could be sent. */
export async function sendReleases(
  send: (m: ReleaseHeldHtlcVariantMessage) => Promise<void>,
  args: SendReleasesArgs,
): Promise<ReleasesSent> {
  const messages = buildReleaseHeldHtlcVariants({
    replyPath: args.replyPath,
    via: args.via ?? [],
    variants: args.variants ?? DEFAULT_RELEASE_HELD_HTLC_VARIANTS,
    ...(args.types ? { types: args.types } : {}),
  });
  const out: ReleasesSent = { sent: [], failed: [] };
  for (const m of messages) {
    try {
      await send(m);
      out.sent.push(m.variant);
    } catch (e) {
      out.failed.push({ variant: m.variant, error: (e as Error).message });
    }
  }
  if (out.sent.length === 0)
    throw new Error(
      `release_held_htlc not sent: ${out.failed.map((f) => `${f.variant}: ${f.error}`).join('; ')}`,
    );
  return out;
}
