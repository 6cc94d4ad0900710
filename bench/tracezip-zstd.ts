// bench/tracezip-zstd: what each zstd setting costs and saves on Tracezip's own stream payloads
// (the frames' bodies before zstd, one stream per dataset and batch size, batched as
// bench/tracezip.ts batches them). Each setting compresses the same payloads as one zstd stream
// flushed at every frame, as the encoder does; bytes and ns per span are printed (median of 5).
// This is how the stream's default (level 1, literals raw) was chosen.
//
//   node --max-old-space-size=8000 --import tsx bench/tracezip-zstd.ts [DATASETS] [--only nezha]
//        [--batch 16] [--max-spans 250000]
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { decodeTracesData } from '../src/otlp/index.js';
import { TracezipEncoder, readFrameHeader } from '../src/tracezip/index.js';
import { ZSTD_STREAM_WINDOW_LOG } from '../src/tracezip/compression.js';
import { countSpans } from '../src/model/index.js';
import { cacheFile, prepareDataset, readCache, type DatasetSpec } from './tracezip-data.js';
import { median } from './timing.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    only: { type: 'string' },
    batch: { type: 'string', default: '16' },
    'max-spans': { type: 'string', default: '250000' },
  },
});

interface StreamCctx {
  setParameter(param: number, value: number): void;
  compressStream2(dst: Uint8Array, src: Uint8Array, endOp: number): [number, number, number];
}
const binding = createRequire(import.meta.url)('zstd-napi/binding') as {
  CCtx: new () => StreamCctx;
  CParameter: Record<string, number>;
  EndDirective: { flush: number };
};
const LITERAL_COMPRESSION_MODE = 1002; // ZSTD_c_literalCompressionMode; 2 = raw

const SETTINGS: Record<string, Record<number, number>> = {
  'level 3': { [binding.CParameter.compressionLevel!]: 3 },
  'level 3, raw literals': { [binding.CParameter.compressionLevel!]: 3, [LITERAL_COMPRESSION_MODE]: 2 },
  'level 1': { [binding.CParameter.compressionLevel!]: 1 },
  'level 1, raw literals (default)': { [binding.CParameter.compressionLevel!]: 1, [LITERAL_COMPRESSION_MODE]: 2 },
  'level -1': { [binding.CParameter.compressionLevel!]: -1 },
};

const root = resolve(fileURLToPath(import.meta.url), '../..');
const datasetsRoot = resolve(positionals[0] ?? process.env.SLIMTRACE_DATASETS ?? resolve(root, '../shared/datasets'));
const batch = Number(values.batch);
const maxSpans = Number(values['max-spans']);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got ${values.batch}`);
if (!Number.isInteger(maxSpans) || maxSpans < 1) throw new Error(`--max-spans must be a positive integer, got ${values['max-spans']}`);
if (values.only !== undefined && values.only !== 'trastrainer' && values.only !== 'nezha') throw new Error('--only must be trastrainer or nezha');
// Named as bench/tracezip.ts names them, so both share .bench-cache/.
const specs: DatasetSpec[] = ['trastrainer', 'nezha']
  .filter((k) => values.only === undefined || k === values.only)
  .map((k) => ({ name: `${k}-trainticket`, path: join(datasetsRoot, `${k}-trainticket`), logBody: 'parsed' }));
const cacheDir = join(root, '.bench-cache');

for (const ds of specs) {
  await prepareDataset(ds, [batch], cacheDir, (s) => process.stderr.write(s + '\n'));
  const { batches } = readCache(cacheFile(cacheDir, ds, batch));
  // The payloads: frames without whole-frame compression, header and checksum taken off.
  const encoder = new TracezipEncoder({ compression: 'none' });
  const payloads: Uint8Array[] = [];
  let spans = 0;
  for (const b of batches) {
    const model = decodeTracesData(b.model);
    spans += countSpans(model);
    const frame = encoder.encode(model);
    const h = readFrameHeader(frame);
    payloads.push(frame.slice(h.bodyStart, h.bodyStart + h.bodyLength));
    if (spans >= maxSpans) break;
  }
  const raw = payloads.reduce((a, p) => a + p.length, 0);
  console.log(`\n${ds.name}, N=${batch}: ${spans.toLocaleString('en-US')} spans, ${payloads.length.toLocaleString('en-US')} frames, payloads ${(raw / spans).toFixed(1)} B/span before zstd\n`);
  console.log('| zstd stream setting | B/span | zstd ns/span | µs/frame |');
  console.log('|---|---:|---:|---:|');
  const out = new Uint8Array(Math.max(1 << 20, 2 * Math.max(...payloads.map((p) => p.length))));
  for (const [name, params] of Object.entries(SETTINGS)) {
    let bytes = 0;
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const cctx = new binding.CCtx();
      for (const [p, v] of Object.entries(params)) cctx.setParameter(Number(p), v);
      cctx.setParameter(binding.CParameter.windowLog!, ZSTD_STREAM_WINDOW_LOG);
      bytes = 0;
      const t = process.hrtime.bigint();
      for (const p of payloads) bytes += cctx.compressStream2(out, p, binding.EndDirective.flush)[1];
      times.push(Number(process.hrtime.bigint() - t));
    }
    const ns = median(times);
    console.log(`| ${name} | ${(bytes / spans).toFixed(2)} | ${(ns / spans).toFixed(0)} | ${(ns / payloads.length / 1000).toFixed(2)} |`);
  }
}
