// The nezha-trainticket service logs (Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,
// Log) turned into span events, the way OpenTelemetry log correlation ties a log record to the
// span that was active (TraceID+SpanID). The Log column is the container runtime's JSON line
// around the application's line `HH:MM:SS.mmm LEVEL pkg.Class#line TraceID: … SpanID: … message`;
// the event carries the parsed parts as attributes and the column verbatim beside them, so nothing
// of the source is lost.
import { ATTR, InputError, kv, makeEvent, type KeyValue, type SpanEvent } from '../model/index.js';
import { openCsvTable } from './csv.js';
import type { ReadContext } from './span-csv.js';
import { parseIsoNanos, parseUnsignedDecimal } from './time.js';

export const LOG_CSV_COLUMNS = ['Timestamp', 'TimeUnixNano', 'TraceID', 'SpanID', 'Log'] as const;
/** Per-pod constants (node IP, pod, container) the span's resource already stands for. */
export const LOG_CSV_OPTIONAL_COLUMNS = ['Node', 'PodName', 'Container'] as const;

/** Semantic-convention key for the record as the source wrote it (`log.record.original`). */
export const LOG_RECORD_ORIGINAL = 'log.record.original';
/** Name of every span event made from a log record. */
export const LOG_EVENT_NAME = 'log';

/**
 * `parsed`: log.record.body = the application's message, with severity, code location and the
 * Log column verbatim (log.record.original) beside it. `verbatim`: log.record.body = the Log column
 * and nothing else (the mapping research/anchors.md measured).
 */
export type LogBodyMode = 'parsed' | 'verbatim';

export interface ParsedLogLine {
  /** The message after the level, code location and ids; the whole line when it has no such prefix. */
  body: string;
  severity: string | undefined;
  /** Logger name as logback abbreviates it (`t.s.TravelServiceImpl`). */
  codeNamespace: string | undefined;
  codeLine: bigint | undefined;
}

const LINE_PREFIX =
  /^(?:\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\s+)?(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\s+(?:(\S+)#(\d{1,9})\s+)?(?:TraceID:\s*[0-9a-fA-F]*\s+SpanID:\s*[0-9a-fA-F]*\s?)?/;

/** Splits an application log line (without the runtime's JSON wrapper) into its parts. */
export function parseLogLine(line: string): ParsedLogLine {
  const text = line.endsWith('\n') ? line.slice(0, line.endsWith('\r\n') ? -2 : -1) : line;
  const m = LINE_PREFIX.exec(text);
  if (!m) return { body: text, severity: undefined, codeNamespace: undefined, codeLine: undefined };
  return {
    body: text.slice(m[0].length),
    severity: m[1],
    codeNamespace: m[2],
    codeLine: m[3] === undefined ? undefined : BigInt(m[3]),
  };
}

/** The application's line inside the runtime's JSON wrapper, or undefined when the column is not one. */
function unwrapRuntimeLine(column: string): string | undefined {
  if (column.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const obj = JSON.parse(column) as unknown;
    const log = obj !== null && typeof obj === 'object' ? (obj as { log?: unknown }).log : undefined;
    return typeof log === 'string' ? log : undefined;
  } catch {
    return undefined;
  }
}

/** Event attributes of one Log column value. */
export function logEventAttributes(column: string, mode: LogBodyMode): KeyValue[] {
  if (mode === 'verbatim') return [kv(ATTR.LOG_RECORD_BODY, column)];
  const line = unwrapRuntimeLine(column) ?? column;
  const parsed = parseLogLine(line);
  const attrs: KeyValue[] = [kv(ATTR.LOG_RECORD_BODY, parsed.body)];
  if (parsed.severity !== undefined) attrs.push(kv(ATTR.LOG_SEVERITY_TEXT, parsed.severity));
  if (parsed.codeNamespace !== undefined) attrs.push(kv(ATTR.CODE_NAMESPACE, parsed.codeNamespace));
  if (parsed.codeLine !== undefined) attrs.push(kv(ATTR.CODE_LINENO, parsed.codeLine));
  if (parsed.body !== column) attrs.push(kv(LOG_RECORD_ORIGINAL, column));
  return attrs;
}

/**
 * Reads a log CSV(.gz) and hands each record to `visit` as (lower-case TraceID+SpanID, event).
 * Flaws are reported and survived: a corrupt TimeUnixNano takes the time from Timestamp, a row that
 * is not valid CSV is salvaged when it starts with a complete record, anything else is skipped.
 */
export async function forEachLogEvent(
  file: string,
  ctx: ReadContext,
  mode: LogBodyMode,
  visit: (key: string, event: SpanEvent, line: number) => void,
): Promise<void> {
  const { warnings, stats } = ctx;
  const table = await openCsvTable(file, 'log CSV', LOG_CSV_COLUMNS, LOG_CSV_OPTIONAL_COLUMNS, {
    warnings,
    strict: ctx.strict,
    salvage: true,
    limits: ctx.limits,
  });
  stats.logFiles++;
  const c = table.columns;
  const iTimestamp = c.Timestamp!;
  const iNanos = c.TimeUnixNano!;
  const iTrace = c.TraceID!;
  const iSpan = c.SpanID!;
  const iLog = c.Log!;
  for await (const [f, line] of table.rows) {
    stats.logRecords++;
    const skip = (message: string) => {
      if (ctx.strict) throw new InputError(`line ${line}: ${message}`, file);
      stats.logRecordsSkipped++;
      warnings.add('bad-row', `${message}; log record skipped`, file, line);
    };
    if (f.length !== table.width) {
      skip(`expected ${table.width} fields, got ${f.length}`);
      continue;
    }
    const trace = f[iTrace]!;
    const span = f[iSpan]!;
    if (trace.length !== 32 || !isHex(trace)) {
      skip(`TraceID ${JSON.stringify(trace.slice(0, 60))} is not 32 hex digits`);
      continue;
    }
    if (span.length !== 16 || !isHex(span)) {
      skip(`SpanID ${JSON.stringify(span.slice(0, 60))} is not 16 hex digits`);
      continue;
    }
    let time = parseUnsignedDecimal(f[iNanos]!);
    if (time === undefined) {
      time = parseIsoNanos(f[iTimestamp]!);
      if (time === undefined) {
        skip(`neither TimeUnixNano ${JSON.stringify(f[iNanos])} nor Timestamp ${JSON.stringify(f[iTimestamp])} is a time`);
        continue;
      }
      stats.logTimeFallbacks++;
      warnings.add('log-time-fallback', `TimeUnixNano ${f[iNanos]} is corrupt; event time taken from Timestamp ${f[iTimestamp]}`, file, line);
    }
    const event = makeEvent({ timeUnixNano: time, name: LOG_EVENT_NAME, attributes: logEventAttributes(f[iLog]!, mode) });
    visit((trace + span).toLowerCase(), event, line);
  }
}

const HEX = /^[0-9a-fA-F]*$/;

function isHex(text: string): boolean {
  return HEX.test(text);
}

/** Orders a span's events by time (stable, so records with equal times keep file order). */
export function sortEventsByTime(events: SpanEvent[]): void {
  if (events.length > 1) events.sort((a, b) => (a.timeUnixNano < b.timeUnixNano ? -1 : a.timeUnixNano > b.timeUnixNano ? 1 : 0));
}
