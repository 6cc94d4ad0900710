// Ground truth of the fault-injection datasets, kept apart from the spans (a reducer must not see
// it): the injected faults, and which spans count as faulty under each definition of
// labels/faulty_spans.csv. Fault ids (F01, F02, …) are numbered exactly as faulty_spans.py numbers
// them (all fault lists, hours in text order, then stably by inject time), so the two files agree.
import { InputError, bytesToHex } from '../model/index.js';
import { openCsvTable } from './csv.js';
import { fileError, readWholeText } from './input.js';
import { serviceOfPod } from './operations.js';
import { nanosToDate, parseIsoNanos } from './time.js';
import type { WarningLog } from './warnings.js';

/** A fault's window: [inject time, inject time + 180 s), as the datasets define it. */
export const FAULT_WINDOW_NS = 180_000_000_000n;

export interface Fault {
  /** `F01`, `F02`, … in inject-time order over the whole dataset (the ids of faulty_spans.csv). */
  id: string;
  /** inject_time read as UTC (the span clock); `inject_timestamp` is wrong for some faults. */
  injectTime: Date;
  injectTimeNs: bigint;
  /** inject_time as written (`2023-01-30 11:51:46`). */
  injectTimeText: string;
  injectPod: string;
  /** The pod's service (pod name without its two hash suffixes). */
  injectService: string;
  /** return, exception, cpu_contention, network_delay, … */
  type: string;
  /** End of the window (exclusive), ns. */
  windowEndNs: bigint;
  /** The fault-list file it came from. */
  source: string;
}

function fail(file: string, message: string): never {
  throw new InputError(message, file);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readWholeText(file);
  } catch (err) {
    throw fileError(err, file);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`invalid JSON: ${(err as Error).message}`, file);
  }
}

/**
 * Reads fault lists (`{ "<hour>": [{ inject_time, inject_timestamp, inject_pod, inject_type }] }`,
 * the format of trastrainer's label.json and nezha's <day>-fault_list.json) into one list ordered
 * by inject time. A malformed entry is a wrong format (InputError naming the entry); an
 * inject_timestamp that disagrees with inject_time is reported, since the README says it is wrong.
 */
export async function readFaultLists(files: readonly string[], warnings: WarningLog): Promise<Fault[]> {
  const faults: Fault[] = [];
  for (const file of files) {
    const doc = await readJson(file);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail(file, 'not a fault list: expected an object of hour -> [faults]');
    for (const hour of Object.keys(doc).sort()) {
      const items = (doc as Record<string, unknown>)[hour];
      if (!Array.isArray(items)) fail(file, `not a fault list: ${JSON.stringify(hour)} is not an array`);
      items.forEach((item: unknown, i) => {
        const at = `${JSON.stringify(hour)}[${i}]`;
        if (item === null || typeof item !== 'object') fail(file, `${at}: not an object`);
        const f = item as Record<string, unknown>;
        for (const key of ['inject_time', 'inject_pod', 'inject_type'] as const) {
          if (typeof f[key] !== 'string' || f[key] === '') fail(file, `${at}.${key}: expected a non-empty string`);
        }
        const text = f.inject_time as string;
        const ns = parseIsoNanos(text);
        if (ns === undefined) fail(file, `${at}.inject_time: ${JSON.stringify(text)} is not a date-time`);
        const stamp = f.inject_timestamp;
        if (stamp !== undefined && String(stamp) !== String(ns / 1_000_000_000n)) {
          warnings.add(
            'label-mismatch',
            `${at}.inject_timestamp ${String(stamp)} disagrees with inject_time ${text} (UTC ${ns / 1_000_000_000n}); inject_time used`,
            file,
          );
        }
        const pod = f.inject_pod as string;
        faults.push({
          id: '',
          injectTime: nanosToDate(ns),
          injectTimeNs: ns,
          injectTimeText: text,
          injectPod: pod,
          injectService: serviceOfPod(pod),
          type: f.inject_type as string,
          windowEndNs: ns + FAULT_WINDOW_NS,
          source: file,
        });
      });
    }
  }
  faults.sort((a, b) => (a.injectTimeNs < b.injectTimeNs ? -1 : a.injectTimeNs > b.injectTimeNs ? 1 : 0));
  faults.forEach((f, i) => (f.id = `F${String(i + 1).padStart(2, '0')}`));
  return faults;
}

/** Faults whose window contains `timeNs` (optionally only those injected into `pod`). */
export function faultsAt(faults: readonly Fault[], timeNs: bigint, pod?: string): Fault[] {
  return faults.filter((f) => f.injectTimeNs <= timeNs && timeNs < f.windowEndNs && (pod === undefined || f.injectPod === pod));
}

/** The three definitions of labels/faulty_spans.csv (see the datasets README). */
export type FaultDefinition = 'exact' | 'slow' | 'proxy';
export const FAULT_DEFINITIONS: readonly FaultDefinition[] = ['exact', 'slow', 'proxy'];

const NONE: readonly string[] = Object.freeze([]);

function idHex(id: Uint8Array | string): string {
  return typeof id === 'string' ? id.toLowerCase() : bytesToHex(id);
}

/** Which spans are faulty, under which definition, for which fault. */
export class FaultySpans {
  /** definition -> lower-case TraceID+SpanID hex -> fault ids. */
  private readonly byDefinition = new Map<FaultDefinition, Map<string, string[]>>();
  /** definition -> fault id -> span count. */
  private readonly perFault = new Map<FaultDefinition, Map<string, number>>();

  constructor() {
    for (const d of FAULT_DEFINITIONS) {
      this.byDefinition.set(d, new Map());
      this.perFault.set(d, new Map());
    }
  }

  /** Records that a span is faulty (used by the reader; a repeat of the same fact is ignored). */
  add(definition: FaultDefinition, traceId: Uint8Array | string, spanId: Uint8Array | string, faultId: string): void {
    const key = idHex(traceId) + idHex(spanId);
    const spans = this.byDefinition.get(definition)!;
    const ids = spans.get(key);
    if (ids === undefined) spans.set(key, [faultId]);
    else if (ids.includes(faultId)) return;
    else ids.push(faultId);
    const counts = this.perFault.get(definition)!;
    counts.set(faultId, (counts.get(faultId) ?? 0) + 1);
  }

  /** The faults for which the span is faulty under `definition` (empty when it is not). */
  faultsOf(traceId: Uint8Array | string, spanId: Uint8Array | string, definition: FaultDefinition): readonly string[] {
    return this.byDefinition.get(definition)!.get(idHex(traceId) + idHex(spanId)) ?? NONE;
  }

  isFaulty(traceId: Uint8Array | string, spanId: Uint8Array | string, definition: FaultDefinition): boolean {
    return this.byDefinition.get(definition)!.has(idHex(traceId) + idHex(spanId));
  }

  /** Distinct faulty spans under `definition`, over all faults or for one fault. */
  count(definition: FaultDefinition, faultId?: string): number {
    if (faultId !== undefined) return this.perFault.get(definition)!.get(faultId) ?? 0;
    return this.byDefinition.get(definition)!.size;
  }

  /** (fault, span) pairs under `definition`: the denominator of faulty-span coverage. */
  pairs(definition: FaultDefinition): number {
    let n = 0;
    for (const c of this.perFault.get(definition)!.values()) n += c;
    return n;
  }

  /** Fault ids with at least one faulty span under `definition`. */
  faultIds(definition: FaultDefinition): string[] {
    return [...this.perFault.get(definition)!.keys()];
  }

  /** Every faulty span under `definition`: [lower-case TraceID+SpanID hex, fault ids]. */
  entries(definition: FaultDefinition): IterableIterator<[string, string[]]> {
    return this.byDefinition.get(definition)!.entries();
  }
}

const FAULTY_SPAN_COLUMNS = ['fault_id', 'inject_time', 'inject_pod', 'inject_type', 'definition', 'trace_id', 'span_id'] as const;

/**
 * Reads labels/faulty_spans.csv. A row with an unknown definition or bad ids is reported and
 * skipped; a fault id whose time, pod or type disagrees with `faults` is reported (and kept).
 */
export async function readFaultySpans(file: string, warnings: WarningLog, faults?: readonly Fault[]): Promise<FaultySpans> {
  const table = await openCsvTable(file, 'faulty-spans CSV', FAULTY_SPAN_COLUMNS, [], { warnings });
  const c = table.columns;
  const byId = new Map((faults ?? []).map((f) => [f.id, f]));
  const checked = new Set<string>();
  const out = new FaultySpans();
  for await (const [f, line] of table.rows) {
    if (f.length !== table.width) {
      warnings.add('bad-row', `expected ${table.width} fields, got ${f.length}; row skipped`, file, line);
      continue;
    }
    const definition = f[c.definition!]!;
    if (!(FAULT_DEFINITIONS as readonly string[]).includes(definition)) {
      warnings.add('ignored-input', `unknown definition ${JSON.stringify(definition)}; row skipped`, file, line);
      continue;
    }
    const trace = f[c.trace_id!]!;
    const span = f[c.span_id!]!;
    if (!/^[0-9a-fA-F]{32}$/.test(trace) || !/^[0-9a-fA-F]{16}$/.test(span)) {
      warnings.add('bad-row', `trace_id/span_id ${JSON.stringify(trace)}/${JSON.stringify(span)} are not 32/16 hex digits; row skipped`, file, line);
      continue;
    }
    const faultId = f[c.fault_id!]!;
    if (faults && !checked.has(faultId)) {
      checked.add(faultId);
      const fault = byId.get(faultId);
      if (!fault) warnings.add('label-mismatch', `fault ${faultId} is not in the fault lists`, file, line);
      else if (fault.injectTimeText !== f[c.inject_time!] || fault.injectPod !== f[c.inject_pod!] || fault.type !== f[c.inject_type!]) {
        warnings.add(
          'label-mismatch',
          `fault ${faultId} is ${f[c.inject_time!]} ${f[c.inject_pod!]} ${f[c.inject_type!]} here but ${fault.injectTimeText} ${fault.injectPod} ${fault.type} in ${fault.source}`,
          file,
          line,
        );
      }
    }
    out.add(definition as FaultDefinition, trace, span, faultId);
  }
  return out;
}

/** Everything a dataset knows about its faults. */
export interface GroundTruth {
  faults: Fault[];
  /** Per-span labels, when the dataset has labels/faulty_spans.csv. */
  faultySpans: FaultySpans | undefined;
  /** nezha's root_cause_ts.json: service -> fault type -> code region (`Class#line_Class#line`) or metric. */
  codeRegions: Record<string, Record<string, string>> | undefined;
}

/** Reads root_cause_ts.json (service -> fault type -> label). */
export async function readCodeRegions(file: string): Promise<Record<string, Record<string, string>>> {
  const doc = await readJson(file);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail(file, 'not a root-cause file: expected an object of service -> {fault type: label}');
  const out: Record<string, Record<string, string>> = {};
  for (const [service, labels] of Object.entries(doc as Record<string, unknown>)) {
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) fail(file, `${JSON.stringify(service)}: expected an object`);
    const entry: Record<string, string> = {};
    for (const [type, label] of Object.entries(labels as Record<string, unknown>)) {
      if (typeof label !== 'string') fail(file, `${JSON.stringify(service)}.${type}: expected a string`);
      entry[type] = label;
    }
    out[service] = entry;
  }
  return out;
}
