// The agent's and gateway's Prometheus metrics (prom-client, served at /metrics): spans and bytes in
// and out of each stage, what Tracezip saves and what it costs, sampling decisions, resyncs, the
// queue, retries, and every span refused or dropped with its reason, so nothing is lost unseen.
// Names follow Prometheus conventions (slimtrace_ prefix, base units, _total on counters, no ids in
// labels); the three tracezip_* names are the ones the seed description asks for.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReceiverMetrics, ReceiverRequestEvent } from './receiver-common.js';

export class PipelineMetrics {
  readonly registry = new Registry();

  readonly receivedSpans = new Counter({ name: 'slimtrace_receiver_accepted_spans_total', help: 'Spans acknowledged to clients, by receiver.', labelNames: ['receiver'], registers: [this.registry] });
  readonly refusedSpans = new Counter({ name: 'slimtrace_receiver_refused_spans_total', help: 'Spans refused to clients (they may retry), by receiver and reason.', labelNames: ['receiver', 'reason'], registers: [this.registry] });
  readonly requests = new Counter({ name: 'slimtrace_receiver_requests_total', help: 'Requests received, by receiver and outcome (HTTP status or gRPC code).', labelNames: ['receiver', 'outcome'], registers: [this.registry] });
  readonly wireBytes = new Counter({ name: 'slimtrace_wire_bytes_total', help: 'Bytes on the wire, by direction (received, sent) and stage (otlp-http, otlp-grpc, tracezip, otlp-out).', labelNames: ['direction', 'stage'], registers: [this.registry] });
  readonly sentSpans = new Counter({ name: 'slimtrace_exporter_sent_spans_total', help: 'Spans the next hop acknowledged, by exporter (tracezip, otlp-http, file).', labelNames: ['exporter'], registers: [this.registry] });
  readonly droppedSpans = new Counter({ name: 'slimtrace_dropped_spans_total', help: 'Spans dropped after they were acknowledged to a client, by reason (backend-refused, backend-partial, undecodable, too-large). Sampling is counted apart.', labelNames: ['reason'], registers: [this.registry] });
  readonly samplingSpans = new Counter({ name: 'slimtrace_sampling_spans_total', help: 'Spans through the sampler, by decision (kept, dropped).', labelNames: ['decision'], registers: [this.registry] });
  readonly samplingTraces = new Counter({ name: 'slimtrace_sampling_traces_total', help: 'Traces decided, by decision (kept, dropped) and whether they were decided early (a memory cap).', labelNames: ['decision', 'early'], registers: [this.registry] });
  readonly resyncs = new Counter({ name: 'slimtrace_stream_resyncs_total', help: 'Tracezip stream resyncs, by reason.', labelNames: ['reason'], registers: [this.registry] });
  readonly retries = new Counter({ name: 'slimtrace_exporter_retries_total', help: 'Attempts retried, by exporter and reason class.', labelNames: ['exporter', 'reason'], registers: [this.registry] });
  readonly failovers = new Counter({ name: 'slimtrace_gateway_failovers_total', help: 'Times the agent moved its stream to another gateway.', registers: [this.registry] });
  readonly jetstreamPublished = new Counter({ name: 'slimtrace_jetstream_published_frames_total', help: 'Agent: Tracezip frames JetStream acknowledged as stored, by whether it already had them (duplicate: an earlier acknowledgement was lost).', labelNames: ['duplicate'], registers: [this.registry] });
  readonly jetstreamRedeliveries = new Counter({ name: 'slimtrace_jetstream_redelivered_frames_total', help: 'Gateway: frames JetStream handed out again (not acknowledged in time, or refused for now).', registers: [this.registry] });
  readonly jetstreamReplayed = new Counter({ name: 'slimtrace_jetstream_replayed_frames_total', help: 'Gateway: frames read back from JetStream only to rebuild a stream\'s state (their spans are exported by whoever was handed them).', registers: [this.registry] });
  readonly jetstreamStoredDuplicates = new Counter({ name: 'slimtrace_jetstream_stored_duplicate_frames_total', help: 'Gateway: second stored copies of a frame (republished after the duplicate window), acknowledged without exporting.', registers: [this.registry] });
  readonly jetstreamLostFrames = new Counter({ name: 'slimtrace_jetstream_lost_frames_total', help: 'Gateway: frames that could not be decoded (their epoch\'s first frame left the stream, damage, state caps), by reason; each asks the agent to resync.', labelNames: ['reason'], registers: [this.registry] });
  readonly queueRecords = new Gauge({ name: 'slimtrace_queue_size_records', help: 'Requests in the disk queue not yet delivered.', registers: [this.registry] });
  readonly queueBytes = new Gauge({ name: 'slimtrace_queue_size_bytes', help: 'Bytes of the disk queue not yet delivered.', registers: [this.registry] });
  readonly queueCapacity = new Gauge({ name: 'slimtrace_queue_capacity_bytes', help: 'The disk queue bound.', registers: [this.registry] });
  readonly queueCorrupt = new Counter({ name: 'slimtrace_queue_corrupt_records_total', help: 'Queue records found damaged at start (skipped, logged).', registers: [this.registry] });
  readonly streams = new Gauge({ name: 'slimtrace_gateway_streams', help: 'Tracezip streams the gateway holds state for.', registers: [this.registry] });
  readonly streamStateBytes = new Gauge({ name: 'slimtrace_gateway_stream_state_bytes', help: 'State the gateway holds for all streams.', registers: [this.registry] });
  readonly compressionRatio = new Gauge({ name: 'tracezip_compression_ratio', help: 'OTLP protobuf request bytes of the spans the frames carry over the Tracezip frame bytes, since start.', registers: [this.registry] });
  readonly compressionSeconds = new Histogram({ name: 'tracezip_compression_duration_seconds', help: 'Time to encode one frame.', buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly decompressionSeconds = new Histogram({ name: 'tracezip_decompression_duration_seconds', help: 'Time to decode one frame.', buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });

  private otlpBytes = 0;
  private tracezipBytes = 0;

  constructor(readonly role: 'agent' | 'gateway', options: { processMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ role });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'slimtrace_' });
  }

  /** Records one frame's sizes: its spans' size as an OTLP protobuf request and the frame's own. */
  frameEncoded(otlpBytes: number, frameBytes: number, seconds: number): void {
    this.otlpBytes += otlpBytes;
    this.tracezipBytes += frameBytes;
    this.compressionRatio.set(this.tracezipBytes > 0 ? this.otlpBytes / this.tracezipBytes : 0);
    this.compressionSeconds.observe(seconds);
  }

  /** The receivers' hook: one event per request, counted by receiver and outcome. */
  receiverHook(): ReceiverMetrics {
    return {
      request: (e: ReceiverRequestEvent) => {
        this.requests.inc({ receiver: e.receiver, outcome: e.outcome });
        if (e.acceptedSpans > 0) this.receivedSpans.inc({ receiver: e.receiver }, e.acceptedSpans);
        if (e.refusedSpans > 0) this.refusedSpans.inc({ receiver: e.receiver, reason: e.outcome }, e.refusedSpans);
        const wire = e.wireBytes ?? e.bodyBytes;
        if (wire > 0) this.wireBytes.inc({ direction: 'received', stage: e.receiver }, wire);
      },
    };
  }

  /** Serves GET /metrics in the Prometheus text format. */
  async serve(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
  }
}
