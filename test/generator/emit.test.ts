// The emitted TypeScript services: they parse, every operation is registered and implemented where
// the code model says, every span is made in the function the model names, and the branch points an
// analyzer would find (if, switch, loops, try) are exactly the model's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import {
  CODE_MODEL_FILE,
  defaultTopology,
  emitServiceSources,
  renderServiceSources,
  walkSteps,
  type CodeModelBranchPoint,
  type Topology,
} from '../../src/generator/index.js';
import { tinyTopology } from './helpers.js';

const topology = defaultTopology();
const { files, model } = renderServiceSources(topology);
const content = (path: string): string => {
  const f = files.find((x) => x.path === path);
  assert.ok(f, `no file ${path}`);
  return f.content;
};
const parsed = new Map<string, ts.SourceFile>();
const parse = (path: string): ts.SourceFile => {
  let sf = parsed.get(path);
  if (!sf) parsed.set(path, (sf = ts.createSourceFile(path, content(path), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)));
  return sf;
};
const lineOf = (sf: ts.SourceFile, pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;

interface Fn {
  name: string;
  start: number;
  end: number;
  text: string;
}
const functionCache = new Map<ts.SourceFile, Fn[]>();

/** Named function declarations of a file with their line ranges. */
function functions(sf: ts.SourceFile): Fn[] {
  const cached = functionCache.get(sf);
  if (cached) return cached;
  const out: Fn[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name) out.push({ name: n.name.text, start: lineOf(sf, n.getStart(sf)), end: lineOf(sf, n.getEnd()), text: n.getText(sf) });
    ts.forEachChild(n, visit);
  };
  visit(sf);
  functionCache.set(sf, out);
  return out;
}

function enclosing(sf: ts.SourceFile, line: number): string | undefined {
  const fns = functions(sf).filter((f) => f.start <= line && line <= f.end);
  fns.sort((a, b) => b.start - a.start);
  return fns[0]?.name;
}

/** Every construct a control-flow analyzer would treat as a decision, with its kind and line. */
function decisions(sf: ts.SourceFile): { kind: string; line: number }[] {
  const out: { kind: string; line: number }[] = [];
  const visit = (n: ts.Node): void => {
    const line = lineOf(sf, n.getStart(sf));
    if (ts.isIfStatement(n)) out.push({ kind: 'if', line });
    else if (ts.isSwitchStatement(n)) out.push({ kind: 'switch', line });
    else if (ts.isForStatement(n) || ts.isForOfStatement(n) || ts.isForInStatement(n) || ts.isWhileStatement(n) || ts.isDoStatement(n)) out.push({ kind: 'loop', line });
    else if (ts.isTryStatement(n)) out.push({ kind: 'try', line });
    else if (ts.isConditionalExpression(n)) out.push({ kind: 'conditional', line });
    else if (ts.isBinaryExpression(n) && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(n.operatorToken.kind))
      out.push({ kind: 'short-circuit', line });
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

test('every emitted TypeScript file parses without syntax errors, every JSON file parses', () => {
  const tsFiles = files.filter((f) => f.path.endsWith('.ts'));
  assert.equal(tsFiles.length, topology.services.length * 3);
  for (const f of tsFiles) {
    const diagnostics = (parse(f.path) as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics;
    assert.deepEqual(
      diagnostics.map((d) => `${lineOf(parse(f.path), d.start ?? 0)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
      [],
      f.path,
    );
  }
  for (const f of files.filter((x) => x.path.endsWith('.json'))) JSON.parse(f.content);
});

test('one package per service, and the model file is the model', () => {
  for (const svc of topology.services) {
    const pkg = JSON.parse(content(`services/${svc.name}/package.json`)) as { name: string; dependencies: Record<string, string> };
    assert.equal(pkg.name, svc.name);
    assert.ok(pkg.dependencies['@opentelemetry/api']);
    for (const f of ['server.ts', 'handlers.ts', 'clients.ts']) content(`services/${svc.name}/src/${f}`);
  }
  assert.deepEqual(JSON.parse(content(CODE_MODEL_FILE)), JSON.parse(JSON.stringify(model)));
  assert.equal(model.services.length, topology.services.length);
});

test('each operation is registered under its route and implemented by its function', () => {
  let routes = 0;
  for (const svc of model.services) {
    for (const op of svc.operations) {
      const reg = content(op.registration.file).split('\n')[op.registration.line - 1]!;
      if (op.entry.protocol === 'http') {
        assert.equal(reg, `app.${op.entry.method.toLowerCase()}('${op.entry.route}', ${op.function});`);
        assert.equal(op.spanName, `${op.entry.method} ${op.entry.route}`);
        routes++;
      } else if (op.entry.protocol === 'grpc') {
        assert.match(reg, new RegExp(`: unary\\(${op.function}\\),$`));
      } else {
        assert.ok(reg.includes(`topic: '${op.entry.topic}'`));
        assert.ok(content(op.registration.file).split('\n')[op.registration.line]!.includes(`${op.function}(message)`));
      }
      const line = content(op.file).split('\n')[op.line - 1]!;
      assert.ok(line.startsWith(`export async function ${op.function}(`), line);
      assert.equal(op.spans[0]!.name, op.spanName);
    }
  }
  assert.ok(routes >= 15);
});

test('every span of the model is made on its line, inside the function the model names', () => {
  for (const svc of model.services) {
    const sf = parse(`services/${svc.name}/src/handlers.ts`);
    const lines = sf.text.split('\n');
    const fns = functions(sf);
    for (const op of svc.operations) {
      for (const s of op.spans) {
        assert.ok(lines[s.line - 1]!.includes(s.anchor), `${s.stepId}: '${s.anchor}' not on line ${s.line}`);
        assert.equal(enclosing(sf, s.line), s.function, `${s.stepId} is in ${enclosing(sf, s.line)}, not ${s.function}`);
        assert.ok(fns.find((f) => f.name === s.function)!.text.includes(s.anchor));
        if (s.kind === 'INTERNAL') {
          // A manual span's name is in exactly one function: the helper the model names.
          const holders = fns.filter((f) => f.text.includes(`startActiveSpan('${s.name}'`) && !fns.some((g) => g !== f && g.start > f.start && g.end <= f.end && g.text.includes(`startActiveSpan('${s.name}'`)));
          assert.deepEqual(holders.map((f) => f.name), [s.function]);
        }
      }
    }
  }
});

test('the model lists a span for every span-making step, and callees for calls', () => {
  for (const svcDef of topology.services) {
    const svc = model.services.find((s) => s.name === svcDef.name)!;
    for (const opDef of svcDef.operations) {
      const op = svc.operations.find((o) => o.operation === opDef.id)!;
      const steps: string[] = [];
      walkSteps(opDef.body, (s) => {
        if (['call', 'external', 'db', 'cache', 'publish', 'internal'].includes(s.kind)) steps.push(`${svcDef.name}.${opDef.id}.${s.id}`);
      });
      assert.deepEqual(op.spans.slice(1).map((s) => s.stepId).sort(), steps.sort());
      for (const s of op.spans) if (s.callee) assert.ok(model.services.some((x) => x.operations.some((o) => `${x.name}.${o.operation}` === s.callee)));
    }
  }
});

test('the branch points in the source are exactly the model\'s', () => {
  for (const svc of model.services) {
    const sf = parse(`services/${svc.name}/src/handlers.ts`);
    const found = decisions(sf).map((d) => `${enclosing(sf, d.line)}:${d.line}:${d.kind}`).sort();
    const modelled = svc.operations.flatMap((o) => o.branchPoints).map((b) => `${b.function}:${b.line}:${b.kind}`).sort();
    assert.deepEqual(found, modelled, svc.name);
    for (const f of ['server.ts', 'clients.ts']) assert.deepEqual(decisions(parse(`services/${svc.name}/src/${f}`)), [], `${svc.name}/${f}`);
  }
});

test('branch points carry ids, arms with probabilities and the span names on each arm', () => {
  const all = new Map<string, CodeModelBranchPoint>();
  for (const svc of model.services) for (const op of svc.operations) for (const b of op.branchPoints) all.set(b.id, b);
  assert.ok(all.size >= 25);
  for (const b of all.values()) {
    if (b.kind === 'if' || b.kind === 'switch') {
      const sum = b.arms.reduce((a, x) => a + (x.probability ?? 0), 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, b.id);
    }
  }
  const cached = all.get('catalog-service.getProduct.product-cached')!;
  assert.equal(cached.kind, 'if');
  assert.deepEqual(cached.arms.map((a) => [a.label, a.probability, a.spanNames]), [
    ['hit', 0.8, []],
    ['miss', 0.2, ['mongodb.findOne', 'set']],
  ]);
  const method = all.get('payment-service.charge.method')!;
  assert.equal(method.kind, 'switch');
  assert.deepEqual(method.arms.map((a) => a.label), ['card', 'paypal', 'giftcard']);
  assert.deepEqual(method.arms[0]!.spanNames, ['POST', 'POST']);
  assert.deepEqual(method.arms[2]!.spanNames, ['pg.query:UPDATE payments']);
  const stock = all.get('cart-service.addItem.in-stock')!;
  assert.equal(stock.dependsOn, 'cart-service.addItem.stock');
  assert.equal(stock.arms[1]!.returns, true);
  const loop = all.get('cart-service.getCart.item-details')!;
  assert.deepEqual(loop.arms.map((a) => [a.label, a.spanNames]), [
    ['body', ['GET']],
    ['exit', []],
  ]);
  const helper = all.get('order-service.placeOrder.coupon')!;
  assert.equal(helper.function, 'computeTotals');
  const fallback = all.get('payment-service.charge.card-provider')!;
  assert.deepEqual(fallback.arms.map((a) => a.label), ['try', 'catch']);
});

test('cross-service calls are statically resolvable: URLs and clients name the callee', () => {
  for (const svc of model.services)
    for (const op of svc.operations)
      for (const s of op.spans) {
        if (!s.callee) continue;
        const [service, operation] = s.callee.split('.') as [string, string];
        const callee = model.services.find((x) => x.name === service)!.operations.find((o) => o.operation === operation)!;
        if (callee.entry.protocol === 'http') {
          const route = callee.entry.route.replace(/:([A-Za-z_]+)/g, '${input.$1}');
          assert.ok(s.anchor.includes(`http://${service}:`) && s.anchor.includes(route), `${s.stepId}: ${s.anchor}`);
        } else {
          const clients = content(`services/${svc.name}/src/clients.ts`);
          const variable = s.anchor.split('.')[0]!;
          assert.match(clients, new RegExp(`export const ${variable} = new \\w+\\('${service}:\\d+'`));
        }
      }
});

test('emitServiceSources writes the project to disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'slimtrace-gen-'));
  try {
    const written = await emitServiceSources(tinyTopology(), dir);
    const again = renderServiceSources(tinyTopology());
    assert.deepEqual(written, again.model);
    for (const f of again.files) assert.equal(await readFile(join(dir, f.path), 'utf8'), f.content);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rendering is deterministic and rejects an invalid topology', () => {
  assert.deepEqual(renderServiceSources(defaultTopology()), renderServiceSources(defaultTopology()));
  const bad: Topology = tinyTopology();
  bad.services[0]!.operations[0]!.id = 'not an identifier';
  assert.throws(() => renderServiceSources(bad), /identifier/);
});
