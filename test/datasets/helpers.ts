// Small fixtures for the dataset-reader tests, composed in code: CSV rows in the datasets' format,
// written plain or gzip into a temporary directory, and a way to flatten what a reader returns.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bytesToHex, getAttribute, type InstrumentationScope, type Resource, type Span, type TracesData } from '../../src/model/index.js';

export const SPAN_HEADER = 'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration';
export const LOG_HEADER = 'Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log';

export const TRACE_A = '8344c6bbb62a68a3eaebf0077ca7f7e5';
export const TRACE_B = '959e7db2fec7ca3d6414555ca9eb3ee5';
export const GATEWAY = 'ts-gateway-service-6f6cfc45b-d9pnv';
export const ORDER = 'ts-order-service-5b67c48447-fj8b7';

/** One span row; Duration is derived from the times as the datasets write it. */
export function spanRow(trace: string, span: string, parent: string, pod: string, name: string, start: bigint, end: bigint): string {
  return `${trace},${span},${parent},${pod},${name},${start},${end},${(end - start) / 1000n}`;
}

/** The Log column of nezha: the container runtime's JSON line around the application's line. */
export function runtimeLine(appLine: string, time: string): string {
  return JSON.stringify({ log: appLine, stream: 'stdout', time });
}

/** A CSV field, quoted as RFC 4180 wants when it holds a quote, comma or newline. */
export function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function logRow(timestamp: string, nanos: string, pod: string, trace: string, span: string, log: string): string {
  return [timestamp, nanos, '33.33.33.116', pod, 'server', trace, span, csvField(log)].join(',');
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'slimtrace-datasets-'));

  /** Writes `lines` (joined by \n, with a final newline) at `rel`, gzip-compressed when asked. */
  write(rel: string, lines: readonly string[] | string, options: { gzip?: boolean } = {}): string {
    const path = join(this.path, rel);
    mkdirSync(dirname(path), { recursive: true });
    const text = typeof lines === 'string' ? lines : lines.join('\n') + '\n';
    writeFileSync(path, options.gzip ? gzipSync(Buffer.from(text)) : text);
    return path;
  }

  writeBytes(rel: string, bytes: Uint8Array): string {
    const path = join(this.path, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    return path;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface FlatSpan {
  span: Span;
  resource: Resource | undefined;
  scope: InstrumentationScope | undefined;
  batch: number;
}

export async function collect(batches: AsyncIterable<TracesData>): Promise<{ batches: TracesData[]; spans: FlatSpan[] }> {
  const all: TracesData[] = [];
  const spans: FlatSpan[] = [];
  for await (const data of batches) {
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ span, resource: rs.resource, scope: ss.scope, batch: all.length });
    all.push(data);
  }
  return { batches: all, spans };
}

export function bySpanId(spans: readonly FlatSpan[], id: string): FlatSpan {
  const found = spans.find((s) => bytesToHex(s.span.spanId) === id);
  if (!found) throw new Error(`no span ${id}`);
  return found;
}

export function attr(attrs: Parameters<typeof getAttribute>[0] | undefined, key: string): unknown {
  return attrs ? getAttribute(attrs, key) : undefined;
}
