// Protobuf wire primitives: a bounds-checked reader that does not allocate for numbers, and the
// size/write helpers of the two-pass writer. Hand-written because OTLP decode and encode are the
// gateway's hot path: one DataView per input, no tuples for 64-bit varints (the reader leaves the
// low and high words in fields), strings decoded through a small intern cache so the thousands of
// repeated attribute keys and span names in a batch become one string each.
import { isUtf8 } from 'node:buffer';
import { InputError } from '../model/errors.js';

/** Wire types (protobuf encoding spec). */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LEN: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

/** Nesting limit for AnyValue arrays/kvlists and skipped groups: deep enough for any real payload,
 * shallow enough that hostile input cannot exhaust the stack. */
export const MAX_DEPTH = 100;

export type ProtobufDecodeErrorKind =
  | 'truncated' // ran past the end of the input or of the enclosing message
  | 'varint' // a varint longer than 10 bytes
  | 'field-zero' // field number 0 is never valid
  | 'wire-type' // wire type 6 or 7, or an end-group with no matching start
  | 'depth' // nesting beyond MAX_DEPTH
  | 'utf8' // a string field that is not valid UTF-8
  | 'length' // a length that cannot be right (e.g. an id of the wrong size where one is required)
  | 'limit'; // over a decode limit (DecodeLimitError, see limits.ts)

/** Malformed protobuf input. `offset` is the byte position where decoding gave up. */
export class ProtobufDecodeError extends InputError {
  override name = 'ProtobufDecodeError';
  constructor(
    public readonly kind: ProtobufDecodeErrorKind,
    public readonly offset: number,
    detail: string,
    source?: string,
  ) {
    super(`invalid protobuf (${kind}) at byte ${offset}: ${detail}`, source);
  }
}

// Buffer.toString/write dispatch on the encoding name before calling these native methods; the hot
// path calls them directly. They exist in every Node release slimtrace supports; the check below
// falls back to the public API should that ever change.
interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length: number): number;
}
const proto = Buffer.prototype as FastBuffer;
if (typeof proto.utf8Slice !== 'function' || typeof proto.latin1Slice !== 'function' || typeof proto.utf8Write !== 'function') {
  proto.utf8Slice = function (this: Buffer, s: number, e: number) {
    return this.toString('utf8', s, e);
  };
  proto.latin1Slice = function (this: Buffer, s: number, e: number) {
    return this.toString('latin1', s, e);
  };
  proto.utf8Write = function (this: Buffer, str: string, o: number, l: number) {
    return this.write(str, o, l, 'utf8');
  };
}

const STRING_CACHE_SIZE = 4096; // power of two
const STRING_CACHE_MAX_LEN = 64;

// The intern cache of short strings, shared by every reader so that a reader allocates nothing for
// it (a per-reader cache of two 4,096-slot arrays and a Buffer view per cached string cost ~130
// bytes of garbage a span on requests of 512 spans). A slot remembers where in its reader's input
// the string's bytes are (start, length) and the reader's generation: a reader only trusts slots
// stamped with its own generation, so a slot left by another reader (another input) is a miss,
// never a wrong string, and readers may interleave. Strings from one input are compared in place.
const cacheGeneration = new Int32Array(STRING_CACHE_SIZE);
const cacheStart = new Int32Array(STRING_CACHE_SIZE);
const cacheLength = new Int32Array(STRING_CACHE_SIZE);
const cacheString: string[] = new Array<string>(STRING_CACHE_SIZE).fill('');
let lastGeneration = 0;

function nextGeneration(): number {
  if (lastGeneration === 0x7fffffff) {
    // After 2^31 readers: no slot may carry a generation that is handed out again.
    cacheGeneration.fill(0);
    lastGeneration = 0;
  }
  return ++lastGeneration;
}

/** Reader over one input buffer. `pos` advances; every read checks against `end` of the message. */
export class ProtobufReader {
  readonly buf: FastBuffer;
  readonly view: DataView;
  pos = 0;
  /** Set by readVarint64: the low and high 32 bits of the last 64-bit varint (unsigned). */
  lo = 0;
  hi = 0;
  /** Decode budget (protobuf.ts checks and charges it; see limits.ts). */
  spansLeft = Infinity;
  memoryLeft = Infinity;
  /** This reader's tag in the shared intern cache (its slots are the ones stamped with it). */
  private readonly generation = nextGeneration();

  private readonly arrayBuffer: ArrayBufferLike;
  private readonly byteOffset: number;

  constructor(
    bytes: Uint8Array,
    /** Copy bytes fields out of the input instead of viewing it (for inputs that get reused). */
    readonly copyBytes = false,
  ) {
    this.arrayBuffer = bytes.buffer;
    this.byteOffset = bytes.byteOffset;
    this.buf = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as FastBuffer;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(kind: ProtobufDecodeErrorKind, detail: string, at = this.pos): never {
    throw new ProtobufDecodeError(kind, at, detail);
  }

  /** A varint as uint32 (higher bits are read and discarded, as protobuf does for 32-bit fields). */
  readVarint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < end) {
      const b0 = buf[pos]!;
      if (b0 < 0x80) {
        this.pos = pos + 1;
        return b0;
      }
    }
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) this.fail('truncated', 'varint runs past the end', pos);
      const b = buf[pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) {
        this.pos = pos;
        return result >>> 0;
      }
    }
    return this.fail('varint', 'varint longer than 10 bytes', pos);
  }

  /** A varint as uint64 into `lo`/`hi`. */
  readVarint64(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) this.fail('truncated', 'varint runs past the end', pos);
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('varint', 'varint longer than 10 bytes', pos);
  }

  /** A varint as a signed int64 bigint (AnyValue.int_value). */
  readInt64(end: number): bigint {
    this.readVarint64(end);
    if (this.hi === 0 && this.lo < 0x80000000) return BigInt(this.lo);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** A varint as a signed int64 bigint (PartialSuccess.rejected_spans). */
  readUint64AsInt64(end: number): bigint {
    return this.readInt64(end);
  }

  /** int32 enum: the low 32 bits read as signed, so -1 survives a round trip. */
  readInt32(end: number): number {
    return this.readVarint32(end) | 0;
  }

  readBool(end: number): boolean {
    this.readVarint64(end);
    return (this.lo | this.hi) !== 0;
  }

  readFixed64(end: number): bigint {
    const pos = this.pos;
    if (pos + 8 > end) this.fail('truncated', 'fixed64 runs past the end');
    this.pos = pos + 8;
    return this.view.getBigUint64(pos, true);
  }

  readDouble(end: number): number {
    const pos = this.pos;
    if (pos + 8 > end) this.fail('truncated', 'double runs past the end');
    this.pos = pos + 8;
    return this.view.getFloat64(pos, true);
  }

  readFixed32(end: number): number {
    const pos = this.pos;
    if (pos + 4 > end) this.fail('truncated', 'fixed32 runs past the end');
    this.pos = pos + 4;
    return this.view.getUint32(pos, true);
  }

  /** Reads a length prefix and returns the end offset of the delimited field. */
  readLengthEnd(end: number): number {
    let len: number;
    const b0 = this.pos < end ? this.buf[this.pos]! : 0x80;
    if (b0 < 0x80) {
      this.pos++;
      len = b0;
    } else {
      // A length is a full varint: bits above 32 must not wrap into a small, plausible length.
      this.readVarint64(end);
      len = this.hi * 0x100000000 + this.lo;
    }
    const stop = this.pos + len;
    if (stop > end) this.fail('truncated', `length ${len} runs past the end of its message (${end - this.pos} bytes left)`);
    return stop;
  }

  /**
   * A bytes field as a view into the input (no copy: ids are most of a span's fields, and copying
   * them doubles the decoder's allocations). The caller must not reuse the input buffer while the
   * decoded message is alive; `copyBytes` readers copy instead.
   */
  readBytes(end: number): Uint8Array {
    const stop = this.readLengthEnd(end);
    const start = this.pos;
    this.pos = stop;
    this.memoryLeft -= 80; // DECODE_COST.bytesView; checked at the next object
    if (this.copyBytes) return new Uint8Array(this.buf.subarray(start, stop));
    return new Uint8Array(this.arrayBuffer, this.byteOffset + start, stop - start);
  }

  readString(end: number): string {
    const stop = this.readLengthEnd(end);
    const start = this.pos;
    this.pos = stop;
    const len = stop - start;
    if (len === 0) return '';
    const buf = this.buf;
    if (len > STRING_CACHE_MAX_LEN) {
      if (!isAscii(buf, start, stop) && !isUtf8(buf.subarray(start, stop))) this.fail('utf8', 'string is not valid UTF-8', start);
      return buf.utf8Slice(start, stop);
    }
    // Short strings: the slot comes from the length and five of the bytes (first, last, middle,
    // quarters) instead of a hash of every byte, so a hit costs one comparison pass; strings that
    // differ only elsewhere share a slot and take turns in it (a miss, never a wrong string).
    const last = stop - 1;
    const q = len >> 2;
    let h = Math.imul(len, 0x9e3779b1) ^ buf[start]! ^ (buf[last]! << 8) ^ (buf[start + (len >> 1)]! << 16) ^ (buf[start + q]! << 24) ^ (buf[last - q]! << 4);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    const slot = (h ^ (h >>> 12)) & (STRING_CACHE_SIZE - 1);
    const generation = this.generation;
    // Both passes read four bytes at a time through the DataView: a byte loop over the Buffer
    // cost about 4 ns a byte here, half of decoding a generated span (bench: 1.77 -> 1.32 µs/span).
    const view = this.view;
    const stop4 = stop - 3;
    if (cacheGeneration[slot] === generation && cacheLength[slot] === len) {
      let a = cacheStart[slot]!;
      let b = start;
      while (b < stop4 && view.getInt32(a) === view.getInt32(b)) {
        a += 4;
        b += 4;
      }
      while (b < stop && buf[a] === buf[b]) {
        a++;
        b++;
      }
      if (b === stop) return cacheString[slot]!;
    }
    let i = start;
    while (i < stop4 && (view.getInt32(i) & 0x80808080) === 0) i += 4;
    while (i < stop && buf[i]! < 0x80) i++;
    let s: string;
    if (i === stop) s = buf.latin1Slice(start, stop);
    else {
      if (!isUtf8(buf.subarray(start, stop))) this.fail('utf8', 'string is not valid UTF-8', start);
      s = buf.utf8Slice(start, stop);
    }
    cacheGeneration[slot] = generation;
    cacheStart[slot] = start;
    cacheLength[slot] = len;
    cacheString[slot] = s;
    return s;
  }

  /**
   * Checks a string field as readString would (its length, then valid UTF-8, failing at the same
   * offset with the same error) without making the string: the validate-only pass of a receiver
   * that hands the request on as bytes (validateTracesData). ASCII is checked four bytes at a time.
   */
  checkString(end: number): void {
    const stop = this.readLengthEnd(end);
    const start = this.pos;
    this.pos = stop;
    const view = this.view;
    const buf = this.buf;
    const stop4 = stop - 3;
    let i = start;
    while (i < stop4 && (view.getInt32(i) & 0x80808080) === 0) i += 4;
    while (i < stop && buf[i]! < 0x80) i++;
    if (i < stop && !isUtf8(buf.subarray(start, stop))) this.fail('utf8', 'string is not valid UTF-8', start);
  }

  /** Skips one field's value, given its wire type; `tagStart` is for error messages. */
  skipField(wireType: number, fieldNumber: number, end: number, depth = 0): void {
    switch (wireType) {
      case WireType.VARINT:
        this.readVarint64(end);
        return;
      case WireType.FIXED64:
        if (this.pos + 8 > end) this.fail('truncated', 'fixed64 runs past the end');
        this.pos += 8;
        return;
      case WireType.LEN:
        this.pos = this.readLengthEnd(end);
        return;
      case WireType.FIXED32:
        if (this.pos + 4 > end) this.fail('truncated', 'fixed32 runs past the end');
        this.pos += 4;
        return;
      case WireType.START_GROUP: {
        if (depth >= MAX_DEPTH) this.fail('depth', `groups nested deeper than ${MAX_DEPTH}`);
        for (;;) {
          if (this.pos >= end) this.fail('truncated', `group ${fieldNumber} has no end`);
          const tag = this.readVarint32(end);
          const fn = tag >>> 3;
          const wt = tag & 7;
          if (fn === 0) this.fail('field-zero', 'field number 0');
          if (wt === WireType.END_GROUP) {
            if (fn !== fieldNumber) this.fail('wire-type', `end of group ${fn} inside group ${fieldNumber}`);
            return;
          }
          this.skipField(wt, fn, end, depth + 1);
        }
      }
      case WireType.END_GROUP:
        return this.fail('wire-type', `end of group ${fieldNumber} with no start`);
      default:
        return this.fail('wire-type', `wire type ${wireType} does not exist`);
    }
  }
}

function isAscii(buf: Uint8Array, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/**
 * End of the bytes in use in each buffer that appendUnknown grew: an accumulator whose end is that
 * mark may be extended in place (nothing else refers to the bytes after it).
 */
const unknownBufferUse = new WeakMap<ArrayBufferLike, number>();

/**
 * Appends raw bytes to an unknown-field accumulator (allocates only when unknown fields exist).
 * The first piece is copied at its exact size (the common case: one unknown field per message);
 * further pieces go into a buffer that doubles when full, so a message made of millions of unknown
 * fields costs linear time, not one copy of the whole accumulator per field (issue 15). The result
 * may be a view with spare room after it, at most the size of what it holds.
 */
export function appendUnknown(acc: Uint8Array | undefined, src: Uint8Array, start: number, stop: number): Uint8Array {
  const piece = src.subarray(start, stop);
  if (acc === undefined) return new Uint8Array(piece);
  const used = acc.byteOffset + acc.length;
  const buffer = acc.buffer;
  const n = piece.length;
  if (unknownBufferUse.get(buffer) === used && used + n <= buffer.byteLength) {
    new Uint8Array(buffer, used, n).set(piece);
    unknownBufferUse.set(buffer, used + n);
    return new Uint8Array(buffer, acc.byteOffset, acc.length + n);
  }
  const length = acc.length + n;
  const out = new Uint8Array(Math.max(length, acc.length * 2));
  out.set(acc, 0);
  out.set(piece, acc.length);
  unknownBufferUse.set(out.buffer, length);
  return out.subarray(0, length);
}

// ---- writer side -------------------------------------------------------------------------------

export function varint32Size(v: number): number {
  // v is treated as uint32; negative int32 values are written as 10-byte sign-extended varints.
  if (v < 0) return 10;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo >>> 0 === lo ? lo : lo >>> 0);
  if (hi < 0x8) return 5;
  if (hi < 0x400) return 6;
  if (hi < 0x20000) return 7;
  if (hi < 0x1000000) return 8;
  if (hi < 0x80000000) return 9;
  return 10;
}

/** UTF-8 byte length of a JS string (lone surrogates count as the 3 bytes of U+FFFD, as Buffer writes them). */
export function utf8Length(s: string): number {
  const n = s.length;
  // Past a dozen characters Node's native count is faster than this loop (twice over at 24-32, the
  // length of a typical attribute value; measured); it counts lone surrogates as 3 bytes too.
  if (n > 12) return Buffer.byteLength(s, 'utf8');
  let i = 0;
  for (; i < n; i++) if (s.charCodeAt(i) >= 0x80) break;
  if (i === n) return n;
  let len = i;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len += 4;
        i++;
      } else len += 3;
    } else len += 3;
  }
  return len;
}

/** Writer into a buffer allocated once at the size the sizing pass computed. */
export class ProtobufWriter {
  readonly buf: FastBuffer;
  readonly view: DataView;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size) as FastBuffer;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Writes a uint32 (or a negative int32 sign-extended to 10 bytes). */
  varint32(v: number): void {
    const buf = this.buf;
    if (v < 0) {
      this.varint64(v >>> 0, 0xffffffff);
      return;
    }
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  varint64(lo: number, hi: number): void {
    const buf = this.buf;
    while (hi !== 0 || lo >= 0x80 || lo < 0) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  fixed64(v: bigint): void {
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  double(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  fixed32(v: number): void {
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  bytes(v: Uint8Array): void {
    this.varint32(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Writes a length-prefixed string whose UTF-8 length the caller computed. */
  string(s: string, byteLength: number): void {
    this.varint32(byteLength);
    if (byteLength === s.length && byteLength < 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < byteLength; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
    } else {
      this.pos += this.buf.utf8Write(s, this.pos, byteLength);
    }
  }

  raw(v: Uint8Array): void {
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }
}

/** Splits an int64 bigint into the words of its two's-complement varint. */
export function int64Words(v: bigint): { lo: number; hi: number } {
  const u = BigInt.asUintN(64, v);
  return { lo: Number(u & 0xffffffffn), hi: Number(u >> 32n) };
}
