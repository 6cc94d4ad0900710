// `slimtrace sample` and `slimtrace evaluate` as a user runs them: generated traffic in, OTLP out
// with fewer bytes and every trace intact; the evaluation table; user mistakes as one-line errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources } from '../../src/analyzer/analyze.js';
import { defaultTopology, emitServiceSources } from '../../src/generator/index.js';
import { countSpans, getAttribute, locatedSpans } from '../../src/model/index.js';
import { readOtlpFile } from '../../src/otlp/index.js';
import { SAMPLING_ATTR } from '../../src/sampling/index.js';

import { assertOneLineError, root, slimtrace as run } from './helpers.js';

describe('slimtrace sample and evaluate', () => {
  let dir: string;
  let analysis: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-cli-sample-'));
    await emitServiceSources(defaultTopology(), join(dir, 'src'));
    analysis = join(dir, 'analysis.json');
    writeFileSync(analysis, JSON.stringify(await analyzeSources({ sourceDirs: [join(dir, 'src')] })));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sample writes the kept spans as OTLP, every trace kept, with re-parenting and summaries', async () => {
    const out = join(dir, 'sampled.otlp');
    const r = run('sample', '--traces', '300', '--strategy', 'autoscope', '--analysis', analysis, '--target-reduction', '0.5', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    const m = /^autoscope: (\d+) spans in, (\d+) out; (\d+) of (\d+) traces kept; OTLP bytes (\d+) -> (\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const [spansIn, spansOut, kept, traces, bytesIn, bytesOut] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    assert.equal(kept, traces);
    assert.ok(spansOut < spansIn && bytesOut < bytesIn);
    let n = 0;
    const traceIds = new Set<string>();
    let summaries = 0;
    for await (const b of readOtlpFile(out)) {
      n += countSpans(b);
      for (const s of locatedSpans(b)) {
        traceIds.add(Buffer.from(s.span.traceId).toString('hex'));
        if (getAttribute(s.span.attributes, SAMPLING_ATTR.DROPPED) !== undefined) summaries++;
      }
    }
    assert.equal(n, spansOut);
    assert.equal(traceIds.size, traces);
    assert.ok(summaries > 0);
    const plain = run('sample', '--traces', '300', '--strategy', 'autoscope', '--analysis', analysis, '--target-reduction', '0.5', '--no-summaries', '-o', join(dir, 'plain.otlp'));
    assert.equal(plain.status, 0, plain.stderr);
    // Both meet the byte budget (the controller spends what summaries would have cost on spans), and
    // without summaries none is written.
    assert.ok(Number(/-> (\d+) \(/.exec(plain.stdout)![1]) <= bytesOut * 1.05, 'the same budget');
    let plainSummaries = 0;
    for await (const b of readOtlpFile(join(dir, 'plain.otlp'))) for (const s of locatedSpans(b)) if (getAttribute(s.span.attributes, SAMPLING_ATTR.DROPPED) !== undefined) plainSummaries++;
    assert.equal(plainSummaries, 0);
  });

  it('evaluate prints one row per strategy with coverage against the generated ground truth', () => {
    const r = run('evaluate', '--traces', '300', '--strategies', 'autoscope,head,tail', '--analysis', analysis, '--target-reduction', '0.6');
    assert.equal(r.status, 0, r.stderr);
    const [main, tiers = ''] = r.stdout.split('| strategy | whole spans |');
    const rows = main!.split('\n').filter((l) => /^\| (autoscope|head|tail) \|/.test(l));
    assert.equal(rows.length, 3, r.stdout);
    // Autoscope's bytes by tier and its budget controller's steps follow the main table.
    assert.match(tiers, /^ skeletons \| summaries \| controller steps/);
    assert.match(tiers, /\n\| autoscope \| \d+ B \| \d+ B \| \d+ B \| /);
    assert.match(r.stdout, /exact coverage \| slow coverage \| proxy coverage/);
    const json = run('evaluate', '--traces', '200', '--strategies', 'head', '--json');
    assert.equal(json.status, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.results[0].strategy, 'head');
    assert.ok(doc.results[0].coverage.proxy.faulty > 0);
  });

  it('evaluate --rca adds root-cause localisation: full data, each strategy, random chance', () => {
    const r = run('evaluate', '--traces', '300', '--strategies', 'head,tail', '--rca');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Root-cause localisation, service level, 5 fault windows/);
    assert.match(r.stdout, /\| data \| TraceRCA AC@1 \| AC@3 \| Avg@5 \| MicroRank AC@1 \| AC@3 \| Avg@5 \|/);
    for (const row of ['full data', 'head', 'tail', 'random chance']) assert.match(r.stdout, new RegExp(`^\\| ${row} \\| [0-9]`, 'm'), row);
    const json = run('evaluate', '--traces', '200', '--strategies', 'head', '--rca', '--json');
    assert.equal(json.status, 0, json.stderr);
    const rca = JSON.parse(json.stdout).results[0].rca;
    assert.equal(rca.full.faults, 5);
    assert.equal(rca.reduced.cases.length, 5);
    assert.equal(rca.full.methods.traceRca.ac.length, 5);
  });

  it('sample --price tracezip meets its target on the Tracezip bytes of its output, and evaluate says so', () => {
    const out = join(dir, 'sampled-tz.otlp');
    const r = run('sample', '--traces', '600', '--strategy', 'autoscope', '--analysis', analysis, '--price', 'tracezip', '--target-reduction', '0.95', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    const m = /Tracezip bytes of the output: (\d+) \(([\d.]+)% reduction against the input's OTLP, target 95%\)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(Math.abs(Number(m[2]) - 95) <= 1, r.stdout);
    const e = run('evaluate', '--traces', '600', '--strategies', 'autoscope,head', '--analysis', analysis, '--price', 'tracezip', '--target-reduction', '0.95', '--codecs', 'none');
    assert.equal(e.status, 0, e.stderr);
    // Autoscope's row compares its Tracezip bytes with the target; head, priced as OTLP, its OTLP bytes.
    assert.match(e.stdout, /\| autoscope \|[^\n]*pt \(Tracezip: 9\d\.\d%\)/);
    assert.doesNotMatch(/\| head \|[^\n]*/.exec(e.stdout)![0], /Tracezip/);
  });

  it('evaluate --drop-quiet-traces: past what every root costs, quiet traces go whole, coverage rises, and the report says so', () => {
    type Row = { strategy: string; traces: number; tracesKept: number; tracesIntact: number; coverage: Record<string, { share: number } | undefined>; budget?: { steps: Record<string, number> } };
    const evaluate = (...flags: string[]): Row => {
      const e = run('evaluate', '--traces', '600', '--strategies', 'autoscope', '--analysis', analysis, '--target-reduction', '0.98', '--codecs', 'none', '--json', ...flags);
      assert.equal(e.status, 0, e.stderr);
      return (JSON.parse(e.stdout) as { strategies: Row[] }).strategies[0]!;
    };
    const every = evaluate();
    const quiet = evaluate('--drop-quiet-traces');
    assert.equal(every.tracesKept, every.traces);
    assert.ok(quiet.tracesKept < quiet.traces, `${quiet.tracesKept} of ${quiet.traces} traces kept`);
    assert.equal(quiet.tracesIntact, quiet.tracesKept);
    assert.equal(quiet.budget!.steps['quiet-traces-dropped'], quiet.traces - quiet.tracesKept);
    // What the dropped roots paid for: the anomalies' paths, which the slow definition counts.
    assert.ok(quiet.coverage['slow']!.share > every.coverage['slow']!.share + 0.05, `slow ${quiet.coverage['slow']!.share} against ${every.coverage['slow']!.share}`);
    assert.ok(quiet.coverage['exact']!.share >= every.coverage['exact']!.share);
    assertOneLineError(run('sample', '--traces', '10', '--strategy', 'head', '--drop-quiet-traces', '-o', join(dir, 'x')), /only autoscope and autoscope-mined drop quiet traces, not head/);
  });

  it('names the mistake in one line with exit code 2', () => {
    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, readFileSync(analysis, 'utf8').slice(0, 500));
    const cases: [string[], RegExp][] = [
      [['sample', '--traces', '10', '--strategy', 'nope', '-o', join(dir, 'x')], /unknown strategy 'nope'/],
      [['sample', '--traces', '10', '--strategy', 'head', '--target-reduction', '1.5', '-o', join(dir, 'x')], /--target-reduction must be a number in \[0, 1\)/],
      [['sample', '--traces', '10', '--strategy', 'autoscope', '--analysis', join(dir, 'missing.json'), '-o', join(dir, 'x')], /missing\.json/],
      [['sample', '--traces', '10', '--strategy', 'head', '--bytes-per-second', '100', '-o', join(dir, 'x')], /head has no byte budget/],
      [['evaluate', '--traces', '10', '--analysis', join(root, 'package.json')], /package\.json.*format/],
      [['sample', '--traces', '10', '--strategy', 'autoscope', '--analysis', truncated, '-o', join(dir, 'x')], /truncated\.json: the analysis is not valid JSON/],
      [['sample', join(dir, 'no-such-input'), '--strategy', 'head', '-o', join(dir, 'x')], /no-such-input/],
      [['sample', '--traces', '10', '--strategy', 'autoscope', '--price', 'bytes', '-o', join(dir, 'x')], /--price must be otlp or tracezip, got 'bytes'/],
      [['sample', '--traces', '10', '--strategy', 'tail', '--price', 'tracezip', '-o', join(dir, 'x')], /only autoscope and autoscope-mined price kept bytes as Tracezip, not tail/],
      [['sample', '--traces', '10', '--strategy', 'head', '--debt-limit', '10', '-o', join(dir, 'x')], /only autoscope and autoscope-mined have a debt limit, not head/],
      [['sample', '--traces', '10', '--strategy', 'autoscope', '--debt-limit', '-5', '-o', join(dir, 'x')], /--debt-limit must be a non-negative number, got '-5'/],
    ];
    for (const [args, message] of cases) {
      assertOneLineError(run(...args), message);
    }
  });
});
