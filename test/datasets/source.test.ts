// openTraceSource: recognising what a path is, describing it, and the errors for what it is not.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError, bytesToHex, makeResourceSpans, makeTracesData } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { detectDatasetLayout, openTraceSource, sniffFileFormat, WarningLog } from '../../src/datasets/index.js';
import { GATEWAY, LOG_HEADER, SPAN_HEADER, TRACE_A, TempDir, collect, spanRow } from './helpers.js';

async function rejectsInput(promise: Promise<unknown>, path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.equal(err.source, path);
    assert.match(err.message, pattern);
    return true;
  });
}

function minute(t: string, span: string, start: bigint): string[] {
  return [SPAN_HEADER, spanRow(TRACE_A, span, 'root', GATEWAY, `/${t}`, start, start + 1000n)];
}

describe('openTraceSource', () => {
  let tmp: TempDir;
  before(() => {
    tmp = new TempDir();
    // trastrainer layout, files written out of order; a stray file in trace/
    tmp.write('tt/trace/12_00_trace.csv.gz', minute('12_00', '0000000000000003', 3000n), { gzip: true });
    tmp.write('tt/trace/09_59_trace.csv.gz', minute('09_59', '0000000000000001', 1000n), { gzip: true });
    tmp.write('tt/trace/11_39_trace.csv.gz', minute('11_39', '0000000000000002', 2000n), { gzip: true });
    tmp.write('tt/trace/notes.txt', 'not a trace file');
    tmp.write('tt/label.json', '{}');
    tmp.write('nezha-no-construct/rca_data/2023-01-29/trace/08_43_trace.csv', minute('08_43', '0000000000000004', 4000n));
  });
  after(() => tmp.remove());

  it('recognises a trastrainer directory and reads its minute files in time order', async () => {
    const source = await openTraceSource(join(tmp.path, 'tt'));
    assert.equal(source.kind, 'trastrainer-trainticket');
    assert.match(source.describe(), /^trastrainer-trainticket dataset at .*tt: 3 span files, 09:59 … 12:00; labels: label\.json$/);
    assert.deepEqual(source.progress(), { done: 0, total: 3 });
    const { batches, spans } = await collect(source.batches());
    assert.equal(batches.length, 3);
    assert.deepEqual(
      spans.map((s) => s.span.name),
      ['/09_59', '/11_39', '/12_00'],
    );
    assert.deepEqual(source.progress(), { done: 3, total: 3 });
    assert.deepEqual(
      source.warnings.list.map((w) => [w.code, w.file?.endsWith('notes.txt')]),
      [['ignored-input', true]],
    );
    assert.equal(source.hasGroundTruth, true);
    assert.deepEqual((await source.groundTruth())!.faults, []);
  });

  it('reads again from the start on every batches() call, with fresh stats', async () => {
    const source = await openTraceSource(join(tmp.path, 'tt'));
    const a = await collect(source.batches());
    const b = await collect(source.batches());
    assert.deepEqual(
      a.spans.map((s) => bytesToHex(s.span.spanId)),
      b.spans.map((s) => bytesToHex(s.span.spanId)),
    );
    assert.equal(source.stats.spans, 3);
    assert.equal(source.stats.duplicateRows, 0);
  });

  it('names a missing path', async () => {
    const path = join(tmp.path, 'nope');
    await rejectsInput(openTraceSource(path), path, /no such file or directory/);
  });

  it('refuses an unrecognised file', async () => {
    const path = tmp.write('readme.md', '# hello\nnot traces\n');
    await rejectsInput(openTraceSource(path), path, /^.*readme\.md: unrecognised input format/);
  });

  it('refuses an unrecognised directory', async () => {
    const path = join(tmp.path, 'empty-dir');
    tmp.write('empty-dir/something.txt', 'x');
    await rejectsInput(openTraceSource(path), path, /unrecognised dataset directory/);
  });

  it('says what to do with a nezha log CSV', async () => {
    const path = tmp.write('10_06_log.csv', [LOG_HEADER]);
    await rejectsInput(openTraceSource(path), path, /a nezha log CSV holds log records, not spans: open the dataset directory/);
  });

  it('names a missing nezha part', async () => {
    const path = join(tmp.path, 'nezha-no-construct');
    await rejectsInput(openTraceSource(path, { nezhaPart: 'construct' }), path, /without construct_data\//);
    assert.equal((await openTraceSource(path)).kind, 'nezha-trainticket');
  });

  it('rejects a batch size that is not a positive integer', async () => {
    await assert.rejects(openTraceSource(join(tmp.path, 'tt'), { batchSpans: 0 }), RangeError);
  });

  it('lists a layout without reading it', async () => {
    const layout = await detectDatasetLayout(join(tmp.path, 'tt'), { warnings: new WarningLog() });
    assert.deepEqual(
      layout!.minutes.map((m) => m.minute),
      ['09_59', '11_39', '12_00'],
    );
    assert.equal(await detectDatasetLayout(join(tmp.path, 'empty-dir'), { warnings: new WarningLog() }), undefined);
  });
});

describe('sniffFileFormat', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());

  const CASES: [string, string | Uint8Array, string | undefined][] = [
    ['spans.csv', `${SPAN_HEADER}\n`, 'span-csv'],
    ['quoted.csv', '"TraceID","SpanID","ParentID","PodName","OperationName","StartTimeUnixNano","EndTimeUnixNano"\n', 'span-csv'],
    ['logs.csv', `${LOG_HEADER}\n`, 'log-csv'],
    ['zipkin.json', '  [ {"traceId": "5af7183fb1d4cf5f", "id": "6b221d5bc9e6496c"} ]', 'zipkin-json'],
    ['empty-zipkin.json', '[]', 'zipkin-json'],
    ['jaeger.json', '{"data": [{"traceID": "5b8a", "spans": [], "processes": {}}]}', 'jaeger-json'],
    ['one-trace.json', '{"traceID": "5b8a", "spans": [], "processes": {}}', 'jaeger-json'],
    ['otlp.json', '{"resourceSpans": []}', 'otlp-json'],
    ['otlp.jsonl', '{"resource_spans": []}\n{"resource_spans": []}\n', 'otlp-json'],
    ['other.json', '{"hello": 1}', undefined],
    ['text.txt', 'hello', undefined],
  ];
  for (const [name, content, format] of CASES) {
    it(`${name} is ${format ?? 'not recognised'}`, async () => {
      assert.equal(await sniffFileFormat(tmp.write(name, typeof content === 'string' ? content : '')), format);
    });
  }

  it('looks inside gzip', async () => {
    assert.equal(await sniffFileFormat(tmp.writeBytes('spans.bin', gzipSync(Buffer.from(`${SPAN_HEADER}\n`)))), 'span-csv');
  });

  it('recognises OTLP protobuf by name or by its first field', async () => {
    const bytes = encodeTracesData(makeTracesData([makeResourceSpans()]));
    assert.equal(await sniffFileFormat(tmp.writeBytes('batch.pb', bytes)), 'otlp-protobuf');
    assert.equal(await sniffFileFormat(tmp.writeBytes('batch.bin', Uint8Array.from([0x0a, 0x00, 0x0a, 0x00]))), 'otlp-protobuf');
  });
});
