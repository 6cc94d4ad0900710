// The seed project's samplers as named strategies, so the evaluation can show what Autoscope adds
// over them at the same byte budget:
// - ImportanceSampler: a rule-based importance score per span (errors, external calls, database
//   calls, business keywords, minus high-frequency operations); the top spans by score are kept up
//   to the byte budget, the others with probability score/10 (at least 1%).
// - StructurePreservingSampler: wraps any span-level strategy and adds the ancestors of every kept
//   span, so no kept span is re-parented.
// Hot path (sample): one pass for the scores, one sort per trace.
import { ATTR, SpanKind, type Span } from '../model/index.js';
import { idUniform } from './baselines.js';
import type { SpanPatch } from './reduce.js';
import { ByteBudget, type SamplingStrategy } from './strategy.js';
import { spanHasError, type SampledTrace } from './trace.js';

/** The seed's score weights (exported so tests and docs name them, not copy them). */
export const IMPORTANCE_WEIGHTS = {
  ERROR: 10,
  EXTERNAL: 8,
  DATABASE: 7,
  BUSINESS: 6,
  HIGH_FREQUENCY: -3,
} as const;

export const DEFAULT_BUSINESS_KEYWORDS: readonly string[] = ['payment', 'order', 'checkout', 'auth', 'security'];

export interface ImportanceOptions {
  /** Default 0.8. */
  targetReduction?: number;
  /** Lower-case substrings of span names that mark business operations (default DEFAULT_BUSINESS_KEYWORDS). */
  businessKeywords?: readonly string[];
  /** An operation seen more than this many times in one trace scores HIGH_FREQUENCY (default 5). */
  highFrequency?: number;
  /** Keep probability of a span outside the top-k when its score gives less (default 0.01). */
  floor?: number;
  /** Seed of the probabilistic draws (default 0): same seed, same span ids, same decisions. */
  seed?: number;
}

const SQL_VERB = /^(SELECT|INSERT|UPDATE|DELETE)\b/i;
const ERROR_NAME = /error|exception/i;

/** Does any attribute key start with `http.` or `rpc.`? */
function hasClientAttributes(span: Span): boolean {
  for (const a of span.attributes) {
    const k = a.key;
    if (k.startsWith('http.') || k.startsWith('rpc.')) return true;
  }
  return false;
}

function hasAttribute(span: Span, key: string): boolean {
  for (const a of span.attributes) if (a.key === key) return true;
  return false;
}

/**
 * The seed's importance sampler. Score per span: +10 an error span or an error handler (name with
 * "error"/"exception"), +8 an external call (CLIENT kind, http.* or rpc.* attributes, or a name
 * starting "HTTP "), +7 a database call (db.system, a name starting with a SQL verb, or
 * "Repository" in the name), +6 a business keyword in the name, -3 when its operation occurs more
 * than `highFrequency` times in the trace. Rules add up. The spans with the highest scores are kept
 * (top-k, k as large as the trace's byte allowance allows after reserving the floor's expected bytes
 * for the other spans); each other span is kept with probability max(floor, score/10), all scaled
 * down together to fit what is left of the allowance (so the budget, not score/10, has the last
 * word). Roots are always kept (the reducer forces them).
 */
export class ImportanceSampler implements SamplingStrategy {
  readonly name = 'importance';
  readonly budget: ByteBudget;
  private readonly keywords: readonly string[];
  private readonly highFrequency: number;
  private readonly floor: number;
  private readonly seed: number;

  constructor(options: ImportanceOptions = {}) {
    this.budget = new ByteBudget({ targetReduction: options.targetReduction ?? 0.8 });
    this.keywords = (options.businessKeywords ?? DEFAULT_BUSINESS_KEYWORDS).map((k) => k.toLowerCase());
    this.highFrequency = options.highFrequency ?? 5;
    this.floor = options.floor ?? 0.01;
    this.seed = options.seed ?? 0;
  }

  recordOutcome(inputBytes: number, outputBytes: number): void {
    this.budget.record(inputBytes, outputBytes);
  }

  recordEnvelope(inputBytes: number, outputBytes: number): void {
    this.budget.recordOverhead(inputBytes, outputBytes);
  }

  /** The importance score of every span of the trace. */
  scores(trace: SampledTrace): Float64Array {
    const n = trace.spans.length;
    const score = new Float64Array(n);
    const occurrences = new Map<string, number>();
    const key: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      key[i] = trace.service[i] + '\u0000' + trace.spans[i]!.span.name;
      occurrences.set(key[i]!, (occurrences.get(key[i]!) ?? 0) + 1);
    }
    for (let i = 0; i < n; i++) {
      const span = trace.spans[i]!.span;
      const name = span.name;
      let s = 0;
      if (spanHasError(span) || ERROR_NAME.test(name)) s += IMPORTANCE_WEIGHTS.ERROR;
      if (span.kind === SpanKind.CLIENT || name.startsWith('HTTP ') || hasClientAttributes(span)) s += IMPORTANCE_WEIGHTS.EXTERNAL;
      if (hasAttribute(span, ATTR.DB_SYSTEM) || SQL_VERB.test(name) || name.includes('Repository')) s += IMPORTANCE_WEIGHTS.DATABASE;
      if (this.keywords.length > 0) {
        const lower = name.toLowerCase();
        for (const k of this.keywords)
          if (lower.includes(k)) {
            s += IMPORTANCE_WEIGHTS.BUSINESS;
            break;
          }
      }
      if (occurrences.get(key[i]!)! > this.highFrequency) s += IMPORTANCE_WEIGHTS.HIGH_FREQUENCY;
      score[i] = s;
    }
    return score;
  }

  decide(trace: SampledTrace): Uint8Array {
    const n = trace.spans.length;
    const score = this.scores(trace);
    const keep = new Uint8Array(n);
    let used = 0;
    for (const r of trace.roots) {
      keep[r] = 1;
      used += trace.size[r]!;
    }
    const allowance = this.budget.allowance(trace.bytes);
    const candidates: number[] = [];
    const p = new Float64Array(n);
    let reserve = 0; // the floor's expected bytes for every span not (yet) in the top-k
    for (let i = 0; i < n; i++) {
      if (keep[i]) continue;
      candidates.push(i);
      p[i] = Math.min(1, Math.max(this.floor, score[i]! / 10));
      reserve += this.floor * trace.size[i]!;
    }
    candidates.sort((a, b) => score[b]! - score[a]! || a - b);
    // Top-k: the highest scores, while they fit beside the floor's reserve for the others.
    let k = 0;
    for (; k < candidates.length; k++) {
      const i = candidates[k]!;
      const s = trace.size[i]!;
      if (used + s + reserve - this.floor * s > allowance) break;
      keep[i] = 1;
      used += s;
      reserve -= this.floor * s;
    }
    let expected = 0;
    for (let c = k; c < candidates.length; c++) expected += p[candidates[c]!]! * trace.size[candidates[c]!]!;
    // The rest by their probabilities, scaled down when they would overspend on their own.
    const room = allowance - used;
    const scale = expected <= 0 ? 0 : room <= 0 ? 0 : Math.min(1, room / expected);
    if (scale > 0)
      for (let c = k; c < candidates.length; c++) {
        const i = candidates[c]!;
        if (idUniform(trace.spans[i]!.span.spanId, this.seed) < p[i]! * scale) keep[i] = 1;
      }
    return keep;
  }
}

/**
 * The seed's structure-preserving wrapper: runs any strategy and adds, for every span it keeps,
 * every ancestor up to the root, so kept spans keep their original parents. A whole-trace decision
 * passes through. The inner strategy is told the real output bytes, so a budgeted inner strategy
 * pays for the ancestors it did not choose and keeps fewer spans of its own as it learns.
 */
export class StructurePreservingSampler implements SamplingStrategy {
  readonly name = 'structure-preserving';

  constructor(readonly inner: SamplingStrategy) {}

  recordOutcome(inputBytes: number, outputBytes: number): void {
    this.inner.recordOutcome?.(inputBytes, outputBytes);
  }

  recordEnvelope(inputBytes: number, outputBytes: number): void {
    this.inner.recordEnvelope?.(inputBytes, outputBytes);
  }

  patches(trace: SampledTrace, keep: Uint8Array): { patches: ReadonlyMap<number, SpanPatch>; accounted?: Uint8Array } | undefined {
    return this.inner.patches?.(trace, keep);
  }

  decide(trace: SampledTrace): Uint8Array | boolean {
    const decision = this.inner.decide(trace);
    if (typeof decision === 'boolean') return decision;
    const keep = decision;
    for (let i = 0; i < keep.length; i++) {
      if (!keep[i]) continue;
      for (let p = trace.parent[i]!; p >= 0 && !keep[p]; p = trace.parent[p]!) keep[p] = 1;
    }
    return keep;
  }
}
