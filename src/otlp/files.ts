// OTLP trace files: reading and writing ExportTraceServiceRequests stored on disk.
//
// Protobuf files hold either one message (what `protoc --encode` or a single HTTP body gives) or a
// stream of size-delimited messages (a varint byte length before each message, as protobuf's
// writeDelimitedTo does), which is what slimtrace writes so that a million spans never need one
// giant message. JSON files hold one OTLP/JSON request or JSON Lines (one request per line, as the
// OpenTelemetry Collector's file exporter writes them). Readers stream delimited files and reject a
// message larger than MAX_MESSAGE_BYTES before buffering it.
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { InputError } from '../model/errors.js';
import type { TracesData } from '../model/types.js';
import { decodeTracesData, encodeTracesData } from './protobuf.js';
import { ProtobufDecodeError, varint32Size } from './wire.js';
import { decodeTracesJson, decodeTracesJsonLines, encodeTracesJson } from './json.js';
import { AtomicFile, type ByteSink } from './output.js';

export type OtlpFileFormat = 'otlp-proto' | 'otlp-json';

/** Largest single message a reader accepts (the OTLP spec's recommended request limit). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Largest file read whole (single-message protobuf or JSON files); larger ones must be delimited / JSON Lines. */
export const MAX_WHOLE_FILE_BYTES = 1024 * 1024 * 1024;

/** Format from the file name, or by looking at the first bytes. */
export async function detectOtlpFileFormat(path: string): Promise<OtlpFileFormat | undefined> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json') || lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'otlp-json';
  if (lower.endsWith('.pb') || lower.endsWith('.binpb') || lower.endsWith('.otlp') || lower.endsWith('.protobuf')) return 'otlp-proto';
  const head = await readHead(path, 64);
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (i < head.length && (head[i] === 0x7b /* { */ || head[i] === 0x5b) /* [ */) return 'otlp-json';
  return undefined;
}

async function readHead(path: string, n: number): Promise<Uint8Array> {
  const fh = await openForRead(path);
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function openForRead(path: string) {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw fileError(path, e);
  }
}

function fileError(path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError('no such file or directory', path);
  if (code === 'EACCES') return new InputError('permission denied', path);
  if (code === 'EISDIR') return new InputError('is a directory, expected a file', path);
  return new InputError((e as Error).message, path);
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

/**
 * True when the file is a chain of size-delimited messages that ends exactly at the end of the file.
 * Follows the length prefixes with small positional reads, so it costs one read per message.
 */
async function isDelimitedChain(path: string, size: number): Promise<boolean> {
  const fh = await openForRead(path);
  try {
    const head = Buffer.alloc(5);
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(head, 0, 5, pos);
      const v = readVarintAt(head.subarray(0, bytesRead), 0);
      if (!v || v.value > MAX_MESSAGE_BYTES) return false;
      pos += v.next + v.value;
    }
    return pos === size;
  } finally {
    await fh.close();
  }
}

/** Streams the requests of an OTLP protobuf file (single message or size-delimited stream). */
export async function* readOtlpProtoFile(path: string): AsyncGenerator<TracesData> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw fileError(path, e);
  }
  if (size === 0) return;
  const head = await readHead(path, 1);
  const delimited = await isDelimitedChain(path, size);
  // A single message starts with tag 0x0a (field 1, resource_spans); prefer that reading when the
  // whole file decodes as one message, since a delimited stream whose first message is exactly ten
  // bytes long is the only other thing that starts that way.
  if (!delimited || head[0] === 0x0a) {
    if (size > MAX_WHOLE_FILE_BYTES) throw new InputError(`${size} bytes is too large for a single OTLP message (write it size-delimited)`, path);
    const bytes = await readFile(path);
    try {
      yield decodeTracesData(bytes);
      return;
    } catch (e) {
      if (!delimited) throw wrapDecode(path, e, 0);
    }
  }
  yield* readDelimited(path);
}

function wrapDecode(path: string, e: unknown, messageIndex: number): unknown {
  if (e instanceof ProtobufDecodeError) {
    return new InputError(`not a valid OTLP ExportTraceServiceRequest (message ${messageIndex}): ${e.message}`, path);
  }
  return e;
}

async function* readDelimited(path: string): AsyncGenerator<TracesData> {
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
    let pos = 0;
    for (;;) {
      const v = readVarintAt(pending, pos);
      if (!v) break;
      if (v.value > MAX_MESSAGE_BYTES) throw new InputError(`message ${index} declares ${v.value} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`, path);
      if (v.next + v.value > pending.length) break;
      const msg = pending.subarray(v.next, v.next + v.value);
      try {
        yield decodeTracesData(msg);
      } catch (e) {
        throw wrapDecode(path, e, index);
      }
      index++;
      pos = v.next + v.value;
    }
    // Keep the undecoded tail; copy it so the stream's chunk can be released.
    pending = pos === 0 ? pending : Buffer.from(pending.subarray(pos));
  }
  if (pending.length > 0) throw new InputError(`truncated: ${pending.length} bytes after the last complete message ${index - 1}`, path);
}

/** Reads the requests of an OTLP/JSON file (one request, or JSON Lines). */
export async function* readOtlpJsonFile(path: string): AsyncGenerator<TracesData> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw fileError(path, e);
  }
  if (size > MAX_WHOLE_FILE_BYTES) throw new InputError(`${size} bytes is too large to read as one JSON document`, path);
  const text = await readFile(path, 'utf8');
  const trimmed = text.trim();
  if (trimmed.length === 0) return;
  // JSON Lines when the first line is a complete document on its own.
  const firstNewline = trimmed.indexOf('\n');
  if (firstNewline > 0 && isCompleteJson(trimmed.slice(0, firstNewline))) {
    yield* decodeTracesJsonLines(trimmed, path);
    return;
  }
  yield decodeTracesJson(trimmed, path);
}

function isCompleteJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

export async function* readOtlpFile(path: string, format?: OtlpFileFormat): AsyncGenerator<TracesData> {
  const f = format ?? (await detectOtlpFileFormat(path)) ?? 'otlp-proto';
  yield* f === 'otlp-json' ? readOtlpJsonFile(path) : readOtlpProtoFile(path);
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
