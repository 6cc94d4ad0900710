// Operation ids: (service, span name) pairs interned to small integers, so the per-span statistics,
// shape hashes and mined structure key on numbers instead of concatenated strings (hot path).
import type { SampledTrace } from './trace.js';

export class OperationTable {
  private readonly byService = new Map<string, Map<string, number>>();
  private readonly names: { service: string; name: string }[] = [];
  /** Operation id -> index of its service (in order of first sight). */
  private readonly serviceOf: number[] = [];
  private readonly serviceIds = new Map<string, number>();

  get size(): number {
    return this.names.length;
  }

  id(service: string, name: string): number {
    let byName = this.byService.get(service);
    if (!byName) this.byService.set(service, (byName = new Map()));
    let id = byName.get(name);
    if (id === undefined) {
      id = this.names.length;
      byName.set(name, id);
      this.names.push({ service, name });
      let s = this.serviceIds.get(service);
      if (s === undefined) this.serviceIds.set(service, (s = this.serviceIds.size));
      this.serviceOf.push(s);
    }
    return id;
  }

  /** Index of the operation's service, small and dense: for keys without strings on hot paths. */
  serviceIndex(id: number): number {
    return this.serviceOf[id]!;
  }

  describe(id: number): { service: string; name: string } | undefined {
    return this.names[id];
  }

  /** Operation id of every span of the trace, in `into` when given (at least as long as the trace). */
  ofTrace(trace: SampledTrace, into?: Int32Array): Int32Array {
    const n = trace.spans.length;
    const ops = into ?? new Int32Array(n);
    for (let i = 0; i < n; i++) ops[i] = this.id(trace.service[i]!, trace.spans[i]!.span.name);
    return ops;
  }
}

/** 32-bit FNV-1a step over one integer: shape and signature hashes without building strings. */
export function fnvMix(h: number, v: number): number {
  h = Math.imul(h ^ (v & 0xff), 0x01000193);
  h = Math.imul(h ^ ((v >>> 8) & 0xff), 0x01000193);
  h = Math.imul(h ^ ((v >>> 16) & 0xff), 0x01000193);
  return Math.imul(h ^ (v >>> 24), 0x01000193) >>> 0;
}

export const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a over a string's UTF-16 code units, continuing from `h`. */
export function fnvString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
