// CRC-32C (Castagnoli), the per-frame checksum: it catches every burst error up to 32 bits and
// random corruption with probability 1 - 2^-32. Node 20 has no CRC in node:zlib (crc32 arrived in
// 22.2), so it is computed here, slicing by four bytes at a time.
const POLY = 0x82f63b78;
const T = new Uint32Array(4 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[i] = c >>> 0;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 4; t++) T[t * 256 + i] = (T[(t - 1) * 256 + i]! >>> 8) ^ T[T[(t - 1) * 256 + i]! & 0xff]!;
}

export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    crc ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    crc = T[768 + (crc & 0xff)]! ^ T[512 + ((crc >>> 8) & 0xff)]! ^ T[256 + ((crc >>> 16) & 0xff)]! ^ T[crc >>> 24]!;
  }
  for (; i < end; i++) crc = T[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
