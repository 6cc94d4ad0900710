// Trace and span ids: hex text <-> bytes, written by hand because they run once per span in the
// dataset readers and the JSON codec, where Buffer.from(hex) would allocate a Buffer each time.

const HEX = '0123456789abcdef';
const HEX_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) HEX_PAIRS.push(HEX[i >> 4]! + HEX[i & 15]!);

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX_PAIRS[bytes[i]!]!;
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Parses hex (either case) into bytes. Returns undefined when the text is not even-length hex, so
 * callers can name the offending field in their own error.
 */
// Nibble of each character code below 128, -1 for non-hex: one load instead of three comparisons.
const NIBBLE = new Int8Array(128).fill(-1);
for (let c = 0; c < 128; c++) NIBBLE[c] = nibble(c);

export function hexToBytes(hex: string): Uint8Array | undefined {
  if ((hex.length & 1) !== 0) return undefined;
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0, j = 0; i < hex.length; i += 2, j++) {
    const a = hex.charCodeAt(i);
    const b = hex.charCodeAt(i + 1);
    const hi = a < 128 ? NIBBLE[a]! : -1;
    const lo = b < 128 ? NIBBLE[b]! : -1;
    if (hi < 0 || lo < 0) return undefined;
    out[j] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Parses a hex id and left-pads it with zeros to `width` bytes (Zipkin and Jaeger allow 64-bit
 * trace ids and ids written without leading zeros). Undefined when not hex or too long.
 */
export function hexToIdBytes(hex: string, width: number): Uint8Array | undefined {
  if (hex.length > width * 2) return undefined;
  const padded = hex.length === width * 2 ? hex : '0'.repeat(width * 2 - hex.length) + hex;
  return hexToBytes(padded);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when every byte is zero (an all-zero id is invalid in OTLP) or the array is empty. */
export function isZeroId(id: Uint8Array): boolean {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}
