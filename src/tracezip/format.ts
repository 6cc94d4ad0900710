// Constants of the Tracezip wire format (docs/tracezip-format.md is the prose version) and the frame
// header, shared by the encoder and the decoder so the two cannot disagree.
import { ByteReader, ByteWriter } from './bytes.js';
import type { Compression } from './compression.js';
import { crc32c } from './crc32c.js';
import { TracezipFrameError } from './errors.js';

export const MAGIC_0 = 0x54; // 'T'
export const MAGIC_1 = 0x5a; // 'Z'
/** The version this build writes. Version 2 added the event-time and JSON-escaped references to
 * residual strings (context.ts); a version 1 frame never holds them, so it reads the same. */
export const FORMAT_VERSION = 2;
const OLDEST_READABLE_VERSION = 1;

/** True for the format versions this build reads. */
export function readableVersion(v: number | undefined): boolean {
  return v !== undefined && v >= OLDEST_READABLE_VERSION && v <= FORMAT_VERSION;
}

/** Frame flags (header byte 3). */
export const FLAG_COMPRESSION_MASK = 0x03; // 0 none, 1 zstd, 2 gzip, 3 zstd stream (per epoch, flushed per frame)
export const FLAG_EPOCH_START = 0x04; // the decoder drops its state for the stream and starts empty
export const FLAG_STATELESS = 0x08; // self-contained: decoded with empty state, stream state untouched

/** Largest uncompressed payload a decoder accepts, checked before anything is allocated. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

// Template edge types (first varint of a node label).
export const EDGE_SPAN_HEAD = 1;
export const EDGE_EVENT_HEAD = 2;
export const EDGE_VALUE = 3;

// Value types, used by template values (LOW attributes) and residual columns.
export const V_STRING = 1;
export const V_BOOL = 2;
export const V_INT = 3;
export const V_DOUBLE = 4;
export const V_BYTES = 5;
/** Anything else (arrays, kvlists, empty values, values with unknown fields), as OTLP bytes. */
export const V_ANY = 6;
/** Attribute class in a head: the value is part of the template (carried by a VALUE edge). */
export const CLASS_TEMPLATE = 0;

// Shell kinds (resource and scope envelopes).
export const SHELL_RESOURCE = 0;
export const SHELL_SCOPE = 1;

/** Parent reference codes (column `parent`). */
export const PARENT_NONE = 0;
export const PARENT_EXPLICIT = 1;
export const PARENT_RELATIVE_BASE = 2;

// Bounds that encoder and decoder apply identically (they shape the state both sides keep).
/** Traces a stream remembers for references across frames (move-to-front list). */
export const TRACE_RING_SIZE = 512;
/** Spans remembered per trace for parent references across frames (the most recent ones). */
export const TRACE_SPANS_KEPT = 256;

/** What one tree node costs in the state both sides keep: encoder and decoder count it alike. */
export function nodeStateBytes(width: number): number {
  return 160 + 24 * width;
}

export interface FrameHeader {
  compression: Compression;
  epochStart: boolean;
  stateless: boolean;
  streamId: bigint;
  epoch: number;
  seq: number;
  payloadLength: number;
  /** Offset and length of the (possibly compressed) payload within the frame. */
  bodyStart: number;
  bodyLength: number;
  /** The frame's CRC-32C: tells a true duplicate from another frame with the same numbers. */
  crc: number;
}

const COMPRESSION_CODES: Record<Compression, number> = { none: 0, zstd: 1, gzip: 2, 'zstd-stream': 3 };
const COMPRESSION_BY_CODE: (Compression | undefined)[] = ['none', 'zstd', 'gzip', 'zstd-stream'];

export function writeFrame(
  header: { compression: Compression; epochStart: boolean; stateless: boolean; streamId: bigint; epoch: number; seq: number; payloadLength: number },
  body: Uint8Array,
): Uint8Array {
  // The header goes to a scratch writer, then header, body and checksum to one exact-size array
  // (one allocation per frame).
  const w = headerScratch;
  w.reset();
  w.byte(MAGIC_0);
  w.byte(MAGIC_1);
  w.byte(FORMAT_VERSION);
  w.byte(COMPRESSION_CODES[header.compression] | (header.epochStart ? FLAG_EPOCH_START : 0) | (header.stateless ? FLAG_STATELESS : 0));
  w.u64le(header.streamId);
  w.uvar(header.epoch);
  w.uvar(header.seq);
  w.uvar(header.payloadLength);
  w.uvar(body.length);
  const h = w.pos;
  const out = new Uint8Array(h + body.length + 4);
  const hb = w.buf;
  for (let i = 0; i < h; i++) out[i] = hb[i]!;
  out.set(body, h);
  const crc = crc32c(out, 0, h + body.length);
  const at = h + body.length;
  out[at] = crc & 0xff;
  out[at + 1] = (crc >>> 8) & 0xff;
  out[at + 2] = (crc >>> 16) & 0xff;
  out[at + 3] = crc >>> 24;
  return out;
}

const headerScratch = new ByteWriter(64);

/** Parses and verifies a frame's header and checksum. Throws TracezipFrameError. */
export function readFrameHeader(frame: Uint8Array): FrameHeader {
  if (frame.length < 18) throw new TracezipFrameError('truncated', `${frame.length} bytes is shorter than any frame`);
  if (frame[0] !== MAGIC_0 || frame[1] !== MAGIC_1) throw new TracezipFrameError('magic', 'does not start with "TZ"');
  if (!readableVersion(frame[2])) throw new TracezipFrameError('version', `format version ${frame[2]}, this build reads ${OLDEST_READABLE_VERSION} to ${FORMAT_VERSION}`);
  const flags = frame[3]!;
  const compression = COMPRESSION_BY_CODE[flags & FLAG_COMPRESSION_MASK];
  if (!compression) throw new TracezipFrameError('malformed', `unknown compression code ${flags & FLAG_COMPRESSION_MASK}`);
  if ((flags & ~0x0f) !== 0) throw new TracezipFrameError('malformed', `unknown flags 0x${flags.toString(16)}`);
  // The checksum covers everything before its last four bytes; verify it before trusting any field.
  const stored = new DataView(frame.buffer, frame.byteOffset + frame.length - 4, 4).getUint32(0, true);
  if (crc32c(frame, 0, frame.length - 4) !== stored) throw new TracezipFrameError('checksum', 'CRC-32C mismatch: the frame was corrupted or truncated');
  const r = new ByteReader(frame, 4, frame.length - 4);
  const streamId = r.u64le();
  const epoch = r.uvar();
  const seq = r.uvar();
  const payloadLength = r.uvar();
  const bodyLength = r.uvar();
  if (payloadLength > MAX_PAYLOAD_BYTES) throw new TracezipFrameError('limit', `payload of ${payloadLength} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  if (bodyLength !== r.remaining) throw new TracezipFrameError('truncated', `body is ${r.remaining} bytes, header says ${bodyLength}`);
  if (compression === 'none' && bodyLength !== payloadLength) throw new TracezipFrameError('malformed', 'uncompressed body length differs from payload length');
  if (compression === 'zstd-stream' && (flags & FLAG_STATELESS) !== 0) throw new TracezipFrameError('malformed', 'a stateless frame cannot use a zstd stream');
  return {
    compression,
    epochStart: (flags & FLAG_EPOCH_START) !== 0,
    stateless: (flags & FLAG_STATELESS) !== 0,
    streamId,
    epoch,
    seq,
    payloadLength,
    bodyStart: r.pos,
    bodyLength,
    crc: stored,
  };
}
