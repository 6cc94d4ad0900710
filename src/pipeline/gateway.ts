// `slimtrace serve --role gateway`: takes Tracezip frames from many agents (one stream each) on
// POST /v1/tracezip, and plain OTLP on /v1/traces (HTTP, and gRPC when enabled) so it can stand
// where a Collector stands; rebuilds every span exactly, puts it in its disk queue before answering,
// and exports standard OTLP/HTTP (protobuf, gzip) to the backend, or appends to an OTLP file. A
// stream it has no state for (restart, eviction, gap) is answered with resync; a backend that is down
// or throttling is retried without a time limit while the queue holds what it cannot take yet.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TracezipDecoder } from '../tracezip/index.js';
import { InputError } from '../model/index.js';
import { addr, startReceivers, type ServiceAddresses, type ServiceOptions } from './agent.js';
import type { ServeConfig } from './config.js';
import { OtlpFileAppender } from './exporter-file.js';
import { OtlpHttpExporter, type ExportOutcome } from './exporter-otlp-http.js';
import { PipelineMetrics } from './metrics.js';
import { DiskQueue, type QueueRecord } from './queue.js';
import { QueueSink } from './queue-sink.js';
import { OtlpGrpcReceiver } from './receiver-grpc.js';
import { OtlpHttpReceiver } from './receiver-http.js';
import { Backoff, DEFAULT_RETRY_POLICY, sleep } from './retry.js';
import { countRequestSpans } from './span-count.js';
import { FrameHandler, serveFrameRequest, TRACEZIP_PATH } from './tracezip-transport.js';
import { JetStreamFrameConsumer } from './jetstream-consumer.js';

interface Output {
  deliver(request: Uint8Array, signal?: AbortSignal): Promise<ExportOutcome>;
  close(): void | Promise<void>;
  readonly name: string;
}

export class Gateway {
  readonly metrics: PipelineMetrics;
  readonly decoder: TracezipDecoder;
  private readonly log: (line: string) => void;
  private readonly stopping = new AbortController();
  private workers: Promise<void>[] = [];
  private stopped: Promise<void> | undefined;
  private draining = false;
  /** For the gateway's compression ratio: Tracezip bytes in, the OTLP protobuf bytes they became. */
  private tracezipBytesIn = 0;
  private otlpBytesOut = 0;

  private constructor(
    readonly config: ServeConfig,
    readonly queue: DiskQueue,
    private readonly http: OtlpHttpReceiver,
    private readonly grpc: OtlpGrpcReceiver | undefined,
    private readonly output: Output,
    private readonly bus: JetStreamFrameConsumer | undefined,
    decoder: TracezipDecoder,
    readonly addresses: ServiceAddresses,
    options: Required<ServiceOptions>,
  ) {
    this.metrics = options.metrics;
    this.log = options.log;
    this.decoder = decoder;
  }

  static async start(config: ServeConfig, options: ServiceOptions = {}): Promise<Gateway> {
    const log = options.log ?? ((line: string) => process.stderr.write(`slimtrace gateway: ${line}\n`));
    const metrics = options.metrics ?? new PipelineMetrics('gateway');
    const output: Output = config.backend
      ? Object.assign(new OtlpHttpExporter({ url: config.backend.url, headers: config.backend.headers, compression: config.backend.compression, timeoutMs: config.backend.timeoutMs, retry: config.retry }), { name: 'otlp-http' })
      : Object.assign(await OtlpFileAppender.open(config.fileOutput!), { name: 'file' });
    const queue = await DiskQueue.open({
      dir: config.queue.dir,
      maxBytes: config.queue.maxBytes,
      maxRecordBytes: config.maxRequestBytes,
      onWarning: (w) => {
        if (w.code === 'corrupt') metrics.queueCorrupt.inc();
        log(`queue: ${w.message}`);
      },
    });
    metrics.queueCapacity.set(config.queue.maxBytes);
    const decoder = new TracezipDecoder({ maxStreams: config.maxStreams, maxStreamStateBytes: config.maxStreamStateBytes, maxTotalStateBytes: config.maxTotalStateBytes });
    const sink = new QueueSink(queue);
    const frames = new FrameHandler(decoder, sink, {
      onFrame: (answer, bytes, seconds) => {
        metrics.requests.inc({ receiver: 'tracezip', outcome: answer.result });
        metrics.wireBytes.inc({ direction: 'received', stage: 'tracezip' }, bytes);
        if (seconds > 0) metrics.decompressionSeconds.observe(seconds);
        if (answer.result === 'applied') {
          metrics.receivedSpans.inc({ receiver: 'tracezip' }, answer.spans);
          gateway.tracezipBytesIn += bytes;
        }
        if (answer.result === 'resync') metrics.resyncs.inc({ reason: answer.reason });
      },
    });
    let gateway!: Gateway;
    const frameOptions = { maxFrameBytes: config.maxRequestBytes, ...(config.bearerToken !== undefined ? { bearerToken: config.bearerToken } : {}) };
    const { http, grpc, addresses } = await startReceivers(config, sink, metrics, log, {
      routes: { '/metrics': (req, res) => gateway.serveMetrics(req, res), '/healthz': (req, res) => gateway.serveHealth(req, res) },
      writeRoutes: { [TRACEZIP_PATH]: (req: IncomingMessage, res: ServerResponse) => serveFrameRequest(frames, req, res, frameOptions) },
      onFailure: async () => {
        await queue.close();
        await output.close();
      },
    });
    let bus: JetStreamFrameConsumer | undefined;
    if (config.transport.kind === 'jetstream') {
      // The same decoder and queue as HTTP frames; its own handler so its answers count apart.
      const busFrames = new FrameHandler(decoder, sink, {
        onFrame: (answer, bytes, seconds) => {
          metrics.requests.inc({ receiver: 'jetstream', outcome: answer.result });
          if (seconds > 0) metrics.decompressionSeconds.observe(seconds);
          if (answer.result === 'applied') {
            metrics.wireBytes.inc({ direction: 'received', stage: 'jetstream' }, bytes);
            metrics.receivedSpans.inc({ receiver: 'jetstream' }, answer.spans);
            gateway.tracezipBytesIn += bytes;
          }
        },
      });
      const js = config.transport.jetstream!;
      log(`connecting to JetStream at ${js.servers.join(', ')}`);
      try {
        bus = await JetStreamFrameConsumer.start(js, busFrames, {
          onRedelivered: () => metrics.jetstreamRedeliveries.inc(),
          onReplayed: (n) => metrics.jetstreamReplayed.inc(n),
          onStoredDuplicate: () => metrics.jetstreamStoredDuplicates.inc(),
          onGivenUp: (reason, detail) => {
            if (reason === 'retry') return log(`JetStream: ${detail}`);
            metrics.jetstreamLostFrames.inc({ reason });
            log(`JetStream: dropped a frame that cannot be decoded: ${detail}`);
          },
          onResyncRequested: (reason) => metrics.resyncs.inc({ reason }),
        });
      } catch (e) {
        await http.close(0).catch(() => undefined);
        await grpc?.close(0).catch(() => undefined);
        await queue.close();
        await output.close();
        throw new InputError(`cannot consume from JetStream at ${js.servers.join(', ')}: ${(e as Error).message}`);
      }
    }
    gateway = new Gateway(config, queue, http, grpc, output, bus, decoder, addresses, { log, metrics });
    for (let i = 0; i < config.exportConcurrency; i++) gateway.workers.push(gateway.exportLoop());
    const to = config.backend ? config.backend.url : config.fileOutput!;
    if (bus) log(`taking Tracezip frames from JetStream stream ${config.transport.jetstream!.stream} as consumer ${config.transport.jetstream!.consumer}`);
    log(`listening for Tracezip and OTLP/HTTP on ${addr(addresses.http)}${addresses.grpc ? `, OTLP/gRPC on ${addr(addresses.grpc)}` : ''}; exporting to ${to}; queue ${queue.dir}`);
    return gateway;
  }

  /** One export worker: queue -> output, acknowledging each record once the output has it or refused it for good. */
  private async exportLoop(): Promise<void> {
    const signal = this.stopping.signal;
    const backoff = new Backoff({ ...DEFAULT_RETRY_POLICY, initialIntervalMs: 1000, ...this.config.retry });
    for (;;) {
      let record: QueueRecord | undefined;
      try {
        // While draining at shutdown, stop as soon as nothing is left rather than waiting for more.
        record = await this.queue.next(signal);
      } catch {
        return; // aborted, or the queue closed
      }
      if (!record) return;
      let outcome: ExportOutcome;
      try {
        outcome = await this.output.deliver(record.payload, signal);
      } catch (e) {
        if (signal.aborted) return; // not delivered: stays queued for the next start
        // The output failed in a way it does not classify (a full disk for the file output): try again later.
        this.log(`export to ${this.output.name} failed, will retry: ${(e as Error).message}`);
        this.metrics.retries.inc({ exporter: this.output.name, reason: 'error' });
        this.queue.nack(record.seq);
        try {
          await sleep(backoff.next() ?? 30_000, signal);
        } catch {
          return;
        }
        continue;
      }
      this.account(record, outcome);
      this.queue.ack(record.seq);
    }
  }

  private account(record: QueueRecord, outcome: ExportOutcome): void {
    if (outcome.kind === 'refused') {
      const spans = this.spansOf(record);
      this.metrics.droppedSpans.inc({ reason: 'backend-refused' }, spans);
      this.log(`the backend refused ${spans} span(s) for good (HTTP ${outcome.status}): ${outcome.message}`);
      return;
    }
    if (outcome.rejectedSpans > 0n) {
      this.metrics.droppedSpans.inc({ reason: 'backend-partial' }, Number(outcome.rejectedSpans));
      this.log(`the backend rejected ${outcome.rejectedSpans} span(s) of a request (partial success): ${outcome.errorMessage}`);
    }
    this.metrics.wireBytes.inc({ direction: 'sent', stage: 'otlp-out' }, record.payload.length);
    this.otlpBytesOut += record.payload.length;
    this.metrics.sentSpans.inc({ exporter: this.output.name }, this.spansOf(record) - Number(outcome.rejectedSpans));
  }

  /** Spans in a queued request, read off the protobuf without building the spans. */
  private spansOf(record: QueueRecord): number {
    try {
      return countRequestSpans(record.payload);
    } catch {
      return 0;
    }
  }

  private updateGauges(): void {
    const s = this.queue.stats();
    this.metrics.queueRecords.set(s.depthRecords);
    this.metrics.queueBytes.set(s.depthBytes);
    this.metrics.streams.set(this.decoder.streamCount);
    this.metrics.streamStateBytes.set(this.decoder.stateBytes);
    // Plain OTLP requests to the gateway count on the OTLP side only: the ratio is an estimate when both arrive.
    if (this.tracezipBytesIn > 0) this.metrics.compressionRatio.set(this.otlpBytesOut / this.tracezipBytesIn);
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.updateGauges();
    await this.metrics.serve(req, res);
  }

  private serveHealth(_req: IncomingMessage, res: ServerResponse): void {
    const s = this.queue.stats();
    const ok = !this.draining && s.failure === undefined;
    res
      .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', role: 'gateway', streams: this.decoder.streamCount, queue: { records: s.depthRecords, bytes: s.depthBytes, maxBytes: s.maxBytes, ...(s.failure ? { failure: s.failure } : {}) } }));
  }

  /**
   * Graceful stop (SIGTERM): stop accepting, keep exporting what is queued until the queue is empty or
   * the shutdown timeout passes; what is left stays in the queue for the next start.
   */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.draining = true;
    const grace = Math.min(this.config.shutdownTimeoutMs, 5000);
    // Frames handed out but not yet in the queue go back to JetStream for another replica.
    await Promise.all([this.http.close(grace), this.grpc?.close(grace), this.bus?.stop()]);
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    while (this.queue.stats().depthRecords > 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    this.stopping.abort(new Error('gateway stopping'));
    await Promise.all(this.workers);
    const left = this.queue.stats().depthRecords;
    await this.queue.close();
    await this.output.close();
    this.log(`stopped${left > 0 ? `; ${left} request(s) left in the queue for the next start` : ''}`);
  }

  /** The OTLP/HTTP address (frames and OTLP). */
  get address(): AddressInfo {
    return this.addresses.http;
  }
}
