// TracezipExporter: an OpenTelemetry JS SDK SpanExporter that encodes spans into Tracezip frames in
// the process and sends them to a slimtrace gateway, which rebuilds them exactly and exports standard
// OTLP to the backend. Use it where the OTLP exporter would go, usually under the SDK's
// BatchSpanProcessor. One exporter is one Tracezip stream: frames go out one at a time, in order
// (the SDK may call export concurrently on flush), and a gateway that lost the stream's state answers
// resync, upon which the stream starts a new epoch; failover between gateways works the same way.
//
// The options of the seed's TracezipExporter map onto the codec:
//   compressionEnabled (true)  zstd: one stream per epoch, flushed per frame (zstd per frame when
//                              deltaEncoding is false; false: no compression)
//   dictionaryThreshold (64)   how many distinct values an attribute may show and still travel in the
//                              Span Retrieval Tree (sent once per stream); beyond it, values go as
//                              residual columns (Tracezip's templateValueLimit)
//   deltaEncoding (true)       frames refer to what earlier frames sent (the stream's differential
//                              updates); false makes every frame self-contained
//   batchSize (512)            spans per frame at most (a larger export is sent as several frames)
//   batchTimeout (0 ms)        how long small exports wait to share a frame (0: each export is sent
//                              as it comes, which is right under a BatchSpanProcessor)
// plus, like the stock OTLP exporters, url, headers and timeoutMillis.
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { toTracesData } from '../sampling/index.js';
// The client side of the gateway protocol only: importing the pipeline's index would load its servers.
import { GatewayLink } from '../pipeline/gateway-link.js';
import { ReadableSpanConverter } from './from-readable.js';
import { countSpans, type LocatedSpan, type TracesData } from '../model/index.js';

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];
/** The SDK's ExportResultCode values (its contract; only types are imported from the SDK). */
const SUCCESS = 0 as ExportResult['code'];
const FAILED = 1 as ExportResult['code'];

export interface TracezipExporterOptions {
  /** Gateway base URL, or several for failover (default http://localhost:4319). */
  url?: string | string[];
  headers?: Record<string, string>;
  /** Deadline of one export, retries included (default 10,000 ms, as the OTLP exporters). */
  timeoutMillis?: number;
  compressionEnabled?: boolean;
  dictionaryThreshold?: number;
  deltaEncoding?: boolean;
  batchSize?: number;
  batchTimeout?: number;
  /**
   * Called once a frame is encoded, with its spans and bytes: where a SamplingSpanProcessor runs an
   * Autoscope priced in Tracezip's bytes (price: 'tracezip'), pass
   * `(spans, bytes) => strategy.recordEncoded?.(spans, bytes)` so it learns what a kept span costs
   * on the wire and its budget is charged what was sent; without it the sampler charges its
   * starting estimate (24 bytes a span) and an adaptive budget's achieved reduction reads 100%.
   */
  onEncoded?: (spans: number, frameBytes: number) => void;
}

export interface TracezipExporterStats {
  exports: number;
  exportsFailed: number;
  spans: number;
  frames: number;
  frameBytes: number;
  resyncs: number;
}

interface PendingExport {
  spans: ReadableSpan[];
  done: (result: ExportResult) => void;
}

export class TracezipExporter implements SpanExporter {
  readonly stats: TracezipExporterStats = { exports: 0, exportsFailed: 0, spans: 0, frames: 0, frameBytes: 0, resyncs: 0 };
  private readonly link: GatewayLink;
  private readonly converter = new ReadableSpanConverter();
  private readonly timeoutMillis: number;
  private readonly batchSize: number;
  private readonly batchTimeout: number;
  private pending: PendingExport[] = [];
  private pendingSpans = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private isShutdown = false;

  constructor(options: TracezipExporterOptions = {}) {
    const urls = options.url === undefined ? ['http://localhost:4319'] : Array.isArray(options.url) ? options.url : [options.url];
    this.timeoutMillis = options.timeoutMillis ?? 10_000;
    this.batchSize = Math.max(1, options.batchSize ?? 512);
    this.batchTimeout = Math.max(0, options.batchTimeout ?? 0);
    this.link = new GatewayLink(
      {
        gateways: urls,
        http: { ...(options.headers ? { headers: options.headers } : {}), timeoutMs: this.timeoutMillis },
        encoder: {
          // A stream (delta encoding, the default) uses one zstd stream per epoch at level 3 with raw
          // literals, flushed per frame: frames refer to earlier frames' bytes (16.8 against 17.5
          // bytes a span on trastrainer at 512 spans a frame, 23.0 against 24.3 on generated
          // traffic) for no more CPU than zstd per frame. Every frame the gateway does not apply
          // starts a new epoch, and with it a new zstd stream, as for the agent.
          compression: options.compressionEnabled === false ? 'none' : options.deltaEncoding === false ? 'zstd' : 'zstd-stream',
          ...(options.compressionEnabled !== false && options.deltaEncoding !== false ? { zstdLevel: 3 } : {}),
          stateless: options.deltaEncoding === false,
          ...(options.dictionaryThreshold !== undefined ? { templateValueLimit: options.dictionaryThreshold } : {}),
        },
        // Within one export's deadline: short waits, as the stock exporters (1 s x1.5, cap 5 s).
        retry: { initialIntervalMs: 1000, maxIntervalMs: 5000, randomizationFactor: 0.2 },
      },
      {
        onFrame: (_outcome, bytes) => {
          this.stats.frames++;
          this.stats.frameBytes += bytes;
        },
        onResync: () => {
          this.stats.resyncs++;
        },
        ...(options.onEncoded ? { onEncoded: (batch: TracesData, frameBytes: number) => options.onEncoded!(countSpans(batch), frameBytes) } : {}),
      },
    );
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.isShutdown) {
      resultCallback({ code: FAILED, error: new Error('TracezipExporter is shut down') });
      return;
    }
    this.pending.push({ spans, done: resultCallback });
    this.pendingSpans += spans.length;
    if (this.batchTimeout === 0 || this.pendingSpans >= this.batchSize) this.sendPending();
    else this.timer ??= setTimeout(() => this.sendPending(), this.batchTimeout);
  }

  private sendPending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingSpans = 0;
    this.chain = this.chain.then(() => this.send(batch));
  }

  private async send(batch: PendingExport[]): Promise<void> {
    const spans = batch.length === 1 ? batch[0]!.spans : batch.flatMap((p) => p.spans);
    let result: ExportResult = { code: SUCCESS };
    try {
      const signal = AbortSignal.timeout(this.timeoutMillis);
      for (let i = 0; i < spans.length; i += this.batchSize) {
        // Converted when the link needs the batch (and again after a resync), never kept across
        // the round trip to the gateway: the SDK's spans stay alive anyway, the converted ones
        // then die young (docs/benchmarks.md: garbage collection was a third of this exporter's CPU).
        const from = i;
        const to = Math.min(spans.length, i + this.batchSize);
        await this.link.deliver(() => this.convertRange(spans, from, to), signal);
      }
      this.stats.spans += spans.length;
    } catch (e) {
      result = { code: FAILED, error: e instanceof Error ? e : new Error(String(e)) };
      this.stats.exportsFailed += batch.length;
    }
    this.stats.exports += batch.length;
    for (const p of batch) p.done(result);
  }

  private convertRange(spans: readonly ReadableSpan[], from: number, to: number): TracesData {
    const located = new Array<LocatedSpan>(to - from);
    for (let i = from; i < to; i++) located[i - from] = this.converter.convert(spans[i]!);
    return toTracesData(located);
  }

  async forceFlush(): Promise<void> {
    this.sendPending();
    await this.chain;
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    await this.forceFlush();
    this.isShutdown = true;
    this.link.close();
  }
}
