// Root-cause localisation on trace data, to check that a reduction keeps what RCA needs: a
// TraceRCA-style and a MicroRank-style service ranking per fault window, scored against the fault
// labels with AC@k and Avg@5 (RCAEval's definitions) beside random chance. The same code runs on the
// full and on the reduced data, so "no worse on reduced data" is measured, not assumed.
//
// Definitions (docs/evaluation.md repeats them with the reasons):
// - A fault case is (root-cause service, window [start, end)). A span belongs to every window that
//   contains its start time. Spans outside every window form the baseline: per operation (service +
//   span name) a running mean and standard deviation (Welford), so memory is bounded by the number of
//   operations, plus the spans inside fault windows (bounded by `maxSpans`).
// - Spread σ' = max(σ, 1% of μ): generated or quantised latencies can have σ ≈ 0, and a 0.1% slower
//   span is no outlier. An operation with fewer than 2 baseline spans has no latency threshold.
// - TraceRCA-style: a span is abnormal if it has status ERROR or duration ≥ μ + 3σ'. A trace is
//   abnormal if any span is. For a service s over the window's traces: support = P(s ∈ trace |
//   abnormal), confidence = P(abnormal | s ∈ trace), JI = 1 / (1/support + 1/confidence − 1). An
//   abnormal invocation into s is a cross-service parent→child edge into s whose child span is
//   abnormal, or whose parent is an abnormal CLIENT span (the caller's view of the call: network
//   delay shows there). In-set score IS = |traces where s receives an abnormal invocation − traces
//   where s makes one| / abnormal traces (a root span counts as received). score = JI × (IS + 0.01):
//   IS separates the culprit from its callers, the 0.01 keeps JI's order among services with IS = 0.
// - MicroRank-style: a trace is anomalous if it has a span with status ERROR, or its root span is
//   slower than μ + 1.5σ' of its root operation. Two graphs (anomalous, normal traces), nodes =
//   operations + traces; column j of A is node j's out-edges: operation → callee operations
//   (weight ω / call out-degree, ω = 0.01), operation → traces covering it (1 / their number), trace →
//   its operations (1 / their number). v ← d·A·v + (1 − d)·u, d = 0.85, 25 iterations; u on traces
//   only: anomalous trace i: φ·(1/n_i)/Σ(1/n_j) + (1 − φ)·(1/k_i)/Σ(1/k_j) (n_i = its operations,
//   k_i = traces of its kind, kind = its set of operations, φ = 0.5); normal: (1/k_i)/Σ(1/k_j).
//   Spectrum: ef = F·N_ef, nf = F·(N_f − N_ef), ep = P·N_ep, F/P the operation's anomalous/normal
//   PageRank (1e-4 when absent), N_ef/N_ep the anomalous/normal traces covering it; Ochiai
//   ef / √((ef + ep)(ef + nf)) by default (the paper's default and best; on generated traffic it
//   placed latency faults where DStar2 did not), DStar2 ef² / (ep + nf) as an option (MicroRank's
//   code and RCAEval's port). A service's score is its best operation's.
// - Ranking and ties: services by score, descending. hit@k of a case is the probability that the true
//   service is in the top k when equal scores are ordered at random: with g services scored higher
//   and e scored equal (itself included), clamp((k − g) / e, 0, 1); 0 when the service is not in
//   the data. So a method that cannot tell services apart scores chance, never a lucky name order.
// - AC@k = mean hit@k over cases; Avg@5 = mean of AC@1..AC@5 (RCAEval). Chance@k = mean over cases of
//   min(k, n)/n, n = services seen in the case's window (0 when none).
// - Reduced data: a re-parented span hangs under its nearest kept ancestor, which is what a call
//   edge then means. A kept span's dropped-span summary (`slimtrace.sampling.dropped`) puts each
//   summarized operation back into the trace: its service counts as present, its count goes to
//   the operation's coverage, its largest duration is tested against the threshold, and a
//   summarized operation of another service is an invocation from the kept span's service (below an
//   abnormal CLIENT span, the first such entry, its direct callee, receives an abnormal one). The
//   baseline takes a summary entry as its min, its max, and count − 2 spans at the mean of the rest.
import { bytesToHex, serviceName, SpanKind, StatusCode, getAttribute, InputError, type KeyValue, type TracesData } from '../model/index.js';
import { parseDroppedSummary, SAMPLING_ATTR } from '../sampling/index.js';

/** One fault: the service that was made faulty and the window in which its effect is looked for. */
export interface RcaFault {
  id: string;
  service: string;
  type: string;
  startTimeUnixNano: bigint;
  /** Exclusive. */
  endTimeUnixNano: bigint;
}

/** The generator's ground truth (ResolvedFault) as fault cases. */
export function rcaFaultsFromGenerator(faults: readonly { id: string; type: string; service: string; startTimeUnixNano: bigint; endTimeUnixNano: bigint }[]): RcaFault[] {
  return faults.map((f) => ({ id: f.id, service: f.service, type: f.type, startTimeUnixNano: f.startTimeUnixNano, endTimeUnixNano: f.endTimeUnixNano }));
}

/** A dataset's fault labels (datasets' Fault: inject time + 180 s, the pod's service) as fault cases. */
export function rcaFaultsFromDataset(faults: readonly { id: string; type: string; injectService: string; injectTimeNs: bigint; windowEndNs: bigint }[]): RcaFault[] {
  return faults.map((f) => ({ id: f.id, service: f.injectService, type: f.type, startTimeUnixNano: f.injectTimeNs, endTimeUnixNano: f.windowEndNs }));
}

export const RCA_METHODS = ['traceRca', 'microRank'] as const;
export type RcaMethod = (typeof RCA_METHODS)[number];

/** AC@1..AC@5 and their mean. */
export interface RcaScore {
  /** ac[k-1] = AC@k, k = 1..5. */
  ac: number[];
  /** Mean of AC@1..AC@5. */
  avg5: number;
}

export interface RcaCase {
  fault: string;
  type: string;
  service: string;
  /** Services seen in the window (the candidates). */
  candidates: number;
  traces: number;
  spans: number;
  /** Traces each method judged abnormal / anomalous. */
  abnormalTraces: Record<RcaMethod, number>;
  /** The first five services of each ranking (ties in name order, for reading only). */
  top: Record<RcaMethod, string[]>;
  /** hit@1..hit@5 per method (see the tie rule above). */
  hits: Record<RcaMethod, number[]>;
  /** chance@1..chance@5 = min(k, candidates) / candidates. */
  chance: number[];
}

export interface RcaResult {
  /** Number of fault cases scored; 0 means there was nothing to score (all figures are then 0). */
  faults: number;
  methods: Record<RcaMethod, RcaScore>;
  chance: RcaScore;
  cases: RcaCase[];
  /** Spans seen in fault windows, and in the baseline. */
  windowSpans: number;
  baselineSpans: number;
}

/** MicroRank's spectrum formula: Ochiai (the paper's default and best) or DStar2 (its code's and RCAEval's port's). */
export type RcaSpectrum = 'ochiai' | 'dstar2';

export interface RcaOptions {
  /** Spans held for the fault windows (a span in two windows counts twice). Default DEFAULT_MAX_RCA_SPANS. */
  maxSpans?: number;
  /** Default 'ochiai'. */
  spectrum?: RcaSpectrum;
}

/**
 * About 300 bytes of heap per held span (measured on generated traffic), so about 1.2 GB at the
 * bound: 12 times the largest window set here (nezha-trainticket, 329,080 spans in its 45 windows).
 */
export const DEFAULT_MAX_RCA_SPANS = 4_000_000;

/** More spans fall in fault windows than the collector may hold. */
export class RcaLimitError extends InputError {
  override name = 'RcaLimitError';
}

const K = 5;
const SIGMA_FLOOR = 0.01;
const TRACERCA_SIGMAS = 3;
const MICRORANK_SIGMAS = 1.5;
const IS_EPSILON = 0.01;
const PR_DAMPING = 0.85;
const PR_OMEGA = 0.01;
const PR_ITERATIONS = 25;
const PR_PHI = 0.5;
const PR_ABSENT = 1e-4;

/** Running mean and variance of one operation's durations (ns). */
class OpStats {
  n = 0;
  mean = 0;
  m2 = 0;
  add(x: number, count = 1): void {
    for (let i = 0; i < count; i++) {
      this.n++;
      const d = x - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (x - this.mean);
    }
  }
  /** μ + k·σ', or Infinity with fewer than 2 spans. */
  threshold(k: number): number {
    if (this.n < 2) return Infinity;
    const sd = Math.sqrt(this.m2 / (this.n - 1));
    return this.mean + k * Math.max(sd, SIGMA_FLOOR * this.mean);
  }
}

/** A summarized dropped operation below a kept span. */
interface SummaryOp {
  op: string;
  service: string;
  count: number;
  /** Durations in ns (from the summary's microseconds). */
  sum: number;
  min: number;
  max: number;
  /** A per-service total (name `*`): spans of several operations, so presence and calls only, no latency test. */
  total: boolean;
}

/** What RCA keeps of one span in a fault window. */
export interface RcaSpan {
  id: string;
  parent: string;
  service: string;
  /** service + '\u0000' + span name. */
  op: string;
  duration: number;
  error: boolean;
  client: boolean;
  summary?: SummaryOp[];
}

/**
 * Operation keys (service + NUL + span name), one string per operation however many spans share
 * it: the window records hold hundreds of thousands of them.
 */
class OperationKeys {
  private readonly byService = new Map<string, Map<string, string>>();
  key(service: string, name: string): string {
    let names = this.byService.get(service);
    if (!names) this.byService.set(service, (names = new Map()));
    let k = names.get(name);
    if (k === undefined) names.set(name, (k = service + '\u0000' + name));
    return k;
  }
}

function summaryOf(attrs: KeyValue[], service: string, ops: OperationKeys): SummaryOp[] | undefined {
  const text = getAttribute(attrs, SAMPLING_ATTR.DROPPED);
  if (typeof text !== 'string') return undefined;
  try {
    return parseDroppedSummary(text, service).map((d) => ({ op: ops.key(d.service, d.name), service: d.service, count: d.count, sum: d.sum, min: d.min, max: d.max, total: d.name === '*' }));
  } catch {
    return undefined; // a malformed summary is ignored: it only adds what was dropped
  }
}

/**
 * Collects what the rankings need from a stream of batches (full or reduced data), then ranks every
 * fault window. Feed it with `add`, read with `result`.
 */
export class RcaCollector {
  private readonly faults: RcaFault[];
  private readonly startMs: number[];
  private readonly endMs: number[];
  private readonly baseline = new Map<string, OpStats>();
  private readonly ops = new OperationKeys();
  /** window index -> trace id hex -> spans. */
  private readonly windows: Map<string, RcaSpan[]>[];
  private readonly maxSpans: number;
  private readonly spectrum: RcaSpectrum;
  private windowSpans = 0;
  private baselineSpans = 0;

  constructor(faults: readonly RcaFault[], options: RcaOptions = {}) {
    this.faults = [...faults];
    this.startMs = this.faults.map((f) => Number(f.startTimeUnixNano) / 1e6);
    this.endMs = this.faults.map((f) => Number(f.endTimeUnixNano) / 1e6);
    this.windows = this.faults.map(() => new Map());
    this.maxSpans = options.maxSpans ?? DEFAULT_MAX_RCA_SPANS;
    this.spectrum = options.spectrum ?? 'ochiai';
  }

  add(data: TracesData): void {
    for (const rs of data.resourceSpans) {
      const service = serviceName(rs.resource);
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const t = Number(span.startTimeUnixNano) / 1e6;
          const duration = Math.max(0, Number(span.endTimeUnixNano - span.startTimeUnixNano));
          const op = this.ops.key(service, span.name);
          const summary = span.attributes.length > 0 ? summaryOf(span.attributes, service, this.ops) : undefined;
          let inWindow = false;
          for (let w = 0; w < this.faults.length; w++) {
            if (t < this.startMs[w]! || t >= this.endMs[w]!) continue;
            if (!inWindow) inWindow = true;
            if (++this.windowSpans > this.maxSpans) {
              throw new RcaLimitError(`more than ${this.maxSpans} spans fall in fault windows; RCA holds them until the end (raise maxSpans or score fewer faults)`);
            }
            const trace = bytesToHex(span.traceId);
            const rec: RcaSpan = {
              id: bytesToHex(span.spanId),
              parent: bytesToHex(span.parentSpanId),
              service,
              op,
              duration,
              error: span.status?.code === StatusCode.ERROR,
              client: span.kind === SpanKind.CLIENT,
            };
            if (summary) rec.summary = summary;
            const traces = this.windows[w]!;
            const list = traces.get(trace);
            if (list) list.push(rec);
            else traces.set(trace, [rec]);
          }
          if (inWindow) continue;
          this.baselineSpans++;
          this.stats(op).add(duration);
          if (summary) {
            for (const s of summary) {
              if (s.total) continue; // a service's spans of every operation: no one latency to learn
              const st = this.stats(s.op);
              if (s.count === 1) st.add(s.max);
              else {
                st.add(s.min);
                st.add(s.max);
                if (s.count > 2) st.add((s.sum - s.min - s.max) / (s.count - 2), s.count - 2);
              }
            }
          }
        }
      }
    }
  }

  private stats(op: string): OpStats {
    let s = this.baseline.get(op);
    if (!s) this.baseline.set(op, (s = new OpStats()));
    return s;
  }

  private threshold(op: string, k: number): number {
    return this.baseline.get(op)?.threshold(k) ?? Infinity;
  }

  /** Ranks every fault window and scores the rankings. */
  result(): RcaResult {
    const cases = this.faults.map((f, w) => this.rankCase(f, this.windows[w]!));
    return { ...scoreCases(cases), windowSpans: this.windowSpans, baselineSpans: this.baselineSpans };
  }

  private rankCase(fault: RcaFault, traces: Map<string, RcaSpan[]>): RcaCase {
    const services = new Set<string>();
    let spans = 0;
    for (const list of traces.values()) {
      spans += list.length;
      for (const s of list) {
        services.add(s.service);
        if (s.summary) for (const d of s.summary) services.add(d.service);
      }
    }
    const tr = traceRcaScores(traces, (op) => this.threshold(op, TRACERCA_SIGMAS));
    const mr = microRankScores(traces, (op) => this.threshold(op, MICRORANK_SIGMAS), this.spectrum);
    const n = services.size;
    return {
      fault: fault.id,
      type: fault.type,
      service: fault.service,
      candidates: n,
      traces: traces.size,
      spans,
      abnormalTraces: { traceRca: tr.abnormal, microRank: mr.abnormal },
      top: { traceRca: topServices(tr.scores, services), microRank: topServices(mr.scores, services) },
      hits: { traceRca: hitsAt(tr.scores, services, fault.service), microRank: hitsAt(mr.scores, services, fault.service) },
      chance: Array.from({ length: K }, (_, i) => (n === 0 ? 0 : Math.min(i + 1, n) / n)),
    };
  }
}

/** The score of every candidate service (0 for one the method did not score). */
function scoreOf(scores: ReadonlyMap<string, number>, service: string): number {
  const s = scores.get(service) ?? 0;
  if (Number.isNaN(s)) return 0;
  return s === Infinity ? Number.MAX_VALUE : s;
}

function topServices(scores: ReadonlyMap<string, number>, services: ReadonlySet<string>): string[] {
  return [...services]
    .map((s) => [s, scoreOf(scores, s)] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, K)
    .map(([s]) => s);
}

/** hit@1..hit@5 with ties ordered at random (see the file comment). */
export function hitsAt(scores: ReadonlyMap<string, number>, services: ReadonlySet<string>, truth: string): number[] {
  if (!services.has(truth)) return new Array<number>(K).fill(0);
  const mine = scoreOf(scores, truth);
  let higher = 0;
  let equal = 0;
  for (const s of services) {
    const x = scoreOf(scores, s);
    if (x > mine) higher++;
    else if (x === mine) equal++;
  }
  return Array.from({ length: K }, (_, i) => Math.min(1, Math.max(0, (i + 1 - higher) / equal)));
}

/** AC@k, Avg@5 and chance over the cases. No case gives zeros with `faults: 0`, never NaN. */
export function scoreCases(cases: readonly RcaCase[]): Pick<RcaResult, 'faults' | 'methods' | 'chance' | 'cases'> {
  const mean = (pick: (c: RcaCase) => number[]): RcaScore => {
    const ac = Array.from({ length: K }, (_, i) => (cases.length === 0 ? 0 : cases.reduce((sum, c) => sum + pick(c)[i]!, 0) / cases.length));
    return { ac, avg5: ac.reduce((a, b) => a + b, 0) / K };
  };
  return {
    faults: cases.length,
    methods: { traceRca: mean((c) => c.hits.traceRca), microRank: mean((c) => c.hits.microRank) },
    chance: mean((c) => c.chance),
    cases: [...cases],
  };
}

/** The summarized operations of a span with their service, or none. */
const NO_SUMMARY: readonly SummaryOp[] = [];

/** TraceRCA-style service scores over one window's traces (see the file comment). */
export function traceRcaScores(traces: ReadonlyMap<string, readonly RcaSpan[]>, threshold: (op: string) => number): { scores: Map<string, number>; abnormal: number } {
  const inTraces = new Map<string, number>();
  const inAbnormal = new Map<string, number>();
  const received = new Map<string, number>();
  const made = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  let abnormalTraces = 0;
  for (const list of traces.values()) {
    const byId = new Map<string, RcaSpan>();
    for (const s of list) byId.set(s.id, s);
    const present = new Set<string>();
    const recv = new Set<string>();
    const out = new Set<string>();
    let abnormal = false;
    const bad = (s: RcaSpan): boolean => s.error || s.duration >= threshold(s.op);
    for (const s of list) {
      present.add(s.service);
      const sBad = bad(s);
      if (sBad) abnormal = true;
      const p = byId.get(s.parent);
      if (!p) {
        if (sBad) recv.add(s.service);
      } else if (p.service !== s.service && (sBad || (p.client && bad(p)))) {
        recv.add(s.service);
        out.add(p.service);
      }
      // Summary entries come in execution order, so the first of another service is the direct
      // callee: the one an abnormal CLIENT span's slowness is charged to, as for a kept child.
      let callee = true;
      for (const d of s.summary ?? NO_SUMMARY) {
        present.add(d.service);
        const dBad = !d.total && d.max >= threshold(d.op);
        if (dBad) abnormal = true;
        if (d.service === s.service) continue;
        if (dBad || (callee && s.client && sBad)) {
          recv.add(d.service);
          out.add(s.service);
        }
        callee = false;
      }
    }
    for (const svc of present) bump(inTraces, svc);
    if (!abnormal) continue;
    abnormalTraces++;
    for (const svc of present) bump(inAbnormal, svc);
    for (const svc of recv) bump(received, svc);
    for (const svc of out) bump(made, svc);
  }
  const scores = new Map<string, number>();
  for (const [svc, total] of inTraces) {
    const a = inAbnormal.get(svc) ?? 0;
    if (a === 0) {
      scores.set(svc, 0);
      continue;
    }
    const support = a / abnormalTraces;
    const confidence = a / total;
    const ji = 1 / (1 / support + 1 / confidence - 1);
    const is = Math.abs((received.get(svc) ?? 0) - (made.get(svc) ?? 0)) / abnormalTraces;
    scores.set(svc, ji * (is + IS_EPSILON));
  }
  return { scores, abnormal: abnormalTraces };
}

interface TraceShape {
  /** operation -> how many times it ran (kept + summarized). */
  ops: Map<string, number>;
  /** caller operation -> callee operations. */
  calls: Map<string, Set<string>>;
  anomalous: boolean;
}

function shapeOf(list: readonly RcaSpan[], rootThreshold: (op: string) => number): TraceShape {
  const ops = new Map<string, number>();
  const calls = new Map<string, Set<string>>();
  const byId = new Map<string, RcaSpan>();
  for (const s of list) byId.set(s.id, s);
  const call = (from: string, to: string): void => {
    let set = calls.get(from);
    if (!set) calls.set(from, (set = new Set()));
    set.add(to);
  };
  let error = false;
  let root: RcaSpan | undefined;
  for (const s of list) {
    ops.set(s.op, (ops.get(s.op) ?? 0) + 1);
    if (s.error) error = true;
    const p = byId.get(s.parent);
    if (p) call(p.op, s.op);
    // The root: a span without a parent here, preferring a true root (empty parent id), then the longest.
    else if (!root || (s.parent === '' && root.parent !== '') || ((s.parent === '') === (root.parent === '') && s.duration > root.duration)) root = s;
    for (const d of s.summary ?? NO_SUMMARY) {
      ops.set(d.op, (ops.get(d.op) ?? 0) + d.count);
      call(s.op, d.op);
    }
  }
  const anomalous = error || (root !== undefined && root.duration > rootThreshold(root.op));
  return { ops, calls, anomalous };
}

/** Personalized PageRank over operations + traces; returns the operations' scores. */
function pageRank(shapes: readonly TraceShape[], personalization: readonly number[]): Map<string, number> {
  const opIndex = new Map<string, number>();
  for (const t of shapes) for (const op of t.ops.keys()) if (!opIndex.has(op)) opIndex.set(op, opIndex.size);
  const nOps = opIndex.size;
  const n = nOps + shapes.length;
  if (n === 0) return new Map();
  const tracesOf: number[][] = Array.from({ length: nOps }, () => []);
  const calleesOf: number[][] = Array.from({ length: nOps }, () => []);
  const opsOf: number[][] = shapes.map(() => []);
  shapes.forEach((t, ti) => {
    for (const op of t.ops.keys()) {
      const o = opIndex.get(op)!;
      tracesOf[o]!.push(nOps + ti);
      opsOf[ti]!.push(o);
    }
  });
  const seen = new Set<string>();
  for (const t of shapes) {
    for (const [from, tos] of t.calls) {
      for (const to of tos) {
        const key = from + '\u0001' + to;
        if (seen.has(key)) continue;
        seen.add(key);
        calleesOf[opIndex.get(from)!]!.push(opIndex.get(to)!);
      }
    }
  }
  const u = new Float64Array(n);
  shapes.forEach((_, ti) => (u[nOps + ti] = personalization[ti]!));
  let v = new Float64Array(n).fill(1 / n);
  for (let it = 0; it < PR_ITERATIONS; it++) {
    const next = new Float64Array(n);
    for (let o = 0; o < nOps; o++) {
      const x = v[o]!;
      if (x === 0) continue;
      const callees = calleesOf[o]!;
      for (const c of callees) next[c]! += (PR_OMEGA * x) / callees.length;
      const ts = tracesOf[o]!;
      for (const t of ts) next[t]! += x / ts.length;
    }
    for (let ti = 0; ti < shapes.length; ti++) {
      const x = v[nOps + ti]!;
      const os = opsOf[ti]!;
      for (const o of os) next[o]! += x / os.length;
    }
    for (let i = 0; i < n; i++) next[i] = PR_DAMPING * next[i]! + (1 - PR_DAMPING) * u[i]!;
    v = next;
  }
  const out = new Map<string, number>();
  for (const [op, o] of opIndex) out.set(op, v[o]!);
  return out;
}

function kindKey(t: TraceShape): string {
  return [...t.ops.keys()].sort().join('\u0001');
}

function personalize(shapes: readonly TraceShape[], anomalous: boolean): number[] {
  const kinds = new Map<string, number>();
  const keys = shapes.map(kindKey);
  for (const k of keys) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  const invK = keys.map((k) => 1 / kinds.get(k)!);
  const sumK = invK.reduce((a, b) => a + b, 0);
  if (!anomalous) return invK.map((x) => x / sumK);
  const invN = shapes.map((t) => 1 / Math.max(1, t.ops.size));
  const sumN = invN.reduce((a, b) => a + b, 0);
  return shapes.map((_, i) => PR_PHI * (invN[i]! / sumN) + (1 - PR_PHI) * (invK[i]! / sumK));
}

/** MicroRank-style service scores over one window's traces (see the file comment). */
export function microRankScores(
  traces: ReadonlyMap<string, readonly RcaSpan[]>,
  threshold: (op: string) => number,
  spectrum: RcaSpectrum = 'ochiai',
): { scores: Map<string, number>; abnormal: number } {
  const shapes = [...traces.values()].map((list) => shapeOf(list, threshold));
  const bad = shapes.filter((t) => t.anomalous);
  const good = shapes.filter((t) => !t.anomalous);
  const scores = new Map<string, number>();
  const serviceOfOp = (op: string): string => op.slice(0, op.indexOf('\u0000'));
  for (const t of shapes) for (const op of t.ops.keys()) scores.set(serviceOfOp(op), 0);
  if (bad.length === 0) return { scores, abnormal: 0 };
  const F = pageRank(bad, personalize(bad, true));
  const P = pageRank(good, personalize(good, false));
  const cover = (set: readonly TraceShape[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const t of set) for (const op of t.ops.keys()) m.set(op, (m.get(op) ?? 0) + 1);
    return m;
  };
  const nEf = cover(bad);
  const nEp = cover(good);
  const nF = bad.length;
  for (const [op, ef0] of nEf) {
    const f = F.get(op) ?? PR_ABSENT;
    const p = P.get(op) ?? PR_ABSENT;
    const ef = f * ef0;
    const nf = f * (nF - ef0);
    const ep = p * (nEp.get(op) ?? 0);
    const score = spectrum === 'ochiai' ? ef / Math.sqrt(Math.max((ef + ep) * (ef + nf), 1e-300)) : (ef * ef) / Math.max(ep + nf, 1e-300);
    const svc = serviceOfOp(op);
    if (score > (scores.get(svc) ?? 0)) scores.set(svc, score);
  }
  return { scores, abnormal: nF };
}

/** Everything in one call: the data as batches, the faults, the result. */
export function rankFaults(batches: Iterable<TracesData>, faults: readonly RcaFault[], options?: RcaOptions): RcaResult {
  const c = new RcaCollector(faults, options);
  for (const b of batches) c.add(b);
  return c.result();
}
