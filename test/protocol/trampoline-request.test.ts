import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_TRAMPOLINE_REQUEST_TYPE,
  decodeTrampolineRequest,
  encodeTrampolineRequest,
  findTrampolineRequest,
  type TrampolineRequest,
} from '../../plugin/protocol/trampoline-request.js';
import { CodecError } from '../../plugin/protocol/errors.js';
import { encodeTlvStream } from '../../plugin/protocol/tlv.js';
import { RUNS, hex, mutated, onlyCodecErrors, toHex } from './codec-fuzz.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const node = hex('02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619');

describe('trampoline_request', () => {
  it('decodes an invoice request with an amount', () => {
    const v = encodeTlvStream([
      { type: 0n, value: utf8('lnbcrt1pabc') },
      { type: 2n, value: hex('0186a0') },
    ]);
    assert.deepEqual(decodeTrampolineRequest(v), {
      kind: 'invoice',
      invoice: 'lnbcrt1pabc',
      amtToForward: 100000n,
    });
    assert.equal(toHex(v), '000b' + toHex(utf8('lnbcrt1pabc')) + '02030186a0');
  });

  it('decodes a keysend request and finds it under a caller-chosen type', () => {
    const v = encodeTlvStream([{ type: 4n, value: node }]);
    const r = decodeTrampolineRequest(v);
    assert.equal(r.kind, 'keysend');
    assert.equal(r.kind === 'keysend' && toHex(r.outgoingNodeId), toHex(node));
    assert.equal(findTrampolineRequest(new Map([[DEFAULT_TRAMPOLINE_REQUEST_TYPE, v]]))?.kind, 'keysend');
    assert.equal(findTrampolineRequest(new Map([[DEFAULT_TRAMPOLINE_REQUEST_TYPE, v]]), 5n), undefined);
  });

  it('needs exactly one of invoice and outgoing_node_id', () => {
    const both = encodeTlvStream([
      { type: 0n, value: utf8('lno1') },
      { type: 4n, value: node },
    ]);
    assert.throws(() => decodeTrampolineRequest(both), { code: 'invalid', message: /exactly one/ });
    assert.throws(() => decodeTrampolineRequest(hex('020101')), { code: 'invalid', message: /exactly one/ });
  });

  it('rejects a bad node id, bad UTF-8, an empty invoice and unknown even types', () => {
    const cases: [Uint8Array, string][] = [
      [encodeTlvStream([{ type: 4n, value: Uint8Array.of(4, ...node.subarray(1)) }]), 'invalid'],
      [encodeTlvStream([{ type: 4n, value: node.subarray(0, 32) }]), 'invalid'],
      [encodeTlvStream([{ type: 0n, value: hex('c328') }]), 'invalid'],
      [encodeTlvStream([{ type: 0n, value: new Uint8Array() }]), 'invalid'],
      [
        encodeTlvStream([
          { type: 4n, value: node },
          { type: 6n, value: hex('01') },
        ]),
        'unknown_even',
      ],
    ];
    for (const [v, code] of cases) assert.throws(() => decodeTrampolineRequest(v), { code }, toHex(v));
    assert.throws(() => encodeTrampolineRequest({ kind: 'invoice', invoice: '\ud800' }), CodecError);
  });

  it('keeps a leading byte-order mark rather than dropping it', () => {
    const v = encodeTlvStream([{ type: 0n, value: utf8('\ufefflni') }]);
    const r = decodeTrampolineRequest(v);
    assert.equal(r.kind === 'invoice' && r.invoice, '\ufefflni');
  });
});

const point = fc
  .tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 }))
  .map(([p, b]) => Uint8Array.of(p, ...b));
const amt = fc.option(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { nil: undefined });
const reqArb: fc.Arbitrary<TrampolineRequest> = fc.oneof(
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 80, unit: 'binary' }), amt)
    .map(([invoice, a]) =>
      a === undefined
        ? { kind: 'invoice' as const, invoice }
        : { kind: 'invoice' as const, invoice, amtToForward: a },
    ),
  fc
    .tuple(point, amt)
    .map(([outgoingNodeId, a]) =>
      a === undefined
        ? { kind: 'keysend' as const, outgoingNodeId }
        : { kind: 'keysend' as const, outgoingNodeId, amtToForward: a },
    ),
);

describe('trampoline_request properties', () => {
  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(reqArb, (r) => assert.deepEqual(decodeTrampolineRequest(encodeTrampolineRequest(r)), r)),
      RUNS,
    );
  });

  it('random and mutated bytes only ever raise CodecError', () => {
    fc.assert(
      fc.property(mutated(reqArb.map(encodeTrampolineRequest)), (b) =>
        onlyCodecErrors(() => decodeTrampolineRequest(b)),
      ),
      RUNS,
    );
  });
});
