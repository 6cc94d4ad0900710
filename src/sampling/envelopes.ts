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
  /** Spans in the request under way, and its envelopes (read by addRegrouped of the estimating meter). */
  private spansInRequest = 0;
  /** Resource envelope -> scope envelopes already in the request under way (by their encoded bytes). */
  private readonly inRequest = new Map<string, Set<string>>();
  private lastScopeSpans: ScopeSpans | undefined;
  private readonly resources = new WeakMap<ResourceSpans, Envelope>();
  private readonly scopes = new WeakMap<ScopeSpans, Envelope>();
  /** The first Resource and InstrumentationScope object seen of each envelope (regroup), at most CANONICAL_MAX of each. */
  private readonly canonicalResources = new Map<string, Resource | undefined>();
  private readonly canonicalScopes = new Map<string, InstrumentationScope | undefined>();

  /** Spans in the regrouping cut under way (addRegrouped), and its envelopes. */
  private cutSpans = 0;
  /** Spans estimated since the last drain (addRegrouped). */
  private drainSpans = 0;
  private readonly cutResources = new Set<string>();
  private readonly cutScopes = new Set<string>();

  /**
   * `batchSpans`: spans per request of whatever sends the output on; `regroupSpans`: spans per cut
   * that regroup merges by envelope (see there).
   */
  constructor(
    readonly batchSpans = 512,
    readonly regroupSpans = 4096,
  ) {
    if (!Number.isInteger(batchSpans) || batchSpans < 1) throw new RangeError(`envelope batch size must be a positive integer, got ${batchSpans}`);
    if (!Number.isInteger(regroupSpans) || regroupSpans < 1) throw new RangeError(`regrouping cut must be a positive integer, got ${regroupSpans}`);
  }

  /**
   * Envelope bytes these spans (one decision's) are estimated to add to output that regroup merges
   * by envelope in cuts of `regroupSpans` and that is then sent in requests of `batchSpans`: in a
   * cut, a group of c spans lands in 1 + (c - 1) / N requests on average, so its first span pays
   * the envelope and each later one 1/N of it; a drain (endDrain) ends the merging as a cut does.
   * The estimate holds until the drain is measured.
   */
  addRegrouped(spans: readonly LocatedSpan[], sent?: EnvelopeMeter): number {
    let bytes = 0;
    // The drain opens with the request the last one left under way (`sent`, the meter that measures
    // the drains): an envelope it holds costs the drain's first span no more than the later ones.
    // Only while the drain's spans still fit in what that request has room for.
    const room = sent !== undefined ? sent.batchSpans - sent.spansInRequest : 0;
    let lastScopeSpans: ScopeSpans | undefined;
    let resourceKey = '';
    let scopeKey = '';
    let r: Envelope | undefined;
    let sc: Envelope | undefined;
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      if (this.cutSpans === this.regroupSpans) {
        this.cutSpans = 0;
        this.cutResources.clear();
        this.cutScopes.clear();
      }
      this.cutSpans++;
      const carried = this.drainSpans++ < room ? sent!.inRequest : undefined;
      if (s.scopeSpans !== lastScopeSpans) {
        lastScopeSpans = s.scopeSpans;
        r = this.resourceEnvelope(s.resourceSpans);
        sc = this.scopeEnvelope(s.scopeSpans);
        resourceKey = r.key;
        scopeKey = r.key + sc.key;
      }
      if (this.cutResources.has(resourceKey)) bytes += r!.bytes / this.batchSpans;
      else {
        this.cutResources.add(resourceKey);
        bytes += carried?.has(resourceKey) ? r!.bytes / this.batchSpans : r!.bytes;
      }
      if (this.cutScopes.has(scopeKey)) bytes += sc!.bytes / this.batchSpans;
      else {
        this.cutScopes.add(scopeKey);
        bytes += carried?.get(resourceKey)?.has(sc!.key) ? sc!.bytes / this.batchSpans : sc!.bytes;
      }
    }
    return bytes;
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

  /** The drain addRegrouped estimated for was regrouped and sent: its envelopes merge with nothing after it. */
  endDrain(): void {
    this.drainSpans = 0;
    this.cutResources.clear();
    this.cutScopes.clear();
  }

  /**
   * The spans as OTLP envelopes: cut every `regroupSpans` spans in their order (`offset`: spans of
   * the cut under way already sent), and within each cut merged by envelope content, one
   * ResourceSpans per distinct resource and one ScopeSpans per distinct scope, in first-seen order.
   * Merged, the output's requests carry fewer envelopes (a service's spans together); cut, a trace's
   * spans stay within a few thousand of each other, which Tracezip's references need (merged over a
   * whole 2,000-trace drain, the sampled generated traffic took a third more Tracezip bytes). Merged
   * by content, not by object, a live processor's spans (each request decoded into objects of its
   * own) share their service's envelope; equal envelopes share one Resource and one
   * InstrumentationScope object from cut to cut, so a batcher downstream that merges by object
   * merges them as the meter counts them.
   */
  regroup(spans: readonly LocatedSpan[], offset = 0): TracesData {
    const resources = new Map<string, { rs: ResourceSpans; scopes: Map<string, ScopeSpans> }>();
    const resourceSpans: ResourceSpans[] = [];
    let lastScopeSpans: ScopeSpans | undefined;
    let target: ScopeSpans | undefined;
    let inCut = offset % this.regroupSpans;
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      if (inCut === this.regroupSpans) {
        inCut = 0;
        resources.clear();
        lastScopeSpans = undefined;
      }
      inCut++;
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
