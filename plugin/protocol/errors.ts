// The one error type every codec throws. Callers at the edge (backends, engine intake) catch
// CodecError and turn it into a safe outcome; anything else escaping a codec is a bug.
export type CodecErrorCode =
  | 'truncated' // a length or field reads past the end of the buffer
  | 'non_minimal' // BigSize or truncated integer not minimally encoded
  | 'out_of_range' // a value too large for its field
  | 'tlv_order' // TLV types not strictly increasing
  | 'unknown_even' // an unknown even TLV type (BOLT 1: it's OK to be odd)
  | 'missing_field' // a required TLV field is absent
  | 'invalid' // anything else malformed (bad point, bad length, bad HMAC, ...)
  | 'trailing'; // bytes left over where none may be

export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(
    readonly code: CodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const codecError = (code: CodecErrorCode, message: string): CodecError =>
  new CodecError(code, message);
