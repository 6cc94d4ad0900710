// Residual strings often repeat what the span already says: a log line carries its trace id and
// span id in hex (log correlation), and a raw log record repeats the parsed message next to it,
// often JSON-escaped and stamped with the record's own time (Docker's json-file driver writes
// {"log":"<line>\n","stream":"stdout","time":"<RFC 3339 nanoseconds>"}). Those repeats are random
// text to a general compressor (32 hex digits of a trace id cost 16 bytes even after zstd; the
// digits of a time are nearly as bad), but free to a codec that knows the span. Residual strings
// are therefore sent with such repeats replaced by two-character references, reversed exactly by
// the decoder:
//   NUL 't' = the span's trace id in lowercase hex     NUL 'T' = in uppercase hex
//   NUL 's' = the span's span id in lowercase hex      NUL 'S' = in uppercase hex
//   NUL 'e' = the event's time in RFC 3339 UTC with nanoseconds, trailing zeros of the fraction
//             dropped (Go's time.RFC3339Nano); in event attributes only
//   NUL U+0080+i = the value of residual string i (0-based, earlier in the same list; i < 26)
//   NUL U+00A0+i = that value JSON-escaped as Go's encoding/json writes it (see jsonEscaped)
//   NUL NUL = a literal NUL
// The encoder searches for the lower-case forms only (what log correlation writes); the decoder
// reads every code, so an encoder that also references upper-case ids stays compatible.
import { type ByteWriter } from './bytes.js';
import { TracezipFrameError } from './errors.js';

const NUL = '\u0000';
/** References to earlier values use codes U+0080.. so they never meet the letters above. */
const EARLIER_BASE = 0x80;
/** References to earlier values in their JSON-escaped form: U+00A0.. */
const ESCAPED_BASE = 0xa0;
/** Earlier values a string can refer to (each kind of reference has 26 codes). */
const MAX_EARLIER = 26;
/** References to earlier attributes are made only for values at least this long. */
const MIN_REFERENCED = 8;
/**
 * The JSON-escaped form is looked for only in values up to this long: escaping costs a few
 * nanoseconds a character, and in a long value zstd finds the repeat anyway (a few long matches
 * between the escapes). nezha, batch 16: capping at 1 KiB costs 0.6% more bytes and gives 8% more
 * spans/s than escaping every value.
 */
const ESCAPED_MAX_LENGTH = 1024;

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
 * string values; `eventTime` is the event's time for an event's attributes. The encoder passes the
 * ids' lower-case hex only (see `substituteIds`).
 */
export function substitute(s: string, ctx: StringContext, earlier: readonly string[], eventTime?: bigint): string {
  return substituteIds(s, ctx.traceHex, ctx.spanHex, earlier, eventTime);
}

// Matches of one call as parallel arrays (reused: this runs for every long residual string).
const matchStart: number[] = [];
const matchEnd: number[] = [];
const matchPattern: number[] = [];
// Pattern numbers: the ids, the event time, earlier[i] as it is, earlier[i] JSON-escaped.
const P_TRACE = 0;
const P_SPAN = 1;
const P_TIME = 2;
const P_EARLIER = 3;
const P_ESCAPED = P_EARLIER + MAX_EARLIER;

/**
 * `substitute` with the ids' lower-case hex given directly. Lower-case ids are what log correlation
 * writes; the upper-case codes stay readable by the decoder but are not searched for.
 */
export function substituteIds(s: string, traceHex: string, spanHex: string, earlier: readonly string[], eventTime?: bigint): string {
  if (s.length < 16) return escapeNuls(s);
  const count = findMatches(s, traceHex, spanHex, eventTime, earlier, earlier.length, SEARCH_ALL);
  return count === 0 ? escapeNuls(s) : build(s, count);
}

// What a search looks for (bits): the ids, the event time, the earlier values (as they are or
// JSON-escaped). Set by `findMatches`: what it searched for and what it found.
const SEARCH_IDS = 1;
const SEARCH_TIME = 2;
const SEARCH_EARLIER = 4;
const SEARCH_ALL = SEARCH_IDS | SEARCH_TIME | SEARCH_EARLIER;
let searched = 0;
let found = 0;

/**
 * Finds one occurrence of each pattern of the `kinds` asked for (the first; the time's last) into
 * the match arrays, in the order they are taken: left to right, the longest first at equal starts
 * (then the earlier pattern). Returns their number. One occurrence only: a second one is rare in a
 * log line, and looking for it would cost a search of the rest of every string.
 */
function findMatches(s: string, traceHex: string, spanHex: string, eventTime: bigint | undefined, earlier: readonly string[], earlierCount: number, kinds: number): number {
  let count = 0;
  searched = 0;
  found = 0;
  if ((kinds & SEARCH_IDS) !== 0) {
    searched |= SEARCH_IDS;
    count = occurrence(s, traceHex, P_TRACE, count);
    count = occurrence(s, spanHex, P_SPAN, count);
    if (count > 0) found |= SEARCH_IDS;
  }
  // 20 characters: the shortest RFC 3339 time (no fraction).
  // Searched from the end: JSON log formats write a record's time after its message (Docker: last).
  if ((kinds & SEARCH_TIME) !== 0 && eventTime !== undefined && s.length >= 20) {
    searched |= SEARCH_TIME;
    const before = count;
    count = occurrence(s, rfc3339Nano(eventTime), P_TIME, count, true);
    if (count > before) found |= SEARCH_TIME;
  }
  if ((kinds & SEARCH_EARLIER) === 0) return count;
  const n = Math.min(earlierCount, MAX_EARLIER);
  for (let i = 0; i < n; i++) {
    const p = earlier[i]!;
    if (p.length < MIN_REFERENCED || p.length > s.length) continue;
    searched |= SEARCH_EARLIER;
    const before = count;
    count = occurrence(s, p, P_EARLIER + i, count);
    // The escaped form is looked for only when the value is not there as it is (JSON log lines).
    if (count === before && p.length <= ESCAPED_MAX_LENGTH) {
      const escaped = jsonEscaped(p);
      if (escaped !== p) count = occurrence(s, escaped, P_ESCAPED + i, count);
    }
    if (count > before) found |= SEARCH_EARLIER;
  }
  return count;
}

/**
 * Adds the first occurrence of `p` in `s` (the last with `fromEnd`), if any, as pattern `k` to the
 * match arrays.
 */
function occurrence(s: string, p: string, k: number, count: number, fromEnd = false): number {
  if (p.length === 0) return count;
  const at = fromEnd ? s.lastIndexOf(p) : s.indexOf(p);
  if (at < 0) return count;
  const starts = matchStart;
  const ends = matchEnd;
  const pats = matchPattern;
  // Insertion in (start ascending, end descending) order; equal keys keep pattern order.
  let j = count;
  const end = at + p.length;
  while (j > 0 && (starts[j - 1]! > at || (starts[j - 1] === at && ends[j - 1]! < end))) {
    starts[j] = starts[j - 1]!;
    ends[j] = ends[j - 1]!;
    pats[j] = pats[j - 1]!;
    j--;
  }
  starts[j] = at;
  ends[j] = end;
  pats[j] = k;
  return count + 1;
}

/** A search kind that missed this many strings in a row goes cold. */
const COLD_AFTER = 32;
/** A cold search is still tried on one string in this many (a power of two). */
const PROBE_EVERY = 16;

/**
 * Which repeats are worth looking for in the strings of one residual column (encoder side; the
 * decoder reads whatever references come). Each search costs about as much as writing the string,
 * and most columns never hold some kinds: the parsed message of a log record does not carry its
 * trace id or its time, the raw record does. A kind that missed 32 strings in a row is looked for
 * in one string in 16 only, and in every string again as soon as it hits.
 */
export class RepeatSearch {
  private idMisses = 0;
  private timeMisses = 0;
  private earlierMisses = 0;
  private strings = 0;

  kinds(): number {
    if (this.idMisses < COLD_AFTER && this.timeMisses < COLD_AFTER && this.earlierMisses < COLD_AFTER) return SEARCH_ALL;
    if ((this.strings++ & (PROBE_EVERY - 1)) === 0) return SEARCH_ALL;
    return (this.idMisses < COLD_AFTER ? SEARCH_IDS : 0) | (this.timeMisses < COLD_AFTER ? SEARCH_TIME : 0) | (this.earlierMisses < COLD_AFTER ? SEARCH_EARLIER : 0);
  }

  record(searchedKinds: number, foundKinds: number): void {
    if ((searchedKinds & SEARCH_IDS) !== 0) this.idMisses = (foundKinds & SEARCH_IDS) !== 0 ? 0 : this.idMisses + 1;
    if ((searchedKinds & SEARCH_TIME) !== 0) this.timeMisses = (foundKinds & SEARCH_TIME) !== 0 ? 0 : this.timeMisses + 1;
    if ((searchedKinds & SEARCH_EARLIER) !== 0) this.earlierMisses = (foundKinds & SEARCH_EARLIER) !== 0 ? 0 : this.earlierMisses + 1;
  }
}

/**
 * `substituteIds` written straight into `w` as a length-prefixed UTF-8 string: the result is never
 * assembled as a string (log lines are long, and the copy is what the garbage collector pays for).
 * Only the first `earlierCount` entries of `earlier` are the list's earlier values (the caller
 * reuses one array).
 */
export function substituteInto(
  w: ByteWriter,
  s: string,
  traceHex: string,
  spanHex: string,
  earlier: readonly string[],
  earlierCount = earlier.length,
  eventTime?: bigint,
  search?: RepeatSearch,
): void {
  let count = 0;
  if (s.length >= 16) {
    count = findMatches(s, traceHex, spanHex, eventTime, earlier, earlierCount, search === undefined ? SEARCH_ALL : search.kinds());
    search?.record(searched, found);
  }
  const nul = s.includes(NUL);
  if (count === 0 || nul) {
    // Nothing to replace (the usual case for most strings), or NULs to escape (rare): as a string.
    w.string(count === 0 ? (nul ? escapeNuls(s) : s) : build(s, count));
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
      const code = referenceCode(pats[m]!);
      buf[out++] = 0;
      if (code < 0x80) buf[out++] = code;
      else {
        // U+0080..U+00BF in UTF-8
        buf[out++] = 0xc2;
        buf[out++] = code;
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
    if (start > from) w.part(s.slice(from, start));
    w.part(REFERENCES[pats[m]!]!);
    from = ends[m]!;
  }
  if (from < s.length) w.part(from === 0 ? s : s.slice(from));
  w.endParts();
}

/** The character after the NUL that stands for pattern k. */
function referenceCode(k: number): number {
  if (k === P_TRACE) return 0x74; // 't'
  if (k === P_SPAN) return 0x73; // 's'
  if (k === P_TIME) return 0x65; // 'e'
  return k < P_ESCAPED ? EARLIER_BASE + k - P_EARLIER : ESCAPED_BASE + k - P_ESCAPED;
}

/** The reference of each pattern number, as a string. */
const REFERENCES = Array.from({ length: P_ESCAPED + MAX_EARLIER }, (_, k) => NUL + String.fromCharCode(referenceCode(k)));

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
    const text = s.slice(from, start);
    out += (nul ? escapeNuls(text) : text) + REFERENCES[pats[m]!]!;
    from = ends[m]!;
  }
  const rest = s.slice(from);
  return out + (nul ? escapeNuls(rest) : rest);
}

/** A string with its NULs doubled: how a residual string without references is sent. */
export function escapeNuls(text: string): string {
  return text.includes(NUL) ? text.split(NUL).join(NUL + NUL) : text;
}

/**
 * Reverses `substitute`; undefined when a reference cannot be resolved (a malformed frame).
 * `eventTime` is the event's time for an event's attributes, undefined elsewhere.
 */
export function expand(s: string, ctx: () => StringContext, earlier: readonly string[], eventTime?: bigint, maxLength = Infinity): string | undefined {
  let i = s.indexOf(NUL);
  if (i < 0) return s;
  const c = ctx();
  let out = '';
  let from = 0;
  while (i >= 0) {
    out += s.slice(from, i);
    const code = s.charCodeAt(i + 1); // NaN for a mark with no code at the end
    if (code === 0) out += NUL;
    else if (code === 0x74) out += c.traceHex;
    else if (code === 0x54) out += c.traceHexUpper;
    else if (code === 0x73) out += c.spanHex;
    else if (code === 0x53) out += c.spanHexUpper;
    else if (code === 0x65) {
      if (eventTime === undefined) return undefined;
      out += rfc3339Nano(eventTime);
    } else {
      const escaped = code >= ESCAPED_BASE;
      const k = code - (escaped ? ESCAPED_BASE : EARLIER_BASE);
      if (!(k >= 0 && k < MAX_EARLIER && k < earlier.length)) return undefined;
      // Each reference can repeat a value that repeats earlier ones: stop before the copy, and
      // before escaping (which flattens the value), once the result passes what the frame allows.
      const value = earlier[k]!;
      if (out.length + value.length > maxLength) throw new TracezipFrameError('limit', `a residual string grows past ${maxLength} characters by references, more than maxFrameDecodedBytes allows`);
      out += escaped ? jsonEscaped(value) : value;
    }
    if (out.length > maxLength) throw new TracezipFrameError('limit', `a residual string grows past ${maxLength} characters by references, more than maxFrameDecodedBytes allows`);
    from = i + 2;
    i = s.indexOf(NUL, from);
  }
  return out + s.slice(from);
}

// ---- the forms log lines write -------------------------------------------------------------

const NEEDS_JSON_ESCAPE = /["\\<>&\u0000-\u001f\u2028\u2029]/;
const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
/** String.prototype.isWellFormed (ES2024, in Node 20): no lone surrogate. */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const htmlEscape = (c: string): string => '\\u' + (0x10000 + c.charCodeAt(0)).toString(16).slice(1);

/**
 * A string as the body of a JSON string the way Go's encoding/json writes it (Go 1.22 and later,
 * HTML-safe, as Docker writes log lines): JSON.stringify's escapes (`"`, `\\`, \b \f \n \r \t, other
 * control characters as \u00XX, lone surrogates as \uDXXX where Go, reading bytes, has none) plus
 * `<`, `>`, `&`, U+2028 and U+2029 as \uXXXX, lower-case hex. The string itself when nothing needs
 * escaping.
 */
export function jsonEscaped(s: string): string {
  if (!NEEDS_JSON_ESCAPE.test(s) && wellFormed(s)) return s;
  const body = JSON.stringify(s).slice(1, -1);
  HTML_UNSAFE.lastIndex = 0;
  return HTML_UNSAFE.test(body) ? body.replace(HTML_UNSAFE, htmlEscape) : body;
}

const NS_PER_SECOND = 1_000_000_000n;
// The last time formatted, and the second it fell in: an event's attributes ask for the same time,
// and a frame's events mostly fall in a few seconds. The text is put together in bytes and made a
// string once (every bigint operation and every piece of a concatenation allocates, and this runs
// for every log record on both sides).
let lastTime = -1n;
let lastTimeText = '';
let secondStart = 0n;
let secondEnd = 0n;
const timeBytes = Buffer.alloc(32) as Buffer & { latin1Slice(start: number, end: number): string };

/**
 * A Unix time in nanoseconds as Go's time.RFC3339Nano writes it in UTC: 2023-01-29T08:42:54.36813Z
 * (the fraction without trailing zeros, none at all on a whole second). Any fixed64 time fits.
 */
export function rfc3339Nano(t: bigint): string {
  if (t === lastTime) return lastTimeText;
  const b = timeBytes;
  if (!(t >= secondStart && t < secondEnd)) {
    const second = t / NS_PER_SECOND;
    secondStart = second * NS_PER_SECOND;
    secondEnd = secondStart + NS_PER_SECOND;
    b.write(new Date(Number(second) * 1000).toISOString(), 0, 19, 'latin1'); // 2023-01-29T08:42:54
  }
  let ns = Number(t - secondStart);
  let end = 19;
  if (ns !== 0) {
    b[19] = 0x2e; // '.'
    // Nine digits from the last; the trailing zeros are not written.
    end = 29;
    for (let i = 28; i >= 20; i--) {
      const d = ns % 10;
      ns = (ns - d) / 10;
      b[i] = 0x30 + d;
      if (d === 0 && end === i + 1) end = i;
    }
  }
  b[end] = 0x5a; // 'Z'
  lastTime = t;
  lastTimeText = b.latin1Slice(0, end + 1);
  return lastTimeText;
}
