// The bytes of the disk queue's files (docs/deployment.md, "On disk"): the segment header, the record
// frame and the cursor. Each carries its own CRC-32C, so recovery can tell a record it may deliver
// from a torn or damaged one, and every record carries its seq, so after damage the next good record
// is found by its magic and the records lost in between are counted, not guessed.
import { crc32c } from '../tracezip/crc32c.js';

/** Format version of segments and cursor; a queue directory of another version is refused, not guessed at. */
export const QUEUE_FORMAT_VERSION = 1;

/** "STQS" | version u8 | 3 reserved | first seq u64 LE | 4 reserved | CRC-32C of the 20 bytes before. */
export const SEGMENT_HEADER_BYTES = 24;
/** "STQR" | payload length u32 LE | seq u64 LE | payload CRC-32C | CRC-32C of the 20 bytes before. */
export const RECORD_HEADER_BYTES = 24;
// The cursor file is the segment header's layout with magic "STQC" and the commit seq.

export const SEGMENT_MAGIC = Buffer.from('STQS');
export const RECORD_MAGIC = Buffer.from('STQR');
export const CURSOR_MAGIC = Buffer.from('STQC');

const TWO_32 = 2 ** 32;
/** The high word of a seq above which it is no longer an exact JavaScript number. */
const MAX_SEQ_HIGH = 2 ** 21 - 1;

function writeSeq(buf: Buffer, at: number, seq: number): void {
  buf.writeUInt32LE(seq % TWO_32, at);
  buf.writeUInt32LE(Math.floor(seq / TWO_32), at + 4);
}

function readSeq(buf: Buffer, at: number): number {
  const high = buf.readUInt32LE(at + 4);
  return high > MAX_SEQ_HIGH ? -1 : high * TWO_32 + buf.readUInt32LE(at);
}

/** A segment header or the cursor: magic, version, one seq, guarded by a CRC. */
export function encodeHeader(magic: Buffer, seq: number): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  magic.copy(buf, 0);
  buf[4] = QUEUE_FORMAT_VERSION;
  writeSeq(buf, 8, seq);
  buf.writeUInt32LE(crc32c(buf, 0, 20), 20);
  return buf;
}

export type HeaderCheck = { seq: number } | { problem: string };

/** Reads what encodeHeader wrote, or says what is wrong with it. */
export function decodeHeader(buf: Buffer, magic: Buffer): HeaderCheck {
  if (buf.length < SEGMENT_HEADER_BYTES) return { problem: `${buf.length} bytes, a header has ${SEGMENT_HEADER_BYTES}` };
  if (buf.compare(magic, 0, 4, 0, 4) !== 0) return { problem: `no ${magic.toString()} magic` };
  if (buf.readUInt32LE(20) !== crc32c(buf, 0, 20)) return { problem: 'header checksum mismatch' };
  if (buf[4] !== QUEUE_FORMAT_VERSION) return { problem: `format version ${buf[4]}, this slimtrace reads ${QUEUE_FORMAT_VERSION}` };
  const seq = readSeq(buf, 8);
  if (seq < 0) return { problem: 'seq out of range' };
  return { seq };
}

/** The 24 bytes written before a payload. The payload's CRC is computed here, on the caller's tick. */
export function encodeRecordHeader(seq: number, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  RECORD_MAGIC.copy(buf, 0);
  buf.writeUInt32LE(payload.length, 4);
  writeSeq(buf, 8, seq);
  buf.writeUInt32LE(crc32c(payload), 16);
  buf.writeUInt32LE(crc32c(buf, 0, 20), 20);
  return buf;
}

export interface RecordHeader {
  seq: number;
  payloadLength: number;
  payloadCrc: number;
}

/**
 * The record header at `at`, when its magic and CRC hold and its length is possible; undefined
 * otherwise. The payload is not checked here (checkPayload): a header alone says how far to read.
 */
export function readRecordHeader(buf: Buffer, at: number, end: number, maxRecordBytes: number): RecordHeader | undefined {
  if (at + RECORD_HEADER_BYTES > end) return undefined;
  if (buf[at] !== 0x53 || buf[at + 1] !== 0x54 || buf[at + 2] !== 0x51 || buf[at + 3] !== 0x52) return undefined;
  if (buf.readUInt32LE(at + 20) !== crc32c(buf, at, at + 20)) return undefined;
  const payloadLength = buf.readUInt32LE(at + 4);
  const seq = readSeq(buf, at + 8);
  if (payloadLength > maxRecordBytes || seq < 0) return undefined;
  return { seq, payloadLength, payloadCrc: buf.readUInt32LE(at + 16) };
}

/** Whether the payload following a header at `at` is all there and matches its CRC. */
export function checkPayload(buf: Buffer, at: number, end: number, header: RecordHeader): boolean {
  const start = at + RECORD_HEADER_BYTES;
  const stop = start + header.payloadLength;
  return stop <= end && crc32c(buf, start, stop) === header.payloadCrc;
}

/** The offset of the next whole, valid record at or after `from`, or -1. */
export function findNextRecord(buf: Buffer, from: number, end: number, maxRecordBytes: number): number {
  for (let at = buf.indexOf(RECORD_MAGIC, from); at >= 0 && at + RECORD_HEADER_BYTES <= end; at = buf.indexOf(RECORD_MAGIC, at + 1)) {
    const header = readRecordHeader(buf, at, end, maxRecordBytes);
    if (header && checkPayload(buf, at, end, header)) return at;
  }
  return -1;
}

export interface SegmentVisitor {
  /** A valid record; return false to treat it as damage (e.g. its seq goes backwards). */
  record(seq: number, offset: number, frameBytes: number): boolean;
  /** Bytes [start, end) hold no valid record and a valid record follows them. */
  damage(start: number, end: number): void;
}

/**
 * Walks the records of a segment body from `start`, verifying each, and resynchronises after
 * damage on the next valid record. Returns where the last valid record ends: bytes after it (up to
 * buf.length) are a tail with no valid record, which the caller calls torn or damaged.
 */
export function scanSegment(buf: Buffer, start: number, maxRecordBytes: number, visit: SegmentVisitor): number {
  let at = start;
  let validEnd = start;
  while (at < buf.length) {
    const header = readRecordHeader(buf, at, buf.length, maxRecordBytes);
    if (header && checkPayload(buf, at, buf.length, header)) {
      const frameBytes = RECORD_HEADER_BYTES + header.payloadLength;
      if (visit.record(header.seq, at, frameBytes)) {
        at += frameBytes;
        validEnd = at;
        continue;
      }
    }
    const next = findNextRecord(buf, at + 1, buf.length, maxRecordBytes);
    if (next < 0) break;
    visit.damage(at, next);
    at = next;
  }
  return validEnd;
}
