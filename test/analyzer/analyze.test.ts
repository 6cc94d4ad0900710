// analyzeSources end to end on the traffic generator's emitted TypeScript services, and on a small
// mixed-language tree for service discovery, manual spans, unsupported files and syntax errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, discoverServices, type Analysis } from '../../src/analyzer/analyze.js';
import { InputError } from '../../src/model/index.js';
import { defaultTopology, emitServiceSources, type CodeModel } from '../../src/generator/index.js';

describe('analyzeSources on the generated services', () => {
  let dir: string;
  let model: CodeModel;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-analyze-'));
    model = await emitServiceSources(defaultTopology(), dir);
    doc = await analyzeSources({ sourceDirs: [dir], targetReduction: 0.8 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is a v1 document that survives JSON', () => {
    const back = JSON.parse(JSON.stringify(doc)) as Analysis;
    assert.equal(back.format, 'slimtrace-analysis');
    assert.equal(back.version, 1);
    assert.equal(back.settings.targetReduction, 0.8);
    assert.ok(!Number.isNaN(Date.parse(back.generatedAt)));
  });

  it('finds one service per generated package', () => {
    assert.deepEqual(doc.services.map((s) => s.name).sort(), model.services.map((s) => s.name).sort());
    for (const s of doc.services) assert.equal(s.languages.typescript, 3, s.name);
    assert.equal(doc.summary.files, 30);
    assert.deepEqual(doc.unsupported, []);
    assert.deepEqual(doc.syntaxErrors, []);
  });

  it('maps every HTTP route and manual span of every operation', () => {
    const ids = new Set(doc.functions.map((f) => f.id));
    for (const svc of model.services) {
      for (const op of svc.operations) {
        const wanted = op.spans.filter((s) => s.kind === 'INTERNAL' || (s.stepId.endsWith('.entry') && op.entry.protocol === 'http'));
        for (const w of wanted) {
          const found = doc.spans.find((s) => s.service === svc.name && s.spanName === w.name);
          assert.ok(found, `${svc.name} ${op.operation}: ${w.name}`);
          assert.ok(found.function && ids.has(found.function), `${w.name} names an analyzed function`);
          if (found.via === 'route') {
            const handler = doc.functions.find((f) => f.id === found.handlerFunction);
            assert.equal(handler?.name, op.function, `${w.name} handler`);
          } else {
            assert.equal(found.via, 'manual-span');
            assert.equal(found.file, join(dir, w.file));
            assert.equal(found.line, w.line);
          }
        }
      }
    }
  });

  it('has the branch points of every operation handler', () => {
    for (const svc of model.services) {
      for (const op of svc.operations) {
        const fn = doc.functions.find((f) => f.service === svc.name && f.name === op.function);
        assert.ok(fn, `${svc.name}.${op.function}`);
        const own = op.branchPoints.filter((b) => b.function === op.function);
        assert.ok(fn.branchPoints.length >= own.length, `${svc.name}.${op.function}: ${fn.branchPoints.length} < ${own.length}`);
        for (const id of fn.branchPoints) assert.ok(fn.edges.filter((e) => e.from === id).length > 1);
      }
    }
    assert.equal(doc.summary.branchPoints, doc.functions.reduce((n, f) => n + f.branchPoints.length, 0));
    assert.ok(doc.summary.branchPoints > 0);
  });
});

describe('analyzeSources on a mixed tree', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-analyze-mixed-'));
    const put = async (rel: string, text: string): Promise<void> => {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), text);
    };
    await put('src/go-svc/go.mod', 'module x\n');
    await put('src/go-svc/main.go', 'package main\nfunc Do(ctx context.Context) {\n  ctx, span := tracer.Start(ctx, "go-work")\n  defer span.End()\n  if x { f() } else { g() }\n}\n');
    await put('src/py-svc/requirements.txt', 'flask\n');
    await put('src/py-svc/app.py', 'def work():\n    with tracer.start_as_current_span("py-work"):\n        helper()\n');
    await put('src/rusty/lib.rs', 'fn main() {}\n');
    await put('src/broken/index.ts', 'function f( {\n  tracer.startSpan("ts-work");\n');
    await put('own/Thing.java', '@RestController\n@RequestMapping("/api")\npublic class ThingController {\n  @GetMapping("/things")\n  public String list() { return "x"; }\n}\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('finds services, maps Go, Python and Java spans, and lists unsupported files and syntax errors', async () => {
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'src')], services: { things: join(dir, 'own') } });
    assert.deepEqual(doc.services.map((s) => s.name), ['things', 'broken', 'go-svc', 'py-svc', 'rusty']);
    const names = (svc: string): string[] => doc.spans.filter((s) => s.service === svc).map((s) => s.spanName);
    assert.deepEqual(names('go-svc'), ['go-work']);
    assert.deepEqual(names('py-svc'), ['py-work']);
    assert.ok(names('things').includes('ThingController.list'), names('things').join());
    assert.ok(names('things').includes('/api/things'), names('things').join());
    assert.ok(doc.spans.filter((s) => s.service === 'things').every((s) => s.function?.startsWith('things:')));
    assert.deepEqual(doc.unsupported.map((u) => u.language), ['rust']);
    assert.ok(doc.syntaxErrors.some((e) => e.file.endsWith('broken/index.ts')));
    assert.ok(doc.functions.some((f) => f.language === 'go' && f.branchPoints.length > 0));
  });

  it('treats a source dir with a build file and no service folders as one service', async () => {
    assert.deepEqual((await discoverServices(join(dir, 'src', 'go-svc'))).map((s) => s.name), ['go-svc']);
  });

  it('rejects a missing directory with an InputError naming it', async () => {
    await assert.rejects(analyzeSources({ sourceDirs: [join(dir, 'nope')] }), (e: unknown) => e instanceof InputError && e.message.includes('nope'));
  });
});
