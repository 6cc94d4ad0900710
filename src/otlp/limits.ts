// Decode limits: what one OTLP request may cost to decode, so that a small hostile request (30 MiB
// of empty spans, a JSON array of millions of `{}`) ends in a typed error instead of gigabytes of
// heap. Memory is an estimate: a fixed cost per decoded object, measured on V8 (bench figures in
// docs/otlp.md), plus a few bytes per input byte for strings and byte views. Defaults are far above
// real traffic (generated traffic estimates at 5.0x its protobuf bytes, 3.8x measured: a 64 MiB
// request comes to about a third of the memory limit).
import { ProtobufDecodeError } from './wire.js';

export interface DecodeLimits {
  /** Spans in one request. Default DEFAULT_DECODE_LIMITS.maxSpans (4,194,304). */
  maxSpans?: number;
  /** Estimated memory of one decoded request, in bytes. Default 1 GiB. */
  maxDecodedMemory?: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<Required<DecodeLimits>> = Object.freeze({
  maxSpans: 4 * 1024 * 1024,
  maxDecodedMemory: 1024 * 1024 * 1024,
});

/** Estimated heap bytes per decoded object (measured with --expose-gc on Node 20, rounded up). */
export const DECODE_COST = {
  span: 272,
  event: 112,
  link: 128,
  keyValue: 64,
  /** An element of an AnyValue array (the slot, and a small value). */
  arrayElement: 16,
  /** ResourceSpans, ScopeSpans, Resource, scope, Status, EntityRef, ArrayValue, KeyValueList. */
  message: 104,
  /** A view created for a bytes field. */
  bytesView: 80,
  /** Per input byte: strings and copies made from it. */
  inputByte: 2,
  /** OTLP/JSON: one object or array of the parsed JSON tree. */
  jsonContainer: 64,
  /** OTLP/JSON: per character of the text (the text and the strings JSON.parse makes from it). */
  jsonChar: 2,
} as const;

export type DecodeLimitName = keyof DecodeLimits;

/**
 * A request over a decode limit. A ProtobufDecodeError of kind `limit` (also for OTLP/JSON, so
 * one class covers "this request cannot be decoded"); `limit` names the option to raise.
 */
export class DecodeLimitError extends ProtobufDecodeError {
  override name = 'DecodeLimitError';
  constructor(
    readonly limit: DecodeLimitName,
    readonly value: number,
    offset: number,
    /** What went over the limit ("too many spans in one request"). */
    readonly what: string,
    source?: string,
  ) {
    super('limit', offset, `${what}: over the decode limit ${limit} = ${value}${limit === 'maxDecodedMemory' ? ' bytes' : ''}`, source);
    this.message =
      `${source ? `${source}: ` : ''}${what}: over the decode limit ${limit} = ${value}${limit === 'maxDecodedMemory' ? ' bytes' : ''} ` +
      `(raise it with DecodeLimits.${limit}, or on the command line --input-limits ${limit}=N)`;
  }

  /** The same error, naming the file it came from. */
  withSource(source: string): DecodeLimitError {
    return new DecodeLimitError(this.limit, this.value, this.offset, this.what, source);
  }
}

/** The limits in force: given values, defaults for the rest; checked to be positive numbers. */
export function resolveDecodeLimits(limits: DecodeLimits | undefined): Required<DecodeLimits> {
  const maxSpans = limits?.maxSpans ?? DEFAULT_DECODE_LIMITS.maxSpans;
  const maxDecodedMemory = limits?.maxDecodedMemory ?? DEFAULT_DECODE_LIMITS.maxDecodedMemory;
  if (!(maxSpans >= 0) || !(maxDecodedMemory >= 0)) throw new RangeError('decode limits must be non-negative numbers');
  return { maxSpans, maxDecodedMemory };
}
