// Incremental splitter for the JSON object streams lightningd speaks on a plugin's stdin and on its RPC
// socket. lightningd ends each message with "\n\n", but a pipe delivers bytes in arbitrary chunks, so
// a message may arrive in any number of pieces, several may arrive in one, and a UTF-8 character may be
// split between two. clightningjs split each chunk on "\n\n" and JSON.parse'd the pieces, so a message
// cut in two threw a SyntaxError and killed the plugin; this scanner tracks JSON nesting instead.
//
// Garbage never throws: a stray byte outside an object drops the rest of its line, an object that
// is not valid JSON is dropped whole, and a blank line ("\n\n") inside an unfinished object abandons
// it (lightningd never writes a blank line inside a message; a raw newline cannot occur in a string).
import { StringDecoder } from 'node:string_decoder';

export interface FrameSink {
  message(value: unknown): void;
  /** Something that was not a JSON object was dropped; `sample` is its first characters. */
  garbage(reason: string, sample: string): void;
}

/** Longest message accepted; past this the object in progress is abandoned (memory bound). */
export const MAX_FRAME_CHARS = 64 * 1024 * 1024;

export class JsonObjectStream {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  /** Index in `buf` where scanning resumes; everything before it is already classified. */
  private pos = 0;
  /** Start of the object in progress, or -1 when between objects. */
  private start = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private skippingLine = false;
  private prevNewline = false;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Uint8Array | string): void {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(Buffer.from(chunk));
    this.scan();
  }

  /** Input ended: whatever is in progress is incomplete. */
  end(): void {
    this.buf += this.decoder.end();
    this.scan();
    if (this.start >= 0) this.sink.garbage('stream ended inside a message', this.sample(this.start));
    this.reset();
  }

  private scan(): void {
    const buf = this.buf;
    let i = this.pos;
    for (; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      const isNewline = c === 0x0a;
      const blankLine = isNewline && this.prevNewline;
      this.prevNewline = isNewline || (this.prevNewline && (c === 0x0d || c === 0x20 || c === 0x09));
      if (this.skippingLine) {
        if (isNewline) this.skippingLine = false;
        continue;
      }
      if (this.start < 0) {
        if (c === 0x7b /* { */) {
          this.start = i;
          this.depth = 1;
          this.inString = false;
          this.escaped = false;
        } else if (!isWhitespace(c)) {
          this.sink.garbage('bytes outside a JSON object', buf.slice(i, i + 40));
          this.skippingLine = true;
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
        else if (isNewline) this.abandon(i, 'raw newline inside a string');
        continue;
      }
      if (blankLine) {
        this.abandon(i, 'blank line inside an unfinished object');
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          const text = buf.slice(this.start, i + 1);
          this.start = -1;
          this.emit(text);
        }
      }
    }
    // Drop what is classified so the buffer holds at most one message in progress.
    const keepFrom = this.start >= 0 ? this.start : i;
    this.buf = buf.slice(keepFrom);
    if (this.start >= 0) this.start = 0;
    this.pos = i - keepFrom;
    if (this.buf.length > MAX_FRAME_CHARS) {
      this.sink.garbage('message too long', this.sample(0));
      this.reset();
      this.skippingLine = false;
    }
  }

  private abandon(_at: number, reason: string): void {
    this.sink.garbage(reason, this.sample(this.start));
    this.start = -1;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  private emit(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.sink.garbage('invalid JSON', text.slice(0, 40));
      return;
    }
    this.sink.message(value);
  }

  private sample(from: number): string {
    return this.buf.slice(Math.max(0, from), Math.max(0, from) + 40);
  }

  private reset(): void {
    this.buf = '';
    this.pos = 0;
    this.start = -1;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.prevNewline = false;
  }
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** How every message we write is framed: compact JSON (bigints as decimal numbers) then a blank line. */
export function frame(value: unknown): string {
  return stringifyJson(value) + '\n\n';
}

/** JSON text with bigint written as an exact JSON number (lightningd reads msat as u64). */
export function stringifyJson(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return '[' + value.map((v) => stringifyJson(v ?? null)).join(',') + ']';
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
        parts.push(JSON.stringify(k) + ':' + stringifyJson(v));
      }
      return '{' + parts.join(',') + '}';
    }
    default:
      return 'null';
  }
}
