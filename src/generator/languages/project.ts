// What the Go, Python, Java and C# printers share beyond the step walker: which clients a service
// needs, the request and response fields its messages carry, and the `proto/<name>.proto` file of
// every gRPC service of a polyglot topology (one per package, as the shared conventions say).
import { sqlParams, type SourceFile } from '../printing.js';
import { calleeOf, entrySpanName } from '../naming.js';
import { walkSteps, type OperationDef, type ServiceDef, type Step, type Topology } from '../topology.js';
import { grpcShortName, protoName, snake } from './profiles.js';

/** The clients a service's handlers use. */
export interface ServiceNeeds {
  /** gRPC services it calls, in first-use order, with the host:port that serves each. */
  grpc: { service: string; target: string }[];
  sql: boolean;
  mongo: boolean;
  redis: boolean;
  http: boolean;
  tracer: boolean;
}

export function serviceNeeds(topology: Topology, svc: ServiceDef): ServiceNeeds {
  const needs: ServiceNeeds = { grpc: [], sql: false, mongo: false, redis: false, http: false, tracer: false };
  for (const op of svc.operations)
    walkSteps(op.body, (s) => {
      switch (s.kind) {
        case 'call': {
          const entry = calleeOf(topology, s).entry;
          if (entry.protocol === 'grpc' && !needs.grpc.some((g) => g.service === entry.service)) {
            const target = topology.services.find((t) => t.name === s.service)!;
            needs.grpc.push({ service: entry.service, target: `${target.name}:${target.port}` });
          }
          break;
        }
        case 'db':
          if (svc.database?.system === 'mongodb') needs.mongo = true;
          else needs.sql = true;
          break;
        case 'cache':
          needs.redis = true;
          break;
        case 'external':
          needs.http = true;
          break;
        case 'internal':
          needs.tracer = true;
          break;
        default:
          break;
      }
    });
  return needs;
}

export type FieldType = 'string' | 'bool' | 'int64' | 'repeated string';

/** Every field of a request is present in every request: the ids the handlers pass along. */
const COMMON_REQUEST_FIELDS: [string, FieldType][] = [
  ['user_id', 'string'],
  ['product_id', 'string'],
  ['order_id', 'string'],
  ['quantity', 'int64'],
];

/** Text of an operation's steps that may read request or response fields. */
function stepTexts(op: OperationDef): { text: string; kind: 'cond' | 'switch' | 'over' | 'key' }[] {
  const out: { text: string; kind: 'cond' | 'switch' | 'over' | 'key' }[] = [];
  walkSteps(op.body, (s: Step) => {
    if (s.kind === 'branch') out.push({ text: s.condition, kind: s.style === 'switch' ? 'switch' : 'cond' });
    if (s.kind === 'loop' && s.over) out.push({ text: s.over, kind: 'over' });
    if (s.kind === 'cache') for (const m of s.key.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) out.push({ text: `input.${m[1]!}`, kind: 'key' });
    // SQL parameters are request fields too (the printers pass `req.GetTotal()` and the like).
    if (s.kind === 'db') for (const param of sqlParams(s.statement)) out.push({ text: param, kind: 'key' });
  });
  return out;
}

function typeOfUse(text: string, path: string, kind: 'cond' | 'switch' | 'over' | 'key'): FieldType {
  if (kind === 'over') return 'repeated string';
  if (kind === 'switch' || kind === 'key') return 'string';
  const rest = text.slice(text.indexOf(path) + path.length).trim();
  if (/^[=!]==\s*'/.test(rest)) return 'string';
  if (/^(===|!==|>=|<=|>|<)\s*-?[0-9]/.test(rest)) return 'int64';
  return 'bool';
}

/** The fields of each message: `<Method>Request` and `<Method>Response`, keyed by `<grpc service>/<Method>`. */
export function messageFields(topology: Topology): Map<string, { request: Map<string, FieldType>; response: Map<string, FieldType> }> {
  const out = new Map<string, { request: Map<string, FieldType>; response: Map<string, FieldType> }>();
  const entryOf = (op: OperationDef) => {
    const key = entrySpanName(op.entry);
    let m = out.get(key);
    if (!m) out.set(key, (m = { request: new Map(COMMON_REQUEST_FIELDS), response: new Map() }));
    return m;
  };
  for (const svc of topology.services)
    for (const op of svc.operations) if (op.entry.protocol === 'grpc') entryOf(op);
  for (const svc of topology.services)
    for (const op of svc.operations) {
      const own = op.entry.protocol === 'grpc' ? out.get(entrySpanName(op.entry)) : undefined;
      const results = new Map<string, string>(); // as-variable -> callee key
      walkSteps(op.body, (s) => {
        if (s.kind === 'call' && s.as) {
          const callee = calleeOf(topology, s);
          if (callee.entry.protocol === 'grpc') results.set(s.as, entrySpanName(callee.entry));
        }
      });
      for (const { text, kind } of stepTexts(op))
        for (const m of text.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
          const [path, head, field] = m as unknown as [string, string, string];
          const target = head === 'input' ? own?.request : results.has(head) ? out.get(results.get(head)!)?.response : undefined;
          if (target && !target.has(snake(field))) target.set(snake(field), typeOfUse(text, path, kind));
        }
    }
  return out;
}

/** One `proto/<name>.proto` per gRPC service of the topology. */
export function renderProtos(topology: Topology): SourceFile[] {
  const fields = messageFields(topology);
  const byService = new Map<string, string[]>();
  for (const svc of topology.services)
    for (const op of svc.operations)
      if (op.entry.protocol === 'grpc') {
        const list = byService.get(op.entry.service) ?? [];
        if (!list.includes(op.entry.method)) list.push(op.entry.method);
        byService.set(op.entry.service, list);
      }
  const files: SourceFile[] = [];
  for (const [service, methods] of byService) {
    const pkg = service.slice(0, service.lastIndexOf('.'));
    const name = protoName(service);
    const short = grpcShortName(service);
    const lines = [
      `// ${pkg}: the ${short} API, generated by slimtrace from the '${topology.name}' topology.`,
      'syntax = "proto3";',
      '',
      `package ${pkg};`,
      '',
      `option go_package = "github.com/shop/gen/${name}pb;${name}pb";`,
      'option java_multiple_files = true;',
      `option java_package = "${pkg}.v1";`,
      `option csharp_namespace = "${pkg
        .split('.')
        .map((p) => p[0]!.toUpperCase() + p.slice(1))
        .join('.')}";`,
      '',
      `service ${short} {`,
      ...methods.map((m) => `  rpc ${m} (${m}Request) returns (${m}Response);`),
      '}',
    ];
    for (const m of methods) {
      const f = fields.get(`${service}/${m}`)!;
      for (const [suffix, map] of [
        ['Request', f.request],
        ['Response', f.response],
      ] as const) {
        lines.push('', `message ${m}${suffix} {`);
        let n = 1;
        for (const [field, type] of map) lines.push(`  ${type} ${field} = ${n++};`);
        lines.push('}');
      }
    }
    files.push({ path: `proto/${name}.proto`, content: `${lines.join('\n')}\n` });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** A gRPC status code's name as grpc-go (`NotFound`) and the others (`NOT_FOUND`) write it. */
export function grpcCodeName(code: number): { pascal: string; upper: string } {
  const upper =
    ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'][
      code
    ] ?? 'UNKNOWN';
  const pascal = upper
    .toLowerCase()
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  return { pascal: pascal === 'Cancelled' ? 'Canceled' : pascal, upper };
}
