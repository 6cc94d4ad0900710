// Shared by the Zipkin and Jaeger readers: whole-file JSON with a clear error when it is not JSON,
// microsecond timestamps to exact nanoseconds, and the rule that one bad span is skipped and
// reported (a wrong document shape is thrown).
import {
  InputError,
  makeResourceSpans,
  makeScopeSpans,
  makeTracesData,
  type InstrumentationScope,
  type Resource,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
  type TracesData,
} from '../model/index.js';
import { readWholeText } from './input.js';
import type { ReadLimits } from '../otlp/compressed.js';
import type { ReadContext } from './span-csv.js';

export async function readJsonDocument(path: string, limits?: ReadLimits): Promise<unknown> {
  const text = await readWholeText(path, limits);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`invalid JSON: ${(err as Error).message}`, path);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A span that cannot be converted; `path` is its JSON path (`[3].traceId`). */
export class SpanDefect extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reports a defective span, or throws it as InputError in strict mode. */
export function reportDefect(ctx: ReadContext, file: string, defect: SpanDefect): void {
  if (ctx.strict) throw new InputError(`${defect.path}: ${defect.message}`, file);
  ctx.stats.skippedRows++;
  ctx.warnings.add('bad-row', `${defect.path}: ${defect.message}; span skipped`, file);
}

/**
 * Microseconds (a JSON number, or decimal text) to exact nanoseconds. Fractions of a microsecond
 * are kept to the nanosecond; undefined for anything that is not a non-negative number.
 */
export function microsToNanos(v: unknown): bigint | undefined {
  if (typeof v === 'string' && /^\d{1,17}$/.test(v)) return BigInt(v) * 1000n;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined;
  if (Number.isInteger(v)) return BigInt(v) * 1000n;
  const whole = Math.trunc(v);
  return BigInt(whole) * 1000n + BigInt(Math.round((v - whole) * 1000));
}

/**
 * Groups spans under shared Resource and scope keys, in first-seen order, into one TracesData.
 * Keys are strings the caller derives from the content, so equal resources share one entry.
 */
export class EnvelopeBuilder {
  private readonly resources = new Map<string, { rs: ResourceSpans; scopes: Map<string, ScopeSpans> }>();
  private readonly order: ResourceSpans[] = [];

  add(resourceKey: string, resource: () => Resource | undefined, scopeKey: string, scope: () => InstrumentationScope | undefined, span: Span): void {
    let r = this.resources.get(resourceKey);
    if (!r) {
      r = { rs: makeResourceSpans({ resource: resource() }), scopes: new Map() };
      this.resources.set(resourceKey, r);
      this.order.push(r.rs);
    }
    let ss = r.scopes.get(scopeKey);
    if (!ss) {
      ss = makeScopeSpans({ scope: scope() });
      r.scopes.set(scopeKey, ss);
      r.rs.scopeSpans.push(ss);
    }
    ss.spans.push(span);
  }

  build(): TracesData {
    return makeTracesData(this.order);
  }
}
