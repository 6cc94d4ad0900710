// Reading files that may be compressed, with bounds: gzip (by its magic bytes, whatever the name)
// and zstd (what the Collector's file exporter writes with `compression: zstd`) are decompressed as
// a stream, and the output is checked as it comes, so a 1 MB bomb stops at a limit with an
// InputError naming the file, instead of inflating to gigabytes (issue 15). Used by the OTLP file
// readers and by the dataset readers (CSV, Zipkin, Jaeger), which import it from here.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../model/errors.js';
import { isZstdFrame, zstdModule } from './zstd.js';

export interface ReadLimits {
  /** Largest document read whole (a JSON file, a single-message protobuf file), after decompression. Default 256 MiB. */
  maxDocumentBytes?: number;
  /**
   * Largest decompressed/compressed size ratio of a compressed file, checked once the output
   * passes 16 MiB (real trace files compress 5-30x; gzip cannot pass about 1030x). Default 200.
   */
  maxCompressionRatio?: number;
  /** Largest CSV record (one line, or a quoted field over several) in bytes. Default 16 MiB. */
  maxRecordBytes?: number;
}

export const DEFAULT_READ_LIMITS: Readonly<Required<ReadLimits>> = Object.freeze({
  maxDocumentBytes: 256 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxRecordBytes: 16 * 1024 * 1024,
});

/** Below this much output the compression ratio is not checked (small files compress very well). */
const RATIO_FLOOR_BYTES = 16 * 1024 * 1024;

export type FileCompression = 'gzip' | 'zstd' | 'none';

/** A file over a read limit. `limit` names the option to raise. */
export class ReadLimitError extends InputError {
  override name = 'ReadLimitError';
  constructor(
    readonly limit: keyof ReadLimits,
    readonly value: number,
    what: string,
    source: string,
  ) {
    super(`${what}: over the read limit ${limit} = ${value} (raise it with ReadLimits.${limit}, or on the command line --input-limits ${limit}=N)`, source);
  }
}

export function resolveReadLimits(limits: ReadLimits | undefined): Required<ReadLimits> {
  return {
    maxDocumentBytes: limits?.maxDocumentBytes ?? DEFAULT_READ_LIMITS.maxDocumentBytes,
    maxCompressionRatio: limits?.maxCompressionRatio ?? DEFAULT_READ_LIMITS.maxCompressionRatio,
    maxRecordBytes: limits?.maxRecordBytes ?? DEFAULT_READ_LIMITS.maxRecordBytes,
  };
}

/** A file-system failure as an InputError naming the path (missing, a directory, no permission). */
export function fileReadError(path: string, e: unknown): Error {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new InputError('no such file or directory', path);
  if (code === 'EACCES' || code === 'EPERM') return new InputError('permission denied', path);
  if (code === 'EISDIR') return new InputError('is a directory, expected a file', path);
  if (code === 'ENOTDIR') return new InputError('not a directory', path);
  return e instanceof Error ? e : new Error(String(e));
}

/** "<path> is empty": the one rule for a zero-byte input everywhere (issue 15). */
export function emptyFileError(path: string): InputError {
  const e = new InputError('is empty', path);
  e.message = `${path} is empty`;
  return e;
}

/** The file's size; an InputError when it is missing, a directory or empty. */
export async function nonEmptyFileSize(path: string): Promise<number> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    throw fileReadError(path, e);
  }
  if (s.isDirectory()) throw new InputError('is a directory, expected a file', path);
  if (s.isFile() && s.size === 0) throw emptyFileError(path);
  return s.size;
}

/** The first `n` bytes as stored. */
export async function readRawBytes(path: string, n: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileReadError(path, e);
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch (e) {
    throw fileReadError(path, e);
  } finally {
    await fh.close();
  }
}

export function compressionOf(head: Uint8Array): FileCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (isZstdFrame(head)) return 'zstd';
  return 'none';
}

export async function fileCompression(path: string): Promise<FileCompression> {
  return compressionOf(await readRawBytes(path, 4));
}

/** A decompression failure as an InputError (truncated or corrupt data), or undefined for other errors. */
export function decompressionError(err: unknown, path: string, compression: FileCompression): InputError | undefined {
  if (err instanceof InputError) return err;
  const e = err as (NodeJS.ErrnoException & { errno?: number }) | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const what = compression === 'zstd' ? 'zstd' : 'gzip';
  if (code === 'Z_BUF_ERROR' || /unexpected end of file|truncated|incomplete/i.test(e?.message ?? '')) {
    return new InputError(`truncated ${what} data: unexpected end of file`, path);
  }
  if (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED' || compression === 'zstd') {
    return new InputError(`corrupt ${what} data: ${e?.message}`, path);
  }
  return undefined;
}

export interface ContentStreamOptions extends ReadLimits {
  /** Stop with a ReadLimitError when the content passes this many bytes (a whole-document read). */
  maxBytes?: number;
  /** Which limit maxBytes is, for the error (default maxDocumentBytes). */
  maxBytesLimit?: keyof ReadLimits;
}

/**
 * The file's content as chunks, decompressed when it is gzip or zstd, within the limits: the ratio
 * of a compressed file, and `maxBytes` when given. Errors are InputErrors naming the file.
 */
export async function* readContentChunks(path: string, options: ContentStreamOptions = {}): AsyncGenerator<Buffer> {
  const limits = resolveReadLimits(options);
  const compression = await fileCompression(path);
  // Compressed: small reads, so that bytesRead follows what the decompressor has consumed and the
  // ratio check fires early (a 1 MiB read-ahead let a 1 MB bomb inflate 200 MB before it).
  const file = createReadStream(path, { highWaterMark: compression === 'none' ? 1 << 20 : 1 << 16 });
  let stream: Readable = file;
  if (compression === 'gzip') stream = file.pipe(createGunzip());
  else if (compression === 'zstd') {
    const z = zstdModule();
    if (!z) {
      file.destroy();
      throw new InputError('is zstd-compressed, and zstd-napi (an optional dependency of slimtrace) cannot be loaded here: decompress it with `zstd -d` first', path);
    }
    // windowLogMax 27: a 128 MiB window at most, so a hostile frame header cannot ask for more.
    stream = file.pipe(new z.DecompressStream({ windowLogMax: 27 }));
  }
  if (stream !== file) file.on('error', (e) => stream.destroy(e));
  let out = 0;
  try {
    for await (const chunk of stream) {
      out += (chunk as Buffer).length;
      if (options.maxBytes !== undefined && out > options.maxBytes) {
        const limit = options.maxBytesLimit ?? 'maxDocumentBytes';
        throw new ReadLimitError(limit, options.maxBytes, `content larger than ${options.maxBytes} bytes${compression !== 'none' ? ' once decompressed' : ''}`, path);
      }
      if (compression !== 'none' && out > RATIO_FLOOR_BYTES && out > limits.maxCompressionRatio * Math.max(1, file.bytesRead)) {
        throw new ReadLimitError(
          'maxCompressionRatio',
          limits.maxCompressionRatio,
          `${compression} data inflating more than ${limits.maxCompressionRatio}x (${out} bytes from ${file.bytesRead})`,
          path,
        );
      }
      yield chunk as Buffer;
    }
  } catch (e) {
    throw decompressionError(e, path, compression) ?? fileReadError(path, e);
  } finally {
    file.destroy();
    stream.destroy();
  }
}

/** The whole content (decompressed), at most `maxDocumentBytes`. */
export async function readWholeContent(path: string, limits?: ReadLimits): Promise<Buffer> {
  const max = resolveReadLimits(limits).maxDocumentBytes;
  const chunks: Buffer[] = [];
  for await (const c of readContentChunks(path, { ...limits, maxBytes: max })) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Up to `n` bytes of the content (decompressed); a damaged stream yields what it decoded first. */
export async function readContentPrefix(path: string, n: number): Promise<Buffer> {
  await fileCompression(path); // a missing file or a directory is an error here
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of readContentChunks(path)) {
      chunks.push(c);
      size += c.length;
      if (size >= n) break;
    }
  } catch {
    // a corrupt or truncated stream still yields what it decoded before the damage
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** Strips a compression suffix (`.gz`, `.zst`) from a file name, for format detection by name. */
export function withoutCompressionSuffix(name: string): string {
  return name.replace(/\.(gz|zst|zstd)$/i, '');
}
