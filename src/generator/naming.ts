// Span names, kinds and instrumentation scopes of every step, in one place: the traffic generator
// names its spans with these functions and the code model lists the same names, so an analyzer that
// maps spans to code through the model sees exactly what the traffic contains. The names follow the
// OpenTelemetry JS instrumentations (http, grpc, pg, mongodb, ioredis, kafkajs).
import type { CallStep, DbStep, Entry, OperationDef, ServiceDef, Step, Topology } from './topology.js';
import { findOperation } from './topology.js';

export type SpanKindName = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

export const SPAN_KIND_NUMBER: Record<SpanKindName, number> = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };

/** Instrumentation scopes, with the versions a Node 20 service of 2025 would carry. */
export const SCOPES = {
  http: { name: '@opentelemetry/instrumentation-http', version: '0.57.2' },
  grpc: { name: '@opentelemetry/instrumentation-grpc', version: '0.57.2' },
  pg: { name: '@opentelemetry/instrumentation-pg', version: '0.51.0' },
  mongodb: { name: '@opentelemetry/instrumentation-mongodb', version: '0.52.0' },
  ioredis: { name: '@opentelemetry/instrumentation-ioredis', version: '0.47.0' },
  kafkajs: { name: '@opentelemetry/instrumentation-kafkajs', version: '0.7.0' },
} as const;
export type ScopeKey = keyof typeof SCOPES | 'manual';

export function entrySpanName(entry: Entry): string {
  switch (entry.protocol) {
    case 'http':
      return `${entry.method} ${entry.route}`;
    case 'grpc':
      return `${entry.service}/${entry.method}`;
    case 'kafka':
      return `process ${entry.topic}`;
  }
}

export function entrySpanKind(entry: Entry): SpanKindName {
  return entry.protocol === 'kafka' ? 'CONSUMER' : 'SERVER';
}

export function entryScope(entry: Entry): ScopeKey {
  return entry.protocol === 'http' ? 'http' : entry.protocol === 'grpc' ? 'grpc' : 'kafkajs';
}

export function calleeOf(topology: Topology, step: CallStep): OperationDef {
  const op = findOperation(topology, step.service, step.operation);
  if (!op) throw new Error(`unknown callee ${step.service}.${step.operation}`);
  return op;
}

function dbSpanName(svc: ServiceDef, step: DbStep): string {
  return svc.database?.system === 'mongodb' ? `mongodb.${step.operation}` : `pg.query:${step.operation} ${svc.database?.name ?? ''}`;
}

/** The span a leaf step makes in its own service, or undefined for control-flow steps. */
export function stepSpan(topology: Topology, svc: ServiceDef, step: Step): { name: string; kind: SpanKindName; scope: ScopeKey } | undefined {
  switch (step.kind) {
    case 'call': {
      const entry = calleeOf(topology, step).entry;
      if (entry.protocol === 'grpc') return { name: entrySpanName(entry), kind: 'CLIENT', scope: 'grpc' };
      if (entry.protocol === 'http') return { name: entry.method, kind: 'CLIENT', scope: 'http' };
      return undefined;
    }
    case 'external':
      return { name: step.method, kind: 'CLIENT', scope: 'http' };
    case 'db':
      return { name: dbSpanName(svc, step), kind: 'CLIENT', scope: svc.database?.system === 'mongodb' ? 'mongodb' : 'pg' };
    case 'cache':
      return { name: step.command, kind: 'CLIENT', scope: 'ioredis' };
    case 'publish':
      return { name: `send ${step.topic}`, kind: 'PRODUCER', scope: 'kafkajs' };
    case 'internal':
      return { name: step.name, kind: 'INTERNAL', scope: 'manual' };
    default:
      return undefined;
  }
}

/** Paths of a service's emitted files, relative to the output directory. */
export function serviceFiles(service: string): { dir: string; handlers: string; server: string; clients: string; manifest: string } {
  const dir = `services/${service}`;
  return {
    dir,
    handlers: `${dir}/src/handlers.ts`,
    server: `${dir}/src/server.ts`,
    clients: `${dir}/src/clients.ts`,
    manifest: `${dir}/package.json`,
  };
}

/** The variable holding a gRPC client of a service: `shop.PaymentService` -> `paymentClient`. */
export function grpcClientVar(grpcService: string): string {
  const base = grpcService.slice(grpcService.lastIndexOf('.') + 1).replace(/Service$/, '');
  return `${base[0]!.toLowerCase()}${base.slice(1)}Client`;
}

/** The generated stub class of a gRPC service: `shop.PaymentService` -> `PaymentServiceClient`. */
export function grpcStubName(grpcService: string): string {
  return `${grpcService.slice(grpcService.lastIndexOf('.') + 1)}Client`;
}

/** The method of a gRPC stub: `CheckStock` -> `checkStock`. */
export function grpcMethodName(method: string): string {
  return `${method[0]!.toLowerCase()}${method.slice(1)}`;
}

/** The gRPC status an operation answers with where an HTTP operation would answer `httpStatus`. */
export function grpcStatusFor(httpStatus: number): number {
  switch (httpStatus) {
    case 200:
      return 0; // OK
    case 400:
      return 3; // INVALID_ARGUMENT
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 5; // NOT_FOUND
    case 402:
    case 409:
      return 9; // FAILED_PRECONDITION
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 503:
      return 14; // UNAVAILABLE
    default:
      return httpStatus >= 500 ? 13 : 2; // INTERNAL : UNKNOWN
  }
}
