// CRC-32C (Castagnoli), the per-frame checksum: it catches every burst error up to 32 bits and
// random corruption with probability 1 - 2^-32. The disk queue uses it for its records too, which it
// checks as they are written and read back. Node 20 has no CRC in node:zlib (crc32 arrived in 22.2,
// and it is the other polynomial), so large inputs go to @node-rs/crc32, a prebuilt native module
// shipped as npm packages per platform (SSE4.2/ARMv8 CRC instructions: 6 bytes/ns against 0.4-1.6 for
// the table code below on a 64 KiB queue record); short ones stay in JavaScript, where the call into
// native code would cost more than it saves. Where no prebuilt module loads (an unusual platform), the
// table code does all of it, with the same results.
import { createRequire } from 'node:module';

const POLY = 0x82f63b78;
const T = new Uint32Array(16 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[i] = c >>> 0;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 16; t++) T[t * 256 + i] = (T[(t - 1) * 256 + i]! >>> 8) ^ T[T[(t - 1) * 256 + i]! & 0xff]!;
}

/**
 * CRC-32C in JavaScript, slicing by sixteen bytes at a time: the decoder checks every byte of a
 * frame before reading it, and slicing by four made it a third of decoding an uncompressed frame
 * (sixteen: 1.6 bytes/ns against 1.05; tables of 16 KiB).
 */
export function crc32cPortable(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  let i = start;
  for (; i + 16 <= end; i += 16) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    const b = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
    const c = data[i + 8]! | (data[i + 9]! << 8) | (data[i + 10]! << 16) | (data[i + 11]! << 24);
    const d = data[i + 12]! | (data[i + 13]! << 8) | (data[i + 14]! << 16) | (data[i + 15]! << 24);
    crc =
      T[3840 + (a & 0xff)]! ^
      T[3584 + ((a >>> 8) & 0xff)]! ^
      T[3328 + ((a >>> 16) & 0xff)]! ^
      T[3072 + (a >>> 24)]! ^
      T[2816 + (b & 0xff)]! ^
      T[2560 + ((b >>> 8) & 0xff)]! ^
      T[2304 + ((b >>> 16) & 0xff)]! ^
      T[2048 + (b >>> 24)]! ^
      T[1792 + (c & 0xff)]! ^
      T[1536 + ((c >>> 8) & 0xff)]! ^
      T[1280 + ((c >>> 16) & 0xff)]! ^
      T[1024 + (c >>> 24)]! ^
      T[768 + (d & 0xff)]! ^
      T[512 + ((d >>> 8) & 0xff)]! ^
      T[256 + ((d >>> 16) & 0xff)]! ^
      T[d >>> 24]!;
  }
  for (; i < end; i++) crc = T[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

/** The prebuilt module's crc32c, or undefined where none loads for this platform. */
function loadNative(): NativeCrc32c | undefined {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: unknown };
    if (typeof mod.crc32c !== 'function') return undefined;
    const f = mod.crc32c as NativeCrc32c;
    // The check value of the CRC-32C catalogue ("123456789"): a module that loads but disagrees is not used.
    return f(Buffer.from('123456789')) === 0xe3069283 ? f : undefined;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Whether large inputs go to the native module (for tests and benchmarks). */
export const crc32cIsNative = native !== undefined;

/**
 * Inputs at least this long go to the native module: below it the call (and the view it needs for a
 * range) costs about what the table code does (equal near 256 bytes on the project's machine).
 */
const NATIVE_FROM_BYTES = 512;

export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  if (native === undefined || end - start < NATIVE_FROM_BYTES) return crc32cPortable(data, start, end);
  return native(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0;
}
