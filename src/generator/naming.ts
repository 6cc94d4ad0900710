// Span names, kinds and instrumentation scopes of every step, in one place: the traffic generator
// names its spans with these functions and the code model lists the same names, so an analyzer that
// maps spans to code through the model sees exactly what the traffic contains. The names follow the
// OpenTelemetry JS instrumentations (http, grpc, pg, mongodb, ioredis, kafkajs) for TypeScript
// services, and those of Go, Python, Java and .NET for services in those languages (the shared
// conventions are in the issue-14 notes: gRPC spans are named alike everywhere, database and cache
// client spans are named as each language's instrumentation library names them).
import type { CacheCommand, CallStep, DbStep, Entry, Language, OperationDef, ServiceDef, Step, Topology } from './topology.js';
import { findOperation, languageOf } from './topology.js';

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
  // Go: the contrib instrumentations and the libraries' own (go-redis), as of early 2025.
  'go-grpc': { name: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc', version: '0.58.0' },
  'go-http': { name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: '0.58.0' },
  'go-sql': { name: 'github.com/XSAM/otelsql', version: '0.36.0' },
  'go-mongo': { name: 'go.opentelemetry.io/contrib/instrumentation/go.mongodb.org/mongo-driver/mongo/otelmongo', version: '0.58.0' },
  'go-redis': { name: 'github.com/redis/go-redis/extra/redisotel', version: '9.7.0' },
  // Python: opentelemetry-python-contrib, one tracer per instrumentation module.
  'py-grpc': { name: 'opentelemetry.instrumentation.grpc', version: '0.50b0' },
  'py-http': { name: 'opentelemetry.instrumentation.requests', version: '0.50b0' },
  'py-sql': { name: 'opentelemetry.instrumentation.psycopg', version: '0.50b0' },
  'py-mongo': { name: 'opentelemetry.instrumentation.pymongo', version: '0.50b0' },
  'py-redis': { name: 'opentelemetry.instrumentation.redis', version: '0.50b0' },
  // Java: the agent's instrumentation names.
  'java-grpc': { name: 'io.opentelemetry.grpc-1.6', version: '2.11.0-alpha' },
  'java-http': { name: 'io.opentelemetry.java-http-client', version: '2.11.0-alpha' },
  'java-sql': { name: 'io.opentelemetry.jdbc', version: '2.11.0-alpha' },
  'java-mongo': { name: 'io.opentelemetry.mongo-3.1', version: '2.11.0-alpha' },
  'java-redis': { name: 'io.opentelemetry.jedis-4.0', version: '2.11.0-alpha' },
  // .NET: ActivitySource names (the server span comes from ASP.NET Core's own source).
  'cs-grpc-server': { name: 'Microsoft.AspNetCore', version: '' },
  'cs-grpc-client': { name: 'OpenTelemetry.Instrumentation.GrpcNetClient', version: '1.10.0-beta.1' },
  'cs-http': { name: 'System.Net.Http', version: '' },
  'cs-sql': { name: 'Npgsql', version: '8.0.6' },
  'cs-mongo': { name: 'MongoDB.Driver.Core.Extensions.DiagnosticSources', version: '1.5.0' },
  'cs-redis': { name: 'OpenTelemetry.Instrumentation.StackExchangeRedis', version: '1.10.0-beta.1' },
} as const;
export type ScopeKey = keyof typeof SCOPES | 'manual';

type ScopeRole = 'grpcServer' | 'grpcClient' | 'http' | 'sql' | 'mongo' | 'redis';

/** The scope of each kind of span per language (TypeScript's http/kafka entries are handled by entryScope). */
const LANGUAGE_SCOPES: Record<Language, Record<ScopeRole, ScopeKey>> = {
  typescript: { grpcServer: 'grpc', grpcClient: 'grpc', http: 'http', sql: 'pg', mongo: 'mongodb', redis: 'ioredis' },
  go: { grpcServer: 'go-grpc', grpcClient: 'go-grpc', http: 'go-http', sql: 'go-sql', mongo: 'go-mongo', redis: 'go-redis' },
  python: { grpcServer: 'py-grpc', grpcClient: 'py-grpc', http: 'py-http', sql: 'py-sql', mongo: 'py-mongo', redis: 'py-redis' },
  java: { grpcServer: 'java-grpc', grpcClient: 'java-grpc', http: 'java-http', sql: 'java-sql', mongo: 'java-mongo', redis: 'java-redis' },
  csharp: { grpcServer: 'cs-grpc-server', grpcClient: 'cs-grpc-client', http: 'cs-http', sql: 'cs-sql', mongo: 'cs-mongo', redis: 'cs-redis' },
};

/** The MongoDB wire command a driver method sends: findOne is a `find`, insertOne an `insert`. */
export function mongoCommand(method: string): string {
  const m = /^(find|insert|update|delete|count|aggregate|distinct)/i.exec(method);
  return m ? m[1]!.toLowerCase() : method;
}

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

export function entryScope(entry: Entry, language: Language = 'typescript'): ScopeKey {
  if (entry.protocol === 'grpc') return LANGUAGE_SCOPES[language].grpcServer;
  return entry.protocol === 'http' ? 'http' : 'kafkajs';
}

export function calleeOf(topology: Topology, step: CallStep): OperationDef {
  const op = findOperation(topology, step.service, step.operation);
  if (!op) throw new Error(`unknown callee ${step.service}.${step.operation}`);
  return op;
}

/** A database client span's name as the service's language's instrumentation names it. */
function dbSpanName(svc: ServiceDef, step: DbStep): string {
  const db = svc.database?.name ?? '';
  const mongo = svc.database?.system === 'mongodb';
  switch (languageOf(svc)) {
    case 'typescript':
      return mongo ? `mongodb.${step.operation}` : `pg.query:${step.operation} ${db}`;
    case 'go': // otelsql names the database/sql method; otelmongo `<collection>.<command>`
      return mongo ? `${step.table}.${mongoCommand(step.operation)}` : step.operation === 'SELECT' ? 'sql.conn.query' : 'sql.conn.exec';
    case 'python': // DB-API: the statement's first word
      return mongo ? `${db}.${step.table}.${mongoCommand(step.operation)}` : step.operation;
    case 'java': // the agent: `<operation> <db>.<table>`
      return mongo ? `${mongoCommand(step.operation)} ${db}.${step.table}` : `${step.operation} ${db}.${step.table}`;
    case 'csharp': // Npgsql names the activity after the database
      return mongo ? `${step.table}.${mongoCommand(step.operation)}` : db;
  }
}

/** A cache command's span name: lower case in Node.js and go-redis, upper case elsewhere. */
export function cacheSpanName(language: Language, command: CacheCommand): string {
  return language === 'typescript' || language === 'go' ? command : command.toUpperCase();
}

/** The span a leaf step makes in its own service, or undefined for control-flow steps. */
export function stepSpan(topology: Topology, svc: ServiceDef, step: Step): { name: string; kind: SpanKindName; scope: ScopeKey } | undefined {
  const scopes = LANGUAGE_SCOPES[languageOf(svc)];
  switch (step.kind) {
    case 'call': {
      const entry = calleeOf(topology, step).entry;
      if (entry.protocol === 'grpc') return { name: entrySpanName(entry), kind: 'CLIENT', scope: scopes.grpcClient };
      if (entry.protocol === 'http') return { name: entry.method, kind: 'CLIENT', scope: scopes.http };
      return undefined;
    }
    case 'external':
      return { name: step.method, kind: 'CLIENT', scope: scopes.http };
    case 'db':
      return { name: dbSpanName(svc, step), kind: 'CLIENT', scope: svc.database?.system === 'mongodb' ? scopes.mongo : scopes.sql };
    case 'cache':
      return { name: cacheSpanName(languageOf(svc), step.command), kind: 'CLIENT', scope: scopes.redis };
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
