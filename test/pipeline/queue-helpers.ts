// What the disk queue tests share: payloads they can check byte for byte without keeping a copy (an
// id, a length and filler computed from both, so a record that comes back damaged, cut or mixed up
// with another is seen), temp directories removed after each test, and draining a queue.
import { afterEach } from 'node:test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiskQueue, QueueRecord } from '../../src/pipeline/index.js';

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

/** A maker of temp directories, each removed after the test that made it. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** The segment files of a queue directory, oldest first. */
export const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

/** Takes records until none comes within `ms`, acknowledging each. */
export async function drain(q: DiskQueue, ms = 150): Promise<QueueRecord[]> {
  const out: QueueRecord[] = [];
  for (;;) {
    // Not AbortSignal.timeout: its timer does not keep the test's event loop alive.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), ms);
    const r = await q.next(ac.signal).catch(() => undefined);
    clearTimeout(timer);
    if (!r) return out;
    out.push(r);
    q.ack(r.seq);
  }
}
