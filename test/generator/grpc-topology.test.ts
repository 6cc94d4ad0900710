// The polyglot gRPC topology: it validates, its traffic is deterministic and names exactly the
// spans its answer key lists, every emitted file (Go, Python, Java, C#, TypeScript) parses with the
// tree-sitter grammars without an error node, every span of the key is made on its line inside the
// function the key names, and the decisions in the source are exactly the key's branch points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { initTreeSitter, loadLanguage } from '../../src/analyzer/languages.js';
import {
  collectTraffic,
  defaultTopology,
  embeddedTopology,
  grpcTopology,
  renderServiceSources,
  validateTopology,
  type CodeModel,
  type Language as ServiceLanguage,
  type Topology,
} from '../../src/generator/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { getAttribute, InputError } from '../../src/model/index.js';
import { flatten } from './helpers.js';

const topology = grpcTopology();
const { files, model } = renderServiceSources(topology);
const languageOf = new Map(topology.services.map((s) => [s.name, s.language ?? 'typescript']));

test('the gRPC topology validates and has every language, gRPC between services and one HTTP front door', () => {
  validateTopology(topology);
  const languages = new Set(topology.services.map((s) => s.language));
  for (const l of ['typescript', 'go', 'python', 'java', 'csharp'] as const) assert.ok(languages.has(l), l);
  const http = topology.services.filter((s) => s.operations.some((o) => o.entry.protocol === 'http'));
  assert.deepEqual(
    http.map((s) => s.name),
    ['storefront'],
  );
  for (const s of topology.services) if (s.name !== 'storefront') for (const o of s.operations) assert.equal(o.entry.protocol, 'grpc', `${s.name}.${o.id}`);
});

test('rendering is deterministic; the default topology keeps its TypeScript-only output', () => {
  assert.deepEqual(renderServiceSources(grpcTopology()).files, files);
  const def = renderServiceSources(defaultTopology());
  assert.ok(!def.files.some((f) => f.path.startsWith('proto/')));
  assert.ok(def.model.services.every((s) => s.language === undefined));
  assert.deepEqual(
    model.services.map((s) => s.language ?? 'typescript'),
    topology.services.map((s) => s.language),
  );
});

test('one .proto per gRPC package, one package or project per service', () => {
  const protos = files.filter((f) => f.path.startsWith('proto/')).map((f) => f.path);
  assert.deepEqual(protos, ['proto/cart.proto', 'proto/catalog.proto', 'proto/checkout.proto', 'proto/identity.proto', 'proto/inventory.proto', 'proto/payment.proto', 'proto/pricing.proto']);
  const cart = files.find((f) => f.path === 'proto/cart.proto')!.content;
  assert.match(cart, /^syntax = "proto3";$/m);
  assert.match(cart, /^package shop\.cart;$/m);
  assert.match(cart, /^service CartService \{$/m);
  assert.match(cart, /^ {2}rpc AddItem \(AddItemRequest\) returns \(AddItemResponse\);$/m);
  // CheckStock's answer decides branches: its response carries the field they read.
  assert.match(files.find((f) => f.path === 'proto/inventory.proto')!.content, /message CheckStockResponse \{\n {2}bool available = 1;\n\}/);
  for (const svc of model.services) for (const f of svc.files) assert.ok(f.startsWith(`${svc.dir}/`), f);
});

test('invalid polyglot topologies are input errors naming the problem', () => {
  const withHttpGo = grpcTopology();
  withHttpGo.services.find((s) => s.name === 'identity-service')!.operations[0]!.entry = { protocol: 'http', method: 'GET', route: '/x' };
  assert.throws(() => validateTopology(withHttpGo), (e: unknown) => e instanceof InputError && /go service is entered through gRPC only/.test(e.message));
  const badLanguage = grpcTopology();
  (badLanguage.services[1] as { language: string }).language = 'cobol';
  assert.throws(() => validateTopology(badLanguage), (e: unknown) => e instanceof InputError && /unknown language cobol/.test(e.message));
  const shared: Topology = grpcTopology();
  const payment = shared.services.find((s) => s.name === 'payment-service')!;
  payment.operations[0]!.entry = { protocol: 'grpc', service: 'shop.cart.PaymentService', method: 'Charge' };
  assert.throws(() => validateTopology(shared), (e: unknown) => e instanceof InputError && /package shop\.cart is already served by cart-service/.test(e.message));
  assert.throws(() => embeddedTopology('nope'), (e: unknown) => e instanceof InputError && /unknown topology 'nope' \(one of default, grpc\)/.test(e.message));
});

// ---- traffic ----

const embedded = embeddedTopology('grpc');
const traffic = collectTraffic({ seed: 11, traces: 1500, topology: embedded.topology, faults: embedded.faultScenario(15) });
const spans = flatten(traffic.batches);

test('the same seed gives the same traffic', () => {
  const again = collectTraffic({ seed: 11, traces: 300, topology: grpcTopology(), faults: embedded.faultScenario(15) });
  const once = collectTraffic({ seed: 11, traces: 300, topology: grpcTopology(), faults: embedded.faultScenario(15) });
  assert.deepEqual(once.batches.map((b) => Buffer.from(encodeTracesData(b)).toString('base64')), again.batches.map((b) => Buffer.from(encodeTracesData(b)).toString('base64')));
  assert.deepEqual(once.groundTruth, again.groundTruth);
});

test('every span name in the traffic is in the answer key, and every name in the key is in the traffic', () => {
  const keyed = new Set<string>();
  const keyedByService = new Set<string>();
  for (const s of model.services)
    for (const o of s.operations)
      for (const sp of o.spans) {
        keyed.add(sp.name);
        keyedByService.add(`${s.name} ${sp.name}`);
      }
  const seen = new Set(spans.map((s) => s.span.name));
  assert.deepEqual([...seen].filter((n) => !keyed.has(n)), []);
  assert.deepEqual([...keyed].filter((n) => !seen.has(n)), []);
  for (const s of spans) assert.ok(keyedByService.has(`${s.service} ${s.span.name}`), `${s.service} ${s.span.name}`);
  assert.ok(keyed.size >= 40, `${keyed.size} distinct span names`);
});

test('resources and scopes say each service\'s language and its instrumentation libraries', () => {
  const sdk: Record<ServiceLanguage, string> = { typescript: 'nodejs', go: 'go', python: 'python', java: 'java', csharp: 'dotnet' };
  const grpcScope: Record<ServiceLanguage, RegExp> = {
    typescript: /^@opentelemetry\/instrumentation-grpc$/,
    go: /^go\.opentelemetry\.io\/contrib\/instrumentation\/google\.golang\.org\/grpc\/otelgrpc$/,
    python: /^opentelemetry\.instrumentation\.grpc$/,
    java: /^io\.opentelemetry\.grpc-1\.6$/,
    csharp: /^(Microsoft\.AspNetCore|OpenTelemetry\.Instrumentation\.GrpcNetClient)$/,
  };
  for (const s of spans) {
    const lang = languageOf.get(s.service)!;
    assert.equal(getAttribute(s.resource.attributes, 'telemetry.sdk.language'), sdk[lang], s.service);
    if (s.span.name.startsWith('shop.')) assert.match(s.scope, grpcScope[lang], `${s.service} ${s.span.name}`);
  }
  const dbNames = (service: string) => new Set(spans.filter((s) => s.service === service && s.span.kind === 3 && !s.span.name.startsWith('shop.')).map((s) => s.span.name));
  assert.ok(dbNames('identity-service').has('sql.conn.query') && dbNames('identity-service').has('get'));
  assert.ok(dbNames('inventory-service').has('stock.find'));
  assert.ok(dbNames('catalog-service').has('SELECT') && dbNames('catalog-service').has('GET'));
  assert.ok(dbNames('checkout-service').has('INSERT orders.orders'));
  assert.ok(dbNames('payment-service').has('payments') && dbNames('cart-service').has('HGETALL'));
});

test('every injected fault has ground truth, and exceptions carry the language\'s stack', () => {
  const byFault = new Map<string, number>();
  for (const f of traffic.groundTruth.spans) byFault.set(f.faultId, (byFault.get(f.faultId) ?? 0) + 1);
  for (const f of traffic.groundTruth.faults) assert.ok((byFault.get(f.id) ?? 0) > 0, `${f.id} ${f.type}`);
  const thrown = spans.filter((s) => s.service === 'catalog-service' && s.span.events.some((e) => e.name === 'exception'));
  assert.ok(thrown.length > 0);
  const stack = getAttribute(thrown[0]!.span.events[0]!.attributes, 'exception.stacktrace');
  assert.match(String(stack), /^Traceback \(most recent call last\):/);
  assert.match(String(stack), /line \d+, in GetProduct/);
});

// ---- the emitted source, through tree-sitter ----

type Grammar = 'go' | 'python' | 'java' | 'csharp' | 'typescript';
const EXT: Record<string, Grammar> = { '.go': 'go', '.py': 'python', '.java': 'java', '.cs': 'csharp', '.ts': 'typescript' };

const require = createRequire(import.meta.url);
let csharp: Promise<Language> | undefined;
/** C# is not (yet) one of the analyzer's languages: its wasm grammar is loaded here directly. */
async function grammar(g: Grammar): Promise<Language> {
  if (g !== 'csharp') return loadLanguage(g);
  await initTreeSitter();
  csharp ??= readFile(join(dirname(require.resolve('tree-sitter-c-sharp/package.json')), 'tree-sitter-c_sharp.wasm')).then((bytes) => Language.load(bytes));
  return csharp;
}

interface Parsed {
  path: string;
  grammar: Grammar;
  lines: string[];
  functions: { name: string; start: number; end: number }[];
  decisions: { kind: string; line: number }[];
}

const FUNCTION_TYPES = new Set(['function_declaration', 'method_declaration', 'function_definition']);
const CLASS_TYPES = new Set(['class_definition', 'class_declaration']);
const DECISIONS: Record<string, string> = {
  if_statement: 'if',
  expression_switch_statement: 'switch',
  type_switch_statement: 'switch',
  switch_statement: 'switch',
  switch_expression: 'switch',
  match_statement: 'switch',
  for_statement: 'loop',
  for_in_statement: 'loop',
  enhanced_for_statement: 'loop',
  foreach_statement: 'loop',
  while_statement: 'loop',
  do_statement: 'loop',
  try_statement: 'try',
  try_with_resources_statement: 'try',
  ternary_expression: 'conditional',
  conditional_expression: 'conditional',
};

/** `Type.method` as an analyzer names it: Go by the receiver's type, the others by the enclosing class. */
function functionName(n: Node, g: Grammar): string {
  const name = n.childForFieldName('name')?.text ?? '?';
  if (g === 'go' && n.type === 'method_declaration') {
    const receiver = n.childForFieldName('receiver')?.descendantsOfType('type_identifier')[0]?.text;
    return `${receiver}.${name}`;
  }
  if (g === 'typescript') return name;
  for (let p = n.parent; p; p = p.parent) if (CLASS_TYPES.has(p.type)) return `${p.childForFieldName('name')?.text}.${name}`;
  return name;
}

type Rendered = ReturnType<typeof renderServiceSources>;

async function parseAll(files: Rendered['files']): Promise<{ parsed: Map<string, Parsed>; errors: string[] }> {
  const parsed = new Map<string, Parsed>();
  const errors: string[] = [];
  await initTreeSitter();
  for (const f of files) {
    const ext = f.path.slice(f.path.lastIndexOf('.'));
    const g = EXT[ext];
    if (!g) continue;
    const parser = new Parser();
    parser.setLanguage(await grammar(g));
    const tree = parser.parse(f.content)!;
    try {
      const root = tree.rootNode;
      if (root.hasError) {
        const bad = root.descendantsOfType('ERROR').map((n) => `${f.path}:${n.startPosition.row + 1}: ${n.text.slice(0, 60)}`);
        errors.push(...(bad.length ? bad : [`${f.path}: a MISSING node`]));
      }
      const functions: Parsed['functions'] = [];
      const decisions: Parsed['decisions'] = [];
      const visit = (n: Node): void => {
        if (FUNCTION_TYPES.has(n.type)) functions.push({ name: functionName(n, g), start: n.startPosition.row + 1, end: n.endPosition.row + 1 });
        const d = DECISIONS[n.type];
        if (d) decisions.push({ kind: d, line: n.startPosition.row + 1 });
        for (const c of n.namedChildren) if (c) visit(c);
      };
      visit(root);
      parsed.set(f.path, { path: f.path, grammar: g, lines: f.content.split('\n'), functions, decisions });
    } finally {
      tree.delete();
      parser.delete();
    }
  }
  return { parsed, errors };
}

const sources = parseAll(files);

test('every emitted Go, Python, Java, C# and TypeScript file parses without an ERROR node', async () => {
  const { parsed, errors } = await sources;
  assert.deepEqual(errors, []);
  const grammars = new Set([...parsed.values()].map((p) => p.grammar));
  assert.deepEqual([...grammars].sort(), ['csharp', 'go', 'java', 'python', 'typescript']);
  for (const f of files.filter((x) => x.path.endsWith('.json'))) JSON.parse(f.content);
});

function enclosing(p: Parsed, line: number): string | undefined {
  const fns = p.functions.filter((f) => f.start <= line && line <= f.end).sort((a, b) => b.start - a.start);
  return fns[0]?.name;
}

test('every span of the answer key is made on its line, inside the function the key names', async () => {
  const checked = checkSpans(files, model, (await sources).parsed);
  assert.ok(checked.size >= 40);
});

/** Asserts each span of the key against the parsed source; returns the span names checked. */
function checkSpans(files: Rendered['files'], model: CodeModel, parsed: Map<string, Parsed>): Set<string> {
  const checked = new Set<string>();
  for (const svc of model.services)
    for (const op of svc.operations) {
      const reg = parsed.get(op.registration.file) ?? { lines: files.find((f) => f.path === op.registration.file)!.content.split('\n') };
      assert.ok(op.registration.line > 0, `${op.service}.${op.operation} registration`);
      const regLine = reg.lines[op.registration.line - 1]!;
      if (svc.language !== undefined) assert.ok(regLine.includes(op.function.slice(0, op.function.indexOf('.'))), `${op.registration.file}:${op.registration.line} ${regLine}`);
      for (const sp of op.spans) {
        const p = parsed.get(sp.file);
        assert.ok(p, `no parsed ${sp.file}`);
        assert.equal(enclosing(p, sp.line), sp.function, `${sp.stepId} at ${sp.file}:${sp.line}`);
        assert.ok(p.lines[sp.line - 1]!.includes(sp.anchor), `${sp.stepId}: '${sp.anchor}' not on ${sp.file}:${sp.line}: ${p.lines[sp.line - 1]}`);
        checked.add(sp.name);
      }
    }
  return checked;
}

test('the decisions in each service\'s source are exactly the answer key\'s branch points', async () => {
  checkDecisions(model, (await sources).parsed);
  // Every kind occurs in a language other than TypeScript.
  const kinds = new Set<string>();
  for (const svc of model.services) if (svc.language !== undefined) for (const op of svc.operations) for (const b of op.branchPoints) kinds.add(b.kind);
  assert.deepEqual([...kinds].sort(), ['if', 'loop', 'switch', 'try']);
});

function checkDecisions(model: CodeModel, parsed: Map<string, Parsed>): void {
  const key = keyBranchPoints(model);
  for (const p of parsed.values()) {
    const found = p.decisions.map((d) => `${d.line} ${d.kind}`).sort();
    // Go has no exceptions: a try step is an `if err != nil` at the branch point's line.
    const expected = (key.get(p.path) ?? []).map((b) => `${b.line} ${p.grammar === 'go' && b.kind === 'try' ? 'if' : b.kind}`).sort();
    assert.deepEqual(found, expected, p.path);
  }
}

function keyBranchPoints(m: CodeModel): Map<string, { line: number; kind: string }[]> {
  const out = new Map<string, { line: number; kind: string }[]>();
  for (const svc of m.services)
    for (const op of svc.operations)
      for (const b of op.branchPoints) {
        const list = out.get(b.file) ?? [];
        list.push({ line: b.line, kind: b.kind });
        out.set(b.file, list);
      }
  return out;
}

/**
 * Every construct in every language: a chain of one service per language, each running the same
 * program (early return, if/else, a switch with an empty arm and a default, a loop calling the
 * next service, a one-call and a multi-step try, a helper with a branch inside), so each printer's
 * every path is parsed and checked against its key, the Go try forms included.
 */
function everyConstruct(): Topology {
  const chain: ServiceLanguage[] = ['go', 'python', 'java', 'csharp', 'typescript'];
  const name = (l: ServiceLanguage) => `${l}-svc`;
  const services: Topology['services'] = chain.map((language, i) => {
    const next = chain[i + 1];
    const call = (id: string, as?: string) => (next ? [{ kind: 'call' as const, id, service: name(next), operation: 'run', ...(as ? { as } : {}) }] : []);
    return {
      name: name(language),
      language,
      version: '1.0.0',
      instances: 1,
      port: 50051,
      database: { system: 'postgresql', name: `${language}db`, host: `${language}-db`, port: 5432 },
      cache: { host: `${language}-cache`, port: 6379 },
      operations: [
        {
          id: 'run',
          entry: { protocol: 'grpc', service: `shop.${language}.RunService`, method: 'Run' },
          latency: { medianMs: 0.5 },
          body: [
            { kind: 'cache', id: 'get', command: 'get', key: 'k:{userId}', as: 'cached' },
            { kind: 'branch', id: 'hit', style: 'if', condition: 'cached !== null', arms: [{ label: 'hit', probability: 0.3, body: [{ kind: 'return', id: 'early', status: 200, value: 'cached' }] }, { label: 'miss', probability: 0.7, body: [] }] },
            { kind: 'db', id: 'sel', operation: 'SELECT', table: 't', statement: 'SELECT a FROM t WHERE user_id = $1', latency: { medianMs: 1 }, as: 'row' },
            { kind: 'branch', id: 'flag', style: 'if', condition: 'input.urgent', arms: [{ label: 'yes', probability: 0.5, body: [{ kind: 'cache', id: 'set', command: 'set', key: 'k:{userId}' }] }, { label: 'no', probability: 0.5, body: [{ kind: 'cache', id: 'del', command: 'del', key: 'k:{userId}' }] }] },
            { kind: 'branch', id: 'mode', style: 'switch', condition: 'input.mode', arms: [
              { label: 'a', probability: 0.4, body: [] },
              { label: 'b', probability: 0.4, body: [{ kind: 'external', id: 'ext', method: 'POST', url: 'https://api.example/v1/x', latency: { medianMs: 20 } }] },
              { label: 'default', probability: 0.2, body: [{ kind: 'return', id: 'bad', status: 400 }] },
            ] },
            { kind: 'loop', id: 'each', count: { min: 0, max: 2 }, over: 'input.productIds', item: 'productId', body: [{ kind: 'cache', id: 'item', command: 'hgetall', key: 'p:{productId}' }, ...call('next-in-loop')] },
            { kind: 'try', id: 'one', body: next ? call('next', 'answer') : [{ kind: 'external', id: 'ext2', method: 'GET', url: 'https://api.example/v1/y', latency: { medianMs: 20 } }], catch: [{ kind: 'db', id: 'upd', operation: 'UPDATE', table: 't', statement: 'UPDATE t SET a = $1 WHERE user_id = $2', latency: { medianMs: 1 } }] },
            { kind: 'try', id: 'many', body: [{ kind: 'cache', id: 'ttl', command: 'expire', key: 'k:{userId}' }, { kind: 'db', id: 'ins', operation: 'INSERT', table: 't', statement: 'INSERT INTO t (user_id, a) VALUES ($1, $2)', latency: { medianMs: 1 } }], catch: [{ kind: 'return', id: 'failed', status: 503 }] },
            { kind: 'internal', id: 'help', name: 'helpOut', latency: { medianMs: 0.3 }, attributes: { 'app.rules': 3 }, body: [
              { kind: 'branch', id: 'inner', style: 'if', condition: 'input.count > 2', arms: [{ label: 'many', probability: 0.5, body: [{ kind: 'cache', id: 'hset', command: 'hset', key: 'h:{userId}' }] }, { label: 'few', probability: 0.5, body: [{ kind: 'return', id: 'leave', status: 200 }] }] },
            ] },
          ],
        },
      ],
    };
  });
  return { name: 'every-construct', namespace: 'test', services, entryPoints: [{ service: name('go'), operation: 'run', weight: 1 }] };
}

test('every construct prints, parses and matches its key in every language (Go try forms included)', async () => {
  const topo = everyConstruct();
  validateTopology(topo);
  const rendered = renderServiceSources(topo);
  const { parsed, errors } = await parseAll(rendered.files);
  assert.deepEqual(errors, []);
  checkSpans(rendered.files, rendered.model, parsed);
  checkDecisions(rendered.model, parsed);
  const go = rendered.files.find((f) => f.path.endsWith('go-svc/server.go'))!.content;
  assert.match(go, /if _, err := s\.runClient\.Run\(ctx, &pythonpb\.RunRequest\{UserId: req\.GetUserId\(\)\}\); err != nil \{/);
  assert.match(go, /if err := func\(\) error \{/);
  // The traffic of this topology names exactly its key's spans too.
  const t = collectTraffic({ seed: 5, traces: 300, topology: topo });
  const keyed = new Set(rendered.model.services.flatMap((s) => s.operations.flatMap((o) => o.spans.map((x) => `${s.name} ${x.name}`))));
  for (const s of flatten(t.batches)) assert.ok(keyed.has(`${s.service} ${s.span.name}`), `${s.service} ${s.span.name}`);
});
