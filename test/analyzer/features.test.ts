// Code features and importance scores (src/analyzer/features.ts): loop detection on built graphs,
// and through analyzeSources on Java and TypeScript fixtures: error handling (try/catch, throw, error
// logging), external API (RestTemplate, fetch), database (repository calls, a db client), business
// keywords (default and custom), high frequency (called in a loop by a resolved caller, or a client
// call inside a loop); and the `--business-keywords` flag of `slimtrace analyze`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis, type AnalysisSpan } from '../../src/analyzer/analyze.js';
import { buildCscfg } from '../../src/analyzer/cscfg.js';
import { loopNodes } from '../../src/analyzer/features.js';

const call = (callee: string, line: number) => ({ kind: 'call' as const, callee, line, column: 0 });

describe('loopNodes', () => {
  it('marks the calls inside a loop body and condition, not those before or after', () => {
    const g = buildCscfg('f', [call('before', 1), { kind: 'loop', line: 2, init: [], cond: [call('cond', 2)], update: [], body: [call('inside', 3)] }, call('after', 4)], { line: 1, endLine: 5 });
    const l = loopNodes(g);
    const ids = (c: string): number => g.nodes.find((n) => n.kind === 'call' && n.callee === c)!.id;
    assert.ok(l.has(ids('inside')) && l.has(ids('cond')));
    assert.ok(!l.has(ids('before')) && !l.has(ids('after')));
  });
});

const FILES: Record<string, string> = {
  'shop/pom.xml': '<project><artifactId>shop</artifactId></project>\n',
  'shop/src/main/java/s/PaymentController.java': `package s;
@RestController
public class PaymentController {
    @Autowired
    private PaymentService paymentService;
    @GetMapping("/pay")
    public String pay() {
        for (String id : ids()) { paymentService.charge(id); }
        return "ok";
    }
    @GetMapping("/hello")
    public String hello() { return "hi"; }
    private java.util.List<String> ids() { return null; }
}
`,
  'shop/src/main/java/s/PaymentService.java': `package s;
@Service
public class PaymentService {
    @Autowired
    private RestTemplate restTemplate;
    @Autowired
    private LedgerRepository ledger;
    private static final Logger LOGGER = LoggerFactory.getLogger(PaymentService.class);
    @WithSpan
    public void charge(String id) {
        try {
            restTemplate.postForObject("http://bank/charge", id, String.class);
        } catch (Exception e) {
            LOGGER.error("failed", e);
        }
        ledger.save(new Entry(id));
    }
}
`,
  'shop/src/main/java/s/Clock.java': 'package s;\npublic class Clock {\n    @WithSpan("quiet")\n    public void quiet() { }\n}\n',
  'shop/src/main/java/s/LedgerRepository.java': 'package s;\npublic interface LedgerRepository extends JpaRepository<Entry, String> { }\n',
  'web/package.json': '{"name":"web"}\n',
  'web/src/app.ts': `import express from 'express';
const app = express();
app.get('/items', listItems);
async function listItems(req: any, res: any) {
  const rows = await db.query('SELECT * FROM items');
  for (const r of rows) {
    await fetch('http://stock/items/' + r.id);
  }
  if (!rows) throw new Error('none');
  tracer.startActiveSpan('inventory-check', () => {});
  res.json(rows);
}
`,
};

describe('features and scores through analyzeSources', () => {
  let dir: string;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-features-'));
    for (const [rel, text] of Object.entries(FILES)) {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), text);
    }
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const span = (d: Analysis, service: string, name: string, via?: string): AnalysisSpan => {
    const s = d.spans.find((x) => x.service === service && x.spanName === name && (via === undefined || x.via === via));
    assert.ok(s, `${service} ${name}`);
    return s;
  };

  it('scores a @WithSpan method with try/catch, error logging, a client and a repository, called in a loop', () => {
    const s = span(doc, 'shop', 'PaymentService.charge', 'with-span');
    assert.deepEqual(s.features, { errorHandling: true, externalApi: true, database: true, businessKeyword: true, highFrequency: true });
    assert.equal(s.score, 10 + 8 + 7 + 6 - 3);
  });

  it('gives plain code nothing, and a business name alone +6', () => {
    const quiet = span(doc, 'shop', 'quiet');
    assert.deepEqual(quiet.features, { errorHandling: false, externalApi: false, database: false, businessKeyword: false, highFrequency: false });
    assert.equal(quiet.score, 0);
    const hello = span(doc, 'shop', 'PaymentController.hello', 'controller');
    assert.equal(hello.score, 6); // "payment" in the class name
    assert.equal(span(doc, 'shop', 'PaymentController.pay', 'controller').features?.highFrequency, false);
  });

  it('reads TypeScript: a db client, fetch inside a loop (high frequency at that call site), a throw', () => {
    const client = span(doc, 'web', 'GET', 'http-client');
    assert.deepEqual(client.features, { errorHandling: true, externalApi: true, database: true, businessKeyword: false, highFrequency: true });
    assert.equal(client.score, 10 + 8 + 7 - 3);
    const manual = span(doc, 'web', 'inventory-check');
    assert.equal(manual.features?.highFrequency, false);
    assert.equal(manual.score, 10 + 8 + 7);
  });

  it('takes custom business keywords', async () => {
    const custom = await analyzeSources({ sourceDirs: [dir], businessKeywords: ['inventory'] });
    assert.deepEqual(custom.settings.businessKeywords, ['inventory']);
    assert.equal(span(custom, 'web', 'inventory-check').features?.businessKeyword, true);
    assert.equal(span(custom, 'shop', 'PaymentController.hello', 'controller').features?.businessKeyword, false);
  });

  it('slimtrace analyze --business-keywords sets the keywords', async () => {
    const out = join(dir, 'analysis.json');
    const root = join(import.meta.dirname, '../..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'analyze', '--source-dir', dir, '--business-keywords', 'ledger, hello', '-o', out], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const written = JSON.parse(await readFile(out, 'utf8')) as Analysis;
    assert.deepEqual(written.settings.businessKeywords, ['ledger', 'hello']);
    assert.equal(span(written, 'shop', 'PaymentController.hello', 'controller').features?.businessKeyword, true);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'analyze', '--source-dir', dir, '--business-keywords', ' , ', '-o', out], { cwd: root, encoding: 'utf8' });
    assert.equal(bad.status, 2);
  });
});
