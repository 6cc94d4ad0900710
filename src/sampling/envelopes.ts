// What OTLP requests add around the spans a sampler keeps: each request carries every resource and
// scope envelope its spans belong to once, so the fewer spans of each are kept, the more each kept
// span costs. A byte budget that sees span bytes only would overrun its target by that much (about a
// point of reduction on the generated traffic, less on inputs with few services); the streaming
// processor measures it here on each output it hands on, cut the way SpanBatcher cuts a stream into
// requests of N spans (merged by resource and scope), and tells the strategy
// (SamplingStrategy.recordEnvelope). Until the first output the budget's margin stands in for it.
import type { ResourceSpans, ScopeSpans, TracesData } from '../model/index.js';
import { encodedTracesDataSize } from '../otlp/index.js';

/** Length prefixes grow with what they frame: a typical request's resource and scope messages need a byte or two more than an empty one. */
const PREFIX_GROWTH = 2;

export class EnvelopeMeter {
  private spansInRequest = 0;
  /** Resource key -> scope keys already in the current request (the keys SpanBatcher merges by). */
  private readonly inRequest = new Map<object, Set<object>>();
  private readonly resourceBytes = new WeakMap<ResourceSpans, number>();
  private readonly scopeBytes = new WeakMap<ScopeSpans, number>();

  constructor(readonly batchSpans = 512) {
    if (!Number.isInteger(batchSpans) || batchSpans < 1) throw new RangeError(`envelope batch size must be a positive integer, got ${batchSpans}`);
  }

  /**
   * Envelope bytes this output adds to the requests it joins: its spans in order, cut into requests
   * of `batchSpans` as SpanBatcher cuts them (the request under way carries over from the last
   * call), each resource and scope envelope counted once per request. Walks the groups, not the spans.
   */
  addData(data: TracesData): number {
    let bytes = 0;
    for (const rs of data.resourceSpans) {
      const rKey = rs.resource && !rs.schemaUrl && !rs.unknownFields ? rs.resource : rs;
      for (const ss of rs.scopeSpans) {
        const sKey = ss.scope && !ss.schemaUrl && !ss.unknownFields ? ss.scope : ss;
        let left = ss.spans.length;
        while (left > 0) {
          if (this.spansInRequest === this.batchSpans) {
            this.spansInRequest = 0;
            this.inRequest.clear();
          }
          let scopes = this.inRequest.get(rKey);
          if (!scopes) {
            this.inRequest.set(rKey, (scopes = new Set()));
            bytes += this.resourceEnvelope(rs);
          }
          if (!scopes.has(sKey)) {
            scopes.add(sKey);
            bytes += this.scopeEnvelope(ss);
          }
          const taken = Math.min(left, this.batchSpans - this.spansInRequest);
          this.spansInRequest += taken;
          left -= taken;
        }
      }
    }
    return bytes;
  }

  private resourceEnvelope(rs: ResourceSpans): number {
    let b = this.resourceBytes.get(rs);
    if (b === undefined) {
      b = encodedTracesDataSize({ resourceSpans: [{ resource: rs.resource, scopeSpans: [], schemaUrl: rs.schemaUrl, unknownFields: rs.unknownFields }], unknownFields: undefined }) + PREFIX_GROWTH;
      this.resourceBytes.set(rs, b);
    }
    return b;
  }

  private scopeEnvelope(ss: ScopeSpans): number {
    let b = this.scopeBytes.get(ss);
    if (b === undefined) {
      const bare = { resource: undefined, schemaUrl: '', unknownFields: undefined };
      b =
        encodedTracesDataSize({ resourceSpans: [{ ...bare, scopeSpans: [{ scope: ss.scope, spans: [], schemaUrl: ss.schemaUrl, unknownFields: ss.unknownFields }] }], unknownFields: undefined }) -
        encodedTracesDataSize({ resourceSpans: [{ ...bare, scopeSpans: [] }], unknownFields: undefined }) +
        PREFIX_GROWTH;
      this.scopeBytes.set(ss, b);
    }
    return b;
  }
}
