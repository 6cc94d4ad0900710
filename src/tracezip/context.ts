// Residual strings often repeat what the span already says: a log line carries its trace id and
// span id in hex (log correlation), and a raw log record repeats the parsed message next to it.
// Those repeats are random text to a general compressor (32 hex digits of a trace id cost 16 bytes
// even after zstd), but free to a codec that knows the span. Residual strings are therefore sent
// with such repeats replaced by two-character references, reversed exactly by the decoder:
//   NUL 't' = the span's trace id in lowercase hex     NUL 'T' = in uppercase hex
//   NUL 's' = the span's span id in lowercase hex      NUL 'S' = in uppercase hex
//   NUL U+0080+i = the value of residual string i (0-based, earlier in the same list; i < 26)
//   NUL NUL = a literal NUL
// The encoder searches for the lower-case forms only (what log correlation writes); the decoder
// reads every code, so an encoder that also references upper-case ids stays compatible.
import { type ByteWriter } from './bytes.js';

const NUL = '\u0000';
/** References to earlier values use codes U+0080.. so they never meet the letters above. */
const EARLIER_BASE = 0x80;
/** References to earlier attributes are made only for values at least this long. */
const MIN_REFERENCED = 8;

export interface StringContext {
  traceHex: string;
  spanHex: string;
  traceHexUpper: string;
  spanHexUpper: string;
}

/** A context whose upper-case forms are made only when read (the encoder never reads them; a decoder rarely). */
export class IdHexContext implements StringContext {
  private traceUpper: string | undefined;
  private spanUpper: string | undefined;

  constructor(
    readonly traceHex: string,
    readonly spanHex: string,
  ) {}

  get traceHexUpper(): string {
    return (this.traceUpper ??= this.traceHex.toUpperCase());
  }

  get spanHexUpper(): string {
    return (this.spanUpper ??= this.spanHex.toUpperCase());
  }
}

const HEX = '0123456789abcdef';
let hexScratch = Buffer.alloc(64) as Buffer & { latin1Slice(start: number, end: number): string };

/** Lower-case hex of an id, made as one flat string (not a rope of per-byte pieces). */
export function hex(id: Uint8Array): string {
  const n = id.length;
  if (2 * n > hexScratch.length) hexScratch = Buffer.alloc(4 * n) as typeof hexScratch;
  const out = hexScratch;
  for (let i = 0; i < n; i++) {
    const b = id[i]!;
    out[2 * i] = HEX.charCodeAt(b >> 4);
    out[2 * i + 1] = HEX.charCodeAt(b & 15);
  }
  return out.latin1Slice(0, 2 * n);
}

/**
 * Replaces repeats by references. Matches are found in the original string and never overlap, so
 * the result reads back unambiguously left to right. `earlier` holds the list's earlier residual
 * string values. The encoder passes the ids' lower-case hex only (see `substituteIds`).
 */
export function substitute(s: string, ctx: StringContext, earlier: readonly string[]): string {
  return substituteIds(s, ctx.traceHex, ctx.spanHex, earlier);
}

// Matches of one call as parallel arrays (reused: this runs for every long residual string).
// Pattern k is 0 for the trace id, 1 for the span id, 2 + i for earlier[i].
const matchStart: number[] = [];
const matchEnd: number[] = [];
const matchPattern: number[] = [];

/**
 * `substitute` with the ids' lower-case hex given directly. Lower-case ids are what log correlation
 * writes; the upper-case codes stay readable by the decoder but are not searched for.
 */
export function substituteIds(s: string, traceHex: string, spanHex: string, earlier: readonly string[]): string {
  if (s.length < 16) return escape(s);
  const count = findMatches(s, traceHex, spanHex, earlier, earlier.length);
  return count === 0 ? escape(s) : build(s, count);
}

/**
 * Finds every occurrence of every pattern into the match arrays, in the order they are taken: left
 * to right, the longest first at equal starts (then the earlier pattern). Returns their number.
 */
function findMatches(s: string, traceHex: string, spanHex: string, earlier: readonly string[], earlierCount: number): number {
  const starts = matchStart;
  const ends = matchEnd;
  const pats = matchPattern;
  let count = 0;
  const np = 2 + Math.min(earlierCount, 26);
  for (let k = 0; k < np; k++) {
    const p = k === 0 ? traceHex : k === 1 ? spanHex : earlier[k - 2]!;
    const len = p.length;
    if (len === 0 || (k >= 2 && len < MIN_REFERENCED)) continue;
    const last = s.length - len; // no match can start after this
    for (let at = s.indexOf(p); at >= 0; at = at + len > last ? -1 : s.indexOf(p, at + len)) {
      // Insertion in (start ascending, end descending) order; equal keys keep pattern order.
      let j = count++;
      const end = at + len;
      while (j > 0 && (starts[j - 1]! > at || (starts[j - 1] === at && ends[j - 1]! < end))) {
        starts[j] = starts[j - 1]!;
        ends[j] = ends[j - 1]!;
        pats[j] = pats[j - 1]!;
        j--;
      }
      starts[j] = at;
      ends[j] = end;
      pats[j] = k;
    }
  }
  return count;
}

/**
 * `substituteIds` written straight into `w` as a length-prefixed UTF-8 string: the result is never
 * assembled as a string (log lines are long, and the copy is what the garbage collector pays for).
 * Only the first `earlierCount` entries of `earlier` are the list's earlier values (the caller
 * reuses one array).
 */
export function substituteInto(w: ByteWriter, s: string, traceHex: string, spanHex: string, earlier: readonly string[], earlierCount = earlier.length): void {
  const count = s.length < 16 ? 0 : findMatches(s, traceHex, spanHex, earlier, earlierCount);
  const nul = s.includes(NUL);
  if (count === 0 || nul) {
    // Nothing to replace (the usual case for most strings), or NULs to escape (rare): as a string.
    w.string(count === 0 ? (nul ? escape(s) : s) : build(s, count));
    return;
  }
  const starts = matchStart;
  const ends = matchEnd;
  const pats = matchPattern;
  // The references only shorten the string: its own length bounds the result's.
  w.beginParts(s.length);
  const at0 = w.pos;
  w.part(s);
  if (w.pos - at0 === s.length) {
    // ASCII (as log lines are): bytes are units, so the references go in place, the text between
    // them moving left (no piece of the string is ever made).
    const buf = w.buf;
    let out = at0;
    let from = 0;
    for (let m = 0; m < count; m++) {
      const start = starts[m]!;
      if (start < from) continue; // overlaps a match already taken
      if (start > from) {
        if (out !== at0 + from) buf.copyWithin(out, at0 + from, at0 + start);
        out += start - from;
      }
      const k = pats[m]!;
      buf[out++] = 0;
      if (k === 0) buf[out++] = 0x74; // 't'
      else if (k === 1) buf[out++] = 0x73; // 's'
      else {
        // U+0080 + i in UTF-8
        buf[out++] = 0xc2;
        buf[out++] = EARLIER_BASE + k - 2;
      }
      from = ends[m]!;
    }
    if (from < s.length) {
      if (out !== at0 + from) buf.copyWithin(out, at0 + from, at0 + s.length);
      out += s.length - from;
    }
    w.pos = out;
    w.endParts();
    return;
  }
  w.pos = at0;
  let from = 0;
  for (let m = 0; m < count; m++) {
    const start = starts[m]!;
    if (start < from) continue; // overlaps a match already taken
    const k = pats[m]!;
    if (start > from) w.part(s.slice(from, start));
    w.part(k === 0 ? REF_TRACE : k === 1 ? REF_SPAN : REF_EARLIER[k - 2]!);
    from = ends[m]!;
  }
  if (from < s.length) w.part(from === 0 ? s : s.slice(from));
  w.endParts();
}

const REF_TRACE = NUL + 't';
const REF_SPAN = NUL + 's';
const REF_EARLIER = Array.from({ length: 26 }, (_, i) => NUL + String.fromCharCode(EARLIER_BASE + i));

/** The substituted string from the `count` matches `findMatches` left in the match arrays. */
function build(s: string, count: number): string {
  const starts = matchStart;
  const ends = matchEnd;
  const pats = matchPattern;
  const nul = s.includes(NUL);
  let out = '';
  let from = 0;
  for (let m = 0; m < count; m++) {
    const start = starts[m]!;
    if (start < from) continue; // overlaps a match already taken
    const k = pats[m]!;
    const text = s.slice(from, start);
    out += (nul ? escape(text) : text) + NUL + (k === 0 ? 't' : k === 1 ? 's' : String.fromCharCode(EARLIER_BASE + k - 2));
    from = ends[m]!;
  }
  const rest = s.slice(from);
  return out + (nul ? escape(rest) : rest);
}

function escape(text: string): string {
  return text.includes(NUL) ? text.split(NUL).join(NUL + NUL) : text;
}

/** Reverses `substitute`; undefined when a reference cannot be resolved (a malformed frame). */
export function expand(s: string, ctx: () => StringContext, earlier: readonly string[]): string | undefined {
  let i = s.indexOf(NUL);
  if (i < 0) return s;
  const c = ctx();
  let out = '';
  let from = 0;
  while (i >= 0) {
    out += s.slice(from, i);
    const code = s.charAt(i + 1);
    if (code === NUL) out += NUL;
    else if (code === 't') out += c.traceHex;
    else if (code === 'T') out += c.traceHexUpper;
    else if (code === 's') out += c.spanHex;
    else if (code === 'S') out += c.spanHexUpper;
    else {
      const k = code.charCodeAt(0) - EARLIER_BASE;
      if (!(k >= 0 && k < 26 && k < earlier.length)) return undefined; // also a mark with no code at the end
      out += earlier[k]!;
    }
    from = i + 2;
    i = s.indexOf(NUL, from);
  }
  return out + s.slice(from);
}
