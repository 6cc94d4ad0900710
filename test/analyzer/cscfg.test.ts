// The call-site control-flow graph (src/analyzer/cscfg.ts) built from TypeScript by the tree-sitter
// front end (src/analyzer/typescript.ts): hand-written fixtures pin call order, branch points and
// where each edge goes for if/else, switch fall-through, loops, try/catch/finally, early return,
// throw, calls in conditions and inline startActiveSpan callbacks; then the analyzer is checked
// against the traffic generator's answer key (slimtrace-model.json) for the default topology.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { branchPoints, callSites, type FunctionCscfg } from '../../src/analyzer/cscfg.js';
import { after, calls, word } from '../helpers/cscfg-reading.js';
import { analyzeScriptSource, type AnalyzedFunction, type FileCscfg } from '../../src/analyzer/typescript.js';
import { renderServiceSources } from '../../src/generator/emit.js';
import { defaultTopology } from '../../src/generator/index.js';

async function analyze(code: string, file = 'fixture.ts'): Promise<FileCscfg> {
  return analyzeScriptSource(file, code);
}

async function fn(code: string, name: string): Promise<AnalyzedFunction> {
  const file = await analyze(code);
  assert.deepEqual(file.syntaxErrors, [], 'fixture parses');
  const found = file.functions.find((f) => f.name === name);
  assert.ok(found, `function ${name} among ${file.functions.map((f) => f.name).join(', ')}`);
  return found;
}

/** Branch statements (not calls with exception edges) as `kind@line/successors`. */
const branches = (g: FunctionCscfg): string[] =>
  branchPoints(g)
    .filter((b) => b.node.kind === 'branch')
    .map((b) => `${word(b.node)}@${b.node.kind === 'branch' ? b.node.line : 0}/${b.successors.length}`);

describe('CSCFG of TypeScript functions', () => {
  test('if/else: condition calls first, then one arm, then the join', async () => {
    const g = await fn(
      `function f(x: number) {
  a();
  if (check(x)) {
    b();
  } else {
    c();
  }
  d();
}`,
      'f',
    );
    assert.deepEqual(calls(g), ['a', 'check', 'b', 'c', 'd']);
    assert.deepEqual(branches(g), ['if@3/2']);
    assert.deepEqual(after(g, 'check'), ['if']);
    assert.deepEqual(after(g, 'if'), ['else:c', 'then:b']);
    assert.deepEqual(after(g, 'b'), ['d']);
    assert.deepEqual(after(g, 'c'), ['d']);
    assert.deepEqual(after(g, 'd'), ['exit']);
  });

  test('if without else: the else edge skips to the next call', async () => {
    const g = await fn(`function f(x) {\n  if (x) {\n    b();\n  }\n  d();\n}`, 'f');
    assert.deepEqual(after(g, 'if'), ['else:d', 'then:b']);
  });

  test('else-if chain: each if is a branch point; the last else runs only when all conditions fail', async () => {
    const g = await fn(
      `function f(x) {
  if (x === 1) {
    one();
  } else if (isTwo(x)) {
    two();
  } else {
    other();
  }
  done();
}`,
      'f',
    );
    assert.deepEqual(calls(g), ['one', 'isTwo', 'two', 'other', 'done']);
    assert.deepEqual(branches(g), ['if@2/2', 'if@4/2']);
    assert.deepEqual(after(g, 'if', 0), ['else:isTwo', 'then:one']);
    assert.deepEqual(after(g, 'if', 1), ['else:other', 'then:two']);
    for (const c of ['one', 'two', 'other']) assert.deepEqual(after(g, c), ['done']);
  });

  test('switch: one edge per case, fall-through into the next case, break to after, return to exit', async () => {
    const g = await fn(
      `function s(k: string) {
  switch (kind(k)) {
    case 'a':
      a();
    case 'b':
      b();
      break;
    case 'c':
    case 'd': {
      cd();
      return;
    }
    default:
      def();
  }
  after();
}`,
      's',
    );
    assert.deepEqual(calls(g), ['kind', 'a', 'b', 'cd', 'def', 'after']);
    assert.deepEqual(branches(g), ['switch@2/5']);
    assert.deepEqual(after(g, 'switch'), ["case 'a':a", "case 'b':b", "case 'c':cd", "case 'd':cd", 'default:def']);
    assert.deepEqual(after(g, 'a'), ['b'], 'case a falls through into case b');
    assert.deepEqual(after(g, 'b'), ['after']);
    assert.deepEqual(after(g, 'cd'), ['exit']);
    assert.deepEqual(after(g, 'def'), ['after']);
  });

  test('switch without default: the implicit default goes past the switch', async () => {
    const g = await fn(`function s(k) {\n  switch (k) {\n    case 1:\n      one();\n      break;\n  }\n  after();\n}`, 's');
    assert.deepEqual(after(g, 'switch'), ['case 1:one', 'default:after']);
  });

  test('for: the condition is the loop head; body, update, back edge; exit edge past the loop', async () => {
    const g = await fn(
      `function l(items) {
  for (let i = start(); i < limit(); i = next(i)) {
    body(i);
  }
  after();
}`,
      'l',
    );
    assert.deepEqual(calls(g), ['start', 'limit', 'body', 'next', 'after']);
    assert.deepEqual(branches(g), ['loop@2/2']);
    assert.deepEqual(after(g, 'start'), ['limit']);
    assert.deepEqual(after(g, 'limit'), ['loop']);
    assert.deepEqual(after(g, 'loop'), ['body:body', 'exit:after']);
    assert.deepEqual(after(g, 'body'), ['next']);
    assert.deepEqual(after(g, 'next'), ['back:limit']);
  });

  test('for-of: the iterable is evaluated once; the body loops back to the decision', async () => {
    const g = await fn(`async function l() {\n  for (const x of await items()) {\n    await use(x);\n  }\n  done();\n}`, 'l');
    assert.deepEqual(calls(g), ['items', 'use', 'done']);
    assert.deepEqual(after(g, 'items'), ['loop']);
    assert.deepEqual(after(g, 'use'), ['back:loop']);
    assert.deepEqual(after(g, 'loop'), ['body:use', 'exit:done']);
  });

  test('while with continue and break; do/while runs the body before deciding', async () => {
    const g = await fn(
      `function w() {
  while (more()) {
    if (skip()) continue;
    work();
    if (finished()) break;
  }
  end();
  do {
    step();
  } while (again());
}`,
      'w',
    );
    assert.deepEqual(calls(g), ['more', 'skip', 'work', 'finished', 'end', 'step', 'again']);
    assert.deepEqual(branches(g), ['loop@2/2', 'if@3/2', 'if@5/2', 'loop@8/2']);
    assert.deepEqual(after(g, 'if', 0), ['else:work', 'then:more'], 'continue goes back to the condition');
    assert.deepEqual(after(g, 'if', 1), ['else:more', 'then:end'], 'break leaves the loop; the end of the body loops back');
    assert.deepEqual(after(g, 'loop', 0), ['body:skip', 'exit:end']);
    assert.deepEqual(after(g, 'end'), ['step']);
    assert.deepEqual(after(g, 'step'), ['again']);
    assert.deepEqual(after(g, 'loop', 1), ['body:step', 'exit:exit']);
  });

  test('labeled break and continue reach the outer loop', async () => {
    const g = await fn(
      `function m(rows) {
  outer: for (const r of rows) {
    for (const c of r) {
      if (bad(c)) continue outer;
      if (stop(c)) break outer;
      cell(c);
    }
  }
  done();
}`,
      'm',
    );
    assert.deepEqual(after(g, 'if', 0), ['else:stop', 'then:loop']);
    assert.equal(g.edges.some((e) => e.from === g.nodes.find((n) => word(n) === 'if')!.id && e.to === g.nodes.filter((n) => word(n) === 'loop')[0]!.id), true);
    assert.deepEqual(after(g, 'if', 1), ['else:cell', 'then:done']);
  });

  test('try/catch/finally: every call in the body can jump to the catch; finally runs on both ways out', async () => {
    const g = await fn(
      `function t() {
  try {
    a();
    b();
  } catch (e) {
    handle(e);
  } finally {
    cleanup();
  }
  after();
}`,
      't',
    );
    // The finally block is laid out once per way out: after a catch body that throws, and normally.
    assert.deepEqual(calls(g), ['a', 'b', 'handle', 'cleanup', 'cleanup', 'after']);
    assert.deepEqual(branches(g), ['try@2/2']);
    assert.deepEqual(after(g, 'try'), ['exception:catch', 'try:a']);
    assert.deepEqual(after(g, 'a'), ['b', 'exception:catch']);
    assert.deepEqual(after(g, 'b'), ['cleanup', 'exception:catch']);
    assert.deepEqual(after(g, 'catch'), ['handle']);
    assert.deepEqual(after(g, 'handle').length, 2, 'the handler may itself throw through the finally');
    assert.deepEqual(after(g, 'cleanup', 0), ['exit'], 'exceptional finally copy rethrows to the exit');
    assert.deepEqual(after(g, 'cleanup', 1), ['after']);
    const bps = branchPoints(g).map((b) => word(b.node));
    assert.deepEqual(bps, ['try', 'a', 'b', 'handle'], 'calls that can throw to a handler are branch points too');
  });

  test('try/finally without catch: a return inside the body runs the finally first', async () => {
    const g = await fn(
      `function t(x) {
  try {
    if (x) return fast();
    slow();
  } finally {
    release();
  }
}`,
      't',
    );
    const releases = g.nodes.filter((n) => word(n) === 'release').length;
    assert.equal(releases, 3, 'copies for return, exception and normal completion');
    assert.deepEqual(after(g, 'fast'), ['exception:release', 'release']);
    for (let i = 0; i < releases; i++) assert.deepEqual(after(g, 'release', i), ['exit']);
  });

  test('early return skips the rest; a throw outside try goes to the exit', async () => {
    const g = await fn(
      `function r(x) {
  if (!x) {
    log('missing');
    return;
  }
  if (x < 0) throw new RangeError('negative');
  work(x);
}`,
      'r',
    );
    assert.deepEqual(calls(g), ['log', 'RangeError', 'work']);
    assert.deepEqual(after(g, 'log'), ['exit']);
    assert.deepEqual(after(g, 'RangeError'), ['throw:exit']);
    assert.equal(callSites(g)[0]!.firstArg, 'missing');
    assert.equal(callSites(g)[1]!.construct, true);
  });

  test('throw inside try jumps to the catch', async () => {
    const g = await fn(
      `function th(x) {
  try {
    if (bad(x)) throw new Error('bad');
    ok();
  } catch {
    recover();
  }
  done();
}`,
      'th',
    );
    assert.deepEqual(after(g, 'Error'), ['exception:catch', 'throw:catch']);
    assert.deepEqual(after(g, 'recover'), ['done']);
    assert.deepEqual(after(g, 'ok'), ['done', 'exception:catch']);
  });

  test('calls inside conditions and chained calls come in evaluation order', async () => {
    const g = await fn(
      `async function c(user) {
  if ((await isAllowed(user)) && limits.check(user.id)) {
    await this.orderRepository.save(user);
  }
  const rows = await mongo.collection('orders').find({ id: user.id }).toArray();
  res.status(401).json({ error: 'x' });
}`,
      'c',
    );
    assert.deepEqual(calls(g), [
      'isAllowed',
      'limits.check',
      'this.orderRepository.save',
      'mongo.collection',
      "mongo.collection('orders').find",
      "mongo.collection('orders').find({ id: user.id }).toArray",
      'res.status',
      'res.status(401).json',
    ]);
    assert.deepEqual(after(g, 'limits.check'), ['if']);
    assert.equal(callSites(g)[3]!.firstArg, 'orders');
  });

  test('a startActiveSpan callback is part of the enclosing function; its return leaves only the callback', async () => {
    const file = await analyze(`import { trace } from '@opentelemetry/api';
const tracer = trace.getTracer('svc');
async function load(id: string) {
  await tracer.startActiveSpan('load-user', async (span) => {
    const rows = await db.query(\`SELECT * FROM users WHERE id = \${id}\`);
    if (rows.length === 0) {
      span.end();
      return;
    }
    span.end();
  });
  after();
}`);
    const names = file.functions.map((f) => f.name);
    assert.deepEqual(names, ['<module>', 'load'], 'the callback is not a function of its own');
    const g = file.functions[1]!;
    assert.deepEqual(calls(g), ['tracer.startActiveSpan', 'db.query', 'span.end', 'span.end', 'after']);
    const [start, query] = callSites(g);
    assert.deepEqual([start!.firstArg, start!.firstArgKind, start!.line], ['load-user', 'string', 4]);
    assert.deepEqual([query!.firstArg, query!.firstArgKind], ['SELECT * FROM users WHERE id = ${id}', 'template']);
    assert.deepEqual(after(g, 'span.end', 0), ['after'], 'return in the callback continues after the call');
    assert.deepEqual(after(g, 'span.end', 1), ['after']);
    assert.deepEqual(calls(file.functions[0]!), ['trace.getTracer']);
  });

  test('functions: declarations, class methods, arrow and function expressions by name, module-level callbacks', async () => {
    const file = await analyze(`export class OrderService {
  constructor(private readonly repo: Repo) {}
  async place(o: Order) { await this.repo.save(o); }
  handle = async () => { await notify(); };
}
export const toJson = (x: unknown) => JSON.stringify(x);
const legacy = function () { return fetch('http://inventory/api'); };
app.get('/orders/:id', async (req, res) => { res.json(await find(req.params.id)); });
function outer() {
  function inner() { deep(); }
  return [1, 2].map((n) => inner(n));
}`);
    const byName = new Map(file.functions.map((f) => [f.name, f]));
    assert.deepEqual([...byName.keys()].sort(), [
      '<callback of app.get>',
      '<module>',
      'OrderService.constructor',
      'OrderService.handle',
      'OrderService.place',
      'inner',
      'legacy',
      'outer',
      'toJson',
    ]);
    assert.equal(byName.get('OrderService.place')!.className, 'OrderService');
    assert.deepEqual(calls(byName.get('OrderService.place')!), ['this.repo.save']);
    assert.deepEqual(calls(byName.get('legacy')!), ['fetch']);
    assert.equal(callSites(byName.get('legacy')!)[0]!.firstArg, 'http://inventory/api');
    assert.deepEqual(calls(byName.get('<callback of app.get>')!), ['find', 'res.json']);
    assert.deepEqual(calls(byName.get('<module>')!), ['app.get'], 'route handlers run later, not at module load');
    assert.deepEqual(calls(byName.get('outer')!), ['[1, 2].map', 'inner'], 'inline callback inside a function is inlined; nested declarations are not');
  });

  test('a file with a syntax error is reported and its other functions are still analyzed', async () => {
    const file = await analyze(`function good() {
  ok();
}
function broken( {
  if (x {
}
function alsoGood() { fine(); }
`);
    assert.ok(file.syntaxErrors.length > 0);
    assert.ok(file.syntaxErrors.every((e) => e.line >= 4 && e.message.length > 0), JSON.stringify(file.syntaxErrors));
    const good = file.functions.find((f) => f.name === 'good');
    assert.deepEqual(good && calls(good), ['ok']);
    assert.ok(file.functions.some((f) => calls(f).includes('fine')), 'code after the error is still read');
  });

  test('javascript files use the javascript grammar', async () => {
    const file = await analyzeScriptSource('x.js', `function f() { if (a()) { b(); } }`);
    assert.equal(file.language, 'javascript');
    assert.deepEqual(branches(file.functions[1]!), ['if@1/2']);
  });
});

describe('CSCFG against the traffic generator model', () => {
  test('branch points and span call sites of the default topology match slimtrace-model.json', async (t) => {
    const { files, model } = renderServiceSources(defaultTopology());
    const analyzed = new Map<string, FileCscfg>();
    for (const f of files) {
      if (!f.path.endsWith('.ts')) continue;
      const a = await analyzeScriptSource(f.path, f.content);
      assert.deepEqual(a.syntaxErrors, [], `${f.path} parses`);
      analyzed.set(f.path, a);
    }
    const fnOf = (file: string, name: string): AnalyzedFunction | undefined => analyzed.get(file)?.functions.find((g) => g.name === name);

    // The functions the model attributes spans or branch points to: handlers and their helpers.
    const modelFns = new Set<string>();
    const expected = new Map<string, number>(); // file:line:kind -> expected successor count
    let spans = 0;
    for (const svc of model.services)
      for (const op of svc.operations) {
        modelFns.add(`${op.file}|${op.function}`);
        for (const s of op.spans) modelFns.add(`${s.file}|${s.function}`);
        for (const bp of op.branchPoints) {
          modelFns.add(`${bp.file}|${bp.function}`);
          // if: then/else; loop: body/exit; try: try/catch; switch: one per arm plus the implicit default.
          const n = bp.kind === 'switch' ? bp.arms.length + (bp.arms.some((a) => a.label === 'default') ? 0 : 1) : 2;
          expected.set(`${bp.file}:${bp.line}:${bp.kind}`, n);
        }
      }

    const found = new Map<string, number>();
    for (const key of modelFns) {
      const [file, name] = key.split('|') as [string, string];
      const g = fnOf(file, name);
      assert.ok(g, `the analyzer finds function ${name} in ${file}`);
      for (const b of branchPoints(g)) {
        if (b.node.kind !== 'branch' || b.node.branch === 'catch') continue;
        found.set(`${file}:${b.node.line}:${b.node.branch}`, b.successors.length);
      }
    }
    const missing = [...expected.keys()].filter((k) => !found.has(k));
    const extra = [...found.keys()].filter((k) => !expected.has(k));
    const wrongCount = [...expected].filter(([k, n]) => found.has(k) && found.get(k) !== n).map(([k, n]) => `${k}: ${found.get(k)} != ${n}`);
    assert.ok(expected.size > 10, 'the default topology has branch points');
    assert.deepEqual({ missing, extra, wrongCount }, { missing: [], extra: [], wrongCount: [] });

    // Every span is produced at a call site in the function the model names (the entry span at the
    // handler's declaration), and literal anchors are that call's first argument.
    const misses: string[] = [];
    for (const svc of model.services)
      for (const op of svc.operations)
        for (const s of op.spans) {
          spans++;
          const g = fnOf(s.file, s.function)!;
          if (s.stepId.endsWith('.entry')) {
            if (g.line !== s.line) misses.push(`${s.stepId}: handler at ${g.line}, model ${s.line}`);
            continue;
          }
          const here = callSites(g).filter((c) => c.line === s.line);
          if (here.length === 0) {
            misses.push(`${s.stepId}: no call at ${s.file}:${s.line} in ${s.function}`);
            continue;
          }
          const literal = /^(['`])(.*)\1$/s.exec(s.anchor);
          const lit = /startActiveSpan\('(.*)'$/.exec(s.anchor);
          const want = literal ? literal[2]!.replace(/\\'/g, "'").replace(/\\\\/g, '\\') : lit?.[1];
          if (want !== undefined && !here.some((c) => c.firstArg === want)) misses.push(`${s.stepId}: no call with first argument ${s.anchor} at line ${s.line}`);
        }
    t.diagnostic(
      `branch points: ${expected.size - missing.length}/${expected.size} found, ${extra.length} extra, ${wrongCount.length} with other successor counts; ` +
        `spans: ${spans - misses.length}/${spans} at a call site (or declaration) of the named function`,
    );
    assert.ok(spans > 20);
    assert.deepEqual(misses, []);
  });
});
