// The signed string and the header timestamp: bLIP-55's own example byte for byte, and the form
// LDK's validator rebuilds (chrono to_rfc3339, compact body in jsonrpc/method/params order).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { lsps5Timestamp, notificationBody, signedMessage } from '../../plugin/lsps/lsps5/notification.js';
import { NOTIFICATION } from '../../plugin/lsps/lsps5/messages.js';

// bLIP-55's hex dump of the message for timestamp 2023-05-04T10:52:58.395Z and body
// {"jsonrpc":"2.0","method":"lsps5.goodbye","params":{}}.
const SPEC_HEX = `
4c53 5053 353a 2044 4f20 4e4f 5420 5349 474e 2054 4849 5320 4d45 5353 4147 4520
4d41 4e55 414c 4c59 3a20 4c53 503a 2041 7420 3230 3233 2d30 352d 3034 5431 303a
3532 3a35 382e 3339 355a 2049 206e 6f74 6966 7920 7b22 6a73 6f6e 7270 6322 3a22
322e 3022 2c22 6d65 7468 6f64 223a 226c 7370 7335 2e67 6f6f 6462 7965 222c 2270
6172 616d 7322 3a7b 7d7d`.replace(/\s/g, '');

describe('LSPS5 notification signing input', () => {
  it("reproduces the spec's hex dump", () => {
    const msg = signedMessage(
      '2023-05-04T10:52:58.395Z',
      '{"jsonrpc":"2.0","method":"lsps5.goodbye","params":{}}',
    );
    assert.equal(bytesToHex(utf8ToBytes(msg)), SPEC_HEX);
  });

  it('writes the body compact, keys in the order jsonrpc, method, params', () => {
    assert.equal(
      notificationBody({ method: NOTIFICATION.onionMessageIncoming, params: {} }),
      '{"jsonrpc":"2.0","method":"lsps5.onion_message_incoming","params":{}}',
    );
    assert.equal(
      notificationBody({ method: NOTIFICATION.expirySoon, params: { timeout: 840123 } }),
      '{"jsonrpc":"2.0","method":"lsps5.expiry_soon","params":{"timeout":840123}}',
    );
  });

  it("writes timestamps as chrono's to_rfc3339: +00:00, fraction only when not zero", () => {
    assert.equal(lsps5Timestamp(Date.UTC(2023, 4, 4, 10, 52, 58, 395)), '2023-05-04T10:52:58.395+00:00');
    assert.equal(lsps5Timestamp(Date.UTC(2023, 4, 4, 10, 52, 58, 0)), '2023-05-04T10:52:58+00:00');
    assert.equal(lsps5Timestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 7)), '2026-01-02T03:04:05.007+00:00');
    assert.equal(lsps5Timestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 70)), '2026-01-02T03:04:05.070+00:00');
    // What an RFC 3339 parser reads back is the same instant.
    const ms = Date.UTC(2026, 11, 1, 9, 40, 29, 123);
    assert.equal(Date.parse(lsps5Timestamp(ms)), ms);
    assert.throws(() => lsps5Timestamp(Number.NaN), RangeError);
  });
});
