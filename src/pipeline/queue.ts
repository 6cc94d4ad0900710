// DiskQueue: the bounded, disk-backed, at-least-once queue the agent and the gateway put between "a
// client was acknowledged" and "the next hop has it". Records are opaque payloads (OTLP protobuf
// requests); append resolves once the record is written and fdatasync'd, and appends that arrive
// while a sync runs are written and synced together (group commit), so many concurrent clients cost
// one sync per batch, not one each. Records are read back in order, several may be in flight, acks
// come in any order; the commit point (the lowest seq not acknowledged) is persisted in a small
// cursor file, in batches, and a crash delivers again everything from the persisted commit point
// on: at most `maxInFlight` records that had already been handed out (the duplicate bound). The
// guarantee, the duplicate bound and the files are described in docs/deployment.md ("Delivery
// guarantee"); the bytes in queue-format.ts.
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../model/errors.js';
import { Backpressure, RequestTooLargeError } from './sink.js';
import {
  CURSOR_MAGIC,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  checkPayload,
  decodeHeader,
  encodeHeader,
  encodeRecordHeader,
  readRecordHeader,
  scanSegment,
} from './queue-format.js';
import { DirectoryLock, type DirectoryLockOptions } from './queue-lock.js';

/** 1 GiB: hours of a busy node's traffic at OTLP sizes while the next hop is down, on any disk. */
export const DEFAULT_QUEUE_MAX_BYTES = 1024 * 1024 * 1024;
/** 64 MiB: the OTLP receivers' default cap on a decompressed request, so every request they take fits. */
export const DEFAULT_QUEUE_MAX_RECORD_BYTES = 64 * 1024 * 1024;
/**
 * 32 MiB: segments are deleted whole once everything in them is committed, so disk use runs ahead
 * of the bound by at most about one segment; recovery reads one segment at a time into memory.
 */
export const DEFAULT_QUEUE_SEGMENT_BYTES = 32 * 1024 * 1024;
/**
 * 4096 records: how far delivery may run ahead of the persisted commit point. It is the duplicate
 * bound (a crash delivers again at most this many records that had been handed out) and bounds the
 * memory the queue keeps per record in flight (about a hundred bytes, never the payload). A consumer
 * that holds records until a sampler decides their traces needs the window to cover the decision
 * wait: 4096 covers the sampler's default 10 s at twice the agent's 100k spans/s target in the
 * SDKs' default 512-span requests; past that, the window, not the disk, paces delivery.
 */
export const DEFAULT_QUEUE_MAX_IN_FLIGHT = 4096;
/**
 * 100 ms: how long acks gather before the cursor is written (two fsyncs), unless half the in-flight
 * window waits on it, which writes it at once.
 */
export const DEFAULT_QUEUE_CURSOR_DELAY_MS = 100;

/** Bounds of the Retry-After estimate a full queue answers with. */
const RETRY_AFTER_MIN_S = 1;
const RETRY_AFTER_MAX_S = 30;
/** The drain rate behind the estimate is measured over this window. */
const DRAIN_WINDOW_MS = 10_000;
/** After a failed cursor write, the next try waits this long. */
const CURSOR_RETRY_MS = 1000;
/** Sequential reads fetch this much at a time. */
const READ_CHUNK = 1024 * 1024;
/**
 * Copies of the records this process wrote, up to this many payload bytes, are kept until the
 * reader reaches them, so a consumer that keeps up takes them from memory: no read back and no
 * second CRC over bytes this process just wrote and synced (on the agent, a queue record read back
 * and checked cost ~3% of its CPU). Records past this (a consumer far behind) are read from disk.
 */
const WRITTEN_IN_MEMORY_BYTES = 16 * 1024 * 1024;

const CURSOR_FILE = 'cursor';
const SEGMENT_NAME = /^(\d{20})\.seg$/;

export interface DiskQueueOptions {
  /** The queue directory (created if missing); one process at a time (a lock file guards it). */
  dir: string;
  /** Bound on the bytes not yet committed, framing included; an append beyond it gets Backpressure. */
  maxBytes?: number;
  /** Largest payload one append takes; a larger one is refused with RecordTooLargeError. */
  maxRecordBytes?: number;
  /** A segment file is closed and a new one begun past this size. */
  segmentBytes?: number;
  /** How far delivery may run ahead of the persisted commit point, in records (the duplicate bound). */
  maxInFlight?: number;
  /** How long acks gather before the cursor is written. */
  cursorDelayMs?: number;
  /** Directory lock timings (staleMs, refreshMs) and how long open waits for a live holder (waitMs). */
  lock?: Pick<DirectoryLockOptions, 'staleMs' | 'refreshMs' | 'waitMs'>;
  /** Told about torn tails, corruption, a stale lock taken over, I/O trouble; default: process.emitWarning. */
  onWarning?: (warning: QueueWarning) => void;
}

export interface QueueWarning {
  code: 'torn-tail' | 'corrupt' | 'cursor' | 'stale-lock' | 'io' | 'failed';
  message: string;
}

/** One record as next() hands it out. */
export interface QueueRecord {
  seq: number;
  payload: Uint8Array;
  /** 1 the first time this process hands the record out; more after nack or rewind. */
  deliveries: number;
}

export interface QueueStats {
  /** Records appended (or recovered) and not yet acknowledged, pending writes included. */
  depthRecords: number;
  /** Their bytes, framing included. */
  depthBytes: number;
  /** Bytes from the commit point on (what the bound counts): depthBytes plus records acked out of order. */
  uncommittedBytes: number;
  maxBytes: number;
  /** Records handed out by next() and not yet acknowledged. */
  inFlight: number;
  /** Appends that resolved (durable), since open. */
  appended: number;
  /** Their payload bytes. */
  appendedBytes: number;
  /** fdatasyncs that made appends durable: appended / syncs is the group commit's batch size. */
  syncs: number;
  /** Records acknowledged, since open. */
  acked: number;
  /** Records handed out again after nack or rewind, since open. */
  redelivered: number;
  /** Appends refused because the queue was full, since open. */
  rejectedFull: number;
  /** Records found at open from the commit point on (delivered again). */
  recoveredRecords: number;
  /** Records lost to corruption (counted from the seqs missing around damage) and the damaged bytes skipped. */
  corruptRecords: number;
  corruptBytes: number;
  /** Torn tails truncated at open (a write the process did not finish) and their bytes. */
  tornTails: number;
  tornBytes: number;
  segments: number;
  /** The lowest seq not yet acknowledged (in memory) and as last persisted in the cursor file. */
  commitSeq: number;
  persistedCommitSeq: number;
  /** The seq the next append gets. */
  nextSeq: number;
  /** Why the queue stopped accepting appends, when it did (an I/O failure; reopen to recover). */
  failure?: string;
}

/** A call on a closed queue, or a next() on one that is closing. */
export class QueueClosedError extends Error {
  override name = 'QueueClosedError';
  constructor(dir: string, closing = false) {
    super(`disk queue ${dir} is ${closing ? 'closing' : 'closed'}`);
  }
}

/** The payload is larger than the queue takes; retrying cannot help. */
export class RecordTooLargeError extends RequestTooLargeError {
  override name = 'RecordTooLargeError';
  constructor(bytes: number, readonly maxRecordBytes: number, dir: string) {
    super(bytes, maxRecordBytes, `a record of ${bytes} bytes is larger than the disk queue takes (${maxRecordBytes} bytes, maxRecordBytes)`, dir);
  }
}

/** The queue met an I/O failure it cannot vouch past (a failed fsync, damage while running); reopen it. */
export class QueueFailedError extends Error {
  override name = 'QueueFailedError';
}

interface Segment {
  /** The first seq it was created for; its records have this seq or later, below the next segment's. */
  name: number;
  path: string;
  /** Open descriptor, or -1 (sealed segments are opened when read). */
  fd: number;
  /** Bytes readers may read: everything synced. */
  durable: number;
  /** Byte ranges recovery found damaged, skipped by the reader. */
  damage: [number, number][];
  deleted: boolean;
}

const IN_FLIGHT = 0;
const READY = 1;
const ACKED = 2;

/** A record handed out and not yet committed: where it is, so it can be read again. */
interface Entry {
  seq: number;
  seg: Segment;
  offset: number;
  frameBytes: number;
  state: typeof IN_FLIGHT | typeof READY | typeof ACKED;
  deliveries: number;
}

/** A copy of a record this process wrote and synced, where it lies, until the reader takes it. */
interface WrittenRecord {
  seq: number;
  seg: Segment;
  offset: number;
  payload: Uint8Array;
}

interface PendingAppend {
  seq: number;
  header: Buffer;
  payload: Uint8Array;
  frameBytes: number;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

interface Waiter {
  resolve: (r: QueueRecord) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

// ---- node:fs with numeric descriptors, as promises ----------------------------------------------

function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((ok, fail) => fn((err, value) => (err ? fail(err) : ok(value))));
}
const openFile = (path: string, flags: string) => call<number>((cb) => fs.open(path, flags, cb));
const closeFile = (fd: number) => call<void>((cb) => fs.close(fd, (err) => cb(err, undefined)));
const syncData = (fd: number) => call<void>((cb) => fs.fdatasync(fd, (err) => cb(err, undefined)));
const syncFile = (fd: number) => call<void>((cb) => fs.fsync(fd, (err) => cb(err, undefined)));
const truncateFile = (fd: number, len: number) => call<void>((cb) => fs.ftruncate(fd, len, (err) => cb(err, undefined)));
const writeAt = (fd: number, bufs: Uint8Array[], pos: number) => call<number>((cb) => fs.writev(fd, bufs as NodeJS.ArrayBufferView[], pos, cb));
const readAt = (fd: number, buf: Buffer, len: number, pos: number) => call<number>((cb) => fs.read(fd, buf, 0, len, pos, cb));

async function readFully(fd: number, len: number, pos: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = await call<number>((cb) => fs.read(fd, buf, got, len - got, pos + got, cb));
    if (n === 0) throw new Error(`short read: ${got} of ${len} bytes at ${pos}`);
    got += n;
  }
  return buf;
}

async function syncDir(dir: string): Promise<void> {
  const fd = await openFile(dir, 'r');
  try {
    await syncFile(fd);
  } finally {
    await closeFile(fd);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function segmentFile(seq: number): string {
  return `${String(seq).padStart(20, '0')}.seg`;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`DiskQueue option ${name} must be a positive integer, got ${value}`);
  return v;
}

export class DiskQueue {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly maxRecordBytes: number;
  private readonly segmentBytes: number;
  private readonly maxInFlight: number;
  private readonly cursorDelayMs: number;
  private readonly warn: (w: QueueWarning) => void;
  private lock: DirectoryLock | undefined;

  // Segments, oldest first; the last one takes appends (once this process has appended).
  private segments: Segment[] = [];
  private active: Segment | undefined;
  private nextSeq = 0;

  // Appends: pending ones wait for the writer, which writes and syncs them as one batch.
  private pending: PendingAppend[] = [];
  private writer: Promise<void> | undefined;

  // Reading: the sequential reader's place, and the records handed out and not yet committed.
  private rSeg: Segment | undefined;
  private rOff = 0;
  private rNextSeq = 0;
  private rChunk: Buffer | undefined;
  private rBuf: Buffer = Buffer.alloc(0);
  private rBufStart = 0;
  private rBufSeg: Segment | undefined;
  /** Records written and synced by this process, in file order, that the reader has not reached. */
  private written: WrittenRecord[] = [];
  private writtenHead = 0;
  private writtenBytes = 0;
  private window: Entry[] = [];
  private entries = new Map<number, Entry>();
  private ready: Entry[] = [];
  private waiters: Waiter[] = [];
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;

  // Commit: seqs committed in memory whose cursor write has not completed yet.
  private unpersisted: number[] = [];
  private persistedCommit = 0;
  private persistTimer: NodeJS.Timeout | undefined;
  private persisting: Promise<void> | undefined;
  /** Another persist was asked for while one ran (and whether urgently). */
  private persistQueued = false;
  private persistUrgent = false;
  /** After a failed cursor write, the next waits until then (no busy loop on a full disk). */
  private persistRetryAt = 0;
  private drain: { t: number; bytes: number }[] = [];

  private counters = {
    depthRecords: 0,
    depthBytes: 0,
    uncommittedBytes: 0,
    appended: 0,
    appendedBytes: 0,
    syncs: 0,
    acked: 0,
    redelivered: 0,
    rejectedFull: 0,
    recoveredRecords: 0,
    corruptRecords: 0,
    corruptBytes: 0,
    tornTails: 0,
    tornBytes: 0,
  };
  private failure: string | undefined;
  /** close() began: appends are refused, next() ends. */
  private stopping = false;
  private closing: Promise<void> | undefined;
  private closed = false;

  private constructor(dir: string, options: DiskQueueOptions) {
    this.dir = dir;
    this.maxBytes = positiveInteger('maxBytes', options.maxBytes, DEFAULT_QUEUE_MAX_BYTES);
    this.maxRecordBytes = positiveInteger('maxRecordBytes', options.maxRecordBytes, DEFAULT_QUEUE_MAX_RECORD_BYTES);
    this.segmentBytes = positiveInteger('segmentBytes', options.segmentBytes, DEFAULT_QUEUE_SEGMENT_BYTES);
    this.maxInFlight = positiveInteger('maxInFlight', options.maxInFlight, DEFAULT_QUEUE_MAX_IN_FLIGHT);
    this.cursorDelayMs = options.cursorDelayMs ?? DEFAULT_QUEUE_CURSOR_DELAY_MS;
    if (!(this.cursorDelayMs >= 0)) throw new RangeError(`DiskQueue option cursorDelayMs must be 0 or more, got ${options.cursorDelayMs}`);
    if (this.maxRecordBytes + RECORD_HEADER_BYTES > this.maxBytes) {
      throw new RangeError(`DiskQueue: maxRecordBytes (${this.maxRecordBytes}) plus framing must fit in maxBytes (${this.maxBytes})`);
    }
    this.warn =
      options.onWarning ??
      ((w) => process.emitWarning(`disk queue ${dir}: ${w.message}`, { type: 'SlimtraceQueueWarning', code: w.code }));
  }

  /** Opens (creating if needed) the queue in `options.dir`, takes its lock and recovers what is on disk. */
  static async open(options: DiskQueueOptions): Promise<DiskQueue> {
    let dir = resolve(options.dir);
    try {
      await fs.promises.mkdir(dir, { recursive: true });
      dir = await fs.promises.realpath(dir);
      await fs.promises.access(dir, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new InputError(`cannot use it as a disk queue directory: ${errorText(err)}`, options.dir);
    }
    const queue = new DiskQueue(dir, options);
    queue.lock = await DirectoryLock.acquire(dir, {
      ...options.lock,
      onTakeover: (message) => queue.warn({ code: 'stale-lock', message }),
      onLost: (message) => queue.fail(message),
    });
    try {
      await queue.recover();
    } catch (err) {
      await queue.closeFiles();
      await queue.lock.release();
      throw err;
    }
    return queue;
  }

  // ---- appending --------------------------------------------------------------------------------

  /**
   * Appends one record. Resolves with its seq once it is written and fdatasync'd; rejects at once
   * with Backpressure ('queue-full', with a Retry-After estimate) when it would take the queue past
   * maxBytes, with RecordTooLargeError above maxRecordBytes, with Backpressure ('shutting-down') once
   * close() began, and with Backpressure ('unavailable') when the write fails. The payload must not
   * change until the promise settles (it is written from the caller's buffer).
   */
  append(payload: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new QueueClosedError(this.dir));
    if (this.stopping) return Promise.reject(new Backpressure('shutting-down', RETRY_AFTER_MIN_S, `disk queue ${this.dir} is closing`));
    if (this.failure) return Promise.reject(this.unavailable());
    if (payload.length > this.maxRecordBytes) return Promise.reject(new RecordTooLargeError(payload.length, this.maxRecordBytes, this.dir));
    const frameBytes = RECORD_HEADER_BYTES + payload.length;
    if (this.counters.uncommittedBytes + frameBytes > this.maxBytes) {
      this.counters.rejectedFull++;
      const excess = this.counters.uncommittedBytes + frameBytes - this.maxBytes;
      const retry = this.retryAfter(excess);
      return Promise.reject(
        new Backpressure(
          'queue-full',
          retry,
          `disk queue full: ${this.counters.uncommittedBytes} of ${this.maxBytes} bytes not yet delivered; retry after ${retry} s`,
        ),
      );
    }
    const seq = this.nextSeq++;
    this.counters.depthRecords++;
    this.counters.depthBytes += frameBytes;
    this.counters.uncommittedBytes += frameBytes;
    return new Promise((resolve, reject) => {
      this.pending.push({ seq, header: encodeRecordHeader(seq, payload), payload, frameBytes, resolve, reject });
      this.writer ??= this.writeLoop();
    });
  }

  /** Largest payload one record takes (maxRecordBytes). */
  get recordLimit(): number {
    return this.maxRecordBytes;
  }

  /** Bytes the queue holds at most, record headers included (maxBytes). */
  get capacity(): number {
    return this.maxBytes;
  }

  /**
   * Appends several records that stand for one request (a gateway's frame that decodes to more than
   * one record holds): either every one is taken or, when the queue lacks room for all of them, none
   * is (Backpressure 'queue-full'), so a refused request leaves nothing behind to be duplicated by
   * its retry; more than the whole queue holds is RequestTooLargeError. Resolves with their seqs
   * once all are fdatasync'd. Only a write failure can leave some
   * written and others not; the queue is then failed and the caller's retry duplicates those.
   */
  appendAll(payloads: Uint8Array[]): Promise<number[]> {
    let total = 0;
    for (const p of payloads) {
      if (p.length > this.maxRecordBytes) return Promise.reject(new RecordTooLargeError(p.length, this.maxRecordBytes, this.dir));
      total += RECORD_HEADER_BYTES + p.length;
    }
    // More than the whole queue holds: waiting for it to drain cannot help (a retry would meet the
    // same answer for ever); a smaller request can, so this is "too large", not "full".
    if (total > this.maxBytes) {
      return Promise.reject(new RequestTooLargeError(total, this.maxBytes, `a request of ${total} bytes in ${payloads.length} records is larger than the whole disk queue (${this.maxBytes} bytes, maxBytes)`, this.dir));
    }
    if (!this.closed && !this.stopping && !this.failure && this.counters.uncommittedBytes + total > this.maxBytes) {
      this.counters.rejectedFull++;
      const excess = this.counters.uncommittedBytes + total - this.maxBytes;
      const retry = this.retryAfter(excess);
      return Promise.reject(new Backpressure('queue-full', retry, `disk queue full: ${this.counters.uncommittedBytes} of ${this.maxBytes} bytes not yet delivered, ${total} more asked; retry after ${retry} s`));
    }
    // Room for all was checked above and append() reserves synchronously: none of these meets a full queue.
    return Promise.all(payloads.map((p) => this.append(p)));
  }

  /** Seconds until `excess` bytes are likely to have drained, at the rate of the last few seconds. */
  private retryAfter(excess: number): number {
    const now = Date.now();
    this.pruneDrain(now);
    const bytes = this.drain.reduce((a, s) => a + s.bytes, 0);
    if (bytes === 0) return RETRY_AFTER_MAX_S;
    const rate = bytes / (Math.max(1000, now - this.drain[0]!.t) / 1000);
    return Math.min(RETRY_AFTER_MAX_S, Math.max(RETRY_AFTER_MIN_S, Math.ceil(excess / rate)));
  }

  private pruneDrain(now: number): void {
    while (this.drain.length > 0 && now - this.drain[0]!.t > DRAIN_WINDOW_MS) this.drain.shift();
  }

  private unavailable(): Backpressure {
    return new Backpressure('unavailable', RETRY_AFTER_MAX_S, `disk queue ${this.dir} failed (${this.failure}); restart to recover`);
  }

  /** Group commit: takes every pending append, writes and syncs them together, until none is left. */
  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (this.failure) {
        // Failed (a failed sync, the lock lost to another process): write nothing more.
        const reason = this.unavailable();
        for (const p of batch) {
          this.unstore(p);
          p.reject(reason);
        }
        continue;
      }
      try {
        await this.writeBatch(batch);
      } catch (err) {
        // writeBatch settled the records it made durable (the first `done`); the rest were not stored.
        const done = (err as { done?: number }).done ?? 0;
        const reason = this.failure ? this.unavailable() : new Backpressure('unavailable', RETRY_AFTER_MIN_S, `disk queue ${this.dir}: write failed: ${errorText(err)}`);
        const lost = batch.slice(done);
        if (this.failure) lost.push(...this.pending.splice(0));
        for (const p of lost) {
          this.unstore(p);
          p.reject(reason);
        }
      }
    }
    this.writer = undefined;
  }

  private unstore(p: PendingAppend): void {
    this.counters.depthRecords--;
    this.counters.depthBytes -= p.frameBytes;
    this.counters.uncommittedBytes -= p.frameBytes;
  }

  /**
   * Writes a batch into the active segment (beginning new segments as they fill), syncing each
   * segment before the next is begun and once at the end; resolves each record once its sync
   * returned. On failure it throws after settling the records it made durable, with the index of
   * the first record not stored as the error's `done`.
   */
  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    let first = 0; // the first record of the part not yet synced
    let bufs: Uint8Array[] = [];
    let bytes = 0;
    const flush = async (upTo: number): Promise<void> => {
      const seg = this.active!;
      const at = seg.durable;
      try {
        const n = await writeAt(seg.fd, bufs, at);
        if (n !== bytes) throw new Error(`short write: ${n} of ${bytes} bytes`);
      } catch (err) {
        // Nothing of this part was acknowledged: cut it off so the segment ends on a whole record.
        await truncateFile(seg.fd, at).catch((e) => this.fail(`cannot truncate ${seg.path} after a failed write: ${errorText(e)}`));
        throw err;
      }
      try {
        await syncData(seg.fd);
      } catch (err) {
        // After a failed fsync the kernel may have dropped the dirty pages: nothing written since the
        // last good sync can be vouched for, so the queue stops taking appends until it is reopened.
        this.fail(`fdatasync of ${seg.path} failed: ${errorText(err)}`);
        throw err;
      }
      seg.durable = at + bytes;
      this.counters.syncs++;
      for (let i = first, offset = at; i < upTo; i++) {
        const p = batch[i]!;
        // A copy (the caller may reuse its buffer once the append resolves), while the budget lasts.
        if (this.writtenBytes + p.payload.length <= WRITTEN_IN_MEMORY_BYTES) {
          this.written.push({ seq: p.seq, seg, offset, payload: Uint8Array.prototype.slice.call(p.payload) });
          this.writtenBytes += p.payload.length;
        }
        offset += p.frameBytes;
        this.counters.appended++;
        this.counters.appendedBytes += p.frameBytes - RECORD_HEADER_BYTES;
        p.resolve(p.seq);
      }
      first = upTo;
      bufs = [];
      bytes = 0;
      this.wake();
    };
    try {
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        const seg = this.active;
        if (!seg || (seg.durable + bytes > SEGMENT_HEADER_BYTES && seg.durable + bytes + p.frameBytes > this.segmentBytes)) {
          if (bytes > 0) await flush(i);
          await this.beginSegment(p.seq);
        }
        bufs.push(p.header, p.payload);
        bytes += p.frameBytes;
      }
      if (bytes > 0) await flush(batch.length);
    } catch (err) {
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { done: first });
    }
  }

  /** Creates the next segment, its header synced and its name in the directory synced. */
  private async beginSegment(seq: number): Promise<void> {
    const path = join(this.dir, segmentFile(seq));
    const fd = await openFile(path, 'wx+');
    try {
      await writeAt(fd, [encodeHeader(SEGMENT_MAGIC, seq)], 0);
      await syncData(fd);
      await syncDir(this.dir);
    } catch (err) {
      await closeFile(fd).catch(() => undefined);
      await fs.promises.unlink(path).catch(() => undefined);
      throw err;
    }
    const seg: Segment = { name: seq, path, fd, durable: SEGMENT_HEADER_BYTES, damage: [], deleted: false };
    const previous = this.active;
    this.segments.push(seg);
    this.active = seg;
    if (previous && previous !== this.rSeg && previous.fd >= 0 && !this.entriesIn(previous)) await this.closeSegment(previous);
    if (!this.rSeg) this.moveReader(seg);
    // The previous segment may already be wholly committed.
    this.requestPersist(false, true);
  }

  // ---- consuming --------------------------------------------------------------------------------

  /**
   * The next record to deliver, waiting until there is one: records handed back by nack or rewind
   * first (lowest seq first), then new ones in seq order. Several calls may wait at once; each gets
   * its own record. New records are held back while `maxInFlight` records are handed out and not
   * yet persisted as committed. Rejects when `signal` aborts, with QueueClosedError once close()
   * began (waiting calls too), and with QueueFailedError if the queue failed.
   */
  next(signal?: AbortSignal): Promise<QueueRecord> {
    if (this.stopping) return Promise.reject(new QueueClosedError(this.dir, !this.closed));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (signal) {
        w.signal = signal;
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      this.wake();
    });
  }

  /** next() in a loop, which ends when the queue closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<QueueRecord> {
    for (;;) {
      let r: QueueRecord;
      try {
        r = await this.next();
      } catch (err) {
        if (err instanceof QueueClosedError) return;
        throw err;
      }
      yield r;
    }
  }

  /**
   * Marks a record delivered for good. Any order; acknowledging again is a no-op. The commit point
   * moves to the lowest seq not acknowledged, and is persisted shortly after.
   */
  ack(seq: number): void {
    if (this.closed) throw new QueueClosedError(this.dir);
    const e = this.entries.get(seq);
    if (!e) {
      if (seq < this.rNextSeq) return; // acknowledged (and maybe committed) already
      throw new RangeError(`disk queue ${this.dir}: ack(${seq}) of a record not handed out by next()`);
    }
    const r = e.state === READY ? this.ready.indexOf(e) : -1;
    if (r >= 0) this.ready.splice(r, 1); // (absent while the pump reads it again)
    e.state = ACKED;
    this.entries.delete(seq);
    this.counters.acked++;
    this.counters.depthRecords--;
    this.counters.depthBytes -= e.frameBytes;
    let committed = 0;
    while (this.window.length > 0 && this.window[0]!.state === ACKED) {
      const done = this.window.shift()!;
      this.unpersisted.push(done.seq);
      committed += done.frameBytes;
    }
    if (committed > 0) {
      this.counters.uncommittedBytes -= committed;
      const now = Date.now();
      const last = this.drain[this.drain.length - 1];
      if (last && now - last.t < 1000) last.bytes += committed;
      else this.drain.push({ t: now, bytes: committed });
      this.pruneDrain(now);
      this.requestPersist(this.windowUsed() * 2 >= this.maxInFlight);
    }
  }

  /** Hands a record out again: the next next() returns it (before any record of a higher seq). */
  nack(seq: number): void {
    if (this.closed) throw new QueueClosedError(this.dir);
    const e = this.entries.get(seq);
    if (!e) {
      if (seq < this.rNextSeq) return;
      throw new RangeError(`disk queue ${this.dir}: nack(${seq}) of a record not handed out by next()`);
    }
    if (e.state !== IN_FLIGHT) return;
    this.makeReady(e);
    this.wake();
  }

  /**
   * Hands out again every record in flight, in seq order, before any new record: what a sender does
   * after a failed delivery or a resync, so the next hop receives everything not acknowledged, in
   * order. Acks that arrive later for those records still count.
   */
  rewind(): void {
    if (this.closed) throw new QueueClosedError(this.dir);
    for (const e of this.window) if (e.state === IN_FLIGHT) this.makeReady(e);
    this.wake();
  }

  private makeReady(e: Entry): void {
    e.state = READY;
    let i = this.ready.length;
    while (i > 0 && this.ready[i - 1]!.seq > e.seq) i--;
    this.ready.splice(i, 0, e);
  }

  /** Records counted against maxInFlight: handed out and not yet persisted as committed. */
  private windowUsed(): number {
    return this.window.length + this.unpersisted.length;
  }

  private wake(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (this.waiters.length === 0) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.wake();
      }
    });
  }

  /** Serves waiters in order, one record read at a time (so concurrent next() calls stay in order). */
  private async pump(): Promise<void> {
    try {
      while (this.waiters.length > 0 && !this.stopping && !this.failure) {
        if (this.ready.length > 0) {
          const e = this.ready.shift()!;
          const payload = await this.readEntry(e);
          if (e.state !== READY) continue; // acknowledged while it was read
          const w = this.waiters.shift();
          if (!w || this.stopping) {
            this.makeReady(e);
            break;
          }
          this.deliver(w, e, payload);
          continue;
        }
        if (this.windowUsed() >= this.maxInFlight) {
          this.requestPersist(true);
          break;
        }
        const fresh = await this.readNext();
        if (!fresh) break;
        const e: Entry = { seq: fresh.seq, seg: fresh.seg, offset: fresh.offset, frameBytes: fresh.payload.length + RECORD_HEADER_BYTES, state: READY, deliveries: 0 };
        this.window.push(e);
        this.entries.set(e.seq, e);
        const w = this.waiters.shift();
        if (!w || this.stopping) {
          this.makeReady(e); // its waiter gave up while it was read: the next one gets it
          break;
        }
        this.deliver(w, e, fresh.payload);
      }
    } catch (err) {
      this.fail(`reading ${this.rSeg?.path ?? this.dir} failed: ${errorText(err)}`);
    }
    if (this.failure) for (const w of this.waiters.splice(0)) this.settleError(w, new QueueFailedError(`disk queue ${this.dir} failed: ${this.failure}`));
  }

  private deliver(w: Waiter, e: Entry, payload: Uint8Array): void {
    e.state = IN_FLIGHT;
    if (++e.deliveries > 1) this.counters.redelivered++;
    this.settle(w, { seq: e.seq, payload, deliveries: e.deliveries });
  }

  private settle(w: Waiter, r: QueueRecord): void {
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    w.resolve(r);
  }

  private settleError(w: Waiter, err: Error): void {
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    w.reject(err);
  }

  /** The next record after the reader's place, verified, or undefined when none is durable yet. */
  private async readNext(): Promise<{ seq: number; seg: Segment; offset: number; payload: Uint8Array } | undefined> {
    for (;;) {
      const seg = this.rSeg;
      if (!seg) return undefined;
      if (seg.deleted) {
        this.moveReader(this.segments[0]);
        continue;
      }
      for (const [from, to] of seg.damage) if (this.rOff >= from && this.rOff < to) this.rOff = to;
      if (this.rOff >= seg.durable) {
        const i = this.segments.indexOf(seg);
        if (i === this.segments.length - 1) return undefined;
        const done = seg;
        this.moveReader(this.segments[i + 1]);
        if (done !== this.active && !this.entriesIn(done)) await this.closeSegment(done);
        continue;
      }
      const at = this.rOff;
      const mem = this.takeWritten(seg, at);
      if (mem) {
        this.rOff = at + RECORD_HEADER_BYTES + mem.payload.length;
        if (mem.seq < this.rNextSeq) continue;
        this.rNextSeq = mem.seq + 1;
        return { seq: mem.seq, seg, offset: at, payload: mem.payload };
      }
      let buf = await this.bytes(seg, at, RECORD_HEADER_BYTES);
      const header = readRecordHeader(buf, 0, RECORD_HEADER_BYTES, this.maxRecordBytes);
      if (!header || at + RECORD_HEADER_BYTES + header.payloadLength > seg.durable) {
        throw new Error(`record at byte ${at} of ${seg.path} no longer verifies (changed on disk after it was written or recovered)`);
      }
      const frameBytes = RECORD_HEADER_BYTES + header.payloadLength;
      buf = await this.bytes(seg, at, frameBytes);
      if (!checkPayload(buf, 0, frameBytes, header)) throw new Error(`record ${header.seq} at byte ${at} of ${seg.path} fails its checksum (changed on disk)`);
      this.rOff = at + frameBytes;
      if (header.seq < this.rNextSeq) continue; // committed before the last restart
      this.rNextSeq = header.seq + 1;
      // A copy: a view would keep the whole read chunk alive while the record is in flight.
      return { seq: header.seq, seg, offset: at, payload: Uint8Array.prototype.slice.call(buf, RECORD_HEADER_BYTES, frameBytes) };
    }
  }

  /**
   * The in-memory copy of the record at `at` in `seg`, if this process wrote it and kept one; copies
   * of records the reader has passed are dropped on the way (file order: segment, then offset).
   */
  private takeWritten(seg: Segment, at: number): WrittenRecord | undefined {
    let found: WrittenRecord | undefined;
    while (this.writtenHead < this.written.length) {
      const w = this.written[this.writtenHead]!;
      if (w.seg.name > seg.name || (w.seg === seg && w.offset > at)) break;
      this.written[this.writtenHead++] = undefined!;
      this.writtenBytes -= w.payload.length;
      if (w.seg === seg && w.offset === at) {
        found = w;
        break;
      }
    }
    if (this.writtenHead === this.written.length) {
      this.written = [];
      this.writtenHead = 0;
    } else if (this.writtenHead > 1024 && this.writtenHead * 2 > this.written.length) {
      this.written = this.written.slice(this.writtenHead);
      this.writtenHead = 0;
    }
    return found;
  }

  /** `len` bytes of a segment from `at`, through the read-ahead chunk. */
  private async bytes(seg: Segment, at: number, len: number): Promise<Buffer> {
    if (this.rBufSeg === seg && at >= this.rBufStart && at + len <= this.rBufStart + this.rBuf.length) {
      return this.rBuf.subarray(at - this.rBufStart, at - this.rBufStart + len);
    }
    const fd = await this.fdOf(seg);
    const want = Math.min(Math.max(len, READ_CHUNK), seg.durable - at);
    if (want > READ_CHUNK) return readFully(fd, len, at);
    const chunk = (this.rChunk ??= Buffer.allocUnsafe(READ_CHUNK));
    let got = 0;
    while (got < want) {
      const n = await readAt(fd, chunk.subarray(got), want - got, at + got);
      if (n === 0) break;
      got += n;
    }
    if (got < len) throw new Error(`short read of ${seg.path}: ${got} of ${len} bytes at ${at}`);
    this.rBufSeg = seg;
    this.rBufStart = at;
    this.rBuf = chunk.subarray(0, got);
    return this.rBuf.subarray(0, len);
  }

  /** Reads a handed-out record again (after nack or rewind). */
  private async readEntry(e: Entry): Promise<Uint8Array> {
    const buf = await readFully(await this.fdOf(e.seg), e.frameBytes, e.offset);
    const header = readRecordHeader(buf, 0, buf.length, this.maxRecordBytes);
    if (!header || header.seq !== e.seq || !checkPayload(buf, 0, buf.length, header)) {
      throw new Error(`record ${e.seq} at byte ${e.offset} of ${e.seg.path} no longer verifies (changed on disk after it was written)`);
    }
    return Uint8Array.prototype.slice.call(buf, RECORD_HEADER_BYTES);
  }

  private moveReader(seg: Segment | undefined): void {
    this.rSeg = seg;
    this.rOff = SEGMENT_HEADER_BYTES;
    this.rBufSeg = undefined;
  }

  private entriesIn(seg: Segment): boolean {
    return this.window.some((e) => e.seg === seg);
  }

  private async fdOf(seg: Segment): Promise<number> {
    if (seg.deleted) throw new Error(`segment ${seg.path} was deleted while records in it were not committed`);
    if (seg.fd < 0) seg.fd = await openFile(seg.path, 'r');
    return seg.fd;
  }

  private async closeSegment(seg: Segment): Promise<void> {
    const fd = seg.fd;
    seg.fd = -1;
    if (this.rBufSeg === seg) this.rBufSeg = undefined;
    if (fd >= 0) await closeFile(fd).catch(() => undefined);
  }

  // ---- commit -----------------------------------------------------------------------------------

  /** The lowest seq not acknowledged. */
  private commitSeq(): number {
    return this.window.length > 0 ? this.window[0]!.seq : this.rNextSeq;
  }

  /**
   * Writes the cursor soon (after cursorDelayMs, gathering acks) or, when `urgent`, now. `sweep`
   * asks for a pass over the segments even when the commit point has not moved.
   */
  private requestPersist(urgent: boolean, sweep = false): void {
    if (this.stopping) return; // close() writes the cursor last
    if (this.persisting) {
      if (urgent) this.persistUrgent = true;
      this.persistQueued = true;
      return;
    }
    if (this.commitSeq() === this.persistedCommit && !sweep) return;
    const wait = urgent ? this.persistRetryAt - Date.now() : Math.max(this.cursorDelayMs, this.persistRetryAt - Date.now());
    if (wait > 0) {
      this.persistTimer ??= setTimeout(() => this.runPersist(), wait).unref();
      return;
    }
    this.runPersist();
  }

  private runPersist(): void {
    clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    this.persisting = this.persist()
      .catch((err) => {
        this.persistRetryAt = Date.now() + CURSOR_RETRY_MS;
        this.persistQueued = true;
        this.warn({ code: 'cursor', message: `writing the cursor failed (${errorText(err)}); acknowledged records stay on disk and would be delivered again after a crash` });
      })
      .finally(() => {
        this.persisting = undefined;
        if (this.persistQueued) {
          this.persistQueued = false;
          const urgent = this.persistUrgent;
          this.persistUrgent = false;
          this.requestPersist(urgent, true);
        }
        this.wake();
      });
  }

  /** Writes the commit point atomically (temp file, fsync, rename, fsync directory), then deletes committed segments. */
  private async persist(): Promise<void> {
    const commit = this.commitSeq();
    if (commit !== this.persistedCommit) {
      await this.writeCursor(commit);
      this.persistedCommit = commit;
      let drop = 0;
      while (drop < this.unpersisted.length && this.unpersisted[drop]! < commit) drop++;
      this.unpersisted.splice(0, drop);
    }
    // A segment whose successor starts at or below the persisted commit point holds only committed records.
    while (this.segments.length >= 2 && this.segments[1]!.name <= this.persistedCommit) {
      const seg = this.segments.shift()!;
      if (this.rSeg === seg) this.moveReader(this.segments[0]);
      seg.deleted = true;
      await this.closeSegment(seg);
      await fs.promises.unlink(seg.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.warn({ code: 'io', message: `cannot delete the committed segment ${seg.path}: ${errorText(err)}` });
      });
    }
  }

  private async writeCursor(commit: number): Promise<void> {
    const tmp = join(this.dir, `${CURSOR_FILE}.tmp`);
    const fd = await openFile(tmp, 'w');
    try {
      await writeAt(fd, [encodeHeader(CURSOR_MAGIC, commit)], 0);
      await syncData(fd);
    } finally {
      await closeFile(fd);
    }
    await fs.promises.rename(tmp, join(this.dir, CURSOR_FILE));
    await syncDir(this.dir);
  }

  // ---- recovery ---------------------------------------------------------------------------------

  /**
   * Reads the cursor, deletes segments wholly below it, verifies every record of the others, cuts a
   * torn tail off the last one, and places the reader on the first record not committed.
   */
  private async recover(): Promise<void> {
    const names = await fs.promises.readdir(this.dir);
    let commit = 0;
    if (names.includes(CURSOR_FILE)) {
      const check = decodeHeader(await fs.promises.readFile(join(this.dir, CURSOR_FILE)), CURSOR_MAGIC);
      if ('seq' in check) commit = check.seq;
      else if (check.problem.startsWith('format version')) throw new InputError(`the cursor file has ${check.problem}`, this.dir);
      else this.warn({ code: 'cursor', message: `the cursor file is damaged (${check.problem}): every record on disk is delivered again` });
    }
    await fs.promises.unlink(join(this.dir, `${CURSOR_FILE}.tmp`)).catch(() => undefined);
    const found = names
      .map((n) => SEGMENT_NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: Number(m[1]), path: join(this.dir, m[0]) }))
      .filter((s) => Number.isSafeInteger(s.name))
      .sort((a, b) => a.name - b.name);
    // Wholly below the commit point: deleted without being read (a crash after the cursor write).
    while (found.length >= 2 && found[1]!.name <= commit) await fs.promises.unlink(found.shift()!.path);

    let lastSeq = -1;
    let damaged = false;
    let readerAt: { seg: Segment; offset: number } | undefined;
    for (let i = 0; i < found.length; i++) {
      const { name, path } = found[i]!;
      const last = i === found.length - 1;
      const buf = await fs.promises.readFile(path);
      const seg: Segment = { name, path, fd: -1, durable: buf.length, damage: [], deleted: false };
      const header = decodeHeader(buf, SEGMENT_MAGIC);
      if ('problem' in header) {
        if (header.problem.startsWith('format version')) throw new InputError(`segment ${path} has ${header.problem}`, this.dir);
        if (last && buf.length < SEGMENT_HEADER_BYTES) {
          // Created, its header not yet written when the process died: nothing was in it.
          if (buf.length > 0) {
            this.counters.tornTails++;
            this.counters.tornBytes += buf.length;
            this.warn({ code: 'torn-tail', message: `segment ${path}: a torn header of ${buf.length} bytes; the empty segment is removed` });
          }
        } else {
          this.warn({ code: 'corrupt', message: `segment ${path}: damaged header (${header.problem}); its records are read on their own checksums` });
          this.counters.corruptBytes += Math.min(buf.length, SEGMENT_HEADER_BYTES);
        }
      }
      const damage = (from: number, to: number) => {
        seg.damage.push([from, to]);
        damaged = true;
        this.counters.corruptBytes += to - from;
        this.warn({ code: 'corrupt', message: `segment ${path}: bytes ${from}-${to} (${to - from} bytes) are damaged and skipped` });
      };
      const end = buf.length < SEGMENT_HEADER_BYTES ? buf.length : scanSegment(buf, SEGMENT_HEADER_BYTES, this.maxRecordBytes, {
        record: (seq, offset, frameBytes) => {
          if (seq <= lastSeq) return false;
          if (damaged) {
            const lost = seq - Math.max(lastSeq + 1, commit);
            if (lost > 0) {
              this.counters.corruptRecords += lost;
              this.warn({ code: 'corrupt', message: `${lost} record(s) lost to the damage (seq ${Math.max(lastSeq + 1, commit)} to ${seq - 1})` });
            }
            damaged = false;
          }
          lastSeq = seq;
          if (seq >= commit) {
            readerAt ??= { seg, offset };
            this.counters.recoveredRecords++;
            this.counters.depthRecords++;
            this.counters.depthBytes += frameBytes;
            this.counters.uncommittedBytes += frameBytes;
          }
          return true;
        },
        damage,
      });
      const tailStart = Math.max(end, SEGMENT_HEADER_BYTES);
      if (last && end < buf.length) {
        // The end of the last segment: a write the process did not finish (or damage there, which
        // cannot be told apart from one). Nothing in it was acknowledged by a finished sync.
        const torn = buf.length - end;
        this.counters.tornTails++;
        this.counters.tornBytes += torn;
        this.warn({ code: 'torn-tail', message: `segment ${path}: a torn tail of ${torn} bytes from byte ${end} is cut off` });
        seg.durable = end;
        const fd = await openFile(path, 'r+');
        try {
          await truncateFile(fd, end);
          await syncData(fd);
        } finally {
          await closeFile(fd);
        }
      } else if (tailStart < buf.length) {
        damage(tailStart, buf.length);
      }
      if (last && seg.durable <= SEGMENT_HEADER_BYTES) {
        // Nothing valid in the last segment: remove it, so the name is free for the next append.
        await fs.promises.unlink(path);
        await syncDir(this.dir);
        continue;
      }
      this.segments.push(seg);
    }
    this.persistedCommit = commit;
    this.rNextSeq = commit;
    this.nextSeq = Math.max(lastSeq + 1, commit);
    if (readerAt) {
      this.rSeg = readerAt.seg;
      this.rOff = readerAt.offset;
    } else if (this.segments.length > 0) {
      const lastSeg = this.segments[this.segments.length - 1]!;
      this.rSeg = lastSeg;
      this.rOff = lastSeg.durable;
    }
  }

  // ---- failure, stats, close --------------------------------------------------------------------

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    this.warn({ code: 'failed', message: `${reason}; the queue takes no more appends until it is reopened (what is on disk is recovered then)` });
    this.wake();
  }

  stats(): QueueStats {
    const s: QueueStats = {
      ...this.counters,
      maxBytes: this.maxBytes,
      inFlight: this.window.filter((e) => e.state === IN_FLIGHT).length,
      segments: this.segments.length,
      commitSeq: this.commitSeq(),
      persistedCommitSeq: this.persistedCommit,
      nextSeq: this.nextSeq,
    };
    if (this.failure) s.failure = this.failure;
    return s;
  }

  /**
   * Stops taking appends (they get Backpressure 'shutting-down'), finishes the pending ones, ends
   * waiting next() calls (QueueClosedError), persists the commit point and releases the lock. Records not
   * acknowledged stay on disk for the next open. Further calls reject with QueueClosedError.
   */
  close(): Promise<void> {
    this.stopping = true;
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    while (this.writer) await this.writer;
    for (const w of this.waiters.splice(0)) this.settleError(w, new QueueClosedError(this.dir, true));
    while (this.pumping) await this.pumping;
    while (this.persisting) await this.persisting;
    clearTimeout(this.persistTimer);
    if (!this.failure && this.commitSeq() !== this.persistedCommit) {
      await this.persist().catch((err) => this.warn({ code: 'cursor', message: `writing the cursor at close failed: ${errorText(err)}` }));
    }
    await this.closeFiles();
    await this.lock?.release();
    this.closed = true;
  }

  private async closeFiles(): Promise<void> {
    for (const seg of this.segments) await this.closeSegment(seg);
  }
}
