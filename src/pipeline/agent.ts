// `slimtrace serve --role agent`: where a node's services send standard OTLP (HTTP :4318, gRPC :4317).
// What it accepts is in its disk queue (fsync'd) before the client hears 200; from the queue the
// forwarder runs the configured sampler, batches, encodes one Tracezip stream and sends it to a
// gateway, acknowledging queue records only once the gateway has their spans. Nothing acknowledged
// is lost to a crash, a gateway outage or a restart: it waits on disk (docs/deployment.md).
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { countSpans, InputError, type TracesData } from '../model/index.js';
import { encodedTracesDataSize } from '../otlp/index.js';
import { createStrategy, isStrategyName, readCodeKnowledge, STRATEGY_NAMES, StreamingSampler, type SamplingStrategy } from '../sampling/index.js';
import type { ServeConfig } from './config.js';
import { Forwarder } from './forwarder.js';
import { GatewayLink, type GatewayLinkObserver } from './gateway-link.js';
import { JetStreamLink } from './jetstream-link.js';
import type { TracezipEncoderOptions } from '../tracezip/index.js';
import { PipelineMetrics } from './metrics.js';
import { DiskQueue } from './queue.js';
import { QueueSink, queueSource } from './queue-sink.js';
import { OtlpGrpcReceiver } from './receiver-grpc.js';
import { OtlpHttpReceiver } from './receiver-http.js';
import { readOnlyRoute } from './receiver-common.js';
import type { TraceSink } from './sink.js';

export interface ServiceOptions {
  /** One line per event an operator should see (default: stderr). */
  log?: (line: string) => void;
  metrics?: PipelineMetrics;
}

export interface ServiceAddresses {
  http: AddressInfo;
  grpc?: AddressInfo;
}

/** The sampling strategy a configuration names, with its analysis.json read. */
export async function configuredStrategy(config: ServeConfig): Promise<SamplingStrategy | undefined> {
  const s = config.sampling;
  if (!s) return undefined;
  if (!isStrategyName(s.strategy)) throw new InputError(`sampling.strategy: unknown strategy '${s.strategy}' (one of ${STRATEGY_NAMES.join(', ')})`);
  const code = s.analysis !== undefined ? await readCodeKnowledge(s.analysis) : undefined;
  try {
    return createStrategy(s.strategy, { targetReduction: s.targetReduction, price: s.price, dropQuietTraces: s.dropQuietTraces, ...(s.debtLimit !== undefined ? { debtLimit: s.debtLimit } : {}), ...(code ? { code } : {}), ...(s.bytesPerSecond !== undefined ? { bytesPerSecond: s.bytesPerSecond } : {}) });
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`sampling: ${e.message}`);
    throw e;
  }
}

/** Reads the TLS client CA (to trust a gateway's certificate), if configured. */
async function clientCa(config: ServeConfig): Promise<Buffer | undefined> {
  if (config.tls.caFile === undefined) return undefined;
  try {
    return await readFile(config.tls.caFile);
  } catch (e) {
    throw new InputError(`cannot read the CA certificate: ${(e as Error).message}`, config.tls.caFile);
  }
}

/** A refusal of the link that only a person can fix, for /healthz and the log. */
interface LinkHealth {
  problem: string | undefined;
  loggedAt: number;
}

/** The agent's link to its gateways: Tracezip frames over HTTP, or through JetStream. */
interface AgentLink {
  deliver(batch: TracesData | (() => TracesData), signal?: AbortSignal, otlpBytes?: number): Promise<void>;
  close(): void | Promise<void>;
  /** Where frames go, for logs and /healthz. */
  readonly gateway: string;
}

export class Agent {
  readonly metrics: PipelineMetrics;
  private readonly log: (line: string) => void;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private linkHealth: LinkHealth = { problem: undefined, loggedAt: 0 };

  private constructor(
    readonly config: ServeConfig,
    readonly queue: DiskQueue,
    private readonly http: OtlpHttpReceiver,
    private readonly grpc: OtlpGrpcReceiver | undefined,
    private readonly link: AgentLink,
    private readonly forwarder: Forwarder,
    readonly addresses: ServiceAddresses,
    options: ServiceOptions,
  ) {
    this.metrics = options.metrics!;
    this.log = options.log!;
  }

  static async start(config: ServeConfig, options: ServiceOptions = {}): Promise<Agent> {
    const log = options.log ?? ((line: string) => process.stderr.write(`slimtrace agent: ${line}\n`));
    const metrics = options.metrics ?? new PipelineMetrics('agent');
    const strategy = await configuredStrategy(config);
    const ca = await clientCa(config);
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
    /** What the link last met that needs a person (shown in /healthz), and when it was last logged. */
    const health: LinkHealth = { problem: undefined, loggedAt: 0 };
    const observer: GatewayLinkObserver = {
      onEncoded: (batch, frameBytes, seconds, otlpBytes) => {
        // Without a sampler the forwarder knows the batch's OTLP size (its queued requests' bytes);
        // sizing every span again cost ~4% of the agent's CPU. A sampled batch is sized here.
        metrics.frameEncoded(otlpBytes ?? encodedTracesDataSize(batch), frameBytes, seconds);
        // A sampler priced in Tracezip's bytes hears what its spans took on the wire.
        if (strategy?.priceUnit === 'tracezip') strategy.recordEncoded?.(countSpans(batch), frameBytes);
      },
      onFrame: (outcome, bytes) => {
        // A gateway that refuses frames for good (401 after a token change, 404 from a proxy) is
        // retried with capped backoff while the spans wait in the queue; say so once a minute, and
        // in /healthz, rather than only in a retry counter.
        if (outcome.kind === 'refused') {
          const first = health.problem === undefined;
          health.problem = `the gateway refuses frames: ${outcome.reason}`;
          if (first || Date.now() - health.loggedAt > 60_000) {
            health.loggedAt = Date.now();
            log(`${health.problem}; retrying with backoff, spans wait in the queue until this is fixed`);
          }
        } else if (outcome.kind === 'acknowledged' && health.problem !== undefined) {
          health.problem = undefined;
          log('the gateway takes frames again');
        }
        metrics.wireBytes.inc({ direction: 'sent', stage: 'tracezip' }, bytes);
        if (outcome.kind === 'acknowledged' && !outcome.duplicate) metrics.sentSpans.inc({ exporter: 'tracezip' }, outcome.spans);
      },
      onResync: (reason) => metrics.resyncs.inc({ reason }),
      onFailover: (from, to) => {
        metrics.failovers.inc();
        log(`gateway ${from} failed; now sending to ${to}`);
      },
      onRetry: (reason) => metrics.retries.inc({ exporter: config.transport.kind === 'jetstream' ? 'jetstream' : 'tracezip', reason: reason.split(/[:(]/)[0]!.trim() }),
      onFallback: (spans) => log(`gateway kept refusing Tracezip frames; ${spans} spans sent as plain OTLP`),
      onUndeliverable: (spans, reason) => {
        metrics.droppedSpans.inc({ reason: 'too-large' }, spans);
        log(`dropped ${spans} span(s): ${reason}`);
      },
    };
    const encoder = { compression: config.tracezip.compression, ...(config.tracezip.level !== undefined ? { zstdLevel: config.tracezip.level } : {}) };
    let link: AgentLink;
    if (config.transport.kind === 'jetstream') {
      // Waits for the first connection (a bus that starts after the agent is fine); say what it waits for.
      log(`connecting to JetStream at ${config.transport.jetstream!.servers.join(', ')}`);
      try {
        link = await JetStreamLink.open(
          { jetstream: config.transport.jetstream!, encoder, retry: config.retry },
          {
            ...observer,
            onPublished: (bytes, spans, duplicate) => {
              metrics.wireBytes.inc({ direction: 'sent', stage: 'jetstream' }, bytes);
              metrics.jetstreamPublished.inc({ duplicate: String(duplicate) });
              if (!duplicate) metrics.sentSpans.inc({ exporter: 'jetstream' }, spans);
            },
          },
        );
      } catch (e) {
        await queue.close();
        throw new InputError(`cannot reach JetStream at ${config.transport.jetstream!.servers.join(', ')}: ${(e as Error).message}`);
      }
    } else {
      link = new GatewayLink({ gateways: config.gateways, http: { ...(config.bearerToken !== undefined ? { headers: { authorization: `Bearer ${config.bearerToken}` } } : {}), ...(ca ? { ca } : {}) }, encoder: httpLinkEncoder(config.tracezip), retry: config.retry }, observer);
    }
    let forwarder!: Forwarder;
    const sampler = strategy
      ? new StreamingSampler({
          strategy,
          decisionWaitMs: config.sampling!.decisionWaitMs,
          onDecision: (trace, reduced) => {
            forwarder.traceDecided(trace.traceIdHex);
            const kept = reduced?.keptSpans ?? 0;
            metrics.samplingSpans.inc({ decision: 'kept' }, kept);
            metrics.samplingSpans.inc({ decision: 'dropped' }, trace.spans.length - kept);
            metrics.samplingTraces.inc({ decision: reduced ? 'kept' : 'dropped', early: 'false' });
          },
        })
      : undefined;
    forwarder = new Forwarder({
      source: queueSource(queue),
      link,
      ...(sampler ? { sampler } : {}),
      batchSpans: config.batchSpans,
      lingerMs: config.lingerMs,
      onUndecodable: (seq, e) => {
        metrics.droppedSpans.inc({ reason: 'undecodable' });
        log(`queue record ${seq} does not decode and was dropped: ${e.message}`);
      },
    });
    const sink = new QueueSink(queue);
    let agent!: Agent;
    const { http, grpc, addresses } = await startReceivers(config, sink, metrics, log, {
      routes: { '/metrics': (req, res) => agent.serveMetrics(req, res), '/healthz': (req, res) => agent.serveHealth(req, res) },
      onFailure: async () => {
        await queue.close();
        await link.close();
      },
    });
    agent = new Agent(config, queue, http, grpc, link, forwarder, addresses, { log, metrics });
    agent.linkHealth = health;
    agent.running = forwarder.run(agent.stopping.signal).catch((e: unknown) => log(`forwarder stopped: ${(e as Error).stack ?? String(e)}`));
    log(`listening for OTLP/HTTP on ${addr(addresses.http)}${addresses.grpc ? `, OTLP/gRPC on ${addr(addresses.grpc)}` : ''}; sending Tracezip to ${link.gateway}${sampler ? ` after ${config.sampling!.strategy} sampling` : ''}; queue ${queue.dir}`);
    return agent;
  }

  private updateQueueGauges(): void {
    const s = this.queue.stats();
    this.metrics.queueRecords.set(s.depthRecords);
    this.metrics.queueBytes.set(s.depthBytes);
  }

  private async serveMetrics(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.updateQueueGauges();
    await this.metrics.serve(_req, res);
  }

  private serveHealth(_req: IncomingMessage, res: ServerResponse): void {
    const s = this.queue.stats();
    const ok = !this.stopping.signal.aborted && s.failure === undefined;
    res
      .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', role: 'agent', gateway: this.link.gateway, ...(this.linkHealth.problem ? { problem: this.linkHealth.problem } : {}), queue: { records: s.depthRecords, bytes: s.depthBytes, maxBytes: s.maxBytes, ...(s.failure ? { failure: s.failure } : {}) } }));
  }

  /**
   * Graceful stop (SIGTERM): stop accepting, decide what the sampler holds and deliver it within the
   * shutdown timeout; whatever is not delivered by then stays in the queue for the next start.
   */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    const deadline = AbortSignal.timeout(this.config.shutdownTimeoutMs);
    await Promise.all([this.http.close(Math.min(this.config.shutdownTimeoutMs, 5000)), this.grpc?.close(Math.min(this.config.shutdownTimeoutMs, 5000))]);
    this.stopping.abort(new Error('agent stopping'));
    await this.running;
    try {
      await this.forwarder.drain(deadline);
    } catch {
      this.log(`shutdown: the gateway did not take everything within ${this.config.shutdownTimeoutMs} ms; the rest stays queued for the next start`);
    }
    await this.link.close();
    this.updateQueueGauges();
    const left = this.queue.stats().depthRecords;
    await this.queue.close();
    this.log(`stopped${left > 0 ? `; ${left} request(s) left in the queue` : ''}`);
  }
}

export function addr(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * The OTLP receivers an agent or a gateway serves (HTTP, and gRPC unless turned off), started on the
 * configured addresses. `routes` are read-only (GET) pages beside /v1/traces, `writeRoutes` are
 * served as they are; on a failure to listen, what is open is closed, then `onFailure` runs, and the
 * error says what to change.
 */
export async function startReceivers(
  config: ServeConfig,
  sink: TraceSink,
  metrics: PipelineMetrics,
  log: (line: string) => void,
  options: { routes: Record<string, Route>; writeRoutes?: Record<string, Route>; onFailure: () => Promise<void> },
): Promise<{ http: OtlpHttpReceiver; grpc: OtlpGrpcReceiver | undefined; addresses: ServiceAddresses }> {
  const routes: Record<string, Route> = { ...options.writeRoutes };
  for (const [path, serve] of Object.entries(options.routes)) routes[path] = readOnlyRoute(path, serve);
  const tls = config.tls.certFile !== undefined ? { certFile: config.tls.certFile, keyFile: config.tls.keyFile! } : undefined;
  const http = new OtlpHttpReceiver({ sink, host: config.listen.host, port: config.listen.port, maxRequestBytes: config.maxRequestBytes, metrics: metrics.receiverHook(), log, routes, ...(tls ? { tls } : {}) });
  const grpc = config.grpc ? new OtlpGrpcReceiver({ sink, host: config.grpc.host, port: config.grpc.port, maxReceiveMessageBytes: config.maxRequestBytes, metrics: metrics.receiverHook(), log, ...(tls ? { tls } : {}) }) : undefined;
  try {
    return { http, grpc, addresses: { http: await http.start(), ...(grpc ? { grpc: await grpc.start() } : {}) } };
  } catch (e) {
    await http.close(0).catch(() => undefined);
    await options.onFailure();
    throw listenError(e, config);
  }
}

export function listenError(e: unknown, config: ServeConfig): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new InputError(`cannot listen: the address is in use (${(e as Error).message}); choose another with --listen`);
  if (code === 'EACCES') return new InputError(`cannot listen: permission denied (${(e as Error).message})`);
  if (code === 'EADDRNOTAVAIL') return new InputError(`cannot listen on ${config.listen.host}: no such local address`);
  return e;
}

/** Default zstd level of the HTTP link's zstd stream (docs/benchmarks.md, "bytes on the wire"). */
export const HTTP_LINK_ZSTD_LEVEL = 6;

/**
 * The HTTP link's encoder: `zstd` means one zstd stream per epoch, flushed at each frame, so a
 * frame may refer to the frames before it (attribute values, residual strings that recur), and
 * level 6 by default. On generated traffic at 2,048 spans a frame that is 21.8 against 22.9 bytes a
 * span for level 3 per frame (39.6% against 41.6% of OTLP+gzip) for about 0.2 µs a span more zstd
 * time. The stream costs nothing in robustness here: every frame the gateway does not apply already
 * makes the link start a new epoch (resync), which starts a new zstd stream on both sides, and
 * the decoder recognises a duplicate before it decompresses. JetStream keeps zstd per frame: its
 * consumers read frames back to rebuild a stream, which a zstd stream would make depend on every
 * earlier frame's bytes once more.
 */
export function httpLinkEncoder(t: ServeConfig['tracezip']): TracezipEncoderOptions {
  if (t.compression !== 'zstd') return { compression: t.compression, ...(t.level !== undefined ? { zstdLevel: t.level } : {}) };
  return { compression: 'zstd-stream', zstdLevel: t.level ?? HTTP_LINK_ZSTD_LEVEL };
}
