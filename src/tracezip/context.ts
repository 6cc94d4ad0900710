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
import { bytesToHex } from '../model/index.js';

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

export function stringContext(traceId: Uint8Array, spanId: Uint8Array): StringContext {
  const traceHex = bytesToHex(traceId);
  const spanHex = bytesToHex(spanId);
  return { traceHex, spanHex, traceHexUpper: traceHex.toUpperCase(), spanHexUpper: spanHex.toUpperCase() };
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
 * writes; the upper-case codes stay readable by the decoder but are not searched for. Every
 * occurrence of every pattern is a candidate; they are taken left to right, the longest first at
 * equal starts (then the earlier pattern), skipping any that overlaps one already taken.
 */
export function substituteIds(s: string, traceHex: string, spanHex: string, earlier: readonly string[]): string {
  if (s.length < 16) return escape(s);
  const starts = matchStart;
  const ends = matchEnd;
  const pats = matchPattern;
  let count = 0;
  const np = 2 + Math.min(earlier.length, 26);
  for (let k = 0; k < np; k++) {
    const p = k === 0 ? traceHex : k === 1 ? spanHex : earlier[k - 2]!;
    const len = p.length;
    if (len === 0 || (k >= 2 && len < MIN_REFERENCED)) continue;
    for (let at = s.indexOf(p); at >= 0; at = s.indexOf(p, at + len)) {
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
  const nul = s.includes(NUL);
  if (count === 0) return nul ? escape(s) : s;
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
