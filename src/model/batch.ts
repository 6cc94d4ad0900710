// Re-cutting a stream of trace data into batches of a fixed number of spans, the way an SDK's
// BatchSpanProcessor or a collector batch processor would hand them to an exporter: spans keep
// their order, and each batch groups them under their own Resource and scope again. Envelopes are
// matched by their Resource and InstrumentationScope objects (readers and the generator share one
// per pod and instrumentation), so spans of one pod that arrived in different input messages land
// in one ResourceSpans of the batch.
import type { InstrumentationScope, Resource, ResourceSpans, ScopeSpans, Span, TracesData } from './types.js';

export class SpanBatcher {
  private spans = 0;
  private readonly byResource = new Map<Resource | ResourceSpans, { out: ResourceSpans; scopes: Map<InstrumentationScope | ScopeSpans, ScopeSpans> }>();
  private order: ResourceSpans[] = [];

  constructor(readonly batchSpans: number) {
    if (!Number.isInteger(batchSpans) || batchSpans < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSpans}`);
  }

  /** Adds one span; returns a full batch when this span completed one. */
  push(span: Span, rs: ResourceSpans, ss: ScopeSpans): TracesData | undefined {
    // A container with its own schema URL or unknown fields is only ever merged with itself.
    const rKey = rs.resource && !rs.schemaUrl && !rs.unknownFields ? rs.resource : rs;
    let r = this.byResource.get(rKey);
    if (!r) {
      r = { out: { resource: rs.resource, scopeSpans: [], schemaUrl: rs.schemaUrl, unknownFields: rs.unknownFields }, scopes: new Map() };
      this.byResource.set(rKey, r);
      this.order.push(r.out);
    }
    const sKey = ss.scope && !ss.schemaUrl && !ss.unknownFields ? ss.scope : ss;
    let s = r.scopes.get(sKey);
    if (!s) {
      s = { scope: ss.scope, spans: [], schemaUrl: ss.schemaUrl, unknownFields: ss.unknownFields };
      r.scopes.set(sKey, s);
      r.out.scopeSpans.push(s);
    }
    s.spans.push(span);
    this.spans++;
    return this.spans >= this.batchSpans ? this.flush() : undefined;
  }

  /** The spans collected so far as one batch, or undefined when there are none. */
  flush(): TracesData | undefined {
    if (this.spans === 0) return undefined;
    const batch: TracesData = { resourceSpans: this.order, unknownFields: undefined };
    this.byResource.clear();
    this.order = [];
    this.spans = 0;
    return batch;
  }
}

/** Re-batches a stream of messages into batches of `batchSpans` spans (the last may be shorter). */
export async function* rebatch(source: AsyncIterable<TracesData> | Iterable<TracesData>, batchSpans: number): AsyncGenerator<TracesData> {
  const batcher = new SpanBatcher(batchSpans);
  for await (const data of source) {
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          const full = batcher.push(span, rs, ss);
          if (full) yield full;
        }
  }
  const rest = batcher.flush();
  if (rest) yield rest;
}
