// Autoscope end to end on generated traffic, with code knowledge from the analyzer run on the
// generator's own emitted services: structure kept, every trace kept, error spans kept with their
// path, at least one span per DSS, the byte budget followed, and the paper-only variant.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources } from '../../src/analyzer/analyze.js';
import { defaultTopology, emitServiceSources } from '../../src/generator/index.js';
import { bytesToHex } from '../../src/model/index.js';
import { AutoscopeSampler, codeKnowledgeFromAnalysis, spanHasError, type CodeKnowledge } from '../../src/sampling/index.js';
import { generated, runStream } from './helpers.js';

describe('Autoscope on generated traffic', () => {
  let dir: string;
  let code: CodeKnowledge;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-autoscope-'));
    await emitServiceSources(defaultTopology(), dir);
    code = codeKnowledgeFromAnalysis(await analyzeSources({ sourceDirs: [dir] }));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('knows every internal span and every HTTP server span of the generated services, and which branch', () => {
    const { traces } = generated();
    let branching = 0;
    let known = 0;
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const t of traces)
      for (let i = 0; i < t.spans.length; i++) {
        const span = t.spans[i]!.span;
        const key = t.service[i] + ' ' + span.name;
        if (seen.has(key)) continue;
        seen.add(key);
        const info = code.lookup(t.service[i]!, span.name);
        // gRPC server spans and instrumentation-library client spans are not mapped for TypeScript yet.
        const mustKnow = span.kind === 1 || (span.kind === 2 && !span.name.includes('/Charge') && !span.name.includes('/CheckStock'));
        if (info) {
          known++;
          if (info.branching) branching++;
        } else if (mustKnow) missing.push(key);
      }
    assert.deepEqual(missing, []);
    assert.ok(branching > 0 && branching < known, `${branching} of ${known} branch`);
  });

  it('keeps every trace intact, with its root, every error span and its path to the root (unless the budget controller summarized paths, and says so)', () => {
    const { traces } = generated();
    for (const target of [0.5, 0.8]) {
      const s = new AutoscopeSampler({ targetReduction: target, code });
      const r = runStream(s, traces);
      assert.equal(r.tracesKept, r.traces);
      let errors = 0;
      let pathSpansMissing = 0;
      for (const t of traces) {
        const out = r.reduced.get(t.traceIdHex)!;
        const kept = new Set(out.spans.map((x) => bytesToHex(x.span.spanId)));
        for (let i = 0; i < t.spans.length; i++) {
          if (!spanHasError(t.spans[i]!.span)) continue;
          errors++;
          assert.ok(kept.has(bytesToHex(t.spans[i]!.span.spanId)), `error span ${i} dropped in ${t.traceIdHex}`);
          for (let a = t.parent[i]!; a >= 0; a = t.parent[a]!) if (!kept.has(bytesToHex(t.spans[a]!.span.spanId))) pathSpansMissing++;
        }
      }
      assert.ok(errors > 0, 'the fault scenario produces error spans');
      // Roots are all kept (runStream checks); a root that is also an anomaly counts under its anomaly.
      assert.ok(s.counters.keptError > 0 && s.counters.keptRoot > 0);
      const report = s.budgetReport();
      if (report.steps['paths-to-summary'] === 0) assert.equal(pathSpansMissing, 0, `target ${target}`);
    }
  });

  it('without anomaly paths keeps the error spans themselves, re-parented, and fewer spans', () => {
    const { traces } = generated();
    const withPathsSampler = new AutoscopeSampler({ targetReduction: 0.9, code });
    const withPaths = runStream(withPathsSampler, traces);
    assert.ok(withPathsSampler.counters.keptPath > 0);
    const s = new AutoscopeSampler({ targetReduction: 0.9, code, anomalyPaths: false });
    const r = runStream(s, traces);
    assert.equal(s.counters.keptPath, 0);
    assert.ok(withPaths.spansOut > 0 && r.spansOut > 0);
    for (const t of traces) {
      const kept = new Set(r.reduced.get(t.traceIdHex)!.spans.map((x) => bytesToHex(x.span.spanId)));
      for (let i = 0; i < t.spans.length; i++) if (spanHasError(t.spans[i]!.span)) assert.ok(kept.has(bytesToHex(t.spans[i]!.span.spanId)));
    }
  });

  it('keeps at least one span of every Dominant Span Set and drops spans the code implies', () => {
    const { traces } = generated();
    const s = new AutoscopeSampler({ targetReduction: 0.95, code, keepErrors: false, outlierZ: Infinity, novelPathShare: 0, hotWindowMs: 0 });
    const r = runStream(s, traces);
    assert.ok(s.counters.dss >= traces.length, 'at least one DSS per trace');
    assert.ok(s.counters.dss < s.counters.spans, 'code and mined structure merge implied spans into DSSs');
    // With nothing but representatives (and roots), kept spans = DSS count minus DSSs whose representative is a root.
    assert.ok(r.spansOut <= s.counters.dss + s.counters.keptBudget, `${r.spansOut} kept, ${s.counters.dss} DSSs`);
    assert.ok(r.spansOut >= s.counters.keptRepresentative);
    assert.ok(r.spansOut < r.spansIn);
  });

  it('follows the byte budget when the must-keep spans fit in it', () => {
    const { traces } = generated();
    const s = new AutoscopeSampler({ targetReduction: 0.3, code });
    const r = runStream(s, traces);
    assert.ok(Math.abs(r.reduction - 0.3) <= 0.05, `reduction ${r.reduction.toFixed(3)} for a 0.3 target`);
    assert.ok(s.counters.keptBudget > 0, 'the budget filled beyond the must-keep spans');
  });

  it('reduces further with a higher target, and the paper-only variant keeps no error rule', () => {
    const { traces } = generated();
    const low = runStream(new AutoscopeSampler({ targetReduction: 0.2, code }), traces);
    const high = runStream(new AutoscopeSampler({ targetReduction: 0.6, code }), traces);
    assert.ok(high.reduction > low.reduction + 0.1, `${low.reduction} -> ${high.reduction}`);
    const paper = new AutoscopeSampler({ targetReduction: 0.6, code, paperOnly: true });
    runStream(paper, traces);
    assert.equal(paper.name, 'autoscope-paper');
    assert.equal(paper.counters.keptError + paper.counters.keptOutlier + paper.counters.keptNovel + paper.counters.keptHot + paper.counters.keptPath, 0);
  });

  it('is deterministic: the same stream gives the same decisions', () => {
    const { traces } = generated();
    const a = runStream(new AutoscopeSampler({ targetReduction: 0.7, code }), traces);
    const b = runStream(new AutoscopeSampler({ targetReduction: 0.7, code }), traces);
    assert.equal(a.outputBytes, b.outputBytes);
    assert.equal(a.spansOut, b.spansOut);
  });
});
