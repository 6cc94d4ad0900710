// Outputs written whole or not at all. Bytes go to a temporary file beside the target (the same
// folder, so the final rename stays on one file system and is atomic); committing renames it over
// the target, aborting removes it, and so does the end of the process when neither happened (the
// CLI also calls removeUnfinishedOutputs on SIGINT/SIGTERM). A failed or interrupted run therefore
// leaves no truncated file, and an existing target keeps its old content until the new one is
// complete. A target that is not a regular file (/dev/null, a FIFO, a terminal) is written in
// place: there is nothing to rename over it.
//
// Every file-system failure becomes an OutputError naming the path, so callers report it in one line.
import { rmSync, unlinkSync } from 'node:fs';
import { access, constants, lstat, mkdir, mkdtemp, open, realpath, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../model/errors.js';

/** An output that cannot be created, written or put in place (a missing folder, a directory, no permission, a full disk). */
export class OutputError extends InputError {
  override name = 'OutputError';
}

/** Where a writer's bytes go: `close` makes them the output, `abort` throws them away. */
export interface ByteSink {
  readonly path: string;
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** An output of a run: `finish` does all that can fail but the last step, `close` puts it in place, `abort` removes it. */
export interface Output {
  readonly path: string;
  finish(): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Small writes are gathered up to this many bytes before they go to the file: a CSV line or a
 * small frame per system call would cost more than the encoding that produced it.
 */
const WRITE_BUFFER_BYTES = 1 << 20;

/** What an output error means for the user, by errno code (the code itself for the rest). */
function describeOutputFailure(e: unknown, path: string): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return `cannot write: the folder ${dirname(path)} does not exist`;
    case 'ENOTDIR':
      return `cannot write: a part of the path is not a folder`;
    case 'EISDIR':
      return 'cannot write: is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'cannot write: permission denied';
    case 'EROFS':
      return 'cannot write: read-only file system';
    case 'ENOSPC':
      return 'cannot write: no space left on the device';
    case 'EDQUOT':
      return 'cannot write: disk quota exceeded';
    case 'ENAMETOOLONG':
      return 'cannot write: the name is too long';
    default:
      return `cannot write: ${err.code ?? err.message}`;
  }
}

export function outputError(e: unknown, path: string): OutputError {
  if (e instanceof OutputError) return e;
  return new OutputError(describeOutputFailure(e, path), path);
}

interface Unfinished {
  /** Removes what was staged, synchronously (it runs in exit and signal handlers). */
  discardNow(): void;
}

const unfinished = new Set<Unfinished>();
let exitHookInstalled = false;

function track(u: Unfinished): void {
  if (!exitHookInstalled) {
    // Whatever ends the process (process.exit after an error, an uncaught exception), nothing
    // half-written stays behind.
    process.on('exit', removeUnfinishedOutputs);
    exitHookInstalled = true;
  }
  unfinished.add(u);
}

/**
 * Removes the temporary files of every output not yet committed or aborted; returns how many.
 * Synchronous, for signal handlers (the CLI's SIGINT/SIGTERM) and the process's exit.
 */
export function removeUnfinishedOutputs(): number {
  const n = unfinished.size;
  for (const u of unfinished) u.discardNow();
  unfinished.clear();
  return n;
}

/** A hidden name beside the target that no other run picks (pid plus random bytes). */
function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Where the output really goes: through a symbolic link to its target, whose kind decides how it is written. */
async function resolveTarget(path: string): Promise<{ target: string; existing: import('node:fs').Stats | undefined }> {
  let target = path;
  let existing;
  try {
    existing = await lstat(path);
    if (existing.isSymbolicLink()) {
      try {
        target = await realpath(path);
        existing = await stat(target);
      } catch {
        existing = undefined; // a dangling link: the output replaces it
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw outputError(e, path);
  }
  if (existing?.isDirectory()) throw new OutputError('cannot write: is a directory', path);
  return { target, existing };
}

/** A file output (see the module comment). Opening starts at construction; `AtomicFile.create` waits for it so a bad path fails before any work. */
export class AtomicFile implements ByteSink, Output {
  bytesWritten = 0;
  private handle: FileHandle | undefined;
  /** The staging file; undefined when the target is written in place. */
  private temp: string | undefined;
  private target: string;
  private readonly ready: Promise<void>;
  private buffer: Buffer | undefined;
  private used = 0;
  private done = false;
  private readonly tracked: Unfinished;

  constructor(readonly path: string) {
    this.target = path;
    this.tracked = { discardNow: () => this.discardNow() };
    this.ready = this.open();
    this.ready.catch(() => {}); // reported by the first write, close or create
  }

  /** Opens the output, failing here (with an OutputError) when it cannot be written. */
  static async create(path: string): Promise<AtomicFile> {
    const f = new AtomicFile(path);
    await f.ready;
    return f;
  }

  private async open(): Promise<void> {
    const { target, existing } = await resolveTarget(this.path);
    this.target = target;
    if (existing && !existing.isFile()) {
      try {
        this.handle = await open(target, 'w');
      } catch (e) {
        throw outputError(e, this.path);
      }
      return;
    }
    if (existing) {
      // Renaming over a file the user may not write would bypass its permissions.
      try {
        await access(target, constants.W_OK);
      } catch (e) {
        throw outputError(e, this.path);
      }
    }
    const temp = tempNameFor(target);
    try {
      this.handle = await open(temp, 'wx');
      this.temp = temp;
      track(this.tracked);
      if (existing) await this.handle.chmod(existing.mode & 0o7777);
    } catch (e) {
      await this.release(); // not abort(): that waits for this very opening
      throw outputError(e, this.path);
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    await this.ready;
    if (this.done) throw new OutputError('written after it was closed', this.path);
    this.bytesWritten += bytes.length;
    if (this.used + bytes.length > WRITE_BUFFER_BYTES) await this.flush();
    // Copied (small) or written before returning (large): the caller may reuse its buffer.
    if (bytes.length >= WRITE_BUFFER_BYTES) await this.writeFully(bytes);
    else {
      this.buffer ??= Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
      this.buffer.set(bytes, this.used);
      this.used += bytes.length;
    }
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    await this.writeFully(this.buffer!.subarray(0, n));
  }

  private async writeFully(bytes: Uint8Array): Promise<void> {
    try {
      for (let off = 0; off < bytes.length; ) {
        const { bytesWritten } = await this.handle!.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
    } catch (e) {
      throw outputError(e, this.path);
    }
  }

  /**
   * Writes out what is buffered and closes the file, so that putting it in place (close) is only a
   * rename: a command with several outputs finishes them all before it puts any in place. Not
   * fsynced: this protects against a failed or interrupted run, not against losing power.
   */
  async finish(): Promise<void> {
    await this.ready;
    if (this.done || this.handle === undefined) return;
    try {
      await this.flush();
      await this.handle.close();
      this.handle = undefined;
    } catch (e) {
      await this.release();
      throw outputError(e, this.path);
    }
  }

  /** Finishes the file and puts it in place. */
  async close(): Promise<void> {
    await this.finish();
    if (this.done) return;
    try {
      if (this.temp !== undefined) await rename(this.temp, this.target);
    } catch (e) {
      await this.release();
      throw outputError(e, this.path);
    }
    this.done = true;
    this.temp = undefined;
    unfinished.delete(this.tracked);
  }

  /** Throws away what was written; the target keeps what it held before. Never throws. */
  async abort(): Promise<void> {
    await this.ready.catch(() => {});
    await this.release();
  }

  private async release(): Promise<void> {
    this.done = true;
    this.used = 0;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
    if (this.temp !== undefined) await unlink(this.temp).catch(() => {});
    this.temp = undefined;
    unfinished.delete(this.tracked);
  }

  private discardNow(): void {
    this.done = true;
    // Closed through its FileHandle, never by fd: a FileHandle whose fd was closed behind its back
    // closes that number again when it is collected (EBADF, or worse, another file's descriptor once
    // the number is reused). At exit the close need not finish: the process's descriptors go with it.
    const handle = this.handle;
    this.handle = undefined;
    void handle?.close().catch(() => {});
    if (this.temp !== undefined) {
      try {
        unlinkSync(this.temp);
      } catch {
        // already gone
      }
    }
    this.temp = undefined;
  }
}

/**
 * A directory output (a generated source tree): files are written into a staging directory beside
 * the target, which becomes the target when it does not exist yet, or whose files are moved into
 * it (each replacing its namesake) when it does. Aborting removes the staging directory.
 */
export class AtomicDirectory implements Output {
  private stage: string | undefined;
  private existing = false;
  private readonly files: string[] = [];
  private done = false;
  private readonly tracked: Unfinished;

  private constructor(readonly path: string) {
    this.tracked = { discardNow: () => this.discardNow() };
  }

  static async create(path: string): Promise<AtomicDirectory> {
    const d = new AtomicDirectory(path);
    try {
      const s = await stat(path);
      if (!s.isDirectory()) throw new OutputError('cannot write: exists and is not a directory', path);
      await access(path, constants.W_OK);
      d.existing = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw outputError(e, path);
    }
    try {
      d.stage = await mkdtemp(join(dirname(path), `.${basename(path)}.${process.pid}-`));
    } catch (e) {
      throw outputError(e, path);
    }
    track(d.tracked);
    return d;
  }

  /** Writes one file at `relative` (with `/` separators) under the directory. */
  async writeFile(relative: string, content: string | Uint8Array): Promise<void> {
    if (this.done || this.stage === undefined) throw new OutputError('written after it was closed', this.path);
    const file = join(this.stage, ...relative.split('/'));
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    } catch (e) {
      throw outputError(e, join(this.path, relative));
    }
    this.files.push(relative);
  }

  /** Its files are written as they come: nothing is left to do before putting it in place. */
  async finish(): Promise<void> {}

  async close(): Promise<void> {
    if (this.done) return;
    const stage = this.stage!;
    try {
      if (!this.existing) await rename(stage, this.path);
      else {
        for (const relative of this.files) {
          const to = join(this.path, ...relative.split('/'));
          await mkdir(dirname(to), { recursive: true });
          await rename(join(stage, ...relative.split('/')), to);
        }
        await rm(stage, { recursive: true, force: true });
      }
    } catch (e) {
      await this.abort();
      throw outputError(e, this.path);
    }
    this.done = true;
    this.stage = undefined;
    unfinished.delete(this.tracked);
  }

  async abort(): Promise<void> {
    this.done = true;
    if (this.stage !== undefined) await rm(this.stage, { recursive: true, force: true }).catch(() => {});
    this.stage = undefined;
    unfinished.delete(this.tracked);
  }

  private discardNow(): void {
    this.done = true;
    if (this.stage !== undefined) {
      try {
        rmSync(this.stage, { recursive: true, force: true });
      } catch {
        // already gone
      }
    }
    this.stage = undefined;
  }
}
