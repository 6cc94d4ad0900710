// Bytes of the same span stream under each codec at several batch sizes: OTLP protobuf as an SDK
// sends it, the same gzip'd (what OTLP exporters offer) and zstd'd (level 3), and Tracezip in stream
// mode (one encoder per batch size, the way an agent keeps one stream to its gateway). Every
// Tracezip frame is decoded back on a mirror decoder and compared with its batch: the lossless check.
// One pass over the input: each batch size has its own batcher.
import { gzipSync } from 'node:zlib';
import { diffTracesData, SpanBatcher, type LocatedSpan, type TracesData } from '../model/index.js';
import { encodeTracesData } from '../otlp/index.js';
import { zstdModule } from '../otlp/zstd.js';
import { MEASURING_ENCODER, TracezipDecoder, TracezipEncoder } from '../tracezip/index.js';

export const CODEC_NAMES = ['otlp-protobuf', 'otlp-gzip', 'otlp-zstd', 'tracezip'] as const;
export type CodecName = (typeof CODEC_NAMES)[number];

export const CODEC_LABELS: Record<CodecName, string> = {
  'otlp-protobuf': 'OTLP protobuf',
  'otlp-gzip': 'OTLP + gzip',
  'otlp-zstd': 'OTLP + zstd-3',
  tracezip: 'Tracezip',
};

export const DEFAULT_BATCH_SIZES: readonly number[] = [16, 128, 512, 4096];

export function isCodecName(name: string): name is CodecName {
  return (CODEC_NAMES as readonly string[]).includes(name);
}

/** The lossless check found a frame that did not decode back to its batch. */
export class LosslessError extends Error {
  override name = 'LosslessError';
}

export interface CodecMeterOptions {
  batchSizes?: readonly number[];
  codecs?: readonly CodecName[];
  /** Decode every Tracezip frame and compare (default true). */
  checkLossless?: boolean;
}

export interface CodecMeasurement {
  spans: number;
  batchSizes: number[];
  /** codec -> bytes per batch size (same order as batchSizes). */
  bytes: Partial<Record<CodecName, number[]>>;
  lossless: { checked: boolean; frames: number; spans: number; ok: boolean; problem?: string };
}

interface Lane {
  size: number;
  batcher: SpanBatcher;
  encoder?: TracezipEncoder;
  decoder?: TracezipDecoder;
  bytes: Map<CodecName, number>;
}

export class CodecMeter {
  private readonly lanes: Lane[];
  private readonly codecs: readonly CodecName[];
  private readonly check: boolean;
  private readonly zstd = zstdModule() ? new (zstdModule()!.Compressor)() : undefined;
  private spans = 0;
  private frames = 0;
  private checkedSpans = 0;
  private problem: string | undefined;

  constructor(options: CodecMeterOptions = {}) {
    const wanted = options.codecs ?? CODEC_NAMES;
    // zstd-napi may not load on this machine: the zstd row is then absent, not zero.
    this.codecs = wanted.filter((c) => c !== 'otlp-zstd' || this.zstd);
    this.zstd?.setParameters({ compressionLevel: 3 });
    this.check = options.checkLossless ?? true;
    const sizes = options.batchSizes ?? DEFAULT_BATCH_SIZES;
    for (const s of sizes) if (!Number.isInteger(s) || s < 1) throw new RangeError(`batch sizes must be positive integers, got ${s}`);
    this.lanes = sizes.map((size) => ({
      size,
      batcher: new SpanBatcher(size),
      encoder: this.codecs.includes('tracezip') ? new TracezipEncoder(MEASURING_ENCODER) : undefined,
      decoder: this.codecs.includes('tracezip') && this.check ? new TracezipDecoder() : undefined,
      bytes: new Map(this.codecs.map((c) => [c, 0])),
    }));
  }

  add(located: LocatedSpan): void {
    this.spans++;
    for (const lane of this.lanes) {
      const full = lane.batcher.push(located.span, located.resourceSpans, located.scopeSpans);
      if (full) this.measure(lane, full);
    }
  }

  addData(data: TracesData): void {
    for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) this.add({ span, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss });
  }

  private measure(lane: Lane, batch: TracesData): void {
    const needOtlp = this.codecs.some((c) => c.startsWith('otlp-'));
    const otlp = needOtlp ? encodeTracesData(batch) : undefined;
    for (const c of this.codecs) {
      let n = 0;
      if (c === 'otlp-protobuf') n = otlp!.length;
      else if (c === 'otlp-gzip') n = gzipSync(otlp!).length;
      else if (c === 'otlp-zstd') n = this.zstd!.compress(otlp!).length;
      else n = this.tracezip(lane, batch);
      lane.bytes.set(c, lane.bytes.get(c)! + n);
    }
  }

  private tracezip(lane: Lane, batch: TracesData): number {
    const frame = lane.encoder!.encode(batch);
    if (lane.decoder) {
      this.frames++;
      const r = lane.decoder.decode(frame);
      if (r.kind !== 'data') this.problem ??= `frame ${this.frames} (batch ${lane.size}) decoded as ${r.kind}${r.kind === 'resync-needed' ? ` (${r.reason})` : ''}`;
      else {
        const diff = diffTracesData(batch, r.data);
        if (diff !== undefined) this.problem ??= `frame ${this.frames} (batch ${lane.size}) differs after decoding: ${String(diff)}`;
        else if (lane === this.lanes[0]) this.checkedSpans += countOf(batch);
      }
    }
    return frame.length;
  }

  finish(): CodecMeasurement {
    for (const lane of this.lanes) {
      const last = lane.batcher.flush();
      if (last) this.measure(lane, last);
    }
    const bytes: CodecMeasurement['bytes'] = {};
    for (const c of this.codecs) bytes[c] = this.lanes.map((l) => l.bytes.get(c)!);
    const checked = this.check && this.codecs.includes('tracezip');
    return {
      spans: this.spans,
      batchSizes: this.lanes.map((l) => l.size),
      bytes,
      lossless: { checked, frames: this.frames, spans: checked ? this.checkedSpans : 0, ok: this.problem === undefined, ...(this.problem ? { problem: this.problem } : {}) },
    };
  }
}

function countOf(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}
