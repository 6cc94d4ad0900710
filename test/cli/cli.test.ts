// The CLI as a user runs it: real processes, real files, exit codes and the one-line errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTracesData, readOtlpFile } from '../../src/otlp/index.js';
import { countSpans, diffTracesData, type TracesData } from '../../src/model/index.js';

import { assertOneLineError, slimtrace } from './helpers.js';

async function readAll(path: string): Promise<TracesData[]> {
  const out: TracesData[] = [];
  for await (const b of readOtlpFile(path)) out.push(b);
  return out;
}

describe('slimtrace CLI', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stats summarizes the generated default input', () => {
    const r = slimtrace('stats', '--traces', '50', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.traces, 50);
    assert.ok(s.spans > 200, `spans ${s.spans}`);
    assert.equal(s.rootSpans, 50);
    assert.equal(s.orphanSpans, 0);
    assert.ok(s.otlpBytesPerSpan > 50);
    assert.ok(s.faults.faults >= 1);
  });

  it('convert writes OTLP protobuf that reads back to the same spans, and stats agrees', async () => {
    const pb = join(dir, 'gen.otlp');
    const r = slimtrace('convert', '--traces', '40', '--batch', '64', '-o', pb);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /spans in \d+ otlp-proto requests/);
    const batches = await readAll(pb);
    assert.ok(batches.length > 1, 'several size-delimited requests');
    assert.ok(batches.slice(0, -1).every((b) => countSpans(b) === 64));
    const stats = JSON.parse(slimtrace('stats', pb, '--json').stdout);
    const direct = JSON.parse(slimtrace('stats', '--traces', '40', '--json').stdout);
    assert.equal(stats.spans, direct.spans);
    assert.equal(stats.traces, direct.traces);
    assert.equal(stats.errorSpans, direct.errorSpans);
  });

  it('convert to JSON Lines and back to protobuf is lossless', async () => {
    const pb = join(dir, 'a.otlp');
    const json = join(dir, 'a.jsonl');
    const pb2 = join(dir, 'b.otlp');
    assert.equal(slimtrace('convert', '--traces', '20', '-o', pb).status, 0);
    assert.equal(slimtrace('convert', pb, '-o', json).status, 0);
    const r = slimtrace('convert', json, '-o', pb2, '--format', 'proto');
    assert.equal(r.status, 0, r.stderr);
    const a = await readAll(pb);
    const b = await readAll(pb2);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.equal(diffTracesData(a[i]!, b[i]!), undefined);
  });

  it('--single writes one bare request', () => {
    const pb = join(dir, 'one.pb');
    assert.equal(slimtrace('convert', '--traces', '5', '--single', '-o', pb).status, 0);
    const msg = decodeTracesData(readFileSync(pb));
    assert.ok(countSpans(msg) > 10);
  });

  it('generate writes traffic, ground truth and source; the same seed gives the same bytes', async () => {
    const a = join(dir, 'g1.otlp');
    const b = join(dir, 'g2.otlp');
    const gt = join(dir, 'gt.csv');
    const src = join(dir, 'src');
    const r = slimtrace('generate', '--traces', '200', '--seed', '7', '-o', a, '--ground-truth', gt, '--source-dir', src);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(slimtrace('generate', '--traces', '200', '--seed', '7', '-o', b).status, 0);
    assert.deepEqual(readFileSync(a), readFileSync(b));
    const lines = readFileSync(gt, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'fault_id,inject_time,inject_pod,inject_type,definition,trace_id,span_id');
    assert.ok(lines.length > 10, 'faulty spans labelled');
    // Every labelled span exists in the traffic.
    const ids = new Set<string>();
    for (const batch of await readAll(a))
      for (const rs of batch.resourceSpans)
        for (const ss of rs.scopeSpans) for (const sp of ss.spans) ids.add(Buffer.from(sp.traceId).toString('hex') + Buffer.from(sp.spanId).toString('hex'));
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      assert.ok(ids.has(f[5]! + f[6]!), `labelled span ${f[5]}/${f[6]} is in the traffic`);
    }
    const model = JSON.parse(readFileSync(join(src, 'slimtrace-model.json'), 'utf8'));
    assert.equal(model.format, 'slimtrace-generator-model');
    assert.ok(model.services.length >= 5);
  });

  it('compress and decompress are lossless, and stats reads .tzip files', async () => {
    const pb = join(dir, 'in.otlp');
    const tz = join(dir, 'in.tzip');
    const back = join(dir, 'back.otlp');
    assert.equal(slimtrace('convert', '--traces', '300', '--batch', '256', '-o', pb).status, 0);
    const c = slimtrace('compress', pb, '-o', tz, '--batch', '256');
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /ratio \d+\.\d+x/);
    const d = slimtrace('decompress', tz, '-o', back);
    assert.equal(d.status, 0, d.stderr);
    const a = await readAll(pb);
    const b = await readAll(back);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.equal(diffTracesData(a[i]!, b[i]!), undefined);
    const s = JSON.parse(slimtrace('stats', tz, '--json').stdout);
    assert.equal(s.traces, 300);
  });

  const userErrors: [string, () => string[], RegExp][] = [
    ['a missing file', () => ['stats', join(dir, 'nope.otlp')], /nope\.otlp: no such file or directory/],
    ['a corrupt protobuf file', () => {
      const p = join(dir, 'garbage.pb');
      writeFileSync(p, Buffer.from([0x0a, 0xff, 0xff, 0x7f, 1, 2, 3]));
      return ['stats', p];
    }, /garbage\.pb: .*(invalid protobuf|truncated)/],
    ['a truncated delimited file', () => {
      const good = join(dir, 'full.otlp');
      slimtrace('convert', '--traces', '10', '--batch', '16', '-o', good);
      const bytes = readFileSync(good);
      const p = join(dir, 'cut.otlp');
      writeFileSync(p, bytes.subarray(0, bytes.length - 7));
      return ['stats', p];
    }, /cut\.otlp: /],
    ['invalid JSON', () => {
      const p = join(dir, 'bad.json');
      writeFileSync(p, '{"resourceSpans": [ {"scopeSpans": [ ');
      return ['stats', p];
    }, /bad\.json: /],
    ['a bad flag value', () => ['stats', '--traces', 'many'], /--traces must be a positive integer, got 'many'/],
    ['a bad format', () => ['convert', '--traces', '1', '-o', join(dir, 'x.out'), '--format', 'xml'], /--format must be proto or json/],
    ['generate with nothing to write', () => ['generate'], /nothing to write/],
    ['a truncated .tzip file', () => {
      const tz = join(dir, 'cut-src.tzip');
      slimtrace('compress', '--traces', '50', '-o', tz, '--batch', '64');
      const bytes = readFileSync(tz);
      const p = join(dir, 'cut.tzip');
      writeFileSync(p, bytes.subarray(0, bytes.length - 10));
      return ['decompress', p, '-o', join(dir, 'cut.out')];
    }, /cut\.tzip: (truncated|frame \d+)/],
    ['a corrupted .tzip file', () => {
      const tz = join(dir, 'flip-src.tzip');
      slimtrace('compress', '--traces', '50', '-o', tz);
      const bytes = Buffer.from(readFileSync(tz));
      bytes[40]! ^= 0x10;
      const p = join(dir, 'flip.tzip');
      writeFileSync(p, bytes);
      return ['decompress', p, '-o', join(dir, 'flip.out')];
    }, /flip\.tzip: frame 0 .*checksum/],
    ['a directory that is no dataset', () => ['stats', dir], /unrecognised dataset directory/],
  ];
  for (const [what, args, message] of userErrors) {
    it(`reports ${what} in one line with exit code 2`, () => {
      assertOneLineError(slimtrace(...args()), message);
    });
  }
});
