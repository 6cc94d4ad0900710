// The sampler's view of one assembled trace: its spans with their envelope, the span tree, each
// span's service, OTLP size and duration, and the depth-first execution order the strategies walk.
// Built once per trace and shared by every strategy, so the per-span work (ids to keys, sizes,
// durations) is done once. Hot path: typed arrays instead of per-span objects where it matters.
import { ATTR, bytesToHex, serviceName, type LocatedSpan, type Span } from '../model/index.js';
import { encodedSpanSize } from '../otlp/index.js';

export interface SampledTrace {
  traceIdHex: string;
  spans: LocatedSpan[];
  /** service.name of each span's resource. */
  service: string[];
  /** Index of each span's parent in `spans`, or -1 for a root (no parent, or parent not in the trace). */
  parent: Int32Array;
  /** Children of each span, in start-time order. */
  children: number[][];
  /** Local roots in start-time order; `roots[0]` is the trace's root (the earliest span without a parent). */
  roots: number[];
  /** Depth-first execution order: a parent before its children, siblings by start time. */
  order: Int32Array;
  /** OTLP protobuf bytes of each span inside its ScopeSpans. */
  size: Float64Array;
  /** Duration in nanoseconds as a double (0 when end precedes start). */
  duration: Float64Array;
  /** Sum of `size`. */
  bytes: number;
  /** For a span whose id appeared earlier in the trace (a duplicate row), the index of the first copy; else -1. */
  firstCopy: Int32Array;
  /** spanKey of each span's id. */
  keys: string[];
}

/**
 * A compact map key for a span or trace id: an 8-byte (span) or 16-byte (trace) id as four or eight
 * UTF-16 code units (a quarter of its hex, no hex digits to compute: ids are keyed for every span on
 * the sampling hot path), any other length as '#' and its hex (odd length), so keys of different
 * lengths never collide.
 */
export function spanKey(id: Uint8Array): string {
  if (id.length === 8) return String.fromCharCode((id[0]! << 8) | id[1]!, (id[2]! << 8) | id[3]!, (id[4]! << 8) | id[5]!, (id[6]! << 8) | id[7]!);
  if (id.length === 16)
    return String.fromCharCode(
      (id[0]! << 8) | id[1]!,
      (id[2]! << 8) | id[3]!,
      (id[4]! << 8) | id[5]!,
      (id[6]! << 8) | id[7]!,
      (id[8]! << 8) | id[9]!,
      (id[10]! << 8) | id[11]!,
      (id[12]! << 8) | id[13]!,
      (id[14]! << 8) | id[15]!,
    );
  return '#' + bytesToHex(id);
}

/** A span has an error: status ERROR, an `exception` event, or a log event of severity ERROR/FATAL. */
export function spanHasError(span: Span): boolean {
  if (span.status?.code === 2) return true;
  for (const e of span.events) {
    if (e.name === 'exception') return true;
    for (const a of e.attributes) {
      if (a.key === ATTR.LOG_SEVERITY_TEXT && typeof a.value === 'string') {
        const s = a.value.toUpperCase();
        if (s === 'ERROR' || s === 'FATAL' || s === 'SEVERE' || s === 'CRITICAL') return true;
      }
    }
  }
  return false;
}

function durationOf(span: Span): number {
  const d = span.endTimeUnixNano - span.startTimeUnixNano;
  return d > 0n ? Number(d) : 0;
}

/** Builds the sampler's view of a trace from its spans (any order; duplicates of a span id keep the first as parent target). */
export function assembleTrace(traceIdHex: string, spans: LocatedSpan[]): SampledTrace {
  const n = spans.length;
  const index = new Map<string, number>();
  const firstCopy = new Int32Array(n).fill(-1);
  const keys: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = spanKey(spans[i]!.span.spanId);
    keys[i] = k;
    const first = index.get(k);
    if (first === undefined) index.set(k, i);
    else firstCopy[i] = first;
  }
  const parent = new Int32Array(n).fill(-1);
  const children: number[][] = new Array(n);
  const service: string[] = new Array(n);
  const size = new Float64Array(n);
  const duration = new Float64Array(n);
  const serviceOf = new Map<object, string>();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    children[i] = [];
    const located = spans[i]!;
    const span = located.span;
    const rs = located.resourceSpans;
    let svc = serviceOf.get(rs);
    if (svc === undefined) serviceOf.set(rs, (svc = serviceName(located.resource)));
    service[i] = svc;
    size[i] = encodedSpanSize(span);
    bytes += size[i]!;
    duration[i] = durationOf(span);
  }
  for (let i = 0; i < n; i++) {
    const p = spans[i]!.span.parentSpanId;
    if (p.length === 0) continue;
    const j = index.get(spanKey(p));
    if (j !== undefined && j !== i) parent[i] = j;
  }
  // A cycle (corrupt data) would make every span of it someone's child: break it at its earliest span.
  breakCycles(parent, spans);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p < 0) roots.push(i);
    else children[p]!.push(i);
  }
  const byStart = (a: number, b: number): number => {
    const sa = spans[a]!.span.startTimeUnixNano;
    const sb = spans[b]!.span.startTimeUnixNano;
    return sa < sb ? -1 : sa > sb ? 1 : a - b;
  };
  // The true root (no parent id) comes first, then orphans whose parent is missing, each by start.
  sortSmall(roots, (a, b) => {
    const ra = spans[a]!.span.parentSpanId.length === 0 ? 0 : 1;
    const rb = spans[b]!.span.parentSpanId.length === 0 ? 0 : 1;
    return ra - rb || byStart(a, b);
  });
  for (const c of children) if (c.length > 1) sortSmall(c, byStart);
  const order = new Int32Array(n);
  let k = 0;
  const stack: number[] = [];
  for (let r = roots.length - 1; r >= 0; r--) stack.push(roots[r]!);
  while (stack.length > 0) {
    const i = stack.pop()!;
    order[k++] = i;
    const c = children[i]!;
    for (let j = c.length - 1; j >= 0; j--) stack.push(c[j]!);
  }
  return { traceIdHex, spans, service, parent, children, roots, order, size, duration, bytes, firstCopy, keys };
}

/**
 * Sorts in place with a total order `cmp` (ties broken by index), by insertion: the lists sorted per
 * trace (a span's children, the roots) are short, and Array.prototype.sort allocates a work copy
 * of each. A total order has one sorted result, so it is the one the built-in sort gave.
 */
function sortSmall(list: number[], cmp: (a: number, b: number) => number): void {
  if (list.length > 32) {
    list.sort(cmp);
    return;
  }
  for (let k = 1; k < list.length; k++) {
    const v = list[k]!;
    let j = k;
    for (; j > 0 && cmp(list[j - 1]!, v) > 0; j--) list[j] = list[j - 1]!;
    list[j] = v;
  }
}

function breakCycles(parent: Int32Array, spans: readonly LocatedSpan[]): void {
  const n = parent.length;
  const state = new Uint8Array(n); // 0 unseen, 1 on the current walk, 2 done
  // The current walk, path[0..length): one buffer for every walk (an array per span was garbage).
  const path = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    if (state[s] !== 0) continue;
    let length = 0;
    let i = s;
    while (i >= 0 && state[i] === 0) {
      state[i] = 1;
      path[length++] = i;
      i = parent[i]!;
    }
    if (i >= 0 && state[i] === 1) {
      // i is on the current path: the cycle is path[path.indexOf(i)..]; cut it at its earliest span.
      const from = path.subarray(0, length).indexOf(i);
      let first = path[from]!;
      for (let k = from; k < length; k++) {
        const c = path[k]!;
        if (spans[c]!.span.startTimeUnixNano < spans[first]!.span.startTimeUnixNano) first = c;
      }
      parent[first] = -1;
    }
    for (let k = 0; k < length; k++) state[path[k]!] = 2;
  }
}

/** Groups located spans by trace id (first-seen order) and assembles each trace. */
export function assembleTraces(spans: Iterable<LocatedSpan>): SampledTrace[] {
  const byTrace = new Map<string, LocatedSpan[]>();
  for (const s of spans) {
    const id = bytesToHex(s.span.traceId);
    let list = byTrace.get(id);
    if (!list) byTrace.set(id, (list = []));
    list.push(s);
  }
  return [...byTrace].map(([id, list]) => assembleTrace(id, list));
}
