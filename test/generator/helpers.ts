// Shared helpers of the generator tests: flattening batches and a tiny topology whose branch and
// loop behaviour is easy to count.
import { bytesToHex, getAttribute, type Resource, type Span, type TracesData } from '../../src/model/index.js';
import type { Topology } from '../../src/generator/index.js';

export interface FlatSpan {
  span: Span;
  service: string;
  resource: Resource;
  scope: string;
  traceHex: string;
  spanHex: string;
  parentHex: string;
}

export function flatten(batches: readonly TracesData[]): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const data of batches)
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans)
          out.push({
            span,
            service: String(getAttribute(rs.resource!.attributes, 'service.name')),
            resource: rs.resource!,
            scope: ss.scope!.name,
            traceHex: bytesToHex(span.traceId),
            spanHex: bytesToHex(span.spanId),
            parentHex: bytesToHex(span.parentSpanId),
          });
  return out;
}

export function byTrace(spans: readonly FlatSpan[]): Map<string, FlatSpan[]> {
  const m = new Map<string, FlatSpan[]>();
  for (const s of spans) {
    let list = m.get(s.traceHex);
    if (!list) m.set(s.traceHex, (list = []));
    list.push(s);
  }
  return m;
}

export function durationMs(span: Span): number {
  return Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
}

export function attr(span: Span, key: string): unknown {
  return getAttribute(span.attributes, key);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One HTTP service with a three-way switch and a loop, calling one gRPC service. */
export function tinyTopology(): Topology {
  return {
    name: 'tiny',
    namespace: 'test',
    services: [
      {
        name: 'api',
        version: '1.0.0',
        instances: 1,
        port: 8080,
        database: { system: 'postgresql', name: 'main', host: 'main-db', port: 5432 },
        operations: [
          {
            id: 'handle',
            entry: { protocol: 'http', method: 'GET', route: '/api/items/:id' },
            latency: { medianMs: 1 },
            body: [
              {
                kind: 'branch',
                id: 'mode',
                style: 'switch',
                condition: 'input.mode',
                arms: [
                  { label: 'a', probability: 0.5, body: [{ kind: 'internal', id: 'a', name: 'doA', latency: { medianMs: 0.1 } }] },
                  { label: 'b', probability: 0.3, body: [{ kind: 'internal', id: 'b', name: 'doB', latency: { medianMs: 0.1 } }] },
                  { label: 'default', probability: 0.2, body: [{ kind: 'internal', id: 'c', name: 'doC', latency: { medianMs: 0.1 } }] },
                ],
              },
              {
                kind: 'loop',
                id: 'rows',
                count: { min: 2, max: 5 },
                body: [{ kind: 'db', id: 'row', operation: 'SELECT', table: 'rows', statement: 'SELECT id, body FROM rows WHERE id = $1', latency: { medianMs: 0.5 } }],
              },
              { kind: 'call', id: 'work', service: 'worker', operation: 'work' },
            ],
          },
        ],
      },
      {
        name: 'worker',
        version: '1.0.0',
        instances: 2,
        port: 50051,
        operations: [{ id: 'work', entry: { protocol: 'grpc', service: 'test.Worker', method: 'Work' }, latency: { medianMs: 2 }, body: [] }],
      },
    ],
    entryPoints: [{ service: 'api', operation: 'handle', weight: 1 }],
  };
}
