// Tracezip files (.tzip): a sequence of self-delimiting stateless frames. Lossless through
// TracezipFileWriter and readTracezipFile, readable when cut at frame boundaries or concatenated,
// and on damaged files (truncated anywhere, bits flipped anywhere, garbage) every complete frame
// before the damage comes out exactly, then one InputError naming the file - never another
// exception, never a wrong batch, never a hang.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TracezipEncoder, TracezipFileWriter, frameLength, looksLikeTracezip, readTracezipFile, readFrameHeader, type Compression } from '../../src/tracezip/index.js';
import { collectTraffic } from '../../src/generator/index.js';
import { InputError, diffTracesData, type TracesData } from '../../src/model/index.js';
import { Arbitrary, Rng } from '../helpers/arbitrary.js';
import { edgeCaseTracesData } from '../helpers/edge-cases.js';
import { tracezipArbitrary, recut } from '../helpers/tracezip.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tzip-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const rng = new Rng(0xf11e);
const traffic = recut(collectTraffic({ seed: 81, traces: 200, batchSpans: 128 }).batches, (n) => rng.int(n), 1, 80);
const arbitrary = (() => {
  const gen = new Arbitrary(new Rng(0xf11f), { maxSpans: 5 });
  return Array.from({ length: 60 }, () => tracezipArbitrary(gen));
})();

async function writeFile(name: string, batches: readonly TracesData[], compression: Compression): Promise<string> {
  const path = join(dir, name);
  const w = new TracezipFileWriter(path, { compression });
  for (const b of batches) await w.write(b);
  await w.close();
  assert.equal(w.frames, batches.length);
  return path;
}

/** Reads a file: the batches that came out, and the error that ended it (if any). */
async function readAll(path: string): Promise<{ batches: TracesData[]; error?: unknown }> {
  const batches: TracesData[] = [];
  try {
    for await (const b of readTracezipFile(path)) batches.push(b);
  } catch (error) {
    return { batches, error };
  }
  return { batches };
}

function assertPrefix(got: TracesData[], expected: readonly TracesData[], label: string): void {
  assert.ok(got.length <= expected.length, `${label}: ${got.length} batches out of ${expected.length}`);
  got.forEach((b, i) => {
    const d = diffTracesData(b, expected[i]!);
    assert.equal(d, undefined, `${label}: batch ${i}: first difference (decoded != original): ${d}`);
  });
}

/** Frame boundaries of a file (offsets of each frame start, and the end). */
function boundaries(bytes: Uint8Array): number[] {
  const out = [0];
  for (let at = 0; at < bytes.length; ) {
    const n = frameLength(bytes, at);
    assert.ok(n !== undefined && n > 0, `a frame length at ${at}`);
    at += n;
    out.push(at);
  }
  assert.equal(out[out.length - 1], bytes.length);
  return out;
}

describe('tzip files', () => {
  test('written and read back exactly: traffic, arbitrary messages and edge cases, every compression', async () => {
    const all = [...traffic, ...arbitrary, ...edgeCaseTracesData().map((c) => c.data)];
    for (const compression of ['zstd', 'gzip', 'none'] as const) {
      const path = await writeFile(`all-${compression}.tzip`, all, compression);
      const bytes = readFileSync(path);
      assert.ok(looksLikeTracezip(bytes));
      for (const at of boundaries(bytes).slice(0, -1)) assert.ok(readFrameHeader(bytes.subarray(at, at + frameLength(bytes, at)!)).stateless, `the frame at ${at} is stateless`);
      const { batches, error } = await readAll(path);
      assert.equal(error, undefined, `reading ${compression}: ${String(error)}`);
      assert.equal(batches.length, all.length);
      assertPrefix(batches, all, `${compression} file`);
    }
  });

  test('self-delimiting: frameLength names every frame exactly, prefixes never get a wrong length; files cut at frame boundaries and concatenated read as their frames', async () => {
    const batches = traffic.slice(0, 12);
    const bytes = readFileSync(await writeFile('cuts.tzip', batches, 'zstd'));
    const bounds = boundaries(bytes);
    for (let f = 0; f + 1 < bounds.length; f++) {
      const start = bounds[f]!;
      const end = bounds[f + 1]!;
      for (let cut = start; cut < end; cut++) {
        const n = frameLength(bytes.subarray(0, cut), start);
        assert.ok(n === undefined || n === end - start, `frame ${f} cut at ${cut}: length ${n}, the frame is ${end - start} bytes`);
      }
    }
    // Any run of whole frames is a valid file; two files glued together are one.
    for (const [a, b] of [
      [0, 1],
      [3, 7],
      [11, 12],
      [0, 12],
    ] as const) {
      const p = join(dir, `cut-${a}-${b}.tzip`);
      writeFileSync(p, bytes.subarray(bounds[a], bounds[b]));
      const { batches: got, error } = await readAll(p);
      assert.equal(error, undefined);
      assert.equal(got.length, b - a);
      assertPrefix(got, batches.slice(a, b), `frames ${a}..${b}`);
    }
    const glued = join(dir, 'glued.tzip');
    writeFileSync(glued, Buffer.concat([bytes.subarray(bounds[6]), bytes.subarray(0, bounds[6])]));
    const { batches: got } = await readAll(glued);
    assertPrefix(got, [...batches.slice(6), ...batches.slice(0, 6)], 'glued');
    assert.equal(got.length, 12);
  });

  test('truncated at every offset: the complete frames before the cut, then an InputError naming the file (none at a frame boundary; an empty file "is empty")', async () => {
    const batches = traffic.slice(0, 4).map((b) => ({ ...b, resourceSpans: b.resourceSpans.slice(0, 1) }));
    const bytes = readFileSync(await writeFile('trunc-src.tzip', batches, 'none'));
    const bounds = boundaries(bytes);
    const p = join(dir, 'trunc.tzip');
    for (let len = 0; len < bytes.length; len++) {
      writeFileSync(p, bytes.subarray(0, len));
      const { batches: got, error } = await readAll(p);
      const whole = bounds.filter((b) => b <= len).length - 1;
      assertPrefix(got, batches, `cut at ${len}`);
      assert.equal(got.length, whole, `cut at ${len}: the ${whole} complete frames come out`);
      if (len === 0) assert.ok(error instanceof InputError && /trunc\.tzip is empty/.test(error.message), `an empty file is an error naming it: ${String(error)}`);
      else if (bounds.includes(len)) assert.equal(error, undefined, `cut at ${len} (a frame boundary): no error`);
      else {
        assert.ok(error instanceof InputError, `cut at ${len}: ${String(error)}`);
        assert.ok(error.message.includes('trunc.tzip'), `the error names the file: ${error.message}`);
      }
    }
  });

  test('bits flipped, bytes overwritten, garbage appended or in place: the frames before the damage exactly, then an InputError', async () => {
    const batches = traffic.slice(0, 5);
    const bytes = readFileSync(await writeFile('flip-src.tzip', batches, 'zstd'));
    const bounds = boundaries(bytes);
    const p = join(dir, 'flip.tzip');
    const r = new Rng(0xf1);
    for (let i = 0; i < 400; i++) {
      const m = new Uint8Array(bytes);
      const at = r.int(m.length);
      if (r.bool(0.7)) m[at]! ^= 1 << r.int(8);
      else m[at] = r.pick([0, 0x80, 0xff, r.int(256)]);
      if (m[at] === bytes[at]) continue;
      writeFileSync(p, m);
      const { batches: got, error } = await readAll(p);
      const before = bounds.filter((b) => b <= at).length - 1; // frames wholly before the damage
      assertPrefix(got, batches, `damage at ${at}`);
      assert.ok(got.length >= before, `damage at ${at}: only ${got.length} of the ${before} frames before it`);
      assert.ok(error instanceof InputError, `damage at ${at}: ${String(error)}`);
    }
    for (const tail of [Uint8Array.of(0x54), Uint8Array.of(0x54, 0x5a, 1, 8), new Uint8Array(30).fill(0x80), r.bytes(100)]) {
      writeFileSync(p, Buffer.concat([bytes, tail]));
      const { batches: got, error } = await readAll(p);
      assert.equal(got.length, batches.length, 'every frame before the garbage');
      assertPrefix(got, batches, 'garbage appended');
      assert.ok(error instanceof InputError, `garbage appended: ${String(error)}`);
    }
    writeFileSync(p, r.bytes(5000));
    const g = await readAll(p);
    assert.equal(g.batches.length, 0);
    assert.ok(g.error instanceof InputError);
  });

  test('a frame of a stateful stream in a file is refused (not self-contained) with an InputError', async () => {
    const enc = new TracezipEncoder({ compression: 'none' });
    enc.encode(traffic[0]!);
    const p = join(dir, 'stateful.tzip');
    writeFileSync(p, enc.encode(traffic[1]!));
    const { batches, error } = await readAll(p);
    assert.equal(batches.length, 0);
    assert.ok(error instanceof InputError, String(error));
  });
});
