// The disk queue's directory lock: two processes appending to one queue directory would interleave
// seqs and delete each other's segments, so a queue holds an exclusive LOCK file naming its process,
// and a lock left by a process that died is recognised and taken over. Node has no flock, so the lock
// is a file created atomically (written beside, then hard-linked into place, which fails if one
// exists). A lock is stale when its process is gone: on the same host, its pid is not running (or
// runs a different process: the start time differs, the host rebooted, or the pid is ours, as for
// pid 1 in a restarted container); from another host (a pod with a new name on the same volume),
// when its holder has not refreshed it for `staleMs`.
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../model/errors.js';

export const LOCK_FILE = 'LOCK';

/** 10 s: a holder touches its lock this often, so another host can tell it lives. */
export const DEFAULT_LOCK_REFRESH_MS = 10_000;
/** 60 s: six missed refreshes; only used for a lock from another host, where the pid says nothing. */
export const DEFAULT_LOCK_STALE_MS = 60_000;

/** Another live process holds the queue directory. */
export class QueueLockedError extends InputError {
  override name = 'QueueLockedError';
  constructor(
    readonly dir: string,
    readonly holder: string,
  ) {
    super(`the disk queue directory is in use by ${holder}; two processes cannot share one queue directory (lock file ${join(dir, LOCK_FILE)})`, dir);
  }
}

interface LockInfo {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id, when the system has it. */
  boot?: string;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22), when known. */
  start?: string;
  token: string;
}

/** Directories this process holds, so a second open in the same process is refused too. */
const heldHere = new Set<string>();

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function bootId(): Promise<string | undefined> {
  return (await readText('/proc/sys/kernel/random/boot_id'))?.trim() || undefined;
}

async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Field 2 (the command) is in parentheses and may hold spaces; field 22 is the 20th after it.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parse(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string') return v as LockInfo;
  } catch {
    // A lock that does not parse was not written by a live holder (it is linked into place whole).
  }
  return undefined;
}

function describe(info: LockInfo | undefined): string {
  return info ? `pid ${info.pid} on host ${info.host}` : 'an unreadable lock';
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export interface DirectoryLockOptions {
  staleMs?: number;
  refreshMs?: number;
  /** How long to wait for a live holder to let go before refusing; 0: refuse at once. */
  waitMs?: number;
  /** Told when a stale lock is taken over. */
  onTakeover?: (message: string) => void;
  /** Told when the lock file no longer names this holder (someone removed or replaced it). */
  onLost?: (message: string) => void;
}

export class DirectoryLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    readonly dir: string,
    private readonly info: LockInfo,
    private readonly onLost: ((message: string) => void) | undefined,
  ) {}

  static async acquire(dir: string, options: DirectoryLockOptions = {}): Promise<DirectoryLock> {
    const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
    const deadline = Date.now() + (options.waitMs ?? 0);
    if (heldHere.has(dir)) throw new QueueLockedError(dir, `this process (pid ${process.pid})`);
    heldHere.add(dir);
    try {
      const lock = new DirectoryLock(dir, await ourInfo(), options.onLost);
      await lock.take(staleMs, deadline, options.onTakeover);
      lock.startRefreshing(options.refreshMs ?? DEFAULT_LOCK_REFRESH_MS);
      return lock;
    } catch (err) {
      heldHere.delete(dir);
      throw err;
    }
  }

  private async take(staleMs: number, deadline: number, onTakeover: ((message: string) => void) | undefined): Promise<void> {
    const path = join(this.dir, LOCK_FILE);
    const text = JSON.stringify(this.info) + '\n';
    const tmp = join(this.dir, `${LOCK_FILE}.${this.info.token}.tmp`);
    await createSynced(tmp, text);
    try {
      for (;;) {
        if (await linkOrCreate(tmp, path, text)) {
          await fsyncDir(this.dir);
          await removeLeftovers(this.dir, tmp);
          return;
        }
        const found = await readText(path);
        if (found === undefined) continue; // gone between the link and the read: try again
        const holder = parse(found);
        const stale = await staleness(holder, path, staleMs);
        if (!stale) {
          if (Date.now() >= deadline) throw new QueueLockedError(this.dir, describe(holder));
          await new Promise((ok) => setTimeout(ok, 100));
          continue;
        }
        // Move the stale lock aside and check it is the one judged: another opener may have taken
        // the stale lock over in between, and its fresh lock must go back.
        const aside = join(this.dir, `${LOCK_FILE}.${this.info.token}.stale`);
        try {
          await fsp.rename(path, aside);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw err;
        }
        const moved = await readText(aside);
        if (moved !== found) {
          await fsp.link(aside, path).catch(() => undefined);
          await fsp.unlink(aside).catch(() => undefined);
          continue;
        }
        await fsp.unlink(aside);
        onTakeover?.(`took over the stale lock of ${describe(holder)} (${stale})`);
      }
    } finally {
      await fsp.unlink(tmp).catch(() => undefined);
    }
  }

  private startRefreshing(refreshMs: number): void {
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const path = join(this.dir, LOCK_FILE);
    const text = await readText(path);
    if (this.released) return;
    if (parse(text ?? '')?.token !== this.info.token) {
      clearInterval(this.timer);
      this.onLost?.(`the lock file ${path} no longer names this process (${text === undefined ? 'removed' : `now ${describe(parse(text))}`})`);
      return;
    }
    const now = new Date();
    await fsp.utimes(path, now, now).catch(() => undefined);
  }

  /** Removes the lock file if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    const path = join(this.dir, LOCK_FILE);
    if (parse((await readText(path)) ?? '')?.token === this.info.token) await fsp.unlink(path).catch(() => undefined);
    heldHere.delete(this.dir);
  }
}

/** A minute: a temp file of an opener older than this belongs to one that died mid-way. */
const LEFTOVER_AGE_MS = 60_000;

/** Removes the temp and set-aside lock files openers that died left behind. */
async function removeLeftovers(dir: string, ours: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    if (!/^LOCK\.[0-9a-f]+\.(tmp|stale)$/.test(name) || join(dir, name) === ours) continue;
    const path = join(dir, name);
    const age = await fsp.stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > LEFTOVER_AGE_MS) await fsp.unlink(path).catch(() => undefined);
  }
}

async function ourInfo(): Promise<LockInfo> {
  const info: LockInfo = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
  const boot = await bootId();
  if (boot) info.boot = boot;
  const start = await startTime(process.pid);
  if (start) info.start = start;
  return info;
}

/** Creates `path` (failing if it exists) holding `text`, synced. */
async function createSynced(path: string, text: string): Promise<void> {
  const h = await fsp.open(path, 'wx');
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Hard-links the written lock into place (atomic, fails when a lock exists); true when taken. */
async function linkOrCreate(tmp: string, path: string, text: string): Promise<boolean> {
  try {
    await fsp.link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  // A file system without hard links: exclusive create, then write (a reader may briefly see it
  // empty, which staleness() counts as held for its first second).
  try {
    await createSynced(path, text);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Why the lock is stale, or undefined when its holder may be alive. */
async function staleness(holder: LockInfo | undefined, path: string, staleMs: number): Promise<string | undefined> {
  let mtime: number;
  try {
    mtime = (await fsp.stat(path)).mtimeMs;
  } catch {
    return 'removed';
  }
  const age = Date.now() - mtime;
  if (!holder) return age > 1000 ? 'unreadable' : undefined;
  if (holder.host !== hostname()) return age > staleMs ? `another host, not refreshed for ${Math.round(age / 1000)} s` : undefined;
  const boot = await bootId();
  if (holder.boot && boot && holder.boot !== boot) return 'the host has rebooted since';
  if (holder.pid === process.pid) return 'its pid is now this process';
  if (!alive(holder.pid)) return 'its process is gone';
  const start = await startTime(holder.pid);
  if (holder.start && start && holder.start !== start) return 'its pid now runs another process';
  return undefined;
}
