// The Python printer: grpcio servicers with grpcio-tools stubs, psycopg (DB-API), redis-py,
// pymongo and requests. A handler is a method of the servicer class; a try step catches what its
// calls raise, a switch prints as `match`, and a helper's span is a `with` block in the helper.
import { Printer, sqlParams, type SourceFile } from '../printing.js';
import type { CodeModelOperation } from '../code-model.js';
import { calleeOf, grpcStatusFor, serviceFiles } from '../naming.js';
import type { ServiceDef, Step, Topology } from '../topology.js';
import { grpcShortName, helperMethodName, protoName, serverTypeName, servedGrpcService, snake } from './profiles.js';
import { grpcCodeName, serviceNeeds } from './project.js';
import { dq, keyParts, printOperations, translateCondition, type LeafCode, type PrintCtx, type Syntax } from './walker.js';

const stubField = (grpcService: string): string => `${protoName(grpcService)}_stub`;
const method = (ctx: PrintCtx): string => (ctx.op.entry.protocol === 'grpc' ? ctx.op.entry.method : '');

function path(_ctx: PrintCtx, segments: string[]): string {
  const [head, ...fields] = segments as [string, ...string[]];
  return [head === 'input' ? 'request' : snake(head), ...fields.map(snake)].join('.');
}

/** A key placeholder: the loop variable of that name inside its loop, else the request field. */
const field = (ctx: PrintCtx, name: string): string => (ctx.vars.get(name) === 'loop' ? snake(name) : path(ctx, ['input', name]));

function key(ctx: PrintCtx, text: string): string {
  const parts = keyParts(text);
  if (parts.every((p) => typeof p === 'string')) return dq(text);
  return `f${dq(parts.map((p) => (typeof p === 'string' ? p.replace(/[{}]/g, '$&$&') : `{${field(ctx, p.field)}}`)).join(''))}`;
}

function leaf(ctx: PrintCtx, step: Step): LeafCode {
  switch (step.kind) {
    case 'call': {
      const entry = calleeOf(ctx.topology, step).entry;
      if (entry.protocol !== 'grpc') throw new Error('unreachable: validation allows only gRPC calls');
      const head = `self.${stubField(entry.service)}.${entry.method}(`;
      return { expr: `${head}${protoName(entry.service)}_pb2.${entry.method}Request(user_id=request.user_id))`, anchor: head };
    }
    case 'external': {
      const url = dq(step.url);
      return { expr: `self.http.${step.method.toLowerCase()}(${url}, timeout=5)`, anchor: url };
    }
    case 'db': {
      if (ctx.svc.database?.system === 'mongodb') {
        const head = `self.mongo.${step.table}.${snake(step.operation)}(`;
        return { expr: `${head}{"_id": request.product_id})`, anchor: head };
      }
      const statement = step.statement.replace(/\$\d+/g, '%s');
      const sql = dq(statement);
      const args = sqlParams(step.statement).map((a) => path(ctx, a.split('.')));
      const tail = step.as ? (step.operation === 'SELECT' ? '.fetchone()' : '') : '';
      return { expr: `self.cursor.execute(${sql}${args.length ? `, (${args.join(', ')}${args.length === 1 ? ',' : ''})` : ''})${tail}`, anchor: sql };
    }
    case 'cache': {
      const call = { get: 'get', set: 'set', del: 'delete', hgetall: 'hgetall', hset: 'hset', expire: 'expire' }[step.command];
      const head = `self.redis.${call}(`;
      const rest = { get: ')', set: ', request.SerializeToString(), ex=300)', del: ')', hgetall: ')', hset: ', "quantity", request.quantity)', expire: ', 86400)' }[step.command];
      return { expr: `${head}${key(ctx, step.key)}${rest}`, anchor: head };
    }
    case 'internal': {
      const head = `self.${helperMethodName('python', step)}(`;
      return { expr: `${head}request)`, anchor: head };
    }
    default:
      throw new Error(`not a leaf step: ${step.kind}`);
  }
}

const syntax: Syntax = {
  language: 'python',
  ifOpen: (c) => [`if ${c}:`],
  elseLines: ['else:'],
  close: [],
  empty: ['pass'],
  not: (c) => `not ${/\s/.test(c) ? `(${c})` : c}`,
  switchOpen: (d) => [`match ${d}:`],
  caseOpen: (label) => [label === 'default' ? 'case _:' : `case ${dq(label)}:`],
  caseEnd: [],
  caseClose: [],
  casesIndented: true,
  loopOpen: (ctx, item, over) => [over === undefined ? 'for _ in range(request.quantity):' : `for ${snake(item ?? 'item')} in ${path(ctx, over.split('.'))}:`],
  tryOpen: ['try:'],
  catchLines: (_ctx, step) => {
    let calls = false;
    let http = false;
    for (const s of step.body) {
      if (s.kind === 'call') calls = true;
      if (s.kind === 'external') http = true;
    }
    const types = [...(calls ? ['grpc.RpcError'] : []), ...(http ? ['requests.RequestException'] : [])];
    return [types.length === 0 ? 'except Exception:' : types.length === 1 ? `except ${types[0]}:` : `except (${types.join(', ')}):`];
  },
  statement: (_ctx, code, as) => (as ? `${snake(as)} = ${code.expr}` : code.expr),
  leaf,
  ret(ctx, status, id) {
    if (ctx.helper) return ['return'];
    if (status === 200) return [`return ${protoName(servedGrpcService(ctx.svc))}_pb2.${method(ctx)}Response()`];
    return [`context.abort(grpc.StatusCode.${grpcCodeName(grpcStatusFor(status)).upper}, ${dq(id)})`];
  },
  cond: (ctx, expr) =>
    translateCondition(ctx, expr, {
      path,
      isNull: (_ctx, p, _kind, negated) => `${p} is ${negated ? 'not ' : ''}None`,
      not: (c) => `not ${c}`,
      equalsString: (p, lit, negated) => `${p} ${negated ? '!=' : '=='} ${dq(lit)}`,
      eq: '==',
      ne: '!=',
    }),
  handlerOpen(p, ctx) {
    const line = p.line(`def ${method(ctx)}(self, request, context):`);
    p.indent();
    return line;
  },
  handlerEnd: (ctx) => [`return ${protoName(servedGrpcService(ctx.svc))}_pb2.${method(ctx)}Response()`],
  helperOpen(p, _ctx, helper, name) {
    const line = p.line(`def ${name}(self, request):`);
    p.indent();
    const anchor = `tracer.start_as_current_span(${dq(helper.name)})`;
    const spanLine = p.line(`with ${anchor} as span:`);
    p.indent();
    for (const [k, v] of Object.entries(helper.attributes ?? {})) p.line(`span.set_attribute(${dq(k)}, ${typeof v === 'string' ? dq(v) : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)})`);
    return { line, spanLine, anchor };
  },
  functionClose(p, helper) {
    p.dedent();
    if (helper) p.dedent();
  },
};

/** The Python package of one service: service.py (the servicer), server.py (wiring), requirements.txt. */
export function renderPythonService(topology: Topology, svc: ServiceDef): { files: SourceFile[]; ops: CodeModelOperation[] } {
  const dir = serviceFiles(svc.name).dir;
  const files = { service: `${dir}/service.py`, server: `${dir}/server.py`, requirements: `${dir}/requirements.txt` };
  const needs = serviceNeeds(topology, svc);
  const own = servedGrpcService(svc);
  const cls = serverTypeName('python', svc);
  const protos = [own, ...needs.grpc.map((g) => g.service)];
  const members = [
    ...(needs.sql ? ['cursor'] : []),
    ...(needs.mongo ? ['mongo'] : []),
    ...(needs.redis ? ['redis'] : []),
    ...(needs.http ? ['http'] : []),
    ...needs.grpc.map((g) => stubField(g.service)),
  ];
  const p = new Printer('    ');
  p.line(`"""${svc.name}, generated by slimtrace from the '${topology.name}' topology.`);
  p.line();
  p.line('Its handlers\' if/match/for/try statements are the traffic model: every one is a branch point.');
  p.line('"""');
  p.line('import grpc');
  if (needs.tracer) p.line('from opentelemetry import trace');
  p.line();
  for (const g of protos) {
    p.line(`import ${protoName(g)}_pb2`);
    p.line(`import ${protoName(g)}_pb2_grpc`);
  }
  if (needs.http) p.line('import requests');
  p.line();
  if (needs.tracer) p.line(`tracer = trace.get_tracer(${dq(svc.name)})`);
  p.line();
  p.line();
  p.line(`class ${cls}(${protoName(own)}_pb2_grpc.${grpcShortName(own)}Servicer):`);
  p.indent();
  p.line(`def __init__(self${members.map((m) => `, ${m}`).join('')}):`);
  p.indent();
  for (const m of members) p.line(`self.${m} = ${m}`);
  if (members.length === 0) p.line('pass');
  p.dedent();
  p.line();
  const ops = printOperations(p, syntax, topology, svc, files.service, files.server);
  p.dedent();

  const s = new Printer('    ');
  s.line(`"""Wiring of ${svc.name}: its clients, and the gRPC server with ${cls} registered."""`);
  s.line('from concurrent import futures');
  s.line();
  s.line('import grpc');
  if (needs.sql) s.line('import psycopg');
  if (needs.mongo) s.line('import pymongo');
  if (needs.redis) s.line('import redis');
  if (needs.http) s.line('import requests');
  s.line();
  for (const g of protos) s.line(`import ${protoName(g)}_pb2_grpc`);
  s.line(`from service import ${cls}`);
  s.line();
  s.line();
  s.line('def serve():');
  s.indent();
  const args: string[] = [];
  const db = svc.database;
  if (needs.sql && db) {
    s.line(`cursor = psycopg.connect(${dq(`postgresql://${db.host}:${db.port}/${db.name}`)}).cursor()`);
    args.push('cursor');
  }
  if (needs.mongo && db) {
    s.line(`mongo = pymongo.MongoClient(${dq(`mongodb://${db.host}:${db.port}`)})[${dq(db.name)}]`);
    args.push('mongo');
  }
  if (needs.redis && svc.cache) {
    s.line(`cache = redis.Redis(host=${dq(svc.cache.host)}, port=${svc.cache.port})`);
    args.push('cache');
  }
  if (needs.http) args.push('requests.Session()');
  for (const g of needs.grpc) {
    s.line(`${stubField(g.service)} = ${protoName(g.service)}_pb2_grpc.${grpcShortName(g.service)}Stub(grpc.insecure_channel(${dq(g.target)}))`);
    args.push(stubField(g.service));
  }
  s.line('server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))');
  const reg = s.line(`${protoName(own)}_pb2_grpc.add_${grpcShortName(own)}Servicer_to_server(${cls}(${args.join(', ')}), server)`);
  s.line(`server.add_insecure_port("[::]:${svc.port}")`);
  s.line('server.start()');
  s.line('server.wait_for_termination()');
  s.dedent();
  s.line();
  s.line();
  s.line('serve()');
  for (const op of ops) op.registration.line = reg;
  const requirements = [
    'grpcio==1.68.1',
    'opentelemetry-instrumentation-grpc==0.50b0',
    ...(needs.sql ? ['psycopg==3.2.3', 'opentelemetry-instrumentation-psycopg==0.50b0'] : []),
    ...(needs.mongo ? ['pymongo==4.10.1', 'opentelemetry-instrumentation-pymongo==0.50b0'] : []),
    ...(needs.redis ? ['redis==5.2.1', 'opentelemetry-instrumentation-redis==0.50b0'] : []),
    ...(needs.http ? ['requests==2.32.3', 'opentelemetry-instrumentation-requests==0.50b0'] : []),
  ];
  return {
    files: [
      { path: files.requirements, content: `${requirements.join('\n')}\n` },
      { path: files.server, content: s.text() },
      { path: files.service, content: p.text() },
    ],
    ops,
  };
}
