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
 * string values.
 */
export function substitute(s: string, ctx: StringContext, earlier: readonly string[]): string {
  if (s.length < 16) return escape(s);
  // Lower-case ids are what log correlation writes; the upper-case codes stay readable by the
  // decoder but are not searched for, which keeps this to one scan per pattern.
  const patterns: string[] = [];
  const codes: string[] = [];
  const firsts: number[] = [];
  const add = (p: string, code: string): void => {
    if (p.length === 0) return;
    const at = s.indexOf(p);
    if (at < 0) return;
    patterns.push(p);
    codes.push(code);
    firsts.push(at);
  };
  add(ctx.traceHex, 't');
  add(ctx.spanHex, 's');
  for (let i = 0; i < earlier.length && i < 26; i++) if (earlier[i]!.length >= MIN_REFERENCED) add(earlier[i]!, String.fromCharCode(EARLIER_BASE + i));
  if (patterns.length === 0) return escape(s);
  // Matches as [start, end, code], found left to right, longest first at equal starts.
  const matches: [number, number, string][] = [];
  for (let k = 0; k < patterns.length; k++) {
    const p = patterns[k]!;
    for (let at = firsts[k]!; at >= 0; at = s.indexOf(p, at + p.length)) matches.push([at, at + p.length, codes[k]!]);
  }
  matches.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  let out = '';
  let from = 0;
  for (const [start, end, code] of matches) {
    if (start < from) continue; // overlaps a match already taken
    out += escape(s.slice(from, start)) + NUL + code;
    from = end;
  }
  return out + escape(s.slice(from));
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
