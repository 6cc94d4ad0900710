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
import type { InstrumentationScope, LocatedSpan, Resource, ResourceSpans, ScopeSpans, TracesData } from '../model/index.js';
import { encodeTracesData, encodedTracesDataSize } from '../otlp/index.js';

/** An envelope's identity (its encoded bytes as a string) and what it costs in a request. */
interface Envelope {
  key: string;
  bytes: number;
}

/** Bytes of a TracesData holding one empty ResourceSpans: what a scope's encoding carries besides itself. */
const EMPTY_RESOURCE_SPANS = encodedTracesDataSize({ resourceSpans: [{ resource: undefined, schemaUrl: '', unknownFields: undefined, scopeSpans: [] }], unknownFields: undefined });

/** Distinct envelopes whose objects regroup reuses; past it the table starts over (a service fleet that churns). */
const CANONICAL_MAX = 10_000;

function canonical<T>(table: Map<string, T>, key: string, value: T): T {
  if (table.has(key)) return table.get(key)!;
  if (table.size >= CANONICAL_MAX) table.clear();
  table.set(key, value);
  return value;
}

/** Length prefixes grow with what they frame: a typical request's resource and scope messages need a byte or two more than an empty one. */
const PREFIX_GROWTH = 2;

export class EnvelopeMeter {
  private spansInRequest = 0;
  /** Resource envelope -> scope envelopes already in the request under way (by their encoded bytes). */
  private readonly inRequest = new Map<string, Set<string>>();
  private lastScopeSpans: ScopeSpans | undefined;
  private readonly resources = new WeakMap<ResourceSpans, Envelope>();
  private readonly scopes = new WeakMap<ScopeSpans, Envelope>();
  /** The first Resource and InstrumentationScope object seen of each envelope (regroup), at most CANONICAL_MAX of each. */
  private readonly canonicalResources = new Map<string, Resource | undefined>();
  private readonly canonicalScopes = new Map<string, InstrumentationScope | undefined>();
  /** Resource and (resource, scope) envelopes in the drain under way (addRegrouped). */
  private readonly drainResources = new Set<string>();
  private readonly drainScopes = new Set<string>();

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
   * Envelope bytes these spans (one decision's) are estimated to add to output that is regrouped by
   * resource and scope before it is cut into requests (StreamingSampler's drain, toTracesData): each
   * envelope once in the drain (less if the request the last drain left under way has it), and once
   * more per `batchSpans` spans of its own. The estimate holds until the drain is measured (addData
   * on what it sends, by this meter); endDrain starts the next.
   */
  addRegrouped(spans: readonly LocatedSpan[]): number {
    let bytes = 0;
    const carried = this.spansInRequest < this.batchSpans;
    let lastScopeSpans: ScopeSpans | undefined;
    let resourceKey = '';
    let scopeKey = '';
    let r: Envelope | undefined;
    let sc: Envelope | undefined;
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      if (s.scopeSpans === lastScopeSpans) {
        // The first span of this run put both envelopes in the drain: each later one adds its
        // share (as the lookups below would find, without hashing the envelopes' keys per span).
        bytes += r!.bytes / this.batchSpans;
        bytes += sc!.bytes / this.batchSpans;
        continue;
      }
      lastScopeSpans = s.scopeSpans;
      r = this.resourceEnvelope(s.resourceSpans);
      sc = this.scopeEnvelope(s.scopeSpans);
      resourceKey = r.key;
      scopeKey = r.key + sc.key;
      // A group of c spans cut at a random offset into requests of N spans lands in 1 + (c - 1) / N
      // of them on average: the first span pays the envelope, each later one 1/N of it.
      // The drain opens with the request the last one left under way (addData): what it holds
      // already costs the first span no more than the later ones.
      if (this.drainResources.has(resourceKey)) bytes += r!.bytes / this.batchSpans;
      else {
        this.drainResources.add(resourceKey);
        bytes += carried && this.inRequest.has(resourceKey) ? r!.bytes / this.batchSpans : r!.bytes;
      }
      if (this.drainScopes.has(scopeKey)) bytes += sc!.bytes / this.batchSpans;
      else {
        this.drainScopes.add(scopeKey);
        bytes += carried && this.inRequest.get(resourceKey)?.has(sc!.key) ? sc!.bytes / this.batchSpans : sc!.bytes;
      }
    }
    return bytes;
  }

  /**
   * The spans as OTLP envelopes merged by content: one ResourceSpans per distinct resource envelope
   * and one ScopeSpans per distinct scope envelope in it, in first-seen order, sharing the first
   * one's objects. A live processor's spans come from requests decoded into objects of their own;
   * merged by object (toTracesData) the same service's resource would be sent once per request it
   * came in, and addRegrouped's estimate would not hold. Drain after drain, equal envelopes share
   * one Resource and one InstrumentationScope object, so a batcher downstream that merges by object
   * (SpanBatcher, the SDK's exporters) merges them across drains too, as the meter counts them.
   */
  regroup(spans: readonly LocatedSpan[]): TracesData {
    const resources = new Map<string, { rs: ResourceSpans; scopes: Map<string, ScopeSpans> }>();
    const resourceSpans: ResourceSpans[] = [];
    let lastScopeSpans: ScopeSpans | undefined;
    let target: ScopeSpans | undefined;
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      if (s.scopeSpans !== lastScopeSpans) {
        lastScopeSpans = s.scopeSpans;
        const rKey = this.resourceEnvelope(s.resourceSpans).key;
        let r = resources.get(rKey);
        if (!r) {
          const src = s.resourceSpans;
          const rs: ResourceSpans = { resource: canonical(this.canonicalResources, rKey, src.resource), scopeSpans: [], schemaUrl: src.schemaUrl };
          if (src.unknownFields) rs.unknownFields = src.unknownFields;
          resources.set(rKey, (r = { rs, scopes: new Map() }));
          resourceSpans.push(rs);
        }
        const sKey = this.scopeEnvelope(s.scopeSpans).key;
        target = r.scopes.get(sKey);
        if (!target) {
          const src = s.scopeSpans;
          target = { scope: canonical(this.canonicalScopes, sKey, src.scope), spans: [], schemaUrl: src.schemaUrl };
          if (src.unknownFields) target.unknownFields = src.unknownFields;
          r.scopes.set(sKey, target);
          r.rs.scopeSpans.push(target);
        }
      }
      target!.spans.push(s.span);
    }
    return { resourceSpans };
  }

  /** The drain addRegrouped estimated for was sent. */
  endDrain(): void {
    this.drainResources.clear();
    this.drainScopes.clear();
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
