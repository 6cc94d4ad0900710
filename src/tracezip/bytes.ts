// Byte-level building blocks of the Tracezip wire format: a growable writer and a bounds-checked
// reader with LEB128 varints, zigzag signed integers and 64-bit values as bigint. Hand-written
// because they run for every field of every span on both sides of the stream (hot path).
import { isUtf8 } from 'node:buffer';
import { TracezipFrameError } from './errors.js';
import '../otlp/wire.js'; // installs the Buffer fallbacks should a Node release lack the native slices

/** Growable output buffer. Grows by doubling; `finish()` returns a view of the written bytes. */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;
  /** The same bytes as a Buffer, for its native UTF-8 writer (made on first use after each growth). */
  private nodeBuf: FastWriteBuffer | undefined;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.nodeBuf = undefined;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  byte(b: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative safe integer (up to 2^53). */
  uvar(v: number): void {
    if (this.pos + 10 > this.buf.length) this.grow(10);
    const buf = this.buf;
    let p = this.pos;
    if (v < 0x80) {
      buf[p++] = v;
      this.pos = p;
      return;
    }
    while (v >= 0x80) {
      buf[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** Zigzag varint of a signed safe integer. */
  svar(v: number): void {
    this.uvar(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Unsigned varint of a uint64 bigint. */
  uvarBig(v: bigint): void {
    if (v < 0x20000000000000n) {
      this.uvar(Number(v));
      return;
    }
    if (this.pos + 10 > this.buf.length) this.grow(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /**
   * Zigzag varint of a signed bigint of up to 65 bits: an int64 attribute, or a difference of two
   * uint64 times (which needs one bit more than 64). At most 10 bytes.
   */
  svarBig(v: bigint): void {
    // Number() is exact below 2^53 in magnitude and rounds anything larger to at least 2^53, so
    // this range check on the double is exact, and cheaper than comparing bigints.
    const n = Number(v);
    if (n >= -0x10000000000000 && n < 0x10000000000000) {
      this.svar(n);
      return;
    }
    this.uvarBig(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }

  u32le(v: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  u64le(v: bigint): void {
    if (this.pos + 8 > this.buf.length) this.grow(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
  }

  f64(v: number): void {
    if (this.pos + 8 > this.buf.length) this.grow(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  raw(b: Uint8Array): void {
    if (this.pos + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Appends what another writer holds (no view of it is made: frames append dozens of columns). */
  append(src: ByteWriter): void {
    const n = src.pos;
    if (this.pos + n > this.buf.length) this.grow(n);
    if (n < 64) {
      const from = src.buf;
      const to = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) to[p++] = from[i]!;
    } else src.node().copy(this.buf, this.pos, 0, n);
    this.pos += n;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.uvar(b.length);
    this.raw(b);
  }

  /** Length-prefixed UTF-8. */
  string(s: string): void {
    const n = s.length;
    if (n < 24) {
      // Short: one pass that writes as it checks for ASCII (most trace strings are); what it wrote
      // past `pos` is simply overwritten when a non-ASCII unit sends the string down the long path.
      if (this.pos + n + 1 > this.buf.length) this.grow(n + 1);
      const buf = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = p;
        return;
      }
    }
    // Long or non-ASCII: UTF-8 takes between n and 3n bytes. Buffer writes it right after room for
    // the longest length prefix; when the prefix turns out shorter, the bytes move back (a memmove
    // costs less than measuring the string first).
    this.beginParts(n);
    this.part(s);
    this.endParts();
  }

  private partsStart = 0;
  private partsRoom = 0;

  /**
   * Starts a length-prefixed UTF-8 string written in parts (`part`), of at most `units` UTF-16
   * units in all, so that a string assembled from pieces never has to exist as one: room for the
   * largest length prefix is kept, and `endParts` moves the bytes back when the prefix is shorter.
   */
  beginParts(units: number): void {
    const room = varintSize(3 * units);
    if (this.pos + room + 3 * units > this.buf.length) this.grow(room + 3 * units);
    this.partsStart = this.pos;
    this.partsRoom = room;
    this.pos += room;
  }

  /** A piece of the string begun by `beginParts` (its room is already there). */
  part(s: string): void {
    if (s.length > 0) this.pos += this.node().utf8Write(s, this.pos, 3 * s.length);
  }

  endParts(): void {
    const start = this.partsStart;
    const room = this.partsRoom;
    const len = this.pos - start - room;
    const size = varintSize(len);
    if (size < room) this.buf.copyWithin(start + size, start + room, this.pos);
    this.pos = start;
    this.uvar(len);
    this.pos += len;
  }

  private node(): FastWriteBuffer {
    this.nodeBuf ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.length) as FastWriteBuffer;
    return this.nodeBuf;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}

/** Bytes of the unsigned varint of v (a safe integer). */
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Buffer's native UTF-8 writer, which Buffer.write dispatches to (see src/otlp/wire.ts). */
interface FastWriteBuffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
}

/** Buffer's native decoders, which Buffer.toString dispatches to (see src/otlp/wire.ts). */
interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Bounds-checked reader; every failure is a TracezipFrameError('malformed'). */
export class ByteReader {
  pos: number;
  // Made on first use: a frame opens a reader per column, and most never read a fixed-width value.
  private viewValue: DataView | undefined;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  private get view(): DataView {
    this.viewValue ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.viewValue;
  }

  fail(what: string): never {
    throw new TracezipFrameError('malformed', `${what} at byte ${this.pos}`);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  byte(): number {
    if (this.pos >= this.end) this.fail('unexpected end of data');
    return this.buf[this.pos++]!;
  }

  uvar(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p < this.end) {
      const b = buf[p]!;
      if (b < 0x80) {
        this.pos = p + 1;
        return b;
      }
    }
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (p >= this.end) this.fail('varint runs past the end');
      const b = buf[p++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = p;
        return result;
      }
      mul *= 0x80;
    }
    // 8 bytes hold 56 bits: anything longer is beyond a safe integer.
    return this.fail('varint too large');
  }

  svar(): number {
    const u = this.uvar();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Unsigned varint of up to 10 bytes (70 bits); callers check the range their field allows. */
  uvarBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('varint runs past the end');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    return this.fail('varint longer than 10 bytes');
  }

  svarBig(): bigint {
    // Varints of up to 7 bytes (49 bits: time deltas and durations) are exact as numbers, which
    // is far cheaper than assembling a bigint byte by byte; longer ones take the bigint path.
    const buf = this.buf;
    const limit = Math.min(this.end, this.pos + 7);
    for (let p = this.pos; p < limit; p++) {
      if (buf[p]! < 0x80) {
        const u = this.uvar();
        return BigInt(u % 2 === 0 ? u / 2 : -(u + 1) / 2);
      }
    }
    const u = this.uvarBig();
    return (u & 1n) === 0n ? u >> 1n : -((u + 1n) >> 1n);
  }

  u32le(): number {
    if (this.pos + 4 > this.end) this.fail('unexpected end of data');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64le(): bigint {
    if (this.pos + 8 > this.end) this.fail('unexpected end of data');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  f64(): number {
    if (this.pos + 8 > this.end) this.fail('unexpected end of data');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A view of the next n bytes. */
  raw(n: number): Uint8Array {
    if (n > this.end - this.pos) this.fail(`${n} bytes run past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A copy of the next n bytes (ids outlive the frame buffer). */
  copy(n: number): Uint8Array {
    return this.raw(n).slice();
  }

  bytes(): Uint8Array {
    return this.raw(this.uvar()).slice();
  }

  string(): string {
    const n = this.uvar();
    const start = this.pos;
    const b = this.raw(n);
    if (n < 24) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (b[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
    }
    // Long strings (log text) are checked and decoded natively: a scan in JS costs more than both.
    if (!isUtf8(b)) return this.fail('invalid UTF-8 in a string');
    return this.node.utf8Slice(start, start + n);
  }

  /** The same bytes as a Buffer, for its native string decoding (made once per reader). */
  private get node(): FastBuffer {
    this.nodeBuf ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength) as FastBuffer;
    return this.nodeBuf;
  }
  private nodeBuf: FastBuffer | undefined;

  /** A sub-reader over the next n bytes. */
  section(n: number): ByteReader {
    if (n > this.end - this.pos) this.fail(`section of ${n} bytes runs past the end`);
    const r = new ByteReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
}
