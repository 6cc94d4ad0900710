// Payloads the disk queue tests can check byte for byte without keeping a copy: an id, a length and
// filler computed from both, so a record that comes back damaged, cut or mixed up with another is seen.

/** A payload of 12 + `filler` bytes that names `id`. */
export function payloadFor(id: number, filler: number): Uint8Array {
  const buf = Buffer.alloc(12 + filler);
  buf.writeUInt32LE(id % 2 ** 32, 0);
  buf.writeUInt32LE(Math.floor(id / 2 ** 32), 4);
  buf.writeUInt32LE(filler, 8);
  for (let i = 0; i < filler; i++) buf[12 + i] = (id * 31 + i * 7) & 0xff;
  return buf;
}

/** The id a payload of payloadFor names, or -1 when it is not one, whole and intact. */
export function checkPayload(payload: Uint8Array): number {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (buf.length < 12) return -1;
  const id = buf.readUInt32LE(0) + buf.readUInt32LE(4) * 2 ** 32;
  const filler = buf.readUInt32LE(8);
  if (buf.length !== 12 + filler) return -1;
  for (let i = 0; i < filler; i++) if (buf[12 + i] !== ((id * 31 + i * 7) & 0xff)) return -1;
  return id;
}


/** The crash workload's in-flight window (queue-child.ts): the duplicate bound the parent checks. */
export const CRASH_MAX_IN_FLIGHT = 16;
/** Small segments, so crash rounds roll and delete many of them. */
export const CRASH_SEGMENT_BYTES = 16 * 1024;
