// Recognising a dataset directory and listing its files in time order: trastrainer-trainticket
// (`trace/HH_MM_trace.csv.gz`, `label.json`) and nezha-trainticket (`rca_data/<day>/trace|log/…`,
// `<day>-fault_list.json`, `construct_data/<day>/…`, `root_cause_ts.json`), both with
// `labels/faulty_spans.csv`. A single nezha day directory (trace/ beside log/) is read as nezha.
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../model/index.js';
import { fileError } from './input.js';
import type { WarningLog } from './warnings.js';

export type DatasetKind = 'trastrainer-trainticket' | 'nezha-trainticket';

/** Which phase of nezha-trainticket to read: fault windows, fault-free minutes, or both. */
export type NezhaPart = 'rca' | 'construct' | 'all' | 'both';

/** One minute of a dataset: its span file and, for nezha, the log file of the same minute. */
export interface MinuteFiles {
  /** `rca_data`, `construct_data`, or '' for a directory read on its own. */
  part: string;
  /** Day directory name (`2023-01-29`), or '' when the layout has no day level. */
  day: string;
  /** `HH_MM` of the span clock, from the file name. */
  minute: string;
  traceFile: string | undefined;
  logFile: string | undefined;
  /** Files of the same segment (part/day) are consecutive minutes of one recording. */
  segment: string;
}

export interface DatasetLayout {
  kind: DatasetKind;
  root: string;
  /** Minutes in time order: day, then HH_MM (then part). */
  minutes: MinuteFiles[];
  /** Fault lists (label.json / <day>-fault_list.json), in day order. */
  faultLists: string[];
  /** labels/faulty_spans.csv, when present. */
  faultySpans: string | undefined;
  /** root_cause_ts.json (nezha's code-region labels), when present. */
  rootCauses: string | undefined;
  /** Parts read (nezha), e.g. ['rca_data']. */
  parts: string[];
}

const TRACE_FILE = /^(\d{2})_(\d{2})_trace\.csv(?:\.gz)?$/;
const LOG_FILE = /^(\d{2})_(\d{2})_log\.csv(?:\.gz)?$/;
const FAULT_LIST = /-fault_list\.json$/;

async function entries(dir: string): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  try {
    for (const e of await readdir(dir, { withFileTypes: true })) out.set(e.name, e.isDirectory());
  } catch (err) {
    throw fileError(err, dir);
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function optionalFile(path: string): Promise<string | undefined> {
  return (await exists(path)) ? path : undefined;
}

/** Minute files of one directory holding trace/ (and maybe log/). */
async function minuteFiles(dir: string, part: string, day: string, warnings: WarningLog): Promise<MinuteFiles[]> {
  const byMinute = new Map<string, MinuteFiles>();
  const segment = `${part}/${day}`;
  const get = (minute: string) => {
    let m = byMinute.get(minute);
    if (!m) {
      m = { part, day, minute, traceFile: undefined, logFile: undefined, segment };
      byMinute.set(minute, m);
    }
    return m;
  };
  const top = await entries(dir);
  for (const [sub, pattern, field] of [
    ['trace', TRACE_FILE, 'traceFile'],
    ['log', LOG_FILE, 'logFile'],
  ] as const) {
    if (!top.get(sub)) continue;
    const subdir = join(dir, sub);
    for (const name of [...(await entries(subdir)).keys()].sort()) {
      const m = pattern.exec(name);
      if (!m) {
        warnings.add('ignored-input', `not a ${sub} file name (HH_MM_${sub}.csv[.gz]); not read`, join(subdir, name));
        continue;
      }
      get(`${m[1]}_${m[2]}`)[field] = join(subdir, name);
    }
  }
  return [...byMinute.values()].sort((a, b) => (a.minute < b.minute ? -1 : a.minute > b.minute ? 1 : 0));
}

function partsOf(choice: NezhaPart): string[] {
  switch (choice) {
    case 'rca':
      return ['rca_data'];
    case 'construct':
      return ['construct_data'];
    case 'all':
    case 'both':
      return ['rca_data', 'construct_data'];
  }
}

function timeOrder(a: MinuteFiles, b: MinuteFiles): number {
  if (a.day !== b.day) return a.day < b.day ? -1 : 1;
  if (a.minute !== b.minute) return a.minute < b.minute ? -1 : 1;
  return a.part < b.part ? -1 : a.part > b.part ? 1 : 0;
}

/**
 * The layout of a dataset directory, or undefined when `dir` is not one. Throws InputError when
 * the layout is recognised but incomplete (a requested nezha part is missing).
 */
export async function detectDatasetLayout(
  dir: string,
  options: { nezhaPart?: NezhaPart; warnings: WarningLog },
): Promise<DatasetLayout | undefined> {
  const { warnings } = options;
  const top = await entries(dir);
  const faultySpans = await optionalFile(join(dir, 'labels', 'faulty_spans.csv'));

  if (top.get('rca_data') || top.get('construct_data')) {
    const parts = partsOf(options.nezhaPart ?? 'rca');
    const minutes: MinuteFiles[] = [];
    for (const part of parts) {
      if (!top.get(part)) throw new InputError(`nezha-trainticket layout without ${part}/ (asked for part '${options.nezhaPart ?? 'rca'}')`, dir);
      const days = [...(await entries(join(dir, part)))].filter(([, isDir]) => isDir).map(([name]) => name).sort();
      for (const day of days) minutes.push(...(await minuteFiles(join(dir, part, day), part, day, warnings)));
    }
    // Fault lists of every rca day, whatever part is read: fault ids (F01…) number them all.
    const faultLists: string[] = [];
    if (top.get('rca_data')) {
      const days = [...(await entries(join(dir, 'rca_data')))].filter(([, isDir]) => isDir).map(([name]) => name).sort();
      for (const day of days) {
        for (const [name, isDir] of await entries(join(dir, 'rca_data', day))) {
          if (!isDir && FAULT_LIST.test(name)) faultLists.push(join(dir, 'rca_data', day, name));
        }
      }
    }
    const rootCauses =
      (await optionalFile(join(dir, 'root_cause_ts.json'))) ?? (await optionalFile(join(dir, 'construct_data', 'root_cause_ts.json')));
    return { kind: 'nezha-trainticket', root: dir, minutes: minutes.sort(timeOrder), faultLists, faultySpans, rootCauses, parts };
  }

  if (top.get('trace')) {
    const names = [...top.keys()];
    const dayLists = names.filter((n) => FAULT_LIST.test(n) && !top.get(n)).sort();
    if (top.get('log') || dayLists.length > 0) {
      // One nezha day on its own (rca_data/<day>).
      const day = basename(dir);
      const minutes = await minuteFiles(dir, '', day, warnings);
      return {
        kind: 'nezha-trainticket',
        root: dir,
        minutes,
        faultLists: dayLists.map((n) => join(dir, n)),
        faultySpans,
        rootCauses: await optionalFile(join(dir, 'root_cause_ts.json')),
        parts: [''],
      };
    }
    const minutes = await minuteFiles(dir, '', '', warnings);
    const label = await optionalFile(join(dir, 'label.json'));
    return {
      kind: 'trastrainer-trainticket',
      root: dir,
      minutes,
      faultLists: label ? [label] : [],
      faultySpans,
      rootCauses: undefined,
      parts: [''],
    };
  }
  return undefined;
}
