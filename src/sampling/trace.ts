// The sampler's view of one assembled trace: its spans with their envelope, the span tree, each
// span's service, OTLP size and duration, and the depth-first execution order the strategies walk.
// Built once per trace and shared by every strategy, so the per-span work (ids to keys, sizes,
// durations) is done once. Hot path: typed arrays instead of per-span objects where it matters.
import { ATTR, bytesToHex, serviceName, type LocatedSpan, type ResourceSpans, type Span } from '../model/index.js';
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
  /** spanKey of each span's id (made on first read: nothing on the sampling path reads it). */
  readonly keys: string[];
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

/**
 * Span ids to span indexes while a trace is assembled, reused from trace to trace (assembly is not
 * re-entrant): open addressing over the 8-byte ids, slot -> span index + 1 (0: empty). Keying a Map
 * by spanKey strings made two strings per span and hashed each, half of assembly's time.
 */
let idSlots = new Int32Array(256);

/** A hash of the 8-byte id at `id` (its two 32-bit words mixed). */
function idHash(id: Uint8Array): number {
  const a = (id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!;
  const b = (id[4]! << 24) | (id[5]! << 16) | (id[6]! << 8) | id[7]!;
  const h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
}

function sameId8(a: Uint8Array, b: Uint8Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] && a[4] === b[4] && a[5] === b[5] && a[6] === b[6] && a[7] === b[7];
}

/**
 * Fills firstCopy and parent when every span id has 8 bytes (OTLP's size; anything else goes by
 * spanKey, indexIdsByKey). A parent id of another length matches no span, as its spanKey would not.
 */
function indexIds8(spans: readonly LocatedSpan[], firstCopy: Int32Array, parent: Int32Array): void {
  const n = spans.length;
  let size = 256;
  while (size < 2 * n) size *= 2;
  if (idSlots.length < size) idSlots = new Int32Array(size);
  const slots = idSlots;
  slots.fill(0, 0, size);
  const mask = size - 1;
  for (let i = 0; i < n; i++) {
    const id = spans[i]!.span.spanId;
    for (let h = idHash(id) & mask; ; h = (h + 1) & mask) {
      const e = slots[h]!;
      if (e === 0) {
        slots[h] = i + 1;
        break;
      }
      if (sameId8(spans[e - 1]!.span.spanId, id)) {
        firstCopy[i] = e - 1;
        break;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const p = spans[i]!.span.parentSpanId;
    if (p.length !== 8) continue;
    for (let h = idHash(p) & mask; ; h = (h + 1) & mask) {
      const e = slots[h]!;
      if (e === 0) break;
      if (sameId8(spans[e - 1]!.span.spanId, p)) {
        if (e - 1 !== i) parent[i] = e - 1;
        break;
      }
    }
  }
}

/** indexIds8 for ids of any length, by spanKey. */
function indexIdsByKey(spans: readonly LocatedSpan[], firstCopy: Int32Array, parent: Int32Array): void {
  const n = spans.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = spanKey(spans[i]!.span.spanId);
    const first = index.get(k);
    if (first === undefined) index.set(k, i);
    else firstCopy[i] = first;
  }
  for (let i = 0; i < n; i++) {
    const p = spans[i]!.span.parentSpanId;
    if (p.length === 0) continue;
    const j = index.get(spanKey(p));
    if (j !== undefined && j !== i) parent[i] = j;
  }
}

/** Builds the sampler's view of a trace from its spans (any order; duplicates of a span id keep the first as parent target). */
export function assembleTrace(traceIdHex: string, spans: LocatedSpan[]): SampledTrace {
  const n = spans.length;
  // The per-span arrays share one buffer past 8 spans: typed arrays past 64 bytes each cost V8 an
  // off-heap allocation (half a microsecond, and a sweep at every collection); views of one buffer
  // cost a tenth. Up to 8 spans every array fits in 64 bytes, inside the heap, cheaper still.
  const memory = n > 8 ? new ArrayBuffer(28 * n) : undefined;
  const size = memory ? new Float64Array(memory, 0, n) : new Float64Array(n);
  const duration = memory ? new Float64Array(memory, 8 * n, n) : new Float64Array(n);
  const parent = (memory ? new Int32Array(memory, 16 * n, n) : new Int32Array(n)).fill(-1);
  const firstCopy = (memory ? new Int32Array(memory, 20 * n, n) : new Int32Array(n)).fill(-1);
  const order = memory ? new Int32Array(memory, 24 * n, n) : new Int32Array(n);
  let all8 = true;
  for (let i = 0; i < n && all8; i++) all8 = spans[i]!.span.spanId.length === 8;
  if (all8) indexIds8(spans, firstCopy, parent);
  else indexIdsByKey(spans, firstCopy, parent);
  const children: number[][] = new Array(n);
  const service: string[] = new Array(n);
  // A trace's spans arrive grouped by resource: the previous span's service is usually this one's
  // (serviceName is a pure scan of the resource's attributes; a Map per trace was garbage).
  let lastRs: ResourceSpans | undefined;
  let svc = '';
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const located = spans[i]!;
    const span = located.span;
    if (located.resourceSpans !== lastRs) {
      lastRs = located.resourceSpans;
      svc = serviceName(located.resource);
    }
    service[i] = svc;
    size[i] = encodedSpanSize(span);
    bytes += size[i]!;
    duration[i] = durationOf(span);
  }
  // A cycle (corrupt data) would make every span of it someone's child: break it at its earliest span.
  breakCycles(parent, spans);
  // Each list at its exact length, counted first: pushing onto [] grew a backing store of 17 slots
  // at the first child, for every span with children.
  if (treeScratch.length < n) treeScratch = new Int32Array(Math.max(n, 2 * treeScratch.length));
  const count = treeScratch;
  count.fill(0, 0, n);
  let rootCount = 0;
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p < 0) rootCount++;
    else count[p]++;
  }
  for (let i = 0; i < n; i++) {
    children[i] = count[i] === 0 ? [] : new Array<number>(count[i]!);
    count[i] = 0;
  }
  const roots = new Array<number>(rootCount);
  rootCount = 0;
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p < 0) roots[rootCount++] = i;
    else children[p]![count[p]!++] = i;
  }
  // The true root (no parent id) comes first, then orphans whose parent is missing, each by start.
  sortByStart(roots, spans, true);
  for (const c of children) if (c.length > 1) sortByStart(c, spans, false);
  // Depth first from the roots; the stack holds each span once at most (count's memory again).
  const stack = treeScratch;
  let top = 0;
  let k = 0;
  for (let r = roots.length - 1; r >= 0; r--) stack[top++] = roots[r]!;
  while (top > 0) {
    const i = stack[--top]!;
    order[k++] = i;
    const c = children[i]!;
    for (let j = c.length - 1; j >= 0; j--) stack[top++] = c[j]!;
  }
  return new AssembledTrace(traceIdHex, spans, service, parent, children, roots, order, size, duration, bytes, firstCopy);
}

/**
 * What assembleTrace returns: a class so `keys` is a getter on the prototype, made when first read
 * (the sampler itself no longer keys spans by string); an object literal with a getter is built by
 * a slow path of V8, once per trace.
 */
class AssembledTrace implements SampledTrace {
  private keyCache: string[] | undefined = undefined;

  constructor(
    public traceIdHex: string,
    public spans: LocatedSpan[],
    public service: string[],
    public parent: Int32Array,
    public children: number[][],
    public roots: number[],
    public order: Int32Array,
    public size: Float64Array,
    public duration: Float64Array,
    public bytes: number,
    public firstCopy: Int32Array,
  ) {}

  get keys(): string[] {
    return (this.keyCache ??= this.spans.map((s) => spanKey(s.span.spanId)));
  }
}

/**
 * The order of a trace's children and roots: by start time, ties by index; with `rootsFirst`, spans
 * without a parent id before the others. A total order, so there is one sorted result.
 */
function startOrder(a: number, b: number, spans: readonly LocatedSpan[], rootsFirst: boolean): number {
  const x = spans[a]!.span;
  const y = spans[b]!.span;
  if (rootsFirst) {
    const d = (x.parentSpanId.length === 0 ? 0 : 1) - (y.parentSpanId.length === 0 ? 0 : 1);
    if (d !== 0) return d;
  }
  return x.startTimeUnixNano < y.startTimeUnixNano ? -1 : x.startTimeUnixNano > y.startTimeUnixNano ? 1 : a - b;
}

/**
 * Sorts in place by startOrder, by insertion: the lists sorted per trace (a span's children, the
 * roots) are short, and Array.prototype.sort allocates a work copy of each (and a comparator closure
 * per trace). A total order has one sorted result, so it is the one the built-in sort gave.
 */
function sortByStart(list: number[], spans: readonly LocatedSpan[], rootsFirst: boolean): void {
  if (list.length > 32) {
    list.sort((a, b) => startOrder(a, b, spans, rootsFirst));
    return;
  }
  for (let k = 1; k < list.length; k++) {
    const v = list[k]!;
    let j = k;
    for (; j > 0 && startOrder(list[j - 1]!, v, spans, rootsFirst) > 0; j--) list[j] = list[j - 1]!;
    list[j] = v;
  }
}

/** assembleTrace's counts of children, then its depth-first stack: reused from trace to trace. */
let treeScratch = new Int32Array(64);

/** breakCycles' working arrays, reused from trace to trace (two typed arrays per trace were garbage). */
let cycleState = new Uint8Array(64);
let cyclePath = new Int32Array(64);

function breakCycles(parent: Int32Array, spans: readonly LocatedSpan[]): void {
  const n = parent.length;
  if (cycleState.length < n) {
    cycleState = new Uint8Array(Math.max(n, 2 * cycleState.length));
    cyclePath = new Int32Array(cycleState.length);
  }
  const state = cycleState; // 0 unseen, 1 on the current walk, 2 done
  state.fill(0, 0, n);
  // The current walk, path[0..length): one buffer for every walk (an array per span was garbage).
  const path = cyclePath;
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
