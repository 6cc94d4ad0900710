// The Go printer: grpc-go with protoc-gen-go-grpc stubs, database/sql through otelsql, go-redis,
// the mongo driver and net/http. A handler is a method of the service's server struct; errors of
// calls are left to the interceptors (the server span's status), so every if in a handler is a
// branch point. Go has no exceptions: a try step prints as `if ..., err := <call>; err != nil`.
import { Printer, sqlParams, type SourceFile } from '../printing.js';
import type { CodeModelOperation } from '../code-model.js';
import { calleeOf, grpcStatusFor, mongoCommand, serviceFiles } from '../naming.js';
import type { ServiceDef, Step, Topology, TryStep } from '../topology.js';
import { grpcShortName, helperMethodName, lowerFirst, pascal, protoName, serverTypeName, servedGrpcService } from './profiles.js';
import { grpcCodeName, serviceNeeds } from './project.js';
import { dq, keyParts, printOperations, translateCondition, type LeafCode, type PrintCtx, type Syntax, type Walker } from './walker.js';

const pb = (grpcService: string): string => `${protoName(grpcService)}pb`;
const clientField = (grpcService: string): string => `${lowerFirst(grpcShortName(grpcService).replace(/Service$/, ''))}Client`;
const method = (ctx: PrintCtx): string => (ctx.op.entry.protocol === 'grpc' ? ctx.op.entry.method : '');

function path(_ctx: PrintCtx, segments: string[]): string {
  const [head, ...fields] = segments as [string, ...string[]];
  return (head === 'input' ? 'req' : head) + fields.map((f) => `.Get${pascal(f)}()`).join('');
}

/** A key placeholder: the loop variable of that name inside its loop, else the request field. */
const field = (ctx: PrintCtx, name: string): string => (ctx.vars.get(name) === 'loop' ? name : path(ctx, ['input', name]));

function key(ctx: PrintCtx, text: string): string {
  return keyParts(text)
    .map((p) => (typeof p === 'string' ? dq(p) : field(ctx, p.field)))
    .join(' + ');
}

function leaf(ctx: PrintCtx, step: Step): LeafCode {
  switch (step.kind) {
    case 'call': {
      const entry = calleeOf(ctx.topology, step).entry;
      if (entry.protocol !== 'grpc') throw new Error('unreachable: validation allows only gRPC calls');
      const head = `s.${clientField(entry.service)}.${entry.method}(`;
      return { expr: `${head}ctx, &${pb(entry.service)}.${entry.method}Request{UserId: req.GetUserId()})`, anchor: head, pair: true };
    }
    case 'external': {
      const url = dq(step.url);
      return step.method === 'GET'
        ? { expr: `s.http.Get(${url})`, anchor: url, pair: true }
        : { expr: `s.http.Post(${url}, "application/json", nil)`, anchor: url, pair: true };
    }
    case 'db': {
      if (ctx.svc.database?.system === 'mongodb') {
        const head = `s.mongo.Collection(${dq(step.table)}).${pascal(step.operation)}(`;
        const filter = mongoCommand(step.operation) === 'insert' ? 'req' : `bson.M{"_id": req.GetProductId()}`;
        return { expr: `${head}ctx, ${filter})`, anchor: head, pair: step.operation !== 'findOne' };
      }
      const sql = dq(step.statement);
      const args = sqlParams(step.statement).map((a) => path(ctx, a.split('.')));
      const fn = step.operation === 'SELECT' ? 'QueryContext' : 'ExecContext';
      return { expr: `s.db.${fn}(ctx, ${[sql, ...args].join(', ')})`, anchor: sql, pair: true };
    }
    case 'cache': {
      const k = key(ctx, step.key);
      const call = { get: 'Get', set: 'Set', del: 'Del', hgetall: 'HGetAll', hset: 'HSet', expire: 'Expire' }[step.command];
      const head = `s.rdb.${call}(ctx, `;
      const rest = { get: ').Result()', set: ', req.String(), 5*time.Minute).Err()', del: ').Err()', hgetall: ').Result()', hset: ', "quantity", req.GetQuantity()).Err()', expire: ', 24*time.Hour).Err()' }[step.command];
      return { expr: `${head}${k}${rest}`, anchor: head, pair: step.command === 'get' || step.command === 'hgetall' };
    }
    case 'internal': {
      const head = `s.${helperMethodName('go', step)}(`;
      return { expr: `${head}ctx, req)`, anchor: head };
    }
    default:
      throw new Error(`not a leaf step: ${step.kind}`);
  }
}

function printTry(p: Printer, ctx: PrintCtx, step: TryStep, walk: Walker): number {
  const only = step.body.length === 1 ? step.body[0]! : undefined;
  let line: number;
  if (only && (only.kind === 'call' || only.kind === 'external' || only.kind === 'db' || only.kind === 'cache')) {
    // The idiomatic form: the call and its error check on one line, the fallback in the if.
    const code = leaf(ctx, only);
    line = p.line(code.pair ? `if _, err := ${code.expr}; err != nil {` : `if err := ${code.expr}; err != nil {`);
    walk.record(ctx, only, line, code.anchor);
  } else {
    line = p.line('if err := func() error {');
    p.indent();
    walk.steps(p, ctx, step.body);
    p.line('return nil');
    p.dedent();
    p.line('}(); err != nil {');
  }
  p.indent();
  walk.steps(p, ctx, step.catch);
  p.dedent();
  p.line('}');
  return line;
}

const syntax: Syntax = {
  language: 'go',
  ifOpen: (c) => [`if ${c} {`],
  elseLines: ['} else {'],
  close: ['}'],
  empty: [],
  not: (c) => (/^[A-Za-z0-9_.()]+$/.test(c) ? `!${c}` : `!(${c})`),
  switchOpen: (d) => [`switch ${d} {`],
  caseOpen: (label) => [label === 'default' ? 'default:' : `case ${dq(label)}:`],
  caseEnd: [],
  caseClose: [],
  casesIndented: false,
  loopOpen: (ctx, item, over) => [over === undefined ? 'for i := int64(0); i < req.GetQuantity(); i++ {' : `for _, ${item ?? 'item'} := range ${path(ctx, over.split('.'))} {`],
  tryOpen: [],
  catchLines: () => [],
  statement: (_ctx, code, as) => (as ? (code.pair ? `${as}, _ := ${code.expr}` : `${as} := ${code.expr}`) : code.expr),
  leaf,
  ret(ctx, status, id) {
    if (ctx.helper) return ['return'];
    if (status === 200) return [`return &${pb(servedGrpcService(ctx.svc))}.${method(ctx)}Response{}, nil`];
    return [`return nil, status.Error(codes.${grpcCodeName(grpcStatusFor(status)).pascal}, ${dq(id)})`];
  },
  cond: (ctx, expr) =>
    translateCondition(ctx, expr, {
      path,
      isNull: (_ctx, p, kind, negated) => `${p} ${negated ? '!=' : '=='} ${kind === 'cache' ? '""' : 'nil'}`,
      not: (c) => `!${c}`,
      equalsString: (p, lit, negated) => `${p} ${negated ? '!=' : '=='} ${dq(lit)}`,
      eq: '==',
      ne: '!=',
    }),
  handlerOpen(p, ctx) {
    const m = method(ctx);
    const x = pb(servedGrpcService(ctx.svc));
    const line = p.line(`func (s *${serverTypeName('go', ctx.svc)}) ${m}(ctx context.Context, req *${x}.${m}Request) (*${x}.${m}Response, error) {`);
    p.indent();
    return line;
  },
  handlerEnd: (ctx) => [`return &${pb(servedGrpcService(ctx.svc))}.${method(ctx)}Response{}, nil`],
  helperOpen(p, ctx, helper, name) {
    const line = p.line(`func (s *${serverTypeName('go', ctx.svc)}) ${name}(ctx context.Context, req *${pb(servedGrpcService(ctx.svc))}.${method(ctx)}Request) {`);
    p.indent();
    const anchor = `tracer.Start(ctx, ${dq(helper.name)})`;
    const spanLine = p.line(`ctx, span := ${anchor}`);
    p.line('defer span.End()');
    for (const [k, v] of Object.entries(helper.attributes ?? {}))
      p.line(`span.SetAttributes(attribute.${typeof v === 'string' ? 'String' : typeof v === 'boolean' ? 'Bool' : 'Int'}(${dq(k)}, ${typeof v === 'string' ? dq(v) : String(v)}))`);
    return { line, spanLine, anchor };
  },
  functionClose(p) {
    p.dedent();
    p.line('}');
  },
  printTry,
};

/** The Go package of one service: server.go (struct and handlers), main.go (wiring), go.mod. */
export function renderGoService(topology: Topology, svc: ServiceDef): { files: SourceFile[]; ops: CodeModelOperation[] } {
  const dir = serviceFiles(svc.name).dir;
  const files = { server: `${dir}/server.go`, main: `${dir}/main.go`, mod: `${dir}/go.mod` };
  const needs = serviceNeeds(topology, svc);
  const own = servedGrpcService(svc);
  const type = serverTypeName('go', svc);
  const protos = [own, ...needs.grpc.map((g) => g.service)];
  const p = new Printer('\t');
  p.line(`// Package main is ${svc.name}, generated by slimtrace from the '${topology.name}' topology.`);
  p.line('// Its handlers\' if/switch/for statements (and the error checks of try steps) are the traffic model:');
  p.line('// every one is a branch point. Other calls\' errors surface through the gRPC interceptors.');
  p.line('package main');
  p.line();
  p.line('import (');
  p.indent();
  p.line('"context"');
  if (needs.sql) p.line('"database/sql"');
  if (needs.http) p.line('"net/http"');
  if (needs.redis) p.line('"time"');
  p.line();
  if (needs.redis) p.line('"github.com/redis/go-redis/v9"');
  if (needs.mongo) p.line('"go.mongodb.org/mongo-driver/bson"');
  if (needs.mongo) p.line('"go.mongodb.org/mongo-driver/mongo"');
  if (needs.tracer) p.line('"go.opentelemetry.io/otel"');
  if (needs.tracer) p.line('"go.opentelemetry.io/otel/attribute"');
  p.line('"google.golang.org/grpc/codes"');
  p.line('"google.golang.org/grpc/status"');
  p.line();
  for (const g of protos) p.line(`${pb(g)} "github.com/shop/gen/${pb(g)}"`);
  p.dedent();
  p.line(')');
  p.line();
  if (needs.tracer) {
    p.line(`var tracer = otel.Tracer(${dq(svc.name)})`);
    p.line();
  }
  p.line(`type ${type} struct {`);
  p.indent();
  p.line(`${pb(own)}.Unimplemented${grpcShortName(own)}Server`);
  if (needs.sql) p.line('db *sql.DB');
  if (needs.mongo) p.line('mongo *mongo.Database');
  if (needs.redis) p.line('rdb *redis.Client');
  if (needs.http) p.line('http *http.Client');
  for (const g of needs.grpc) p.line(`${clientField(g.service)} ${pb(g.service)}.${grpcShortName(g.service)}Client`);
  p.dedent();
  p.line('}');
  p.line();
  const ops = printOperations(p, syntax, topology, svc, files.server, files.main);

  const m = new Printer('\t');
  m.line(`// Wiring of ${svc.name}: its clients, and the gRPC server with ${grpcShortName(own)} registered.`);
  m.line('package main');
  m.line();
  m.line('import (');
  m.indent();
  for (const imp of [
    ...(needs.mongo ? ['"context"'] : []),
    '"log"',
    '"net"',
    ...(needs.http ? ['"net/http"'] : []),
    '',
    ...(needs.sql ? ['"github.com/XSAM/otelsql"', '_ "github.com/lib/pq"'] : []),
    ...(needs.redis ? ['"github.com/redis/go-redis/extra/redisotel/v9"', '"github.com/redis/go-redis/v9"'] : []),
    ...(needs.mongo ? ['"go.mongodb.org/mongo-driver/mongo"', '"go.mongodb.org/mongo-driver/mongo/options"', '"go.opentelemetry.io/contrib/instrumentation/go.mongodb.org/mongo-driver/mongo/otelmongo"'] : []),
    '"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"',
    ...(needs.http ? ['"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"'] : []),
    '"google.golang.org/grpc"',
    ...(needs.grpc.length ? ['"google.golang.org/grpc/credentials/insecure"'] : []),
    '',
    ...protos.map((g) => `${pb(g)} "github.com/shop/gen/${pb(g)}"`),
  ])
    m.line(imp);
  m.dedent();
  m.line(')');
  m.line();
  m.line('func main() {');
  m.indent();
  const fields: string[] = [];
  const db = svc.database;
  if (needs.sql && db) {
    m.line(`db, _ := otelsql.Open("postgres", ${dq(`postgres://${db.host}:${db.port}/${db.name}?sslmode=disable`)})`);
    fields.push('db: db');
  }
  if (needs.mongo && db) {
    m.line(`mongoClient, _ := mongo.Connect(context.Background(), options.Client().ApplyURI(${dq(`mongodb://${db.host}:${db.port}`)}).SetMonitor(otelmongo.NewMonitor()))`);
    fields.push(`mongo: mongoClient.Database(${dq(db.name)})`);
  }
  if (needs.redis && svc.cache) {
    m.line(`rdb := redis.NewClient(&redis.Options{Addr: ${dq(`${svc.cache.host}:${svc.cache.port}`)}})`);
    m.line('_ = redisotel.InstrumentTracing(rdb)');
    fields.push('rdb: rdb');
  }
  if (needs.http) fields.push('http: &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)}');
  for (const g of needs.grpc) {
    const conn = `${protoName(g.service)}Conn`;
    m.line(`${conn}, _ := grpc.NewClient(${dq(g.target)}, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(otelgrpc.NewClientHandler()))`);
    fields.push(`${clientField(g.service)}: ${pb(g.service)}.New${grpcShortName(g.service)}Client(${conn})`);
  }
  m.line('grpcServer := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler()))');
  const reg = m.line(`${pb(own)}.Register${grpcShortName(own)}Server(grpcServer, &${type}{${fields.join(', ')}})`);
  m.line(`lis, _ := net.Listen("tcp", ":${svc.port}")`);
  m.line('log.Fatal(grpcServer.Serve(lis))');
  m.dedent();
  m.line('}');
  for (const op of ops) op.registration.line = reg;
  const mod = `module github.com/shop/${svc.name}\n\ngo 1.23\n\nrequire (\n\tgithub.com/XSAM/otelsql v0.36.0\n\tgithub.com/redis/go-redis/v9 v9.7.0\n\tgo.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc v0.58.0\n\tgoogle.golang.org/grpc v1.69.2\n)\n`;
  return {
    files: [
      { path: files.mod, content: mod },
      { path: files.main, content: m.text() },
      { path: files.server, content: p.text() },
    ],
    ops,
  };
}
