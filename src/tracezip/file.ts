// Tracezip files (`.tzip`): a sequence of stateless frames, each self-contained (its own
// dictionary, envelopes and tree), so a file can be cut, concatenated, read from any frame and
// decoded in parallel. Frames are self-delimiting: the header says how long the body is.
import { createReadStream } from 'node:fs';
import { InputError, type TracesData } from '../model/index.js';
import { AtomicFile, type ByteSink } from '../otlp/index.js';
import { ByteReader } from './bytes.js';
import { TracezipDecoder } from './decoder.js';
import { TracezipEncoder, type TracezipEncoderOptions } from './encoder.js';
import { TracezipFrameError } from './errors.js';
import { MAGIC_0, MAGIC_1, MAX_PAYLOAD_BYTES, readableVersion } from './format.js';

/** Total length of the frame starting at `offset`, or undefined when more bytes are needed to tell. */
export function frameLength(buf: Uint8Array, offset = 0): number | undefined {
  if (buf.length - offset < 12) return undefined;
  if (buf[offset] !== MAGIC_0 || buf[offset + 1] !== MAGIC_1) throw new TracezipFrameError('magic', `no frame starts at byte ${offset}`);
  if (!readableVersion(buf[offset + 2])) throw new TracezipFrameError('version', `format version ${buf[offset + 2]} at byte ${offset}`);
  const r = new ByteReader(buf, offset + 12);
  try {
    r.uvar(); // epoch
    r.uvar(); // seq
    r.uvar(); // payload length
    const body = r.uvar();
    if (body > MAX_PAYLOAD_BYTES) throw new TracezipFrameError('limit', `frame body of ${body} bytes at byte ${offset}`);
    return r.pos - offset + body + 4;
  } catch (e) {
    if (e instanceof TracezipFrameError && e.kind === 'malformed') return undefined; // header cut short
    throw e;
  }
}

/** True when the bytes start like a Tracezip frame. */
export function looksLikeTracezip(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === MAGIC_0 && head[1] === MAGIC_1 && readableVersion(head[2]);
}

/** Streams the batches of a .tzip file. Errors name the file and the frame. */
export async function* readTracezipFile(path: string): AsyncGenerator<TracesData> {
  const decoder = new TracezipDecoder();
  let pending: Uint8Array = new Uint8Array(0);
  let index = 0;
  let offset = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      const c = chunk as Buffer;
      if (pending.length === 0) pending = c;
      else {
        const next = new Uint8Array(pending.length + c.length);
        next.set(pending, 0);
        next.set(c, pending.length);
        pending = next;
      }
      let pos = 0;
      for (;;) {
        const len = frameOrFail(path, pending, pos, offset + pos, index);
        if (len === undefined || pos + len > pending.length) break;
        yield decodeStateless(path, decoder, pending.subarray(pos, pos + len), index, offset + pos);
        index++;
        pos += len;
      }
      offset += pos;
      pending = pending.subarray(pos).slice();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('no such file or directory', path);
    throw e;
  }
  if (pending.length > 0) throw new InputError(`truncated: ${pending.length} bytes after the last complete frame (${index} frames read)`, path);
}

function frameOrFail(path: string, buf: Uint8Array, pos: number, fileOffset: number, index: number): number | undefined {
  try {
    return frameLength(buf, pos);
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

/** Writes batches as stateless frames: to a path, written whole or not at all (an AtomicFile), or to a sink. */
export class TracezipFileWriter {
  private readonly out: ByteSink;
  private readonly encoder: TracezipEncoder;
  readonly path: string;
  bytesWritten = 0;
  frames = 0;

  constructor(target: string | ByteSink, options: Omit<TracezipEncoderOptions, 'stateless'> = {}) {
    this.encoder = new TracezipEncoder({ ...options, stateless: true });
    this.out = typeof target === 'string' ? new AtomicFile(target) : target;
    this.path = this.out.path;
  }

  async write(data: TracesData): Promise<void> {
    const frame = this.encoder.encode(data);
    this.bytesWritten += frame.length;
    this.frames++;
    await this.out.write(frame);
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
