// Lossless check of Tracezip on the real datasets (they are not in the repository, so this is a
// script, not a unit test): every span of trastrainer-trainticket and nezha-trainticket (logs as
// span events) goes through one encoder/decoder stream with random batch sizes, random resyncs
// (epoch resets) and a small state cap that forces rebuilds, and each decoded batch must equal the
// batch given to the encoder at the message level. Also each frame through a stateless file-mode
// decoder. Exits non-zero on the first difference.
//
//   node --import tsx scripts/check-tracezip-datasets.ts [DATASETS_ROOT]   (default $SLIMTRACE_DATASETS or ../shared/datasets)
import { join, resolve } from 'node:path';
import { openTraceSource } from '../src/datasets/index.js';
import { SpanBatcher, countSpans, diffTracesData, type TracesData } from '../src/model/index.js';
import { TracezipDecoder, TracezipEncoder } from '../src/tracezip/index.js';

const root = resolve(process.argv[2] ?? process.env.SLIMTRACE_DATASETS ?? join(import.meta.dirname, '../../shared/datasets'));

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function check(name: string, options: { compression: 'zstd-stream' | 'zstd' | 'gzip' | 'none'; maxStateBytes?: number; seed: number }): Promise<void> {
  const source = await openTraceSource(join(root, name));
  const random = rng(options.seed);
  const enc = new TracezipEncoder({ compression: options.compression, maxStateBytes: options.maxStateBytes });
  const dec = new TracezipDecoder({ maxStreamStateBytes: (options.maxStateBytes ?? 32 << 20) * 2 });
  const stateless = new TracezipEncoder({ compression: options.compression === 'zstd-stream' ? 'zstd' : options.compression, stateless: true });
  const fileDecoder = new TracezipDecoder();
  let batcher = new SpanBatcher(1 + Math.floor(random() * 600));
  let spans = 0;
  let frames = 0;
  let bytes = 0;
  let resyncs = 0;
  let epochs = new Set<number>();
  const started = Date.now();
  const send = (batch: TracesData) => {
    if (random() < 0.02) {
      enc.resync();
      resyncs++;
    }
    const frame = enc.encode(batch);
    bytes += frame.length;
    frames++;
    epochs.add(enc.epoch);
    const r = dec.decode(frame);
    if (r.kind !== 'data') throw new Error(`${name}: frame ${frames}: ${r.kind}${r.kind === 'resync-needed' ? ` (${r.reason})` : ''}`);
    const d = diffTracesData(r.data, batch);
    if (d) throw new Error(`${name}: frame ${frames} differs: ${d}`);
    const f = fileDecoder.decode(stateless.encode(batch));
    if (f.kind !== 'data' || diffTracesData(f.data, batch)) throw new Error(`${name}: stateless frame ${frames} differs`);
    spans += countSpans(batch);
  };
  for await (const data of source.batches()) {
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          const full = batcher.push(span, rs, ss);
          if (full) {
            send(full);
            batcher = new SpanBatcher(1 + Math.floor(random() * 600));
          }
        }
  }
  const rest = batcher.flush();
  if (rest) send(rest);
  console.log(
    `${name} (${options.compression}${options.maxStateBytes ? `, cap ${options.maxStateBytes} B` : ''}): ${spans} spans in ${frames} frames of random size 1-600, ` +
      `${epochs.size} epochs (${resyncs} forced resyncs), ${(bytes / spans).toFixed(2)} B/span, all lossless, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

await check('trastrainer-trainticket', { compression: 'zstd-stream', seed: 1 });
await check('nezha-trainticket', { compression: 'zstd-stream', seed: 2 });
await check('trastrainer-trainticket', { compression: 'zstd', maxStateBytes: 2 << 20, seed: 3 });
await check('nezha-trainticket', { compression: 'gzip', maxStateBytes: 4 << 20, seed: 4 });
