// What OTLP requests add around the spans a sampler keeps: each request carries every resource and
// scope envelope its spans belong to once, so the fewer spans of each are kept, the more each kept
// span costs. A byte budget that sees span bytes only would overrun its target by that much (about a
// point of reduction on the generated traffic, less on inputs with few services); the streaming
// processor measures it here, decision by decision, on the kept spans in the order it sends them,
// cut the way an SDK's batch processor cuts them (requests of N spans, merged by resource and scope),
// and tells the strategy (SamplingStrategy.recordEnvelope); the input's envelopes too, as the input
// arrives (a reduction is of the input's OTLP bytes, envelopes and all). Envelopes are told apart by
// their bytes, so an offline run and a live one (which decodes each request into new objects) count
// alike. Output
// that is regrouped by resource before it is cut (an evaluation that buffers it all) packs tighter
// than that, and the budget then over-reduces a little (docs/sampling.md).
import type { LocatedSpan, ResourceSpans, ScopeSpans, TracesData } from '../model/index.js';
import { encodeTracesData, encodedTracesDataSize } from '../otlp/index.js';

/** An envelope's identity (its encoded bytes as a string) and what it costs in a request. */
interface Envelope {
  key: string;
  bytes: number;
}

/** Bytes of a TracesData holding one empty ResourceSpans: what a scope's encoding carries besides itself. */
const EMPTY_RESOURCE_SPANS = encodedTracesDataSize({ resourceSpans: [{ resource: undefined, schemaUrl: '', unknownFields: undefined, scopeSpans: [] }], unknownFields: undefined });

/** Length prefixes grow with what they frame: a typical request's resource and scope messages need a byte or two more than an empty one. */
const PREFIX_GROWTH = 2;

export class EnvelopeMeter {
  private spansInRequest = 0;
  /** Resource envelope -> scope envelopes already in the request under way (by their encoded bytes). */
  private readonly inRequest = new Map<string, Set<string>>();
  private lastScopeSpans: ScopeSpans | undefined;
  private readonly resources = new WeakMap<ResourceSpans, Envelope>();
  private readonly scopes = new WeakMap<ScopeSpans, Envelope>();

  constructor(readonly batchSpans = 512) {
    if (!Number.isInteger(batchSpans) || batchSpans < 1) throw new RangeError(`envelope batch size must be a positive integer, got ${batchSpans}`);
  }

  /**
   * Envelope bytes these spans (one decision's, in the order they are sent on) add to the requests
   * they join: requests of `batchSpans` spans in sending order (the one under way carries over from
   * the last call), each resource and scope envelope counted once per request, merged by resource and
   * scope. Counted per decision, so the budget hears of it before the next decision, offline
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
   * `batchSpans`; walks the groups, not the spans.
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
    const r = this.resourceEnvelope(rs);
    const sc = this.scopeEnvelope(ss);
    let scopes = this.inRequest.get(r.key);
    if (!scopes) {
      this.inRequest.set(r.key, (scopes = new Set()));
      bytes += r.bytes;
    }
    if (!scopes.has(sc.key)) {
      scopes.add(sc.key);
      bytes += sc.bytes;
    }
    return bytes;
  }

  // Envelopes are told apart by their encoded bytes, not by object: a server decodes each request
  // into objects of its own, and the same service's resource in two requests is one envelope to an
  // exporter that merges them. Encoded once per object (cached), not per span.
  private resourceEnvelope(rs: ResourceSpans): Envelope {
    let e = this.resources.get(rs);
    if (e === undefined) {
      const encoded = encodeTracesData({ resourceSpans: [{ resource: rs.resource, scopeSpans: [], schemaUrl: rs.schemaUrl, unknownFields: rs.unknownFields }], unknownFields: undefined });
      e = { key: Buffer.from(encoded.buffer, encoded.byteOffset, encoded.length).toString('latin1'), bytes: encoded.length + PREFIX_GROWTH };
      this.resources.set(rs, e);
    }
    return e;
  }

  private scopeEnvelope(ss: ScopeSpans): Envelope {
    let e = this.scopes.get(ss);
    if (e === undefined) {
      const encoded = encodeTracesData({ resourceSpans: [{ resource: undefined, schemaUrl: '', unknownFields: undefined, scopeSpans: [{ scope: ss.scope, spans: [], schemaUrl: ss.schemaUrl, unknownFields: ss.unknownFields }] }], unknownFields: undefined });
      // Less the empty ResourceSpans around it: a tag and a length byte, and the TracesData field's tag and length.
      e = { key: Buffer.from(encoded.buffer, encoded.byteOffset, encoded.length).toString('latin1'), bytes: encoded.length - EMPTY_RESOURCE_SPANS + PREFIX_GROWTH };
      this.scopes.set(ss, e);
    }
    return e;
  }
}
