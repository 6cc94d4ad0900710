// Turns a span-level decision into the reduced trace: kept spans only, each re-parented to its
// nearest kept ancestor (with the number of skipped levels recorded), and a summary of what was
// dropped below each kept span (per operation: count, total, min and max duration) so nothing
// vanishes silently. A span is kept at one of two tiers: whole, or as a skeleton (ids, parent, name,
// kind, times, status and a marker; no events, links or other attributes), and the bytes of each
// tier and of the summaries are counted. Also regroups kept spans into OTLP envelopes that keep their
// resource and scope.
import { kv, type InstrumentationScope, type KeyValue, type LocatedSpan, type ResourceSpans, type ScopeSpans, type Span, type TracesData } from '../model/index.js';
import { encodedSpanSize } from '../otlp/index.js';
import { encodedAttributeSize, encodedIdFieldSize, resizedSpanSize } from '../otlp/protobuf.js';
import type { SampledTrace } from './trace.js';

/** Attributes slimtrace writes on kept spans (documented in docs/sampling.md). */
export const SAMPLING_ATTR = {
  /** int: dropped spans between this span and its new parent (its nearest kept ancestor). */
  SKIPPED_LEVELS: 'slimtrace.sampling.skipped_levels',
  /**
   * string: the spans dropped below this span (those whose nearest kept ancestor it is), one entry
   * per dropped operation, in the compact text of `formatDroppedSummary`. Compact because it is paid
   * on every kept span: a key-value list per entry cost more bytes than small spans themselves.
   */
  DROPPED: 'slimtrace.sampling.dropped',
  /**
   * string `skeleton`: the spans were kept without their events, links and attributes
   * (KEEP_SKELETON). An attribute of the instrumentation scope they are sent under (a copy of their
   * own scope), not of each span: 30 bytes a span were a quarter of a skeleton's bytes. Where
   * scopes carry no attributes (the OpenTelemetry JS SDK's ReadableSpan), on the span itself.
   */
  TIER: 'slimtrace.tier',
} as const;

/** Keep flag of a span kept whole (any non-zero flag other than KEEP_SKELETON means the same). */
export const KEEP_FULL = 1;
/** Keep flag of a span kept as a skeleton: see skeletonSpan. */
export const KEEP_SKELETON = 2;

/**
 * How dropped spans are summarized on their nearest kept ancestor: one entry per (service,
 * operation) (`operations`), one entry per service (`totals`: count and durations, name `*`),
 * or not at all (`none`). The budget controller steps down this list when bytes are short.
 */
export type SummaryLevel = 'operations' | 'totals' | 'none';

/** The tier marker (SAMPLING_ATTR.TIER), on a skeleton's scope (skeletonScopeSpans) or, in the SDK, on the span. */
export const SKELETON_MARKER: KeyValue = kv(SAMPLING_ATTR.TIER, 'skeleton');

/** Is this the scope skeletons are sent under (it carries the tier marker)? */
export function isSkeletonScope(scope: InstrumentationScope | undefined): boolean {
  if (!scope) return false;
  for (const a of scope.attributes) if (a.key === SAMPLING_ATTR.TIER && a.value === 'skeleton') return true;
  return false;
}

const skeletonScopes = new WeakMap<ScopeSpans, ScopeSpans>();
const NO_SCOPE: InstrumentationScope = { name: '', version: '', attributes: [], droppedAttributesCount: 0 };

/**
 * The envelope skeletons of spans of `ss` are sent under: its scope with the tier marker added (one
 * per ScopeSpans, cached, so regrouping puts a scope's skeletons together). Its `spans` stay empty:
 * it names an envelope, toTracesData and the processor's regrouping fill copies of it.
 */
export function skeletonScopeSpans(ss: ScopeSpans): ScopeSpans {
  let out = skeletonScopes.get(ss);
  if (out === undefined) {
    const scope = ss.scope ?? NO_SCOPE;
    const attributes: KeyValue[] = [];
    for (const a of scope.attributes) if (a.key !== SAMPLING_ATTR.TIER) attributes.push(a);
    attributes.push(SKELETON_MARKER);
    out = { scope: { ...scope, attributes }, spans: [], schemaUrl: ss.schemaUrl };
    if (ss.unknownFields) out.unknownFields = ss.unknownFields;
    skeletonScopes.set(ss, out);
  }
  return out;
}

/**
 * The skeleton of a span: what places it in the trace and says what it was and how it went (ids,
 * parent, name, kind, times, status) and the counts of what was left out in OTLP's dropped-count
 * fields; `extra` attributes (re-parenting, summaries) are its only attributes. Its tier is said by
 * the scope it is sent under (skeletonScopeSpans).
 */
export function skeletonSpan(span: Span, parentSpanId: Uint8Array = span.parentSpanId, extra: readonly KeyValue[] = []): Span {
  return skeletonWith(span, parentSpanId, extra.length === 0 ? [] : extra.slice());
}

/** skeletonSpan with its attributes as given. */
function skeletonWith(span: Span, parentSpanId: Uint8Array, attributes: KeyValue[]): Span {
  const droppedAttributesCount = span.droppedAttributesCount + span.attributes.length;
  const droppedEventsCount = span.droppedEventsCount + span.events.length;
  const droppedLinksCount = span.droppedLinksCount + span.links.length;
  const { traceId, spanId, traceState, flags, name, kind, startTimeUnixNano, endTimeUnixNano, status } = span;
  // Two literals, the status in one, rather than the status added afterwards: a property added to
  // an object made from a literal goes to a property store of its own, one more allocation per skeleton.
  if (status)
    return { traceId, spanId, traceState, parentSpanId, flags, name, kind, startTimeUnixNano, endTimeUnixNano, attributes, droppedAttributesCount, events: [], droppedEventsCount, links: [], droppedLinksCount, status };
  return { traceId, spanId, traceState, parentSpanId, flags, name, kind, startTimeUnixNano, endTimeUnixNano, attributes, droppedAttributesCount, events: [], droppedEventsCount, links: [], droppedLinksCount };
}

const NO_ID = new Uint8Array(0);
/**
 * The skeleton skeletonSize prices, reused: the controller prices skeletons of many spans per trace,
 * and building a span for each was a good part of the sampler's garbage.
 */
const pricedSkeleton: Span = skeletonSpan({ traceId: NO_ID, spanId: NO_ID, traceState: '', parentSpanId: NO_ID, flags: 0, name: '', kind: 0, startTimeUnixNano: 0n, endTimeUnixNano: 0n, attributes: [], droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0 });

/** OTLP bytes of a span's skeleton (without re-parenting or summary attributes). */
export function skeletonSize(span: Span): number {
  // The fields skeletonSpan copies or derives; attributes, events and links stay as built (empty).
  const s = pricedSkeleton;
  s.traceId = span.traceId;
  s.spanId = span.spanId;
  s.traceState = span.traceState;
  s.parentSpanId = span.parentSpanId;
  s.flags = span.flags;
  s.name = span.name;
  s.kind = span.kind;
  s.startTimeUnixNano = span.startTimeUnixNano;
  s.endTimeUnixNano = span.endTimeUnixNano;
  s.droppedAttributesCount = span.droppedAttributesCount + span.attributes.length;
  s.droppedEventsCount = span.droppedEventsCount + span.events.length;
  s.droppedLinksCount = span.droppedLinksCount + span.links.length;
  s.status = span.status;
  const size = encodedSpanSize(s);
  // Not to pin the span's ids (views into a whole request, perhaps) until the next call.
  s.traceId = s.spanId = s.parentSpanId = NO_ID;
  s.status = undefined;
  return size;
}

/** Bytes a string attribute adds to a span: what a summary or a marker costs. */
export function stringAttributeSize(key: string, value: string): number {
  const k = Buffer.byteLength(key);
  const v = Buffer.byteLength(value);
  const any = 1 + varintSize(v) + v;
  const body = 1 + varintSize(k) + k + 1 + varintSize(any) + any;
  return 1 + varintSize(body) + body;
}

function varintSize(n: number): number {
  let s = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

export interface ReduceOptions {
  /** Write dropped-span summaries on the nearest kept ancestor (default true). */
  summaries?: boolean;
  /** How to summarize them when summaries are on (default `operations`; a strategy's budget may lower it per trace). */
  summaryLevel?: SummaryLevel;
  /**
   * Changes to kept spans by index (attributes appended, times replaced): how a strategy that
   * merges spans (leaf aggregation) writes its summary span without the reducer knowing why.
   */
  patches?: ReadonlyMap<number, SpanPatch>;
  /**
   * Dropped spans (flag 1 by index) that a patch already accounts for: left out of the dropped-span
   * summaries, so the same span is not summarized twice.
   */
  accounted?: Uint8Array;
}

/** A change to one kept span, applied to its copy in the reduced trace. */
export interface SpanPatch {
  /** Appended after the span's own attributes (and before the reducer's). */
  attributes?: KeyValue[];
  startTimeUnixNano?: bigint;
  endTimeUnixNano?: bigint;
}

export interface ReducedTrace {
  /** Kept spans, in the trace's execution order; changed spans are copies, the input is never mutated. */
  spans: LocatedSpan[];
  keptSpans: number;
  droppedSpans: number;
  /** OTLP bytes of the kept spans as written (with the added attributes). */
  bytes: number;
  /** Final keep flags per span of the trace (roots and duplicate copies forced in). */
  kept: Uint8Array;
  /** Index of each span's nearest kept ancestor (its parent when that was kept), -1 for a root. */
  keptAncestor: Int32Array;
  /** Of `bytes`: spans kept whole, spans kept as skeletons (both with their re-parenting attributes), and the dropped-span summaries. */
  tierBytes: TierBytes;
}

/** OTLP bytes written per tier. */
export interface TierBytes {
  full: number;
  skeleton: number;
  summary: number;
}


/**
 * Makes every local root kept (a trace is never cut loose from its root) and returns the reduced
 * trace. `keep[i]` is 1 for kept spans; it is updated in place for the forced roots.
 */
export function reduceTrace(trace: SampledTrace, keep: Uint8Array, options: ReduceOptions = {}): ReducedTrace {
  const level: SummaryLevel = (options.summaries ?? true) ? (options.summaryLevel ?? 'operations') : 'none';
  const summaries = level !== 'none';
  const n = trace.spans.length;
  for (const r of trace.roots) if (!keep[r]) keep[r] = KEEP_FULL;
  // Copies of one span id (duplicate rows in real data) share one fate: children hang under the first
  // copy, so keeping only a later copy would leave them pointing at a span id whose tree position differs.
  for (let i = 0; i < n; i++) {
    const f = trace.firstCopy[i]!;
    if (f >= 0 && (keep[i] || keep[f])) keep[i] = keep[f] = keep[f] === KEEP_FULL || keep[i] === KEEP_FULL ? KEEP_FULL : Math.max(keep[i]!, keep[f]!);
  }
  // nearest kept ancestor and skipped levels, computed in execution order (parents first).
  // Up to 16 spans each is a typed array inside V8's heap (64 bytes), cheap; past that each would be
  // an off-heap allocation, so both share one.
  const memory = n > 16 ? new ArrayBuffer(8 * n) : undefined;
  const keptAncestor = (memory ? new Int32Array(memory, 0, n) : new Int32Array(n)).fill(-1);
  const skipped = memory ? new Int32Array(memory, 4 * n, n) : new Int32Array(n);
  // Dropped operations below each kept span, in first-seen order: a short list per kept span,
  // searched by (service, name), instead of a Map per kept span keyed by `service NUL name` strings
  // built per dropped span. The two agree unless a service name holds a NUL (then `a\0b`+`c` and
  // `a`+`b\0c` were one key): such a trace keeps the keyed Maps.
  const droppedLists: (DroppedOperation[] | undefined)[] | undefined = summaries && !hasNulService(trace.service) ? new Array<DroppedOperation[] | undefined>(n) : undefined;
  const dropped = summaries && !droppedLists ? new Map<number, Map<string, DroppedOperation>>() : undefined;
  for (let k = 0; k < n; k++) {
    const i = trace.order[k]!;
    const p = trace.parent[i]!;
    if (p < 0) continue;
    if (keep[p]) {
      keptAncestor[i] = p;
      skipped[i] = 0;
    } else {
      keptAncestor[i] = keptAncestor[p]!;
      skipped[i] = skipped[p]! + 1;
    }
    if (!keep[i] && droppedLists && !options.accounted?.[i]) {
      const a = keptAncestor[i]!;
      const name = level === 'totals' ? '*' : trace.spans[i]!.span.name;
      const service = trace.service[i]!;
      const d = trace.duration[i]!;
      let list = droppedLists[a];
      if (!list) droppedLists[a] = list = [];
      let s: DroppedOperation | undefined;
      for (let e = 0; e < list.length; e++) {
        const o = list[e]!;
        if (o.service === service && o.name === name) {
          s = o;
          break;
        }
      }
      if (s) {
        s.count++;
        s.sum += d;
        if (d < s.min) s.min = d;
        if (d > s.max) s.max = d;
      } else list.push({ name, service, count: 1, sum: d, min: d, max: d });
    } else if (!keep[i] && dropped && !options.accounted?.[i]) {
      const a = keptAncestor[i]!;
      let byOp = dropped.get(a);
      if (!byOp) dropped.set(a, (byOp = new Map()));
      const total = level === 'totals';
      const name = total ? '*' : trace.spans[i]!.span.name;
      // Totals are per service: a dropped span is never counted under another service's name.
      const service = trace.service[i]!;
      const key = total ? service : service + '\u0000' + name;
      const d = trace.duration[i]!;
      const s = byOp.get(key);
      if (s) {
        s.count++;
        s.sum += d;
        if (d < s.min) s.min = d;
        if (d > s.max) s.max = d;
      } else byOp.set(key, { name, service, count: 1, sum: d, min: d, max: d });
    }
  }
  const out: LocatedSpan[] = [];
  let bytes = 0;
  let kept = 0;
  const tierBytes: TierBytes = { full: 0, skeleton: 0, summary: 0 };
  for (let k = 0; k < n; k++) {
    const i = trace.order[k]!;
    if (!keep[i]) continue;
    kept++;
    const located = trace.spans[i]!;
    const summary = droppedLists ? droppedLists[i] : dropped?.get(i)?.values();
    const p = trace.parent[i]!;
    const reparent = p >= 0 && !keep[p];
    const patch = options.patches?.get(i);
    const skeleton = keep[i] === KEEP_SKELETON;
    if (!reparent && !summary && !patch && !skeleton) {
      out.push(located);
      bytes += trace.size[i]!;
      tierBytes.full += trace.size[i]!;
      continue;
    }
    let parentSpanId = located.span.parentSpanId;
    let levels: KeyValue | undefined;
    if (reparent) {
      parentSpanId = trace.spans[keptAncestor[i]!]!.span.spanId;
      levels = skippedLevels(skipped[i]!);
    }
    let summaryBytes = 0;
    let summaryAttribute: KeyValue | undefined;
    if (summary) {
      const text = formatDroppedSummary(summary, trace.service[i]!);
      summaryAttribute = kv(SAMPLING_ATTR.DROPPED, text);
      summaryBytes = stringAttributeSize(SAMPLING_ATTR.DROPPED, text);
    }
    let span: Span;
    let size: number;
    if (skeleton) {
      span = skeletonWith(located.span, parentSpanId, appended(NO_ATTRIBUTES, patch?.attributes, levels, summaryAttribute));
      size = encodedSpanSize(span);
    } else {
      span = { ...located.span, parentSpanId, attributes: appended(located.span.attributes, patch?.attributes, levels, summaryAttribute) };
      if (patch?.startTimeUnixNano !== undefined || patch?.endTimeUnixNano !== undefined) size = -1;
      else {
        // The span's own size, changed by what changed (a span of many attributes is not walked again).
        let delta = encodedIdFieldSize(parentSpanId) - encodedIdFieldSize(located.span.parentSpanId) + summaryBytes;
        if (levels) delta += skippedLevelsSize(skipped[i]!, levels);
        if (patch?.attributes) for (const a of patch.attributes) delta += encodedAttributeSize(a);
        size = resizedSpanSize(trace.size[i]!, delta);
      }
    }
    if (patch?.startTimeUnixNano !== undefined) span.startTimeUnixNano = patch.startTimeUnixNano;
    if (patch?.endTimeUnixNano !== undefined) span.endTimeUnixNano = patch.endTimeUnixNano;
    if (size < 0) size = encodedSpanSize(span);
    if (skeleton) {
      const scopeSpans = skeletonScopeSpans(located.scopeSpans);
      out.push({ span, resource: located.resource, scope: scopeSpans.scope, resourceSpans: located.resourceSpans, scopeSpans });
    } else out.push({ span, resource: located.resource, scope: located.scope, resourceSpans: located.resourceSpans, scopeSpans: located.scopeSpans });
    bytes += size;
    tierBytes.summary += summaryBytes;
    if (skeleton) tierBytes.skeleton += size - summaryBytes;
    else tierBytes.full += size - summaryBytes;
  }
  return { spans: out, keptSpans: kept, droppedSpans: n - kept, bytes, kept: keep, keptAncestor, tierBytes };
}

/**
 * The re-parenting attribute for `levels` skipped levels: shared for the common small counts, as
 * SKELETON_MARKER is (a KeyValue and a bigint per re-parented span were garbage).
 */
const SKIPPED_LEVELS = Array.from({ length: 64 }, (_, k) => kv(SAMPLING_ATTR.SKIPPED_LEVELS, BigInt(k)));
const SKIPPED_LEVELS_SIZE = SKIPPED_LEVELS.map(encodedAttributeSize);
function skippedLevels(levels: number): KeyValue {
  return levels < SKIPPED_LEVELS.length ? SKIPPED_LEVELS[levels]! : kv(SAMPLING_ATTR.SKIPPED_LEVELS, BigInt(levels));
}
/** encodedAttributeSize of skippedLevels(levels), which is `attribute`. */
function skippedLevelsSize(levels: number, attribute: KeyValue): number {
  return levels < SKIPPED_LEVELS_SIZE.length ? SKIPPED_LEVELS_SIZE[levels]! : encodedAttributeSize(attribute);
}

const NO_ATTRIBUTES: readonly KeyValue[] = [];

/**
 * `base` followed by a patch's attributes and the reducer's (re-parenting, summary), in one new
 * array of the exact length: copying `base` and pushing onto it grew a backing store with 16 spare
 * slots, and the additions had an array of their own, for most kept spans.
 */
function appended(base: readonly KeyValue[], patch: readonly KeyValue[] | undefined, levels: KeyValue | undefined, dropped: KeyValue | undefined): KeyValue[] {
  const length = base.length + (patch ? patch.length : 0) + (levels ? 1 : 0) + (dropped ? 1 : 0);
  const out = new Array<KeyValue>(length);
  let k = 0;
  for (let j = 0; j < base.length; j++) out[k++] = base[j]!;
  if (patch) for (let j = 0; j < patch.length; j++) out[k++] = patch[j]!;
  if (levels) out[k++] = levels;
  if (dropped) out[k++] = dropped;
  return out;
}

/** Does any span's service name hold a NUL (see reduceTrace's dropped lists)? Services repeat: each distinct one is tested once in a row. */
function hasNulService(service: readonly string[]): boolean {
  let last: string | undefined;
  for (let i = 0; i < service.length; i++) {
    const s = service[i]!;
    if (s === last) continue;
    last = s;
    if (s.indexOf('\0') >= 0) return true;
  }
  return false;
}

/** Every span kept, unchanged: what a trace-level "keep" produces. */
export function keepWholeTrace(trace: SampledTrace): ReducedTrace {
  const spans: LocatedSpan[] = [];
  for (let k = 0; k < trace.order.length; k++) spans.push(trace.spans[trace.order[k]!]!);
  return { spans, keptSpans: spans.length, droppedSpans: 0, bytes: trace.bytes, kept: new Uint8Array(spans.length).fill(1), keptAncestor: trace.parent, tierBytes: { full: trace.bytes, skeleton: 0, summary: 0 } };
}

/**
 * Puts located spans back into OTLP envelopes: one ResourceSpans per original ResourceSpans and one
 * ScopeSpans per original ScopeSpans, in first-seen order, sharing the original resource and scope.
 */
export function toTracesData(spans: Iterable<LocatedSpan>): TracesData {
  const resources = new Map<ResourceSpans, { rs: ResourceSpans; scopes: Map<ScopeSpans, ScopeSpans> }>();
  const resourceSpans: ResourceSpans[] = [];
  for (const located of spans) {
    let r = resources.get(located.resourceSpans);
    if (!r) {
      const src = located.resourceSpans;
      const rs: ResourceSpans = { resource: src.resource, scopeSpans: [], schemaUrl: src.schemaUrl };
      if (src.unknownFields) rs.unknownFields = src.unknownFields;
      r = { rs, scopes: new Map() };
      resources.set(src, r);
      resourceSpans.push(rs);
    }
    let ss = r.scopes.get(located.scopeSpans);
    if (!ss) {
      const src = located.scopeSpans;
      ss = { scope: src.scope, spans: [], schemaUrl: src.schemaUrl };
      if (src.unknownFields) ss.unknownFields = src.unknownFields;
      r.scopes.set(src, ss);
      r.rs.scopeSpans.push(ss);
    }
    ss.spans.push(located.span);
  }
  return { resourceSpans };
}

/** One dropped operation below a kept span. Durations in nanoseconds. */
export interface DroppedOperation {
  service: string;
  name: string;
  count: number;
  sum: number;
  min: number;
  max: number;
}

// Most names need no escape: test before running a regular expression over each.
const escapeText = (t: string): string => (t.indexOf('\\') < 0 && t.indexOf(';') < 0 ? t : t.replace(/[\\;]/g, (c) => '\\' + c));
const us = (ns: number): number => Math.round(ns / 1000);
const entryText = (o: DroppedOperation): string => {
  const name = escapeText(o.name);
  return o.count === 1 ? `1|${us(o.sum)}|${name}` : `${o.count}|${us(o.sum)}|${us(o.min)}|${us(o.max)}|${name}`;
};

/**
 * The text of `slimtrace.sampling.dropped`: entries separated by `;`, each
 * `count|sum_us|min_us|max_us|name`, or `1|us|name` for a single span (durations in whole
 * microseconds); an entry `@service` switches the service of the entries after it (they start in the
 * kept span's own service). `\` escapes `;` and `\` in names and services; a name is the entry's
 * last field, so it may contain `|`.
 */
export function formatDroppedSummary(ops: Iterable<DroppedOperation>, ownService: string): string {
  // The kept span's own service first, then the others in first-seen order, each with its entries
  // in order. Written straight into the text; only other services' entries are grouped (rarer).
  let text = '';
  let others: Map<string, DroppedOperation[]> | undefined;
  for (const o of ops) {
    if (o.service === ownService) text = text.length === 0 ? entryText(o) : text + ';' + entryText(o);
    else {
      others ??= new Map();
      const list = others.get(o.service);
      if (list) list.push(o);
      else others.set(o.service, [o]);
    }
  }
  if (others)
    for (const [svc, list] of others) {
      text = text.length === 0 ? '@' + escapeText(svc) : text + ';@' + escapeText(svc);
      for (const o of list) text += ';' + entryText(o);
    }
  return text;
}

/** Reads `slimtrace.sampling.dropped` back (durations in ns, from the microseconds written). */
export function parseDroppedSummary(text: string, ownService: string): DroppedOperation[] {
  const entries: string[] = [];
  let cur = '';
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (c === '\\' && k + 1 < text.length) cur += text[++k];
    else if (c === ';') {
      entries.push(cur);
      cur = '';
    } else cur += c;
  }
  if (text.length > 0) entries.push(cur);
  // Escapes are resolved above, so a field split below never sees one; '@' starts only service entries.
  const out: DroppedOperation[] = [];
  let service = ownService;
  for (const e of entries) {
    if (e.startsWith('@')) {
      service = e.slice(1);
      continue;
    }
    const fields = e.split('|');
    const count = Number(fields[0]);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`not a dropped-span summary entry: ${JSON.stringify(e)}`);
    const n = count === 1 ? 2 : 4;
    const nums = fields.slice(1, n).map((f) => Number(f) * 1000);
    const name = fields.slice(n).join('|');
    if (nums.some((x) => !Number.isFinite(x)) || fields.length <= n) throw new RangeError(`not a dropped-span summary entry: ${JSON.stringify(e)}`);
    const [sum, min = sum, max = sum] = nums as [number, number?, number?];
    out.push({ service, name, count, sum, min, max });
  }
  return out;
}
