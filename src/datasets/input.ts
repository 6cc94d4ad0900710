// Opening input files the same way everywhere: gzip is recognised by its magic bytes (a file
// named .csv may be compressed and one named .gz may not be), and file-system and zlib failures
// become one-line InputErrors that name the file.
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { InputError } from '../model/index.js';

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

/** The raw byte stream and, for gzip files, the gunzip stage after it (callers pipe both). */
export async function openByteStages(path: string): Promise<Readable[]> {
  const gz = await isGzipFile(path);
  const file = createReadStream(path);
  return gz ? [file, createGunzip()] : [file];
}

/**
 * Up to `maxBytes` of the file's content, decompressed when it is gzip; for sniffing the format.
 * A truncated gzip is not an error here (only the head is wanted).
 */
export async function readContentHead(path: string, maxBytes: number): Promise<Buffer> {
  const raw = await readRawHead(path, maxBytes);
  if (!(raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b)) return raw;
  const file = createReadStream(path);
  const gunzip = createGunzip();
  file.on('error', (err) => gunzip.destroy(err));
  file.pipe(gunzip);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of gunzip) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= maxBytes) break;
    }
  } catch {
    // a corrupt or truncated stream still yields what it decoded before the damage
  } finally {
    file.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}

/** The whole file as UTF-8 text, gunzipped when it is gzip. For formats that are read whole (JSON). */
export async function readWholeText(path: string): Promise<string> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    throw fileError(err, path);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (err) {
      throw gzipError(err, path, undefined) ?? err;
    }
  }
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
