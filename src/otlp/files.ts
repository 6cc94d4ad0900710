// OTLP trace files: reading and writing ExportTraceServiceRequests stored on disk.
//
// Protobuf files hold either one message (what `protoc --encode` or a single HTTP body gives) or a
// stream of size-delimited messages (a varint byte length before each message, as protobuf's
// writeDelimitedTo does), which is what slimtrace writes so that a million spans never need one
// giant message. JSON files hold one OTLP/JSON request or JSON Lines (one request per line, as the
// OpenTelemetry Collector's file exporter writes them). Readers stream delimited files and reject a
// message larger than MAX_MESSAGE_BYTES before buffering it.
import { open } from 'node:fs/promises';
import { InputError } from '../model/errors.js';
import type { TracesData } from '../model/types.js';
import { decodeTracesData, encodeTracesData } from './protobuf.js';
import { ProtobufDecodeError, varint32Size } from './wire.js';
import { decodeTracesJson, encodeTracesJson } from './json.js';
import { AtomicFile, type ByteSink } from './output.js';
import { DecodeLimitError, type DecodeLimits } from './limits.js';
import { isZstdFrame, zstdModule } from './zstd.js';
import {
  ReadLimitError,
  decompressionError,
  emptyFileError,
  fileCompression,
  fileReadError,
  nonEmptyFileSize,
  readContentChunks,
  readContentPrefix,
  resolveReadLimits,
  withoutCompressionSuffix,
  type ReadLimits,
} from './compressed.js';

export type OtlpFileFormat = 'otlp-proto' | 'otlp-json';

/** Largest single message a reader accepts (the OTLP spec's recommended request limit). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** What a reader of OTLP files may spend: per request (DecodeLimits) and per file (ReadLimits). */
export interface OtlpReadOptions extends DecodeLimits, ReadLimits {}

/** Format from the file name (a `.gz`/`.zst` suffix aside), or by looking at the first bytes. */
export async function detectOtlpFileFormat(path: string): Promise<OtlpFileFormat | undefined> {
  const lower = withoutCompressionSuffix(path.toLowerCase());
  if (lower.endsWith('.json') || lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'otlp-json';
  if (lower.endsWith('.pb') || lower.endsWith('.binpb') || lower.endsWith('.otlp') || lower.endsWith('.protobuf')) return 'otlp-proto';
  const head = await readContentPrefix(path, 64);
  return looksLikeJsonStart(head) ? 'otlp-json' : undefined;
}

/**
 * A JSON object (or an array of them) whose first key is a printable string. Checking only for `{`
 * after whitespace read a protobuf message as JSON when its first length byte was 0x7b or 0x5b
 * (`0a 7b ...`: field 1 of 123 bytes; 0x0a is also a newline): after `{` comes the length and a
 * tag, never `"` and a printable key.
 */
export function looksLikeJsonStart(head: Uint8Array): boolean {
  let i = skipSpace(head, 0);
  if (head[i] === 0x5b /* [ */) {
    i = skipSpace(head, i + 1);
    if (i >= head.length || head[i] === 0x5d /* ] */) return true;
  }
  if (head[i] !== 0x7b /* { */) return false;
  i = skipSpace(head, i + 1);
  if (i >= head.length || head[i] === 0x7d /* } */) return true;
  if (head[i] !== 0x22 /* " */) return false;
  let j = i + 1;
  for (; j < head.length && head[j] !== 0x22; j++) if (head[j]! < 0x20 || head[j]! > 0x7e) return false;
  return j > i + 1 || j >= head.length;
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/**
 * Pulls bytes from a stream of chunks (a file, or its decompressed content). Taken bytes are views
 * that stay valid (the buffer is replaced, never written), so decoded messages may refer to them.
 */
class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Chunks pulled but not yet joined to `buf` (joined once, when bytes are looked at). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  get available(): number {
    return this.buf.length - this.pos + this.pendingBytes;
  }

  /** Pulls chunks until at least `n` bytes are available; false when the content ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.ended) {
      const next = await this.chunks.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.pending.push(next.value);
        this.pendingBytes += next.value.length;
      }
    }
    return this.available >= n;
  }

  /**
   * Offset (from the current position) of the next `byte`, pulling chunks as needed and looking at
   * each byte once; -1 when the content ends first, -2 when `max` bytes pass without one.
   */
  async find(byte: number, max: number): Promise<number> {
    let offset = 0;
    const inBuf = this.buf.indexOf(byte, this.pos);
    if (inBuf >= 0) return inBuf - this.pos;
    offset = this.buf.length - this.pos;
    let i = 0;
    for (;;) {
      for (; i < this.pending.length; i++) {
        const at = this.pending[i]!.indexOf(byte);
        if (at >= 0) return offset + at;
        offset += this.pending[i]!.length;
      }
      if (offset > max) return -2;
      if (!(await this.fill(this.available + 1))) return -1;
    }
  }

  private join(): void {
    if (this.pending.length === 0) return;
    this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.pending]);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  peek(n: number): Buffer {
    if (this.buf.length - this.pos < n) this.join();
    return this.buf.subarray(this.pos, this.pos + n);
  }

  take(n: number): Buffer {
    const out = this.peek(n);
    this.pos += out.length;
    return out;
  }

  async close(): Promise<void> {
    await this.chunks.return?.(undefined);
  }
}

/**
 * Follows a chain of length-prefixed messages with block reads (64 KiB at a time, seeking only past
 * long messages), so a file of millions of tiny messages costs a few reads, not one per message.
 * 'exact' when the chain ends exactly at the end of the file, 'overrun' when it holds together but
 * its last message runs past the end (a truncated file), false when it is not a chain at all.
 */
async function isChain(
  path: string,
  size: number,
  header: (b: Buffer, at: number) => { value: number; next: number } | undefined,
): Promise<'exact' | 'overrun' | false> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileReadError(path, e);
  }
  try {
    const block = Buffer.alloc(64 * 1024);
    let blockStart = 0;
    let blockLen = 0;
    let pos = 0;
    while (pos < size) {
      if (pos < blockStart || pos + 10 > blockStart + blockLen) {
        blockStart = pos;
        blockLen = (await fh.read(block, 0, block.length, pos)).bytesRead;
      }
      const v = header(block.subarray(0, blockLen), pos - blockStart);
      if (!v) return pos > 0 && blockStart + blockLen >= size ? 'overrun' : false;
      if (v.value > MAX_MESSAGE_BYTES) return false;
      pos = blockStart + v.next + v.value;
    }
    return pos === size ? 'exact' : 'overrun';
  } finally {
    await fh.close();
  }
}

function readVarintAt(buf: Uint8Array, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (pos + i >= buf.length) return undefined;
    const b = buf[pos + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return { value, next: pos + i + 1 };
  }
  return undefined;
}

/** The Collector file exporter's framing: a 4-byte big-endian length before each message. */
function readBe32At(buf: Uint8Array, pos: number): { value: number; next: number } | undefined {
  if (pos + 4 > buf.length) return undefined;
  return { value: ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0, next: pos + 4 };
}

type Framing = 'bare' | 'varint' | 'be32';

/**
 * Streams the requests of an OTLP protobuf file: one bare message; a size-delimited stream (a
 * varint length before each message, protobuf's writeDelimitedTo, what slimtrace writes); or the
 * OpenTelemetry Collector file exporter's framing (a 4-byte big-endian length before each message,
 * each message plain, or zstd-compressed on its own with `compression: zstd`, in protobuf or JSON).
 * The file itself may be gzip or zstd (the exporter's native compression). Messages are read one at
 * a time, never the whole file, except a bare message (at most maxDocumentBytes).
 */
export async function* readOtlpProtoFile(path: string, options: OtlpReadOptions = {}): AsyncGenerator<TracesData> {
  const size = await nonEmptyFileSize(path);
  const limits = resolveReadLimits(options);
  const compression = await fileCompression(path);
  const r = new ChunkReader(readContentChunks(path, options)[Symbol.asyncIterator]());
  try {
    await r.fill(5);
    if (r.available === 0) throw emptyFileError(path);
    const head = r.peek(5);
    if (head[0] === 0x7b /* { */) {
      // JSON Lines inside a compressed file (the exporter's native compression with format json).
      yield* readJsonFrom(r, path, options);
      return;
    }
    let framing: Framing;
    if (compression === 'none') {
      const be32 = head[0] === 0x00 ? await isChain(path, size, readBe32At) : false;
      const varintChain = be32 ? false : await isChain(path, size, readVarintAt);
      // A bare message starts with 0x0a (field 1, resource_spans); so does a delimited stream whose
      // first message is ten bytes long: the bare reading is tried first. A chain that overruns the
      // end is a truncated delimited file when the bare reading fails: read so, it says "truncated".
      framing = be32 ? 'be32' : varintChain !== false && head[0] !== 0x0a ? 'varint' : 'bare';
      if (framing === 'bare' && varintChain !== false) {
        const whole = await readWholeFrom(r, path, limits.maxDocumentBytes);
        try {
          yield decodeTracesData(whole, options);
          return;
        } catch (e) {
          if (e instanceof DecodeLimitError) throw e.withSource(path);
        }
        yield* readFramed(new ChunkReader(single(whole)), path, 'varint', options);
        return;
      }
    } else framing = head[0] === 0x00 ? 'be32' : head[0] === 0x0a ? 'bare' : 'varint';
    if (framing === 'bare') {
      const whole = await readWholeFrom(r, path, limits.maxDocumentBytes);
      try {
        yield decodeTracesData(whole, options);
        return;
      } catch (e) {
        // Compressed content cannot be checked for a chain beforehand: a delimited stream whose
        // first message is ten bytes long is read as such when the bare reading fails.
        if (compression === 'none' || !inMemoryChain(whole)) throw wrapDecode(path, e, 0);
      }
      yield* readFramed(new ChunkReader(single(whole)), path, 'varint', options);
      return;
    }
    yield* readFramed(r, path, framing, options);
  } finally {
    await r.close();
  }
}

async function* single(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

function inMemoryChain(b: Buffer): boolean {
  let pos = 0;
  while (pos < b.length) {
    const v = readVarintAt(b, pos);
    if (!v || v.value > MAX_MESSAGE_BYTES) return false;
    pos = v.next + v.value;
  }
  return pos === b.length;
}

async function readWholeFrom(r: ChunkReader, path: string, max: number): Promise<Buffer> {
  // Pulls in steps of 1 MiB so the chunks are joined once, at the end.
  while (await r.fill(r.available + 1)) {
    if (r.available > max) throw new ReadLimitError('maxDocumentBytes', max, `a document larger than ${max} bytes (write protobuf size-delimited, JSON as JSON Lines)`, path);
  }
  return r.take(r.available);
}

function wrapDecode(path: string, e: unknown, messageIndex: number): unknown {
  if (e instanceof DecodeLimitError) return e.withSource(path);
  if (e instanceof ProtobufDecodeError) {
    return new InputError(`not a valid OTLP ExportTraceServiceRequest (message ${messageIndex}): ${e.message}`, path);
  }
  return e;
}

async function* readFramed(r: ChunkReader, path: string, framing: 'varint' | 'be32', options: OtlpReadOptions): AsyncGenerator<TracesData> {
  const header = framing === 'be32' ? readBe32At : readVarintAt;
  let index = 0;
  for (;;) {
    if (!(await r.fill(1))) return;
    await r.fill(framing === 'be32' ? 4 : 5);
    const v = header(r.peek(5), 0);
    if (!v) throw new InputError(`truncated: ${r.available} bytes after the last complete message ${index - 1}`, path);
    if (v.value > MAX_MESSAGE_BYTES) throw new InputError(`message ${index} declares ${v.value} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`, path);
    if (!(await r.fill(v.next + v.value))) {
      throw new InputError(`truncated: message ${index} declares ${v.value} bytes, the file ends ${v.next + v.value - r.available} bytes short`, path);
    }
    r.take(v.next);
    const msg = r.take(v.value);
    if (msg.length > 0) yield await decodeMessage(msg, path, index, options);
    index++;
  }
}

/** One framed message: protobuf, or (Collector framing) OTLP/JSON, either maybe a zstd frame. */
async function decodeMessage(msg: Buffer, path: string, index: number, options: OtlpReadOptions): Promise<TracesData> {
  if (isZstdFrame(msg)) msg = await inflateZstdMessage(msg, path, index);
  // A protobuf request never starts with 0x7b (field 15, start group): that is JSON.
  if (msg[0] === 0x7b /* { */) {
    try {
      return decodeTracesJson(msg.toString('utf8'), undefined, options);
    } catch (e) {
      if (e instanceof DecodeLimitError) throw e.withSource(path);
      if (e instanceof InputError) throw new InputError(`message ${index}: ${e.message}`, path);
      throw e;
    }
  }
  try {
    return decodeTracesData(msg, options);
  } catch (e) {
    throw wrapDecode(path, e, index);
  }
}

/** A message the Collector compressed on its own, inflated to at most MAX_MESSAGE_BYTES. */
async function inflateZstdMessage(msg: Buffer, path: string, index: number): Promise<Buffer> {
  const z = zstdModule();
  if (!z) throw new InputError(`message ${index} is zstd-compressed, and zstd-napi (an optional dependency of slimtrace) cannot be loaded here`, path);
  const stream = new z.DecompressStream({ windowLogMax: 27 });
  stream.end(msg);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of stream) {
      size += (c as Buffer).length;
      if (size > MAX_MESSAGE_BYTES) throw new InputError(`message ${index} inflates past the ${MAX_MESSAGE_BYTES}-byte message limit`, path);
      chunks.push(c as Buffer);
    }
  } catch (e) {
    throw decompressionError(e, path, 'zstd') ?? e;
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

/**
 * Reads the requests of an OTLP/JSON file (plain, gzip or zstd): JSON Lines, streamed one line
 * (at most MAX_MESSAGE_BYTES) at a time, or one request read whole (at most maxDocumentBytes).
 */
export async function* readOtlpJsonFile(path: string, options: OtlpReadOptions = {}): AsyncGenerator<TracesData> {
  await nonEmptyFileSize(path);
  const r = new ChunkReader(readContentChunks(path, options)[Symbol.asyncIterator]());
  try {
    yield* readJsonFrom(r, path, options);
  } finally {
    await r.close();
  }
}

async function* readJsonFrom(r: ChunkReader, path: string, options: OtlpReadOptions): AsyncGenerator<TracesData> {
  const maxDocument = resolveReadLimits(options).maxDocumentBytes;
  let line = 0;
  let any = false;
  for (;;) {
    if (!(await r.fill(1))) break;
    // The next line: up to a newline, or to the end. The first non-blank line decides: a complete
    // JSON document means JSON Lines; anything else is one document (over several lines) read whole.
    const end = await r.find(0x0a, any ? MAX_MESSAGE_BYTES : maxDocument);
    if (end === -2) {
      throw any
        ? new InputError(`line ${line + 1} is longer than the ${MAX_MESSAGE_BYTES}-byte message limit`, path)
        : new ReadLimitError('maxDocumentBytes', maxDocument, `a JSON document larger than ${maxDocument} bytes`, path);
    }
    const length = end >= 0 ? end : r.available;
    line++;
    let text = r.peek(length).toString('utf8');
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') {
      r.take(Math.min(length + 1, r.available));
      continue;
    }
    if (!any && end >= 0 && !isCompleteJson(text)) {
      const whole = await readWholeFrom(r, path, maxDocument);
      let doc = whole.toString('utf8');
      if (doc.charCodeAt(0) === 0xfeff) doc = doc.slice(1);
      try {
        yield decodeTracesJson(doc, path, options);
      } catch (e) {
        throw e instanceof DecodeLimitError ? e.withSource(path) : e;
      }
      return;
    }
    if (length > MAX_MESSAGE_BYTES) throw new InputError(`line ${line} is longer than the ${MAX_MESSAGE_BYTES}-byte message limit`, path);
    r.take(Math.min(length + 1, r.available));
    any = true;
    yield decodeJsonLine(text, path, line, options);
  }
  if (!any) throw new InputError('holds only white space, no OTLP/JSON request', path);
}

function decodeJsonLine(text: string, path: string, line: number, options: DecodeLimits): TracesData {
  try {
    return decodeTracesJson(text, undefined, options);
  } catch (e) {
    if (e instanceof DecodeLimitError) throw e.withSource(path);
    if (e instanceof InputError) throw new InputError(`line ${line}: ${e.message}`, path);
    throw e;
  }
}

function isCompleteJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

export async function* readOtlpFile(path: string, format?: OtlpFileFormat, options: OtlpReadOptions = {}): AsyncGenerator<TracesData> {
  const f = format ?? (await detectOtlpFileFormat(path)) ?? 'otlp-proto';
  yield* f === 'otlp-json' ? readOtlpJsonFile(path, options) : readOtlpProtoFile(path, options);
}

/**
 * Writes requests to a file: protobuf as a size-delimited stream, JSON as JSON Lines. With
 * `single`, exactly one request is allowed and written bare (readable by protoc --decode).
 * Given a path, the file is written whole or not at all (an AtomicFile: `close` puts it in place,
 * `abort` or a failure leaves the target as it was); given a sink, the caller decides.
 */
export class OtlpFileWriter {
  private readonly out: ByteSink;
  private count = 0;
  bytesWritten = 0;
  readonly path: string;

  constructor(
    target: string | ByteSink,
    readonly format: OtlpFileFormat,
    readonly single = false,
  ) {
    this.out = typeof target === 'string' ? new AtomicFile(target) : target;
    this.path = this.out.path;
  }

  async write(data: TracesData): Promise<void> {
    if (this.single && this.count > 0) throw new InputError('a single-message file holds one request', this.path);
    let chunk: Uint8Array;
    if (this.format === 'otlp-json') chunk = Buffer.from(encodeTracesJson(data) + '\n', 'utf8');
    else {
      const body = encodeTracesData(data);
      if (this.single) chunk = body;
      else {
        const prefix = Buffer.alloc(varint32Size(body.length));
        let v = body.length;
        let i = 0;
        while (v >= 0x80) {
          prefix[i++] = (v & 0x7f) | 0x80;
          v >>>= 7;
        }
        prefix[i] = v;
        chunk = Buffer.concat([prefix, body]);
      }
    }
    this.count++;
    this.bytesWritten += chunk.length;
    await this.out.write(chunk);
  }

  /** Finishes the file and puts it in place. */
  async close(): Promise<void> {
    await this.out.close();
  }

  /** Throws the output away (the target keeps what it held). */
  async abort(): Promise<void> {
    await this.out.abort();
  }
}
