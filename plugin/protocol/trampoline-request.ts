// Our `trampoline_request` hop-payload record: L pays onward itself, to an invoice or (keysend) to
// a node id. The keysend preimage record lives in the final payload, not here.
import { decodeTu, encodeTu } from './bigsize.js';
import { codecError } from './errors.js';
import { checkCompressedPoint } from './point-prefix.js';
import { decodeTlvStream, encodeTlvStream, tlvMap, type TlvRecord } from './tlv.js';

export const DEFAULT_TRAMPOLINE_REQUEST_TYPE = 4280153n;

export const TRAMPOLINE_REQUEST_SUBTYPES = {
  invoice: 0n,
  amtToForward: 2n,
  outgoingNodeId: 4n,
} as const;

const KNOWN = new Set<bigint>(Object.values(TRAMPOLINE_REQUEST_SUBTYPES));

/** Exactly one target: an invoice string (BOLT 11 or 12) or a node id for keysend. */
export type TrampolineRequest =
  | { kind: 'invoice'; invoice: string; amtToForward?: bigint }
  | { kind: 'keysend'; outgoingNodeId: Uint8Array; amtToForward?: bigint };

// fatal: malformed UTF-8 is an error, not silently U+FFFD-replaced; ignoreBOM: keep every byte.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeTrampolineRequest(value: Uint8Array): TrampolineRequest {
  const m = tlvMap(decodeTlvStream(value, KNOWN, 'trampoline_request'));
  const T = TRAMPOLINE_REQUEST_SUBTYPES;
  const inv = m.get(T.invoice);
  const node = m.get(T.outgoingNodeId);
  const amt = m.get(T.amtToForward);
  const amtToForward = amt === undefined ? undefined : decodeTu(amt, 8, 'trampoline_request amt_to_forward');
  const withAmt = <R extends TrampolineRequest>(r: R): R =>
    amtToForward === undefined ? r : { ...r, amtToForward };
  if ((inv === undefined) === (node === undefined))
    throw codecError(
      'invalid',
      'trampoline_request: needs exactly one of invoice (0) and outgoing_node_id (4)',
    );
  if (inv !== undefined) return withAmt({ kind: 'invoice', invoice: decodeInvoice(inv) });
  return withAmt({
    kind: 'keysend',
    outgoingNodeId: checkCompressedPoint(node!, 'trampoline_request outgoing_node_id').slice(),
  });
}

export function encodeTrampolineRequest(req: TrampolineRequest): Uint8Array {
  const T = TRAMPOLINE_REQUEST_SUBTYPES;
  const recs: TlvRecord[] = [];
  if (req.kind === 'invoice') {
    if (req.invoice.length === 0) throw codecError('invalid', 'trampoline_request invoice: empty');
    const value = new TextEncoder().encode(req.invoice);
    // Lone surrogates would be sent as U+FFFD: a different invoice than the caller gave.
    if (utf8Decoder.decode(value) !== req.invoice)
      throw codecError('invalid', 'trampoline_request invoice: not well-formed Unicode');
    recs.push({ type: T.invoice, value });
  } else {
    recs.push({
      type: T.outgoingNodeId,
      value: checkCompressedPoint(req.outgoingNodeId, 'trampoline_request outgoing_node_id'),
    });
  }
  if (req.amtToForward !== undefined)
    recs.push({ type: T.amtToForward, value: encodeTu(req.amtToForward, 8) });
  return encodeTlvStream(recs);
}

/** The trampoline_request in a hop payload's custom records, if any. */
export function findTrampolineRequest(
  customRecords: ReadonlyMap<bigint, Uint8Array>,
  type: bigint = DEFAULT_TRAMPOLINE_REQUEST_TYPE,
): TrampolineRequest | undefined {
  const v = customRecords.get(type);
  return v === undefined ? undefined : decodeTrampolineRequest(v);
}

function decodeInvoice(b: Uint8Array): string {
  if (b.length === 0) throw codecError('invalid', 'trampoline_request invoice: empty');
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw codecError('invalid', 'trampoline_request invoice: not valid UTF-8');
  }
}
