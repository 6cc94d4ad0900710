// DiskQueue under crashes and damage. A child process (queue-child.ts) appends and consumes at full
// speed and is SIGKILLed at seeded random moments, round after round on one directory; each reopen
// must deliver every record whose append had resolved and that was not acknowledged, in order, with
// its exact payload, and nothing else but records already handed out before (at most maxInFlight of
// them: the duplicate bound of docs/deployment.md) or appends that were made but had not resolved.
// Then damage made by hand: a torn tail, flipped bytes in a payload and in a header, damage across
// a segment boundary, a damaged cursor, and a write that fails half way (a file size limit).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskQueue, type QueueWarning } from '../../src/pipeline/index.js';
import { Rng } from '../helpers/arbitrary.js';
import { CRASH_MAX_IN_FLIGHT, CRASH_SEGMENT_BYTES, checkPayload, drain, payloadFor, segmentFiles as segments, tempDirs } from './queue-helpers.js';

const root = join(import.meta.dirname, '../..');
const child = join(import.meta.dirname, 'queue-child.ts');
const tempDir = tempDirs('slimtrace-queue-crash-');

/** Records delivered by a queue opened here, each acknowledged, until none comes for a while. */
const drainAll = async (q: DiskQueue) => (await drain(q, 200)).map((r) => ({ seq: r.seq, id: checkPayload(r.payload) }));

interface Round {
  lines: string[];
  opened: boolean;
}

/** Runs the crash workload and SIGKILLs it: shortly after it starts (in recovery) or a while after it opened. */
function runRound(dir: string, seed: number, rng: Rng): Promise<Round> {
  const log = `${dir}.round-${seed}.log`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, 'crash', dir, String(seed), log], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let stderr = '';
    let opened = false;
    let armed = false;
    const early = rng.float() < 0.25;
    const kill = (ms: number) => {
      if (armed) return;
      armed = true;
      setTimeout(() => p.kill('SIGKILL'), ms);
    };
    p.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (early && text.startsWith('S\n')) kill(rng.int(15));
      if (!opened && /^O$/m.test(text)) {
        opened = true;
        kill(30 + rng.int(400));
      }
    });
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const guard = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') return reject(new Error(`the child ended by itself (${code}): ${stderr}`));
      // The last line may be cut short by the kill: only whole lines count.
      const lines = readFileSync(log, 'utf8').split('\n');
      rmSync(log);
      lines.pop();
      resolve({ lines, opened: lines.some((l) => l.startsWith('O ')) });
    });
  });
}

describe('DiskQueue crash safety', () => {
  it('SIGKILLed at random moments, round after round: every resolved, unacknowledged record comes back, duplicates within maxInFlight', async (t) => {
    const dir = tempDir();
    const rng = new Rng(20240611);
    const attempted = new Set<number>(); // ids appended (resolved or not)
    const durable = new Map<number, number>(); // seq -> id, appends that resolved
    const acked = new Set<number>(); // seqs acknowledged (or about to be: K precedes ack)
    const idOf = new Map<number, number>(); // seq -> id, as first seen anywhere
    const handedOut = new Set<number>(); // seqs next() returned in some earlier round
    let rounds = 0;
    let tornTails = 0;
    let maxDuplicates = 0;

    /** Checks one delivery against everything known, and learns from it. */
    const delivered = (seq: number, id: number, where: string) => {
      assert.notEqual(id, -1, `${where}: record ${seq} came back damaged`);
      assert.ok(attempted.has(id), `${where}: record ${seq} holds id ${id}, which was never appended`);
      const known = idOf.get(seq);
      assert.ok(known === undefined || known === id, `${where}: record ${seq} holds id ${id}, earlier ${known}`);
      idOf.set(seq, id);
    };

    /** What a reopened queue hands out first must start at or below the first record owed, with none skipped. */
    const checkDeliveries = (first: number[], where: string) => {
      const owed = [...durable.keys()].filter((s) => !acked.has(s)).sort((a, b) => a - b);
      const got = new Set(first);
      const last = Math.max(-1, ...first);
      const skipped = owed.filter((s) => s < last && !got.has(s));
      assert.deepEqual(skipped, [], `${where}: records owed but skipped`);
      const duplicates = first.filter((s) => handedOut.has(s)).length;
      maxDuplicates = Math.max(maxDuplicates, duplicates);
      assert.ok(duplicates <= CRASH_MAX_IN_FLIGHT, `${where}: ${duplicates} records handed out again (bound ${CRASH_MAX_IN_FLIGHT})`);
    };

    for (let seed = 1; seed <= 12; seed++) {
      const round = await runRound(dir, seed, rng);
      const where = `round ${seed}`;
      const first: number[] = [];
      const newlyAcked: number[] = [];
      for (const line of round.lines) {
        const [tag, a, b, c] = line.split(' ');
        if (tag === 'P') attempted.add(Number(a));
        else if (tag === 'A') {
          durable.set(Number(a), Number(b));
          delivered(Number(a), Number(b), where);
        } else if (tag === 'D') {
          delivered(Number(a), Number(b), where);
          if (c === '1') first.push(Number(a));
        } else if (tag === 'K') newlyAcked.push(Number(a));
        else if (tag === 'W') {
          assert.ok(a === 'stale-lock' || a === 'torn-tail', `${where}: unexpected warning: ${line}`);
          if (a === 'torn-tail') tornTails++;
        } else if (tag === 'O') assert.equal(line.split(' ')[5], '0', `${where}: ${line}: a kill causes no corruption`);
      }
      // First deliveries in a round are in seq order.
      assert.deepEqual(first, [...first].sort((x, y) => x - y), `${where}: out of order`);
      checkDeliveries(first, where);
      for (const s of first) handedOut.add(s);
      for (const s of newlyAcked) acked.add(s);
      if (round.opened) rounds++;
    }

    const warnings: QueueWarning[] = [];
    const q = await DiskQueue.open({ dir, segmentBytes: CRASH_SEGMENT_BYTES, maxInFlight: CRASH_MAX_IN_FLIGHT, onWarning: (w) => warnings.push(w) });
    const s = q.stats();
    const final = await drainAll(q);
    await q.close();
    for (const r of final) delivered(r.seq, r.id, 'final');
    const seqs = final.map((r) => r.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'final: in order');
    checkDeliveries(seqs, 'final');
    const owed = [...durable.keys()].filter((x) => !acked.has(x));
    const got = new Set(seqs);
    assert.deepEqual(owed.filter((x) => !got.has(x)), [], 'final: every record owed is delivered');
    assert.equal(s.corruptRecords, 0);
    assert.ok(warnings.every((w) => w.code === 'stale-lock' || w.code === 'torn-tail'), JSON.stringify(warnings));
    // The rounds did real work, or the checks above prove nothing.
    assert.ok(rounds >= 6, `rounds that opened the queue: ${rounds}`);
    assert.ok(durable.size > 300 && acked.size > 200 && final.length > 0, `appended ${durable.size}, acked ${acked.size}, final ${final.length}`);
    assert.ok(handedOut.size > 200, `handed out ${handedOut.size}`);
    t.diagnostic(
      `${rounds} rounds: ${durable.size} appends resolved (${attempted.size} made), ${acked.size} acked, ${final.length} delivered at the end, at most ${maxDuplicates} duplicates in a round, ${tornTails} torn tails`,
    );
  });
});

describe('DiskQueue recovery from damage', () => {
  async function filled(dir: string, n: number, segmentBytes = 1 << 20): Promise<void> {
    const q = await DiskQueue.open({ dir, segmentBytes });
    for (let i = 0; i < n; i++) await q.append(payloadFor(i, 100 + i));
    await q.close();
  }
  async function reopen(dir: string, segmentBytes = 1 << 20) {
    const warnings: QueueWarning[] = [];
    const q = await DiskQueue.open({ dir, segmentBytes, onWarning: (w) => warnings.push(w) });
    const stats = q.stats();
    const records = await drainAll(q);
    await q.close();
    for (const r of records) assert.equal(r.id, r.seq, `record ${r.seq} intact`);
    return { stats, seqs: records.map((r) => r.seq), warnings };
  }
  /** Where record `seq` starts in a segment written by `filled` (frames of 24 + 12 + 100 + i bytes after a 24-byte header). */
  const offsetOf = (seq: number, first = 0) => {
    let at = 24;
    for (let i = first; i < seq; i++) at += 24 + 12 + 100 + i;
    return at;
  };
  const range = (from: number, to: number, skip: number[] = []) => Array.from({ length: to - from }, (_, i) => from + i).filter((x) => !skip.includes(x));

  it('cuts a torn tail (the last record cut in the middle) off, counts it, and keeps it cut', async () => {
    const dir = tempDir();
    await filled(dir, 20);
    const [seg] = segments(dir);
    const path = join(dir, seg!);
    truncateSync(path, offsetOf(19) + 50);
    const r = await reopen(dir);
    assert.deepEqual(r.seqs, range(0, 19));
    assert.equal(r.stats.tornTails, 1);
    assert.equal(r.stats.tornBytes, 50);
    assert.equal(r.stats.corruptRecords, 0);
    assert.equal(r.stats.nextSeq, 19);
    assert.deepEqual(r.warnings.map((w) => w.code), ['torn-tail']);
    assert.match(r.warnings[0]!.message, /torn tail of 50 bytes/);
    assert.equal(statSync(path).size, offsetOf(19));
    const again = await reopen(dir);
    assert.equal(again.stats.tornTails, 0, 'the cut was persisted');
  });

  it('cuts garbage after the last record (a torn write of a batch) off', async () => {
    const dir = tempDir();
    await filled(dir, 5);
    const path = join(dir, segments(dir)[0]!);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('STQR'), Buffer.alloc(3000, 0xab)]));
    const r = await reopen(dir);
    assert.deepEqual(r.seqs, range(0, 5));
    assert.equal(r.stats.tornTails, 1);
    assert.equal(r.stats.tornBytes, 3004);
  });

  it('skips a record whose payload bytes were flipped, counts it and says which, and delivers the rest in order', async () => {
    const dir = tempDir();
    await filled(dir, 20);
    const path = join(dir, segments(dir)[0]!);
    const buf = readFileSync(path);
    buf[offsetOf(7) + 24 + 40]! ^= 0xff;
    buf[offsetOf(7) + 24 + 41]! ^= 0x01;
    writeFileSync(path, buf);
    const r = await reopen(dir);
    assert.deepEqual(r.seqs, range(0, 20, [7]));
    assert.equal(r.stats.corruptRecords, 1);
    assert.equal(r.stats.corruptBytes, 24 + 12 + 107);
    assert.equal(r.stats.tornTails, 0);
    assert.deepEqual(r.warnings.map((w) => w.code), ['corrupt', 'corrupt']);
    assert.match(r.warnings.map((w) => w.message).join('\n'), /1 record\(s\) lost to the damage \(seq 7 to 7\)/);
  });

  it('finds the next record after a damaged header (its length field flipped) and counts the records lost', async () => {
    const dir = tempDir();
    await filled(dir, 20);
    const path = join(dir, segments(dir)[0]!);
    const buf = readFileSync(path);
    buf.writeUInt32LE(0x00ffffff, offsetOf(3) + 4); // record 3 claims 16 MiB
    buf.fill(0, offsetOf(9), offsetOf(10) + 10); // record 9 zeroed, 10 cut at its head
    writeFileSync(path, buf);
    const r = await reopen(dir);
    assert.deepEqual(r.seqs, range(0, 20, [3, 9, 10]));
    assert.equal(r.stats.corruptRecords, 3);
  });

  it('counts damage at the end of a segment that is not the last one by the seqs missing after it', async () => {
    const dir = tempDir();
    await filled(dir, 30, 1024);
    const segs = segments(dir);
    assert.ok(segs.length >= 4);
    const path = join(dir, segs[1]!);
    const firstSeq = Number(segs[1]!.slice(0, 20));
    const size = statSync(path).size;
    const buf = readFileSync(path);
    buf.fill(0x5a, size - 30); // the tail of its last record
    writeFileSync(path, buf);
    const nextFirst = Number(segs[2]!.slice(0, 20));
    const r = await reopen(dir, 1024);
    assert.deepEqual(r.seqs, range(0, 30, [nextFirst - 1]));
    assert.equal(r.stats.corruptRecords, 1);
    assert.equal(r.stats.tornTails, 0);
    assert.ok(firstSeq < nextFirst - 1);
  });

  it('delivers every record again when the cursor is damaged, with a warning', async () => {
    const dir = tempDir();
    const q = await DiskQueue.open({ dir, cursorDelayMs: 0 });
    for (let i = 0; i < 10; i++) await q.append(payloadFor(i, 100 + i));
    for (let i = 0; i < 4; i++) q.ack((await q.next()).seq);
    await q.close();
    assert.equal((await reopen(dir)).seqs[0], 4, 'the cursor held 4');
    // reopen acknowledged everything; write records again and damage the cursor.
    const q2 = await DiskQueue.open({ dir });
    for (let i = 10; i < 15; i++) await q2.append(payloadFor(i, 100 + i));
    await q2.close();
    const cursor = readFileSync(join(dir, 'cursor'));
    cursor[9]! ^= 0x40;
    writeFileSync(join(dir, 'cursor'), cursor);
    const r = await reopen(dir);
    assert.deepEqual(r.seqs, range(0, 15), 'every record still on disk, acknowledged or not');
    assert.deepEqual(r.warnings.map((w) => w.code), ['cursor']);
  });

  it('removes a last segment whose header was never finished', async () => {
    const dir = tempDir();
    await filled(dir, 3);
    writeFileSync(join(dir, '00000000000000000003.seg'), Buffer.from('STQS\x01'));
    const r = await reopen(dir);
    assert.deepEqual(r.seqs, [0, 1, 2]);
    assert.equal(r.stats.tornTails, 1);
    assert.equal(segments(dir).length, 1);
  });

  it('refuses a queue directory of another format version with one clear error', async () => {
    const dir = tempDir();
    await filled(dir, 1);
    const path = join(dir, segments(dir)[0]!);
    const buf = readFileSync(path);
    buf[4] = 9;
    const { crc32c } = await import('../../src/tracezip/crc32c.js');
    buf.writeUInt32LE(crc32c(buf, 0, 20), 20);
    writeFileSync(path, buf);
    await assert.rejects(DiskQueue.open({ dir }), /format version 9, this slimtrace reads 1/);
  });

  it('refuses the appends a failed write did not store (Backpressure unavailable) and leaves whole records only', async () => {
    const dir = tempDir();
    // A file size limit of 16 KiB (sh counts 512-byte blocks); node ignores SIGXFSZ, so writes fail with EFBIG.
    const r = spawnSync('sh', ['-c', `ulimit -f 32 && exec "${process.execPath}" --import tsx "${child}" fill "${dir}"`], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const stored = lines.filter((l) => l.startsWith('A ')).map((l) => Number(l.split(' ')[1]));
    assert.ok(stored.length >= 10 && stored.length <= 16, `stored ${stored.length}`);
    assert.match(lines.find((l) => l.startsWith('F '))!, /^F Backpressure unavailable .*write failed/);
    assert.equal(lines.at(-1), 'C');
    const again = await reopen(dir);
    assert.deepEqual(again.seqs, stored);
    assert.equal(again.stats.tornTails, 0, 'the failed write was cut back to whole records');
    assert.deepEqual(again.warnings, []);
  });
});
