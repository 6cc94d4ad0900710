// `slimtrace demo` and `slimtrace evaluate --report/--codecs` as a user runs them: the comparison
// table, the report and results.json written, the lossless line, the live pipeline's figures, and
// user mistakes as one-line errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvaluationReport } from '../../src/report/index.js';
import { assertOneLineError, slimtrace } from './helpers.js';

describe('slimtrace demo and evaluate --report', { timeout: 300_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-cli-demo-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('demo prints the comparison and the report path, and writes report.html and results.json; traffic goes through a live agent and gateway', () => {
    const out = join(dir, 'demo');
    const r = slimtrace('demo', '--traces', '2000', '--seed', '1', '--report', out);
    assert.equal(r.status, 0, r.stderr);
    for (const name of ['autoscope', 'head', 'tail', 'leaf-aggregate']) assert.match(r.stdout, new RegExp(`^${name}\\s+\\d`, 'm'));
    assert.match(r.stdout, /Tracezip lossless: yes/);
    assert.match(r.stdout, /combined \(autoscope then Tracezip\): \d+\.\d% fewer bytes than raw OTLP protobuf/);
    assert.match(r.stdout, /live agent -> gateway on loopback: \d+ spans in, [1-9]\d* at the backend/);
    assert.match(r.stdout, new RegExp(`report: .*${join(out, 'report.html').replace(/[/\\.]/g, '\\$&')}`));
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as EvaluationReport;
    assert.equal(report.input.traces, 2000);
    assert.equal(report.settings.codeKnowledge, true);
    assert.ok(report.pipeline && report.pipeline.wireBytes > 0 && report.pipeline.wireBytes < report.pipeline.otlpBytesIn);
    // The live agent runs the same Autoscope at the same target: it meets it as the offline run does,
    // and keeps about as many spans. Not exactly the same ones: it decides on wall-clock time, in the
    // order and chunks its polls find the traces, and its budget pays for every byte it sends (late
    // spans and the envelopes of its drains included). Reading the backend before the agent's
    // batcher had sent its last batches once reported 1,609 spans against 10,592.
    const offline = report.strategies.find((s) => s.strategy === 'autoscope')!;
    const live = report.pipeline.spansAtBackend;
    assert.ok(Math.abs(live - offline.outputSpans) <= offline.outputSpans * 0.06, `live agent kept ${live} spans, offline ${offline.outputSpans}`);
    // The backend's requests are the gateway's (its own batches and envelopes), hence a point of slack.
    const liveReduction = 1 - report.pipeline.otlpBytesAtBackend / report.pipeline.otlpBytesIn;
    assert.ok(Math.abs(liveReduction - offline.reduction) <= 0.01, `live reduction ${liveReduction}, offline ${offline.reduction}`);
    assert.ok(report.waterfalls && report.waterfalls.length > 0);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /data-chart="waterfall"/);
  });

  it('evaluate --report and --codecs on an OTLP file with its ground truth give the same report', () => {
    const traffic = join(dir, 'traffic.otlp');
    const gt = join(dir, 'gt.csv');
    assert.equal(slimtrace('generate', '--traces', '200', '-o', traffic, '--ground-truth', gt).status, 0);
    const out = join(dir, 'evaluate');
    const r = slimtrace('evaluate', traffic, '--ground-truth', gt, '--strategies', 'head,autoscope-mined', '--codecs', 'otlp-protobuf,tracezip', '--report', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| codec \| B\/span @16/);
    assert.match(r.stdout, /Tracezip lossless: \d+ spans/);
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as EvaluationReport;
    assert.deepEqual(report.strategies.map((s) => s.strategy), ['head', 'autoscope-mined']);
    // The combined pipeline's row: an Autoscope variant when one runs.
    assert.deepEqual(report.codecs!.rows.map((x) => x.codec), ['otlp-protobuf', 'tracezip', 'autoscope-mined+tracezip']);
    assert.ok(report.strategies[0]!.coverage.exact);
    assert.ok(existsSync(join(out, 'report.html')));
    // --codecs alone, as JSON: the same document on stdout, no files.
    const j = slimtrace('evaluate', traffic, '--strategies', 'head', '--codecs', 'none', '--json');
    assert.equal(j.status, 0, j.stderr);
    const doc = JSON.parse(j.stdout) as EvaluationReport;
    assert.equal(doc.format, 'slimtrace-evaluation');
    assert.equal(doc.codecs, undefined);
  });

  it('user mistakes are one-line errors', () => {
    assertOneLineError(slimtrace('evaluate', '--traces', '10', '--codecs', 'brotli'), /unknown codec 'brotli'/);
    assertOneLineError(slimtrace('demo', '--traces', '0'), /--traces must be a positive integer/);
  });
});
