// Tracezip files (`.tzip`): a sequence of stateless frames, each self-contained (its own
// dictionary, envelopes and tree), so a file can be cut, concatenated, read from any frame and
// decoded in parallel. Frames are self-delimiting: the header says how long the body is.
import { createReadStream } from 'node:fs';
import { countSpans, InputError, type ScopeSpans, type TracesData } from '../model/index.js';
import { AtomicFile, emptyFileError, type ByteSink } from '../otlp/index.js';
import { ByteReader } from './bytes.js';
import { TracezipDecoder } from './decoder.js';
import { TracezipEncoder, type TracezipEncoderOptions } from './encoder.js';
import { TracezipFrameError } from './errors.js';
import { MAGIC_0, MAGIC_1, MAX_PAYLOAD_BYTES, readableVersion, readFrameHeader } from './format.js';
import { decodedSizeOf, resolveLimits, type TracezipFileLimits, type TracezipLimits } from './limits.js';

/**
 * Total length of the frame starting at `offset`, or undefined when more bytes are needed to tell.
 * A body longer than any payload the reader accepts is refused here, before it is waited for.
 */
export function frameLength(buf: Uint8Array, offset = 0, maxPayloadBytes = MAX_PAYLOAD_BYTES): number | undefined {
  if (buf.length - offset < 12) return undefined;
  if (buf[offset] !== MAGIC_0 || buf[offset + 1] !== MAGIC_1) throw new TracezipFrameError('magic', `no frame starts at byte ${offset}`);
  if (!readableVersion(buf[offset + 2])) throw new TracezipFrameError('version', `format version ${buf[offset + 2]} at byte ${offset}`);
  const r = new ByteReader(buf, offset + 12);
  try {
    r.uvar(); // epoch
    r.uvar(); // seq
    r.uvar(); // payload length
    const body = r.uvar();
    // A compressed body can be a little longer than its payload (incompressible data), never more.
    const maxBody = Math.min(MAX_PAYLOAD_BYTES, maxPayloadBytes) + BODY_OVERHEAD;
    if (body > maxBody) throw new TracezipFrameError('limit', `frame body of ${body} bytes at byte ${offset}, more than maxPayloadBytes allows (${maxPayloadBytes})`);
    return r.pos - offset + body + 4;
  } catch (e) {
    if (e instanceof TracezipFrameError && e.kind === 'malformed') return undefined; // header cut short
    throw e;
  }
}

/** What compression may add to an incompressible payload (zstd and gzip add far less). */
const BODY_OVERHEAD = 64 * 1024;

/** True when the bytes start like a Tracezip frame. */
export function looksLikeTracezip(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === MAGIC_0 && head[1] === MAGIC_1 && readableVersion(head[2]);
}

/** What a `.tzip` reader accepts: the decoder's frame limits and the file's expansion ratio (limits.ts). */
export type TracezipFileReadOptions = TracezipFileLimits;

/**
 * Streams the batches of a .tzip file. Errors name the file and the frame; an empty file and one
 * that ends inside a frame are errors ("is empty", "truncated"), and so is a frame or a file past
 * the limits (TracezipFileLimits; the defaults are far above real traffic).
 */
export async function* readTracezipFile(path: string, options: TracezipFileReadOptions = {}): AsyncGenerator<TracesData> {
  const limits = resolveLimits(options);
  const decoder = new TracezipDecoder(limits);
  // Bytes read and not yet decoded, as the chunks they came in: joined only when a frame is
  // complete, so a long frame is copied once rather than once per chunk.
  let chunks: Uint8Array[] = [];
  let buffered = 0;
  let need = 0; // bytes the next frame needs (0: unknown until its header is read)
  let index = 0;
  let offset = 0;
  let fileBytes = 0;
  let decodedBytes = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      const c = chunk as Buffer;
      fileBytes += c.length;
      chunks.push(c);
      buffered += c.length;
      if (buffered < need) continue;
      let pending = chunks.length === 1 ? chunks[0]! : join(chunks, buffered);
      let pos = 0;
      for (;;) {
        const len = frameOrFail(path, pending, pos, offset + pos, index, limits.maxPayloadBytes);
        if (len === undefined || pos + len > pending.length) {
          need = len ?? 0;
          break;
        }
        yield decodeStateless(path, decoder, pending.subarray(pos, pos + len), index, offset + pos);
        // What the file has decoded to so far, against what its bytes so far can prove.
        decodedBytes += decoder.lastDecodedBytes;
        const allowed = Math.max(limits.maxFrameDecodedBytes, limits.maxFileExpansionRatio * (offset + pos + len));
        if (decodedBytes > allowed) {
          throw new InputError(
            `frame ${index} at byte ${offset + pos}: the file decodes to ${decodedBytes} bytes from its first ${offset + pos + len}, more than maxFileExpansionRatio allows (${limits.maxFileExpansionRatio} per byte)`,
            path,
          );
        }
        index++;
        pos += len;
      }
      offset += pos;
      pending = pending.subarray(pos);
      chunks = pending.length === 0 ? [] : [pending.slice()];
      buffered = pending.length;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('no such file or directory', path);
    if (code === 'EISDIR') throw new InputError('is a directory, expected a .tzip file', path);
    throw e;
  }
  if (fileBytes === 0) throw emptyFileError(path); // a .tzip file holds at least one frame
  if (buffered > 0) throw new InputError(`truncated: ${buffered} bytes after the last complete frame (${index} frames read)`, path);
}

function join(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function frameOrFail(path: string, buf: Uint8Array, pos: number, fileOffset: number, index: number, maxPayloadBytes: number): number | undefined {
  try {
    return frameLength(buf, pos, maxPayloadBytes);
  } catch (e) {
    if (e instanceof TracezipFrameError) throw new InputError(`frame ${index} at byte ${fileOffset}: ${e.message}`, path);
    throw e;
  }
}

function decodeStateless(path: string, decoder: TracezipDecoder, frame: Uint8Array, index: number, offset: number): TracesData {
  let r;
  try {
    r = decoder.decode(frame);
  } catch (e) {
    if (e instanceof TracezipFrameError) throw new InputError(`frame ${index} at byte ${offset}: ${e.message}`, path);
    throw e;
  }
  if (r.kind !== 'data') throw new InputError(`frame ${index} at byte ${offset} is not a self-contained frame (${r.kind})`, path);
  return r.data;
}

/** How a `.tzip` file is written: the encoder's options, and the limits of the readers it is for. */
export type TracezipFileWriterOptions = Omit<TracezipEncoderOptions, 'stateless'> & {
  /** Frames are kept within these (default: the decoder's defaults), splitting batches as needed. */
  limits?: TracezipLimits;
};

/**
 * Writes batches as stateless frames: to a path, written whole or not at all (an AtomicFile), or to
 * a sink. A batch that would make a frame a reader with `limits` refuses (too many spans, too large
 * decoded or encoded) is split into several frames. A single span too large for any frame is an
 * InputError.
 */
export class TracezipFileWriter {
  private readonly out: ByteSink;
  private readonly encoder: TracezipEncoder;
  private readonly limits: Required<TracezipLimits>;
  readonly path: string;
  bytesWritten = 0;
  frames = 0;

  constructor(target: string | ByteSink, options: TracezipFileWriterOptions = {}) {
    const { limits, ...encoderOptions } = options;
    this.limits = resolveLimits(limits);
    this.encoder = new TracezipEncoder({ ...encoderOptions, stateless: true });
    this.out = typeof target === 'string' ? new AtomicFile(target) : target;
    this.path = this.out.path;
  }

  async write(data: TracesData): Promise<void> {
    for (const frame of this.framesOf(data)) {
      this.bytesWritten += frame.length;
      this.frames++;
      await this.out.write(frame);
    }
  }

  /** The frames of one batch, each within the limits. */
  private *framesOf(data: TracesData): Generator<Uint8Array> {
    const spans = countSpans(data);
    const l = this.limits;
    if (spans > l.maxFrameSpans || decodedSizeOf(data) > l.maxFrameDecodedBytes) {
      yield* this.halves(data, spans, `more than maxFrameSpans (${l.maxFrameSpans}) or maxFrameDecodedBytes (${l.maxFrameDecodedBytes})`);
      return;
    }
    const frame = this.encoder.encode(data);
    const h = readFrameHeader(frame);
    if (h.payloadLength > l.maxPayloadBytes) {
      yield* this.halves(data, spans, `an encoded payload of ${h.payloadLength} bytes, more than maxPayloadBytes (${l.maxPayloadBytes})`);
      return;
    }
    yield frame;
  }

  private *halves(data: TracesData, spans: number, why: string): Generator<Uint8Array> {
    if (spans <= 1) throw new InputError(`a span too large for a Tracezip frame: ${why}`, this.path);
    const [a, b] = splitBatch(data, Math.ceil(spans / 2));
    yield* this.framesOf(a);
    yield* this.framesOf(b);
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

/**
 * The first `n` spans of a batch and the rest, each under the envelopes they had (a ResourceSpans or
 * ScopeSpans cut in two appears in both); the request's unknown fields stay with the first part.
 */
export function splitBatch(data: TracesData, n: number): [TracesData, TracesData] {
  const first: TracesData = { resourceSpans: [], unknownFields: data.unknownFields };
  const rest: TracesData = { resourceSpans: [], unknownFields: undefined };
  let left = n;
  for (const rs of data.resourceSpans) {
    const a: ScopeSpans[] = [];
    const b: ScopeSpans[] = [];
    for (const ss of rs.scopeSpans) {
      const take = Math.min(left, ss.spans.length);
      left -= take;
      if (take > 0 || (ss.spans.length === 0 && left > 0)) a.push({ ...ss, spans: ss.spans.slice(0, take) });
      if (take < ss.spans.length || (ss.spans.length === 0 && left === 0)) b.push({ ...ss, spans: ss.spans.slice(take) });
    }
    if (a.length > 0 || (rs.scopeSpans.length === 0 && left > 0)) first.resourceSpans.push({ ...rs, scopeSpans: a });
    if (b.length > 0 || (rs.scopeSpans.length === 0 && left === 0)) rest.resourceSpans.push({ ...rs, scopeSpans: b });
  }
  return [first, rest];
}
