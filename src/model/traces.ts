// Views over trace data that readers, samplers and statistics share: walking every span with its
// resource and scope, grouping spans into traces, and finding the span tree of a trace.
import { bytesToHex } from './ids.js';
import type { InstrumentationScope, Resource, ResourceSpans, ScopeSpans, Span, TracesData } from './types.js';

/** A span together with where it sits in the OTLP envelope. */
export interface LocatedSpan {
  span: Span;
  resource: Resource | undefined;
  scope: InstrumentationScope | undefined;
  resourceSpans: ResourceSpans;
  scopeSpans: ScopeSpans;
}

export function countSpans(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

/** Calls `visit` for every span in envelope order. */
export function forEachSpan(
  data: TracesData,
  visit: (span: Span, resourceSpans: ResourceSpans, scopeSpans: ScopeSpans) => void,
): void {
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) visit(span, rs, ss);
}

export function* locatedSpans(data: TracesData): Generator<LocatedSpan> {
  for (const rs of data.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const span of ss.spans) yield { span, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss };
}

/** One trace: its spans (with their envelope) and the tree between them. */
export interface Trace {
  traceIdHex: string;
  spans: LocatedSpan[];
}

/** Groups the spans of one or more messages by trace id, in first-seen order. */
export function groupByTrace(batches: Iterable<TracesData>): Map<string, Trace> {
  const traces = new Map<string, Trace>();
  for (const data of batches) {
    for (const located of locatedSpans(data)) {
      const id = bytesToHex(located.span.traceId);
      let trace = traces.get(id);
      if (!trace) {
        trace = { traceIdHex: id, spans: [] };
        traces.set(id, trace);
      }
      trace.spans.push(located);
    }
  }
  return traces;
}

/** Parent/child structure of one trace's spans, by span id. */
export interface SpanTree {
  /** Spans whose parent is empty or not in the trace (local roots of a partial trace). */
  roots: number[];
  /** children[i] = indexes of spans whose parent is span i. */
  children: number[][];
  /** parent[i] = index of span i's parent in the trace, or -1. */
  parent: number[];
  /** Depth of each span, roots at 1. */
  depth: number[];
}

export function buildSpanTree(spans: readonly Span[]): SpanTree {
  const index = new Map<string, number>();
  for (let i = 0; i < spans.length; i++) index.set(bytesToHex(spans[i]!.spanId), i);
  const parent = new Array<number>(spans.length).fill(-1);
  const children: number[][] = spans.map(() => []);
  const roots: number[] = [];
  for (let i = 0; i < spans.length; i++) {
    const p = spans[i]!.parentSpanId.length === 0 ? undefined : index.get(bytesToHex(spans[i]!.parentSpanId));
    if (p === undefined || p === i) roots.push(i);
    else {
      parent[i] = p;
      children[p]!.push(i);
    }
  }
  // Depth by walking down from the roots; a cycle (corrupt data) leaves its spans at depth 0.
  const depth = new Array<number>(spans.length).fill(0);
  const stack = roots.map((r) => [r, 1] as [number, number]);
  while (stack.length > 0) {
    const [i, d] = stack.pop()!;
    depth[i] = d;
    for (const c of children[i]!) stack.push([c, d + 1]);
  }
  return { roots, children, parent, depth };
}

/** Duration in nanoseconds (0 when end precedes start, which real data sometimes has). */
export function spanDurationNanos(span: Span): bigint {
  const d = span.endTimeUnixNano - span.startTimeUnixNano;
  return d > 0n ? d : 0n;
}
