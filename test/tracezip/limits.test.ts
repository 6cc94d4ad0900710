// Decoder limits against small hostile inputs (issue 15, items 1, 2 and 7): a frame that declares
// millions of spans, a dictionary string referenced by many spans (in one frame and across the
// frames of a file), residual strings that repeat each other by reference, a short frame that
// claims a huge payload. Each must be refused with a TracezipFrameError of kind 'limit' naming the
// limit (an InputError naming the file through the .tzip reader and the CLI), cheaply; and the file
// writer must never write a frame the same limits refuse.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_LIMITS,
  TracezipDecoder,
  TracezipEncoder,
  TracezipFileWriter,
  TracezipFrameError,
  decodedSizeOf,
  readFrameHeader,
  readTracezipFile,
  type TracezipFileReadOptions,
} from '../../src/tracezip/index.js';
import { InputError, countSpans, diffTracesData, type TracesData } from '../../src/model/index.js';
import { claimedPayloadFrame, referenceBomb, referenceFileBomb, residualRepeatBomb, spanCountBomb } from '../reliability/bombs.js';
import { assertOneLineError, slimtrace } from '../cli/helpers.js';
import { batchOf, kv, sp } from '../helpers/tracezip.js';

const dir = mkdtempSync(join(tmpdir(), 'tzip-limits-'));

function limitError(bytes: Uint8Array, limit: string, decoder = new TracezipDecoder()): TracezipFrameError {
  let err: unknown;
  try {
    const r = decoder.decode(bytes);
    assert.fail(`expected the ${limit} limit, got ${r.kind}`);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof TracezipFrameError, `a TracezipFrameError, got ${String(err)}`);
  assert.equal(err.kind, 'limit', err.message);
  assert.match(err.message, new RegExp(limit), 'the error names the limit');
  return err;
}

async function readAll(path: string, options?: TracezipFileReadOptions): Promise<{ batches: TracesData[]; error?: unknown }> {
  const batches: TracesData[] = [];
  try {
    for await (const b of readTracezipFile(path, options)) batches.push(b);
  } catch (e) {
    return { batches, error: e };
  }
  return { batches };
}

describe('frame limits', () => {
  test('item 1: a frame declaring more spans than maxFrameSpans is refused before they are built', () => {
    // 300,000 spans: above the default 262,144, small enough that the old decoder built them
    // (uncompressed, so no other limit applies first).
    limitError(spanCountBomb(300_000, 'none'), 'maxFrameSpans');
    // The size (5,000,000 spans in a few KB of zstd) is refused at once, by the payload cap.
    const bomb = spanCountBomb(5_000_000);
    assert.ok(bomb.length < 20_000, `${bomb.length} bytes`);
    limitError(bomb, 'maxPayloadBytes');
    limitError(bomb, 'maxFrameSpans', new TracezipDecoder({ maxPayloadBytes: 1 << 30 }));
    // Under the limit, the same shape decodes.
    const r = new TracezipDecoder().decode(spanCountBomb(1000));
    assert.equal(r.kind === 'data' && countSpans(r.data), 1000);
    limitError(spanCountBomb(1000), 'maxFrameSpans', new TracezipDecoder({ maxFrameSpans: 999 }));
  });

  test('item 2: one dictionary string referenced by many spans is refused past maxFrameDecodedBytes', () => {
    // A 900 KiB name (under the 1 MiB any frame may claim) named by 200 spans: 180 MB decoded.
    const bomb = referenceBomb(900 * 1024, 200);
    assert.ok(bomb.length < 3_000, `${bomb.length} bytes`);
    limitError(bomb, 'maxFrameDecodedBytes');
    const r = new TracezipDecoder().decode(referenceBomb(900 * 1024, 100)); // 90 MB: allowed
    assert.equal(r.kind, 'data');
    // The shape at half its name (64 MiB is past maxPayloadBytes on its own).
    limitError(referenceBomb(32 * 1024 * 1024, 40), 'maxFrameDecodedBytes');
    limitError(referenceBomb(32 * 1024 * 1024, 40), 'maxPayloadBytes', new TracezipDecoder({ maxPayloadBytes: 1 << 20 }));
  });

  test('item 2: residual strings that repeat earlier values by reference are refused before they are built', () => {
    limitError(residualRepeatBomb(40), 'maxFrameDecodedBytes');
    const r = new TracezipDecoder().decode(residualRepeatBomb(1)); // every value the same 16 characters
    assert.equal(r.kind, 'data');
  });

  test('item 7: a short epoch start claiming a large payload allocates what its body proves, not the claim', () => {
    limitError(claimedPayloadFrame(200 * 1024 * 1024), 'maxPayloadBytes');
    // 60 MiB claimed by a 6-byte body: the buffer starts at what the body proves and the frame
    // fails on its content. (Allocating the claim would show here: nothing has collected it yet.)
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => new TracezipDecoder().decode(claimedPayloadFrame(60 * 1024 * 1024)), (e) => e instanceof TracezipFrameError && e.kind === 'compression');
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 16 * 1024 * 1024, `${(grew / 2 ** 20).toFixed(1)} MiB of buffers after a 6-byte body`);
    // A claim the floor allows fails on its content, not on an allocation.
    assert.throws(() => new TracezipDecoder().decode(claimedPayloadFrame(1000)), (e) => e instanceof TracezipFrameError && e.kind === 'compression');
  });

  test('a zstd-stream frame with a large payload still decodes exactly (its buffer grows as output comes)', () => {
    let x = 12345;
    const text = (n: number): string => Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16).toString(36)).join(' ');
    const big = batchOf(Array.from({ length: 40 }, (_, i) => sp({ trace: 1, id: i + 1, attributes: [kv('log', text(30_000))] })));
    const enc = new TracezipEncoder({ compression: 'zstd-stream', streamId: 5n, templateValueLimit: 0 });
    const frame = enc.encode(big);
    assert.ok(readFrameHeader(frame).payloadLength > 4 * 1024 * 1024, 'the payload is above the shared buffer');
    const r = new TracezipDecoder().decode(frame);
    assert.equal(r.kind === 'data' && diffTracesData(r.data, big), undefined);
  });

  test('limits must be positive numbers', () => {
    assert.throws(() => new TracezipDecoder({ maxFrameSpans: 0 }), /maxFrameSpans/);
    assert.equal(DEFAULT_LIMITS.maxFrameSpans, 262_144);
  });
});

describe('.tzip files', () => {
  test('item 2, across frames: frames each under the frame limit add up past maxFileExpansionRatio', async () => {
    const p = join(dir, 'refs.tzip');
    writeFileSync(p, referenceFileBomb(900 * 1024, 100, 20)); // 20 frames of 90 MB each, about 20 KB
    const { batches, error } = await readAll(p);
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, /refs\.tzip: frame \d+ .*maxFileExpansionRatio/);
    assert.ok(batches.length <= 2, `${batches.length} frames came out first`);
  });

  test('an empty file "is empty", a cut one "truncated", each naming the file', async () => {
    const empty = join(dir, 'empty.tzip');
    writeFileSync(empty, new Uint8Array(0));
    const e1 = (await readAll(empty)).error;
    assert.ok(e1 instanceof InputError && /empty\.tzip is empty/.test(e1.message), String(e1));
    const cut = join(dir, 'cut.tzip');
    const frame = new TracezipFileWriterBytes().frame(batchOf([sp({ trace: 1, id: 1 })]));
    writeFileSync(cut, frame.subarray(0, 2));
    const e2 = (await readAll(cut)).error;
    assert.ok(e2 instanceof InputError && /cut\.tzip: truncated/.test(e2.message), String(e2));
  });

  test('the writer splits a batch that would pass maxFrameSpans or maxFrameDecodedBytes', async () => {
    const batch = batchOf(Array.from({ length: 1000 }, (_, i) => sp({ trace: 1 + (i % 7), id: i + 1, attributes: [kv('i', BigInt(i))] })));
    const limits = { maxFrameSpans: 100, maxFrameDecodedBytes: Math.ceil(decodedSizeOf(batch) / 25) };
    const p = join(dir, 'split.tzip');
    const w = new TracezipFileWriter(p, { limits });
    await w.write(batch);
    await w.close();
    assert.ok(w.frames >= 25, `${w.frames} frames`);
    const { batches, error } = await readAll(p, limits);
    assert.equal(error, undefined, String(error));
    assert.equal(batches.reduce((n, b) => n + countSpans(b), 0), 1000);
    const spans = batches.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    assert.deepEqual(
      spans.map((s) => Buffer.from(s.spanId).toString('hex')),
      batch.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => Buffer.from(s.spanId).toString('hex')),
      'every span once, in order',
    );
    const single = batchOf([sp({ trace: 1, id: 1, attributes: [kv('big', 'x'.repeat(5000))] })]);
    const w2 = new TracezipFileWriter(join(dir, 'one.tzip'), { limits: { maxFrameDecodedBytes: 1000 } });
    await assert.rejects(w2.write(single), (e) => e instanceof InputError && /maxFrameDecodedBytes/.test(e.message));
    await w2.abort();
  });
});

/** One stateless frame of a batch. */
class TracezipFileWriterBytes {
  frame(b: TracesData): Uint8Array {
    return new TracezipEncoder({ stateless: true }).encode(b);
  }
}

describe('the CLI on hostile and broken .tzip files: one line, exit 2', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['spans.tzip', spanCountBomb(5_000_000), /spans\.tzip: frame 0 .*maxPayloadBytes/],
    ['spans300k.tzip', spanCountBomb(300_000, 'none'), /spans300k\.tzip: frame 0 .*maxFrameSpans/],
    ['refs.tzip', referenceFileBomb(900 * 1024, 100, 20), /refs\.tzip: frame \d+ .*maxFile/],
    ['ref32.tzip', referenceBomb(32 * 1024 * 1024, 80), /ref32\.tzip: frame 0 .*maxFrameDecodedBytes/],
    ['empty.tzip', new Uint8Array(0), /empty\.tzip is empty/],
    ['short.tzip', Uint8Array.of(0x54, 0x5a), /short\.tzip: truncated/],
  ];
  for (const [name, bytes, message] of cases) {
    test(`${name}: decompress and stats`, () => {
      const p = join(dir, `cli-${name}`);
      writeFileSync(p, bytes);
      assertOneLineError(slimtrace('decompress', p, '-o', join(dir, `${name}.otlp`)), message);
      assertOneLineError(slimtrace('stats', p), message);
    });
  }

  test('compress --batch larger than maxFrameSpans writes frames the default decoder reads', () => {
    const out = join(dir, 'cli-big.tzip');
    const r = slimtrace('compress', '--traces', '30', '--batch', '1000000', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    const bytes = readFileSync(out);
    assert.ok(bytes.length > 0);
    const d = slimtrace('decompress', out, '-o', join(dir, 'cli-big.otlp'));
    assert.equal(d.status, 0, d.stderr);
  });
});
