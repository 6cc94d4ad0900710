// OTLP files as users have them (issue 15): the Collector file exporter's framings, gzip and zstd,
// and hostile files (empty, zero-filled, truncated, decompression bombs) ending in typed errors.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DecodeLimitError, ReadLimitError, encodeTracesData, encodeTracesJson, readOtlpFile } from '../../src/otlp/index.js';
import { zstdModule } from '../../src/otlp/zstd.js';
import { InputError, diffTracesData, makeResourceSpans, makeScopeSpans, makeSpan, makeTracesData, type TracesData } from '../../src/model/index.js';
import { openSpanCsvFiles } from '../../src/datasets/index.js';
import { assertOneLineError, slimtrace } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'slimtrace-otlp-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const request = (n: number, name: string): TracesData =>
  makeTracesData([
    makeResourceSpans({
      scopeSpans: [
        makeScopeSpans({
          spans: Array.from({ length: n }, (_, i) =>
            makeSpan({ traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(i + 1), name, startTimeUnixNano: 1n, endTimeUnixNano: 2n }),
          ),
        }),
      ],
    }),
  ]);
const requests = [request(3, 'a'), request(2, 'b')];

async function readAll(path: string, options = {}): Promise<TracesData[]> {
  const out: TracesData[] = [];
  for await (const d of readOtlpFile(path, undefined, options)) out.push(d);
  return out;
}
function assertSame(got: TracesData[]): void {
  assert.equal(got.length, requests.length);
  got.forEach((d, i) => assert.equal(diffTracesData(d, requests[i]!), undefined));
}
const be32 = (b: Uint8Array) => {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
};
const varint = (b: Uint8Array) => {
  const a: number[] = [];
  let n = b.length;
  while (n >= 0x80) {
    a.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  a.push(n);
  return Buffer.concat([Buffer.from(a), b]);
};
const zstd = (b: Uint8Array) => Buffer.from(new (zstdModule()!.Compressor)().compress(b));

it('the Collector file exporter framing (4-byte big-endian lengths) is read, plain and per-message zstd', async () => {
  assertSame(await readAll(file('collector.pb', Buffer.concat(requests.map((r) => be32(encodeTracesData(r)))))));
  assertSame(await readAll(file('collector-zstd.bin', Buffer.concat(requests.map((r) => be32(zstd(encodeTracesData(r))))))));
  // format: json with compression: zstd writes each JSON request compressed, in the same framing.
  assertSame(await readAll(file('collector-json-zstd.bin', Buffer.concat(requests.map((r) => be32(zstd(Buffer.from(encodeTracesJson(r)))))))));
});

it('.gz and .zst files: JSON Lines and both protobuf framings, whole-file compressed', async () => {
  const lines = Buffer.from(requests.map((r) => encodeTracesJson(r) + '\n').join(''));
  const delimited = Buffer.concat(requests.map((r) => varint(encodeTracesData(r))));
  const collector = Buffer.concat(requests.map((r) => be32(encodeTracesData(r))));
  for (const [ext, compress] of [['gz', (b: Buffer) => gzipSync(b)], ['zst', zstd]] as const) {
    assertSame(await readAll(file(`lines.jsonl.${ext}`, compress(lines))));
    assertSame(await readAll(file(`lines-noname.${ext}`, compress(lines))));
    assertSame(await readAll(file(`delimited.otlp.${ext}`, compress(delimited))));
    assertSame(await readAll(file(`collector.pb.${ext}`, compress(collector))));
    const one = await readAll(file(`single.pb.${ext}`, compress(Buffer.from(encodeTracesData(requests[0]!)))));
    assert.equal(diffTracesData(one[0]!, requests[0]!), undefined);
  }
});

it('an empty file is an error naming it; a zero-filled one is read fast and holds nothing', async () => {
  const empty = file('empty.otlp', '');
  await assert.rejects(readAll(empty), (e: unknown) => e instanceof InputError && e.message === `${empty} is empty`);
  await assert.rejects(readAll(file('empty.json', '')), /empty\.json is empty/);
  await assert.rejects(readAll(file('blank.json', '  \n\n')), /holds only white space/);
  // 3 MB of zeros: before, 159 s of empty size-delimited requests (50 us per byte).
  const t0 = performance.now();
  assert.deepEqual(await readAll(file('zeros.otlp', Buffer.alloc(3_000_000))), []);
  assert.ok(performance.now() - t0 < 20_000);
});

it('a truncated size-delimited file says truncated', async () => {
  const whole = Buffer.concat(requests.map((r) => varint(encodeTracesData(r))));
  await assert.rejects(readAll(file('cut.otlp', whole.subarray(0, whole.length - 5))), /truncated/);
  const collector = Buffer.concat(requests.map((r) => be32(encodeTracesData(r))));
  await assert.rejects(readAll(file('cut-collector.pb', collector.subarray(0, collector.length - 3))), /truncated/);
});

it('decode limits reach the file readers, and the error names the file', async () => {
  const path = file('many.otlp', Buffer.concat(requests.map((r) => varint(encodeTracesData(r)))));
  await assert.rejects(readAll(path, { maxSpans: 2 }), (e: unknown) => e instanceof DecodeLimitError && e.limit === 'maxSpans' && e.message.startsWith(`${path}: `));
  const json = file('many.jsonl', requests.map((r) => encodeTracesJson(r) + '\n').join(''));
  await assert.rejects(readAll(json, { maxSpans: 2 }), (e: unknown) => e instanceof DecodeLimitError && e.message.startsWith(`${json}: `));
});

it('gzip bombs stop at the document limit and at the compression ratio', async () => {
  // A JSON document that is mostly white space: 8 MiB once inflated, 8 KB stored.
  const doc = Buffer.concat([Buffer.from('{"resourceSpans":[]'), Buffer.alloc(8 * 1024 * 1024, 0x20), Buffer.from('}')]);
  const bomb = file('bomb.json.gz', gzipSync(doc));
  await assert.rejects(readAll(bomb, { maxDocumentBytes: 1024 * 1024 }), (e: unknown) => e instanceof ReadLimitError && e.limit === 'maxDocumentBytes' && /bomb\.json\.gz/.test(e.message));
  // 80 MiB of zeros in a size-delimited stream (empty requests): stopped by the ratio (about 1000x).
  const zeros = file('zeros.otlp.gz', gzipSync(Buffer.alloc(80 * 1024 * 1024), { level: 1 }));
  await assert.rejects(readAll(zeros), (e: unknown) => e instanceof ReadLimitError && e.limit === 'maxCompressionRatio');
});

it('a CSV record longer than maxRecordBytes is a ReadLimitError naming the file', async () => {
  const header = 'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n';
  // Letters from an LCG: compressible like text, not like a bomb (the ratio limit would fire first).
  const line = Buffer.alloc(17 * 1024 * 1024);
  for (let i = 0, x = 1; i < line.length; i++) line[i] = 0x61 + ((x = (x * 1103515245 + 12345) >>> 0) >>> 27) % 26;
  const csv = file('long.csv.gz', gzipSync(Buffer.concat([Buffer.from(header), line, Buffer.from('\n')]), { level: 1 }));
  const source = openSpanCsvFiles([csv]);
  await assert.rejects(
    (async () => {
      for await (const _ of source.batches());
    })(),
    (e: unknown) => e instanceof ReadLimitError && e.limit === 'maxRecordBytes' && /long\.csv\.gz/.test(e.message),
  );
});

it('the CLI: empty, spanless and hostile inputs exit 2 with one line', () => {
  assertOneLineError(slimtrace('stats', file('cli-empty.otlp', '')), /cli-empty\.otlp is empty/);
  assertOneLineError(slimtrace('stats', file('cli-empty.json', '')), /cli-empty\.json is empty/);
  assertOneLineError(slimtrace('stats', file('cli-zeros.otlp', Buffer.alloc(1000))), /cli-zeros\.otlp: holds no spans/);
  assertOneLineError(slimtrace('stats', file('cli-nospans.json', '{"resourceSpans":[]}\n')), /holds no spans/);
  const body = Buffer.alloc(2 * 5000, Buffer.from([0x12, 0x00]));
  const scope = Buffer.concat([Buffer.from([0x12]), Buffer.from(lengthBytes(body.length)), body]);
  const rs = Buffer.concat([Buffer.from([0x0a]), Buffer.from(lengthBytes(scope.length)), scope]);
  const hostile = file('cli-hostile.otlp', rs);
  for (const cmd of ['stats', 'compress', 'sample']) {
    const args = cmd === 'stats' ? [cmd, hostile] : [cmd, hostile, '-o', join(dir, `out-${cmd}`), ...(cmd === 'sample' ? ['--strategy', 'head'] : [])];
    assertOneLineError(slimtrace(...args, '--input-limits', 'maxSpans=1000'), /maxSpans = 1000.*--input-limits maxSpans=N/);
  }
  assertOneLineError(slimtrace('stats', hostile, '--input-limits', 'maxSpans=ten'), /--input-limits takes name=value/);
});

function lengthBytes(n: number): number[] {
  const a: number[] = [];
  while (n >= 0x80) {
    a.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  a.push(n);
  return a;
}

it('format detection: a protobuf message whose first length byte is `{` or `[` is not JSON', async () => {
  const { detectOtlpFileFormat, looksLikeJsonStart } = await import('../../src/otlp/files.js');
  // Find a request whose first ResourceSpans is 123 (0x7b) or 91 (0x5b) bytes long: it starts `0a 7b`.
  let bytes: Uint8Array | undefined;
  for (let n = 1; n < 200 && !bytes; n++) {
    const b = encodeTracesData(makeTracesData([makeResourceSpans({ scopeSpans: [makeScopeSpans({ spans: [makeSpan({ name: 'x'.repeat(n) })] })] })]));
    if (b[0] === 0x0a && (b[1] === 0x7b || b[1] === 0x5b)) bytes = b;
  }
  assert.ok(bytes, 'a request starting 0a 7b or 0a 5b');
  const path = file('no-suffix-proto', bytes);
  assert.equal(await detectOtlpFileFormat(path), undefined);
  const spans = [];
  for await (const batch of readOtlpFile(path, 'otlp-proto')) spans.push(batch);
  assert.equal(spans.length, 1);
  // JSON as people write it stays JSON.
  for (const text of ['{"resourceSpans":[]}', '\n\n  {\n  "resourceSpans": []}', '[{"resourceSpans":[]}]', '{}', '[]'])
    assert.ok(looksLikeJsonStart(Buffer.from(text)), text);
  assert.equal(await detectOtlpFileFormat(file('no-suffix-json', Buffer.from('\n{"resourceSpans":[]}'))), 'otlp-json');
});
