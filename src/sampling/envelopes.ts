// What OTLP requests add around the spans a sampler keeps: each request carries every resource and
// scope envelope its spans belong to once, so the fewer spans of each are kept, the more each kept
// span costs. A byte budget that sees span bytes only would overrun its target by that much (about a
// point of reduction on the generated traffic, less on inputs with few services); the streaming
// processor measures it here, decision by decision, on the kept spans in the order it sends them,
// cut the way an SDK's batch processor cuts them (requests of N spans, merged by resource and scope
// as SpanBatcher merges them), and tells the strategy (SamplingStrategy.recordEnvelope). Output that
// is regrouped by resource before it is cut (an evaluation that buffers it all) packs tighter than
// that, and the budget then over-reduces a little (docs/sampling.md). The input's envelopes are
// counted too (a reduction is of the input's OTLP bytes, envelopes and all).
import type { LocatedSpan, ResourceSpans, ScopeSpans, TracesData } from '../model/index.js';
import { encodedTracesDataSize } from '../otlp/index.js';

/** Length prefixes grow with what they frame: a typical request's resource and scope messages need a byte or two more than an empty one. */
const PREFIX_GROWTH = 2;

export class EnvelopeMeter {
  private spansInRequest = 0;
  /** Resource key -> scope keys already in the current request (the keys SpanBatcher merges by). */
  private readonly inRequest = new Map<object, Set<object>>();
  private lastScopeSpans: ScopeSpans | undefined;
  private readonly resourceBytes = new WeakMap<ResourceSpans, number>();
  private readonly scopeBytes = new WeakMap<ScopeSpans, number>();

  constructor(readonly batchSpans = 512) {
    if (!Number.isInteger(batchSpans) || batchSpans < 1) throw new RangeError(`envelope batch size must be a positive integer, got ${batchSpans}`);
  }

  /**
   * Envelope bytes these spans (one decision's, in the order they are sent on) add to the requests
   * they join: requests of `batchSpans` spans in sending order (the one under way carries over from
   * the last call), each resource and scope envelope counted once per request, merged as SpanBatcher
   * merges them. Counted per decision, so the budget hears of it before the next decision, offline
   * (where every trace may be decided at the end of the input) as live.
   */
  add(spans: readonly LocatedSpan[]): number {
    let bytes = 0;
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      if (this.spansInRequest === this.batchSpans) {
        this.spansInRequest = 0;
        this.inRequest.clear();
        this.lastScopeSpans = undefined;
      }
      this.spansInRequest++;
      // A trace's spans come grouped by scope: most are in the scope of the span before.
      if (s.scopeSpans === this.lastScopeSpans) continue;
      this.lastScopeSpans = s.scopeSpans;
      bytes += this.enter(s.resourceSpans, s.scopeSpans);
    }
    return bytes;
  }

  /**
   * Envelope bytes of a stream of requests (the input, as it arrives), cut into requests of
   * `batchSpans` as SpanBatcher cuts it; walks the groups, not the spans.
   */
  addData(data: TracesData): number {
    let bytes = 0;
    for (const rs of data.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        let left = ss.spans.length;
        while (left > 0) {
          if (this.spansInRequest === this.batchSpans) {
            this.spansInRequest = 0;
            this.inRequest.clear();
          }
          this.lastScopeSpans = undefined;
          bytes += this.enter(rs, ss);
          const taken = Math.min(left, this.batchSpans - this.spansInRequest);
          this.spansInRequest += taken;
          left -= taken;
        }
      }
    }
    return bytes;
  }

  /** The envelope bytes a span of (rs, ss) adds to the request under way: 0 when it has them already. */
  private enter(rs: ResourceSpans, ss: ScopeSpans): number {
    let bytes = 0;
    const rKey = rs.resource && !rs.schemaUrl && !rs.unknownFields ? rs.resource : rs;
    const sKey = ss.scope && !ss.schemaUrl && !ss.unknownFields ? ss.scope : ss;
    let scopes = this.inRequest.get(rKey);
    if (!scopes) {
      this.inRequest.set(rKey, (scopes = new Set()));
      bytes += this.resourceEnvelope(rs);
    }
    if (!scopes.has(sKey)) {
      scopes.add(sKey);
      bytes += this.scopeEnvelope(ss);
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
