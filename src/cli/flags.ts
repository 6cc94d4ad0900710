// Numeric flag values, checked the same way for every command: the whole text must be the number
// (no '', ' 5', '0x10', '1e3' where an integer is asked, no NaN or Infinity), within the flag's range,
// or the run stops with a usage error naming the flag, the range and what was given.
import { UsageError } from './errors.js';

export interface IntRange {
  /** Smallest value allowed (default 0). */
  min?: number;
  /** Largest value allowed (default Number.MAX_SAFE_INTEGER). */
  max?: number;
  /** Says when the range depends on something ("for zstd"). */
  context?: string;
}

function intRangeText({ min = 0, max = Number.MAX_SAFE_INTEGER, context }: IntRange): string {
  const base = max !== Number.MAX_SAFE_INTEGER ? `an integer from ${min} to ${max}` : min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`;
  return context ? `${base} ${context}` : base;
}

/** An integer flag written in decimal digits; `fallback` when the flag is absent. */
export function intFlag(flag: string, text: string | undefined, fallback: number, range: IntRange = {}): number {
  if (text === undefined) return fallback;
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be ${intRangeText(range)}, got '${text}'`);
  return n;
}

export interface NumberRange {
  /** Lower bound, included unless `minExclusive`. */
  min?: number;
  minExclusive?: boolean;
  /** Upper bound, included unless `maxExclusive`. */
  max?: number;
  maxExclusive?: boolean;
}

function numberRangeText({ min, minExclusive, max, maxExclusive }: NumberRange): string {
  if (min !== undefined && max !== undefined) return `a number in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  if (min === 0) return minExclusive ? 'a positive number' : 'a non-negative number';
  if (min !== undefined) return `a number ${minExclusive ? 'above' : 'of at least'} ${min}`;
  return 'a number';
}

/** A decimal number flag (`0.8`, `.5`, `30`, `2e6`); `fallback` when the flag is absent. */
export function numberFlag(flag: string, text: string | undefined, fallback: number, range?: NumberRange): number;
export function numberFlag(flag: string, text: string | undefined, fallback: undefined, range?: NumberRange): number | undefined;
export function numberFlag(flag: string, text: string | undefined, fallback: number | undefined, range: NumberRange = {}): number | undefined {
  if (text === undefined) return fallback;
  const { min, minExclusive, max, maxExclusive } = range;
  const v = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text) ? Number(text) : NaN;
  const ok =
    Number.isFinite(v) &&
    (min === undefined || (minExclusive ? v > min : v >= min)) &&
    (max === undefined || (maxExclusive ? v < max : v <= max));
  if (!ok) throw new UsageError(`${flag} must be ${numberRangeText(range)}, got '${text}'`);
  return v;
}

/** The share of OTLP bytes a sampler drops, and the analyzer records: [0, 1). */
export function reductionFlag(text: string | undefined): number {
  return numberFlag('--target-reduction', text, 0.8, { min: 0, max: 1, maxExclusive: true });
}
