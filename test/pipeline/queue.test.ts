// DiskQueue behaviour on real files in a temp directory: order, group commit under concurrent
// appends, acks in any order, the commit point and segment deletion, the bound (Backpressure, never a
// silent drop), the record size limit, nack/rewind, the in-flight window, records handed out from
// the queue's own copies or read back, reopening (exactly the
// records not committed come back), close, and the directory lock against a second opener in this
// process, in another process, and a stale lock left by a dead one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import {
  Backpressure,
  DiskQueue,
  QueueClosedError,
  QueueFailedError,
  QueueLockedError,
  RecordTooLargeError,
  type DiskQueueOptions,
  type QueueWarning,
} from '../../src/pipeline/index.js';
import { bytesToHex, countSpans, forEachSpan, InputError } from '../../src/model/index.js';
import { decodeTracesData, encodeTracesData } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { QueueSink } from '../../src/pipeline/queue-sink.js';
import { RequestTooLargeError } from '../../src/pipeline/sink.js';
import type { RecordSource } from '../../src/pipeline/forwarder.js';
import { payloadFor, checkPayload, tempDirs, segmentFiles as segments, drain as drainRecords } from './queue-helpers.js';

const root = join(import.meta.dirname, '../..');
const tempDir = tempDirs('slimtrace-queue-');

async function open(dir: string, options: Partial<DiskQueueOptions> = {}, warnings: QueueWarning[] = []): Promise<DiskQueue> {
  return DiskQueue.open({ dir, onWarning: (w) => warnings.push(w), ...options });
}

/** Takes `n` records, acknowledging none. */
async function take(q: DiskQueue, n: number): Promise<{ seq: number; payload: Uint8Array }[]> {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await q.next()));
  return out;
}

/** The seqs of the records a queue hands out until none comes for a while, each acknowledged. */
const drain = async (q: DiskQueue) => (await drainRecords(q)).map((r) => r.seq);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('DiskQueue', () => {
  it('delivers records in append order with their exact payloads', async () => {
    const q = await open(tempDir(), { segmentBytes: 4096 });
    const payloads = range(0, 200).map((i) => payloadFor(i, (i * 37) % 700));
    const seqs: number[] = [];
    for (const p of payloads) seqs.push(await q.append(p));
    assert.deepEqual(seqs, range(0, 200));
    const got = await take(q, 200);
    assert.deepEqual(got.map((r) => r.seq), range(0, 200));
    got.forEach((r, i) => assert.deepEqual(Buffer.from(r.payload), Buffer.from(payloads[i]!)));
    assert.ok(q.stats().segments > 10, `records spread over segments: ${q.stats().segments}`);
    await q.close();
  });

  it('hands out a record it wrote from its own copy: the caller may reuse its buffer, and the file is not read back', async () => {
    const dir = tempDir();
    const q = await open(dir);
    const p = payloadFor(7, 3000);
    await q.append(p);
    p.fill(0); // the caller's buffer, reused once the append resolved
    // The record's bytes on disk changed after it was synced: the first hand-out does not read them.
    const seg = join(dir, segments(dir)[0]!);
    const fd = openSync(seg, 'r+');
    writeSync(fd, Buffer.alloc(100, 0xee), 0, 100, statSync(seg).size - 200);
    closeSync(fd);
    const r = await q.next();
    assert.equal(checkPayload(r.payload), 7);
    await q.close();
  });

  it('past its in-memory copies (appends far ahead of the reader) reads records back from disk, in order', async () => {
    const q = await open(tempDir());
    // 24 MiB appended before anything is taken: more than the copies kept (16 MiB).
    const ids = range(0, 24);
    for (const i of ids) await q.append(payloadFor(i, 1024 * 1024));
    const got = await take(q, ids.length);
    assert.deepEqual(got.map((r) => checkPayload(r.payload)), ids);
    // And again once the reader caught up: copies are kept for new appends.
    for (const i of range(24, 30)) await q.append(payloadFor(i, 4096));
    assert.deepEqual((await take(q, 6)).map((r) => checkPayload(r.payload)), range(24, 30));
    await q.close();
  });

  it('group-commits concurrent appends: each resolves durable, with far fewer syncs than appends', async () => {
    const q = await open(tempDir());
    // 1500 records: one write of 3000 buffers, more than a writev takes at once (IOV_MAX, 1024).
    const seqs = await Promise.all(range(0, 1500).map((i) => q.append(payloadFor(i, 100 + (i % 50)))));
    assert.deepEqual([...seqs].sort((a, b) => a - b), range(0, 1500));
    const s = q.stats();
    assert.equal(s.appended, 1500);
    assert.ok(s.syncs <= 8, `1500 concurrent appends took ${s.syncs} syncs`);
    const got = await drainRecords(q);
    assert.equal(got.length, 1500);
    for (const r of got) assert.equal(checkPayload(r.payload), r.seq);
    await q.close();
  });

  it('moves the commit point to the lowest record not acknowledged, whatever the order of acks', async () => {
    const q = await open(tempDir(), { cursorDelayMs: 0 });
    for (let i = 0; i < 10; i++) await q.append(payloadFor(i, 10));
    await take(q, 10);
    for (const s of [3, 1, 2, 9, 8]) q.ack(s);
    assert.equal(q.stats().commitSeq, 0);
    q.ack(0);
    assert.equal(q.stats().commitSeq, 4);
    q.ack(0); // again: a no-op
    assert.equal(q.stats().acked, 6);
    assert.equal(q.stats().depthRecords, 4);
    for (const s of [4, 5, 6, 7]) q.ack(s);
    assert.equal(q.stats().commitSeq, 10);
    assert.throws(() => q.ack(10), RangeError, 'a record never handed out');
    await q.close();
  });

  it('persists the commit point in batches and deletes segments wholly below it', async () => {
    const dir = tempDir();
    const q = await open(dir, { segmentBytes: 2048, cursorDelayMs: 20 });
    for (let i = 0; i < 100; i++) await q.append(payloadFor(i, 200));
    const before = segments(dir).length;
    assert.ok(before >= 10);
    for (const r of await take(q, 60)) q.ack(r.seq);
    assert.equal(q.stats().persistedCommitSeq, 0, 'not one cursor write per ack');
    await new Promise((ok) => setTimeout(ok, 100));
    const s = q.stats();
    assert.equal(s.persistedCommitSeq, 60);
    assert.ok(segments(dir).length < before - 4, `${before} -> ${segments(dir).length} segments`);
    // Every segment left holds a record at or above the commit point.
    const names = segments(dir).map((f) => Number(f.slice(0, 20)));
    assert.ok(names.length >= 2 && names[1]! > 60, `names ${names.join(',')}`);
    await q.close();
    const q2 = await open(dir, { segmentBytes: 2048 });
    assert.deepEqual(await drain(q2), range(60, 100));
    await q2.close();
  });

  it('refuses an append beyond maxBytes at once with Backpressure queue-full, and takes it once space is freed', async () => {
    const q = await open(tempDir(), { maxBytes: 10 * 1024, maxRecordBytes: 2048, cursorDelayMs: 0 });
    let accepted = 0;
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) {
      try {
        await q.append(payloadFor(i, 1000));
        accepted++;
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused instanceof Backpressure, String(refused));
    assert.equal(refused.reason, 'queue-full');
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 30, `retry after ${refused.retryAfterSeconds}`);
    assert.equal(accepted, 9); // 9 frames of 1032 bytes fit in 10 KiB
    const s = q.stats();
    assert.equal(s.rejectedFull, 1);
    assert.ok(s.uncommittedBytes <= 10 * 1024);
    // Nothing was dropped to make room; acknowledging one frees its place.
    const first = (await q.next());
    await assert.rejects(q.append(payloadFor(99, 1000)), Backpressure, 'handed out is not acknowledged');
    q.ack(first.seq);
    assert.equal(await q.append(payloadFor(9, 1000)), 9);
    // With a drain rate measured, the estimate is the time to drain the excess (here: short).
    const again = await q.append(payloadFor(10, 1000)).catch((e: unknown) => e);
    assert.ok(again instanceof Backpressure && again.retryAfterSeconds >= 1 && again.retryAfterSeconds < 30, String(again));
    await q.close();
  });

  it('refuses a record above maxRecordBytes with an InputError (not retryable), at once', async () => {
    const q = await open(tempDir(), { maxRecordBytes: 1000 });
    await q.append(new Uint8Array(1000));
    const err = await q.append(new Uint8Array(1001)).catch((e: unknown) => e);
    assert.ok(err instanceof RecordTooLargeError && err instanceof InputError, String(err));
    assert.match(err.message, /1001 bytes.*1000 bytes/);
    assert.equal(q.stats().depthRecords, 1);
    await q.close();
  });

  it('appendAll takes every record of a request or none, and calls more than the whole queue too large', async () => {
    const q = await open(tempDir(), { maxBytes: 4096, maxRecordBytes: 1024 });
    const seqs = await q.appendAll([payloadFor(0, 900), payloadFor(1, 900)]);
    assert.deepEqual(seqs, [0, 1]);
    const before = q.stats().depthRecords;
    // Room for one more record of 900 bytes, not for three.
    await assert.rejects(q.appendAll([payloadFor(2, 900), payloadFor(3, 900), payloadFor(4, 900)]), (e: unknown) => e instanceof Backpressure && e.reason === 'queue-full');
    assert.equal(q.stats().depthRecords, before, 'nothing of the refused request was taken');
    await assert.rejects(q.appendAll(range(0, 6).map((i) => payloadFor(i, 900))), (e: unknown) => e instanceof RequestTooLargeError && e instanceof InputError);
    await assert.rejects(q.appendAll([payloadFor(9, 2000)]), RecordTooLargeError);
    await q.close();
  });

  it('as a sink, cuts a request larger than one record into records that fit, every span kept once', async () => {
    const q = await open(tempDir(), { maxBytes: 1024 * 1024, maxRecordBytes: 8 * 1024 });
    const data = [...trafficData({ seed: 3, traces: 30, batchSpans: 400 })][0]!;
    const whole = encodeTracesData(data);
    assert.ok(whole.length > 8 * 1024, `the request (${whole.length} bytes) is larger than a record`);
    await new QueueSink(q).accept({ data, spans: countSpans(data), receiver: 'tracezip' });
    const records = await take(q, q.stats().depthRecords);
    assert.ok(records.length > 1 && records.every((r) => r.payload.length <= 8 * 1024));
    const spans = records.flatMap((r) => { const ids: string[] = []; forEachSpan(decodeTracesData(r.payload), (s) => void ids.push(bytesToHex(s.spanId))); return ids; });
    const wanted: string[] = [];
    forEachSpan(data, (s) => void wanted.push(bytesToHex(s.spanId)));
    assert.deepEqual(spans, wanted);
    await q.close();
  });

  it('checks its options', async () => {
    await assert.rejects(open(tempDir(), { maxBytes: 0 }), RangeError);
    await assert.rejects(open(tempDir(), { maxBytes: 1000, maxRecordBytes: 1000 }), /must fit in maxBytes/);
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    await assert.rejects(open(file), (e: unknown) => e instanceof InputError && /cannot use it as a disk queue directory/.test((e as Error).message));
  });

  it('hands out nacked and rewound records again, in seq order, before new ones', async () => {
    const q = await open(tempDir());
    for (let i = 0; i < 8; i++) await q.append(payloadFor(i, 10));
    const first = await take(q, 5);
    q.ack(1);
    q.nack(3);
    let r = (await q.next());
    assert.deepEqual([r.seq, r.deliveries], [3, 2]);
    assert.equal(checkPayload(r.payload), 3);
    q.rewind(); // 0, 2, 3, 4 in flight
    q.ack(2); // a late ack of a rewound record still counts
    const again = await take(q, 3);
    assert.deepEqual(again.map((x) => x.seq), [0, 3, 4]);
    r = (await q.next());
    assert.equal(r.seq, 5, 'then new records');
    assert.equal(q.stats().redelivered, 4);
    assert.equal(first.length, 5);
    await q.close();
  });

  it('holds new records back while maxInFlight are handed out and not persisted as committed', async () => {
    const q = await open(tempDir(), { maxInFlight: 4, cursorDelayMs: 10_000 });
    for (let i = 0; i < 10; i++) await q.append(payloadFor(i, 10));
    await take(q, 4);
    const fifth = q.next();
    const early = await Promise.race([fifth, new Promise((ok) => setTimeout(() => ok('waiting'), 100))]);
    assert.equal(early, 'waiting');
    q.ack(0); // the window is full: the cursor is written at once, not after cursorDelayMs
    assert.equal((await fifth).seq, 4);
    assert.equal(q.stats().persistedCommitSeq, 1);
    await q.close();
  });

  it('reopened, delivers exactly the records not committed, in order, and continues their seqs', async () => {
    const dir = tempDir();
    const q = await open(dir, { segmentBytes: 1024 });
    for (let i = 0; i < 50; i++) await q.append(payloadFor(i, 50));
    await take(q, 30);
    for (let s = 0; s < 20; s++) q.ack(s);
    q.ack(25); // acknowledged above the commit point: delivered again (a duplicate within the bound)
    await q.close();
    const warnings: QueueWarning[] = [];
    const q2 = await open(dir, { segmentBytes: 1024 }, warnings);
    const s = q2.stats();
    assert.equal(s.commitSeq, 20);
    assert.equal(s.recoveredRecords, 30);
    assert.equal(s.depthRecords, 30);
    assert.equal(s.nextSeq, 50);
    assert.equal(await q2.append(payloadFor(50, 50)), 50);
    const got = await take(q2, 31);
    assert.deepEqual(got.map((r) => r.seq), range(20, 51));
    for (const r of got) assert.equal(checkPayload(r.payload), r.seq);
    assert.deepEqual(warnings, []);
    await q2.close();
  });

  it('keeps seqs rising after everything was committed and every segment deleted', async () => {
    const dir = tempDir();
    const q = await open(dir, { segmentBytes: 256 });
    for (let i = 0; i < 5; i++) await q.append(payloadFor(i, 100));
    await drain(q);
    await q.close();
    const q2 = await open(dir, { segmentBytes: 256 });
    assert.equal(q2.stats().depthRecords, 0);
    assert.equal(await q2.append(payloadFor(5, 1)), 5);
    await q2.close();
  });

  it('close flushes pending appends, ends waiting next() calls, and leaves nothing usable', async () => {
    const dir = tempDir();
    const q = await open(dir);
    const waiting = q.next().catch((e: unknown) => e);
    const appends = range(0, 20).map((i) => q.append(payloadFor(i, 10)));
    await q.close();
    assert.deepEqual(await Promise.all(appends), range(0, 20));
    // A next() waiting at close ends with QueueClosedError (or got the first record, had it come first).
    const w = await waiting;
    assert.ok(w instanceof QueueClosedError || (w as { seq: number }).seq === 0, String(w));
    await assert.rejects(q.append(payloadFor(0, 1)), QueueClosedError);
    await assert.rejects(q.next(), QueueClosedError);
    assert.throws(() => q.ack(0), QueueClosedError);
    assert.match(String(await q.append(new Uint8Array(1)).catch((e: unknown) => e)), /is closed/);
    await q.close(); // twice: fine
    const q2 = await open(dir); // the lock was released
    assert.equal(q2.stats().depthRecords, 20);
    await q2.close();
  });

  it('answers appends made while closing with Backpressure shutting-down', async () => {
    const q = await open(tempDir());
    const closing = q.close();
    const err = await q.append(payloadFor(0, 1)).catch((e: unknown) => e);
    assert.ok(err instanceof Backpressure && err.reason === 'shutting-down', String(err));
    await closing;
  });

  it('ends a waiting next() when its signal aborts', async () => {
    const q = await open(tempDir());
    const ac = new AbortController();
    const waiting = q.next(ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
    await q.append(payloadFor(0, 1));
    assert.equal((await q.next()).seq, 0, 'the record went to the next caller');
    await q.close();
  });

  it("is the record source the agent's forwarder reads from", async () => {
    const q = await open(tempDir());
    const source: RecordSource = q;
    await q.append(payloadFor(0, 1));
    const r = await source.next();
    source.ack(r.seq);
    assert.equal(q.stats().commitSeq, 1);
    await q.close();
  });

  it('serves an async iterator until close', async () => {
    const q = await open(tempDir());
    for (let i = 0; i < 3; i++) await q.append(payloadFor(i, 1));
    const seen: number[] = [];
    const loop = (async () => {
      for await (const r of q) {
        seen.push(r.seq);
        q.ack(r.seq);
        if (seen.length === 3) void q.close();
      }
    })();
    await loop;
    await q.close();
    assert.deepEqual(seen, [0, 1, 2]);
  });
});

describe('DiskQueue directory lock', () => {
  it('refuses a second opener in the same process', async () => {
    const dir = tempDir();
    const q = await open(dir);
    await assert.rejects(open(dir), (e: unknown) => e instanceof QueueLockedError && e instanceof InputError && /this process/.test((e as Error).message));
    await q.close();
  });

  it('refuses an opener while another live process holds the directory, and takes it once that one is gone', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'queue-child.ts'), 'hold', dir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      assert.match(line.toString(), /^held/);
      const err = await open(dir).catch((e: unknown) => e);
      assert.ok(err instanceof QueueLockedError, String(err));
      assert.match(err.message, new RegExp(`in use by pid ${child.pid} on host`));
    } finally {
      child.kill('SIGKILL');
      await once(child, 'close');
    }
    const warnings: QueueWarning[] = [];
    const q = await open(dir, {}, warnings);
    assert.deepEqual(warnings.map((w) => w.code), ['stale-lock']);
    assert.match(warnings[0]!.message, new RegExp(`pid ${child.pid}.*its process is gone`));
    await q.close();
  });

  it('takes over a stale lock of a dead pid, an unreadable one, and another host only once not refreshed', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: deadPid, host: hostname(), token: 'dead' }));
    let warnings: QueueWarning[] = [];
    let q = await open(dir, {}, warnings);
    assert.equal(warnings[0]?.code, 'stale-lock');
    await q.close();

    // Another host: its pid says nothing here, the refresh time does.
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: 1, host: 'elsewhere', token: 'other' }));
    await assert.rejects(open(dir, { lock: { staleMs: 60_000 } }), QueueLockedError);
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, 'LOCK'), old, old);
    warnings = [];
    q = await open(dir, { lock: { staleMs: 60_000 } }, warnings);
    assert.match(warnings[0]!.message, /another host, not refreshed/);
    await q.close();

    // A lock naming this process's pid is from a previous life of it (pid 1 in a restarted container).
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: process.pid, host: hostname(), token: 'previous-life' }));
    q = await open(dir);
    await q.close();

    writeFileSync(join(dir, 'LOCK'), 'garbage');
    utimesSync(join(dir, 'LOCK'), old, old);
    q = await open(dir);
    await q.close();
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('LOCK')), [], 'no lock or temp file left after close');
  });

  it('removes the temp files of openers that died mid-way, once they are old', async () => {
    const dir = tempDir();
    const old = new Date(Date.now() - 120_000);
    for (const name of ['LOCK.00aa.tmp', 'LOCK.00bb.stale']) {
      writeFileSync(join(dir, name), '{}');
      utimesSync(join(dir, name), old, old);
    }
    writeFileSync(join(dir, 'LOCK.00cc.tmp'), '{}'); // fresh: an opener at work right now
    const q = await open(dir);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('LOCK.')), ['LOCK.00cc.tmp']);
    await q.close();
  });

  it('refreshes its lock while open', async () => {
    const dir = tempDir();
    const q = await open(dir, { lock: { refreshMs: 20 } });
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, 'LOCK'), old, old);
    await new Promise((ok) => setTimeout(ok, 100));
    assert.ok(Date.now() - statSync(join(dir, 'LOCK')).mtimeMs < 10_000);
    await q.close();
  });

  it('stops taking appends and reading when its lock file is taken from it', async () => {
    const dir = tempDir();
    const warnings: QueueWarning[] = [];
    const q = await open(dir, { lock: { refreshMs: 20 } }, warnings);
    await q.append(payloadFor(0, 1));
    rmSync(join(dir, 'LOCK'));
    await new Promise((ok) => setTimeout(ok, 100));
    const err = await q.append(payloadFor(1, 1)).catch((e: unknown) => e);
    assert.ok(err instanceof Backpressure && err.reason === 'unavailable', String(err));
    await assert.rejects(q.next(), QueueFailedError);
    assert.match(q.stats().failure ?? '', /no longer names this process/);
    assert.equal(warnings.at(-1)?.code, 'failed');
    await q.close();
  });
});
