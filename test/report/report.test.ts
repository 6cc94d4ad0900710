// The report writer on hand-built results: hostile names never become markup, every chart is
// drawn (and only the charts the data supports), and results.json holds the same document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combinedFigures, esc, renderReport, writeReport } from '../../src/report/index.js';
import { handBuiltReport, HOSTILE } from './fixtures.js';

/** The inner markup of every <figure data-chart="kind">. */
function figures(html: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of html.matchAll(/<figure class="chart" data-chart="([^"]+)">([\s\S]*?)<\/figure>/g)) {
    const list = out.get(m[1]!) ?? [];
    list.push(m[2]!);
    out.set(m[1]!, list);
  }
  return out;
}

test('esc turns markup characters and control characters into text', () => {
  assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(esc('a\u0000b\u001bc\td'), 'a\ufffdb\ufffdc\td');
  assert.equal(esc(42), '42');
});

test('hostile names from the data are escaped everywhere: no script, no injected element or attribute', () => {
  const html = renderReport(handBuiltReport());
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  // Every real tag of the page: none is an injected one or carries an event handler.
  const tags = [...html.matchAll(/<([a-zA-Z][\w-]*)[^<>]*>/g)];
  assert.ok(tags.length > 100);
  for (const t of tags) {
    assert.doesNotMatch(t[1]!, /^(script|img|iframe|object)$/i, t[0]);
    // Attribute values are quoted and hold no raw quote, so outside them no handler may appear.
    assert.doesNotMatch(t[0].replace(/"[^"]*"/g, '""'), /\son\w+=/i, t[0]);
  }
  // The one </svg> per chart is the chart's own: the hostile one is text.
  const svgs = (html.match(/<svg\b/g) ?? []).length;
  assert.equal((html.match(/<\/svg>/g) ?? []).length, svgs);
  assert.ok(html.includes(esc(HOSTILE)), 'the hostile text is shown, escaped');
  // Already-escaped input is escaped again, not trusted.
  assert.ok(html.includes('&amp;amp;'));
  // No network: nothing is fetched from anywhere.
  assert.doesNotMatch(html, /\b(src|href)="https?:/i);
  assert.match(html, /Content-Security-Policy/);
});

test('every chart is present and non-empty: trade-off, codecs, coverage, RCA, waterfall', () => {
  const html = renderReport(handBuiltReport());
  const charts = figures(html);
  for (const kind of ['tradeoff', 'codecs', 'coverage', 'rca', 'waterfall']) {
    const list = charts.get(kind);
    assert.ok(list && list.length > 0, `chart ${kind} is missing`);
    for (const inner of list) {
      assert.match(inner, /<svg\b[^>]*viewBox="0 0 [1-9]/, `${kind}: an svg with a size`);
      assert.ok((inner.match(/<(rect|circle|line|polyline|text)\b/g) ?? []).length > 5, `${kind}: drawn elements`);
    }
  }
  // One point per strategy on the trade-off chart, one bar per codec and batch size.
  assert.equal((charts.get('tradeoff')![0]!.match(/class="point"/g) ?? []).length, 2);
  assert.equal((charts.get('tradeoff')![0]!.match(/class="curve-point"/g) ?? []).length, 3, 'the trade-off curve of the sweep');
  assert.equal((charts.get('codecs')![0]!.match(/class="bar"/g) ?? []).length, 6);
  // The waterfall shows each fate: original bars, kept, re-parented (with levels), summarized, dropped.
  const wf = charts.get('waterfall')![0]!;
  for (const fate of ['original', 'kept', 'reparented', 'summarized', 'dropped']) assert.match(wf, new RegExp(`wf-bar fate-${fate}`), fate);
  assert.match(wf, /↑1/);
  // A skeleton (the root here) is drawn pale with a start tick, in the panel and in the grid; the time axis is labelled.
  assert.match(wf, /wf-bar fate-kept skeleton/);
  assert.match(wf, /class="fate-cell kept skeleton"/);
  assert.match(wf, /class="wf-axis"[^>]*>0</);
  assert.match(wf, /class="wf-axis"[^>]*>10.0 ms</);
  assert.match(wf, /class="fate-cell dropped"/);
});

test('sections the data does not support are left out or say why', () => {
  const html = renderReport(handBuiltReport({ rca: undefined, waterfalls: undefined, codecs: undefined, timings: undefined }));
  const charts = figures(html);
  assert.equal(charts.get('rca'), undefined);
  assert.equal(charts.get('waterfall'), undefined);
  assert.equal(charts.get('codecs'), undefined);
  assert.ok(charts.get('tradeoff'));
  const base = handBuiltReport();
  const unlabelled = renderReport({ ...base, strategies: base.strategies.map((s) => ({ ...s, coverage: {}, coverageByType: {} })) });
  assert.match(unlabelled, /no faulty-span labels/);
  assert.match(figures(unlabelled).get('tradeoff')![0]!, /traces kept/);
});

test('the combined figure is sample-then-Tracezip against raw OTLP at 512 spans a batch', () => {
  const c = combinedFigures(handBuiltReport());
  assert.deepEqual(c, { strategy: 'autoscope', reduction: 1 - 9_000 / 300_000, batch: 512 });
  assert.equal(combinedFigures(handBuiltReport({ codecs: undefined })), undefined);
});

test('a lossless failure is shown as such, not hidden', () => {
  const base = handBuiltReport();
  const html = renderReport({ ...base, codecs: { ...base.codecs!, lossless: { checked: true, frames: 3, spans: 10, ok: false, problem: 'frame 2 differs' } } });
  assert.match(html, /NOT lossless/);
  assert.match(html, /frame 2 differs/);
});

test('writeReport writes report.html and results.json that holds the same document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrace-report-'));
  try {
    const report = handBuiltReport();
    const written = await writeReport(join(dir, 'out'), report);
    assert.deepEqual(JSON.parse(readFileSync(written.json, 'utf8')), report);
    const html = readFileSync(written.html, 'utf8');
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.match(html, /href="results.json"/);
    assert.equal(written.htmlBytes, Buffer.byteLength(html));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
