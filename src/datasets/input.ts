// Opening input files the same way everywhere: gzip is recognised by its magic bytes (a file
// named .csv may be compressed and one named .gz may not be), and file-system and zlib failures
// become one-line InputErrors that name the file.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InputError } from '../model/index.js';
import { nonEmptyFileSize, readContentChunks, readContentPrefix, readWholeContent, type ReadLimits } from '../otlp/compressed.js';

export async function isGzipFile(path: string): Promise<boolean> {
  const head = await readRawHead(path, 2);
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The first `n` bytes of the file as stored (not decompressed). */
export async function readRawHead(path: string, n: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(err, path);
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw fileError(err, path);
  } finally {
    await fh.close();
  }
}

/**
 * The content as one stage for a pipeline: decompressed when gzip or zstd, within the ratio limit
 * (src/otlp/compressed.ts), so a small bomb stops with an InputError naming the file.
 */
export async function openByteStages(path: string, limits?: ReadLimits): Promise<Readable[]> {
  return [Readable.from(readContentChunks(path, limits), { objectMode: false })];
}

/** Up to `maxBytes` of the file's content, decompressed; for sniffing the format. */
export async function readContentHead(path: string, maxBytes: number): Promise<Buffer> {
  return readContentPrefix(path, maxBytes);
}

/**
 * The whole file as UTF-8 text, decompressed. For formats that are read whole (JSON): at most
 * maxDocumentBytes (256 MiB by default) after decompression; an empty file is an error.
 */
export async function readWholeText(path: string, limits?: ReadLimits): Promise<string> {
  await nonEmptyFileSize(path);
  const raw = await readWholeContent(path, limits);
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

/** A file-system failure as an InputError (missing file, a directory, no permission). */
export function fileError(err: unknown, path: string): Error {
  if (err instanceof InputError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new InputError('no such file or directory', path);
    case 'EISDIR':
      return new InputError('is a directory, expected a file', path);
    case 'ENOTDIR':
      return new InputError('not a directory', path);
    case 'EACCES':
    case 'EPERM':
      return new InputError('permission denied', path);
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * A zlib failure as an InputError, or undefined when `err` is not one. `afterLine` is the last
 * line read before the damage, which tells the user how much of the file is sound.
 */
export function gzipError(err: unknown, path: string, afterLine: number | undefined): InputError | undefined {
  const e = err as (NodeJS.ErrnoException & { errno?: number }) | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const where = afterLine === undefined ? '' : ` after line ${afterLine}`;
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e?.message ?? '')) {
    return new InputError(`truncated gzip data: unexpected end of file${where}`, path);
  }
  if (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
    return new InputError(`corrupt gzip data${where}: ${e?.message}`, path);
  }
  return undefined;
}
