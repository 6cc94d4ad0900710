// The report as a reader sees it: opened in headless Chromium (Debian's `chromium`, which .ci/run
// installs; driven by playwright-core), every chart and a waterfall must render — SVG elements
// present with a non-empty box — with no console error, and a screenshot of the demo's report goes
// to docs/report.png for the README. Without Chromium the test is skipped and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runDemo } from '../../src/eval/index.js';
import { writeReport } from '../../src/report/index.js';
import { handBuiltReport } from './fixtures.js';

const root = resolve(import.meta.dirname, '../..');
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
const executablePath = CANDIDATES.find((p) => existsSync(p));
const skip = executablePath ? false : `Chromium is absent (looked for ${CANDIDATES.join(', ')}; .ci/run installs Debian's chromium, or set CHROMIUM_PATH): the report is not checked in a browser`;

/** An SVG element's box (the project compiles without the DOM library). */
interface Boxed {
  getBBox(): { width: number; height: number };
}

interface ChartBox {
  kind: string;
  width: number;
  height: number;
  drawn: number;
}

/** Opens a page and returns what every chart drew, and every console error or page error. */
async function open(browser: Browser, html: string): Promise<{ page: Page; charts: ChartBox[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(html).href);
  const charts = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      // Elements actually drawn: with a box of their own.
      const drawn = svg ? [...svg.querySelectorAll('rect, circle, line, polyline, text')].filter((e) => {
        const b = (e as unknown as Boxed).getBBox();
        return b.width > 0 || b.height > 0;
      }).length : 0;
      return { kind: f.getAttribute('data-chart') ?? '', width: box?.width ?? 0, height: box?.height ?? 0, drawn };
    }),
  );
  return { page, charts, errors };
}

function assertCharts(charts: ChartBox[], kinds: string[]): void {
  for (const kind of kinds) {
    const found = charts.filter((c) => c.kind === kind);
    assert.ok(found.length > 0, `chart ${kind} is on the page`);
    for (const c of found) {
      assert.ok(c.width > 100 && c.height > 50, `${kind} has a size: ${c.width}x${c.height}`);
      assert.ok(c.drawn > 5, `${kind} drew ${c.drawn} elements`);
    }
  }
}

test('the report renders in headless Chromium: every chart and the waterfalls, no console error; screenshot in docs/', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrace-browser-'));
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    // Every chart kind, RCA included, from the hand-built results with hostile names.
    const fixture = await writeReport(join(dir, 'fixture'), handBuiltReport());
    const a = await open(browser, fixture.html);
    assert.deepEqual(a.errors, []);
    assertCharts(a.charts, ['tradeoff', 'codecs', 'coverage', 'rca', 'waterfall']);
    // The hostile names are text on the page, not elements.
    assert.equal(await a.page.$$eval('script, img, iframe', (e) => e.length), 0);
    assert.match(await a.page.title(), /<\/svg><script>/);

    // The demo's report at its defaults (no live pipeline: this is about the page).
    const report = await runDemo({ command: 'slimtrace demo' });
    const written = await writeReport(join(dir, 'demo'), report);
    const b = await open(browser, written.html);
    assert.deepEqual(b.errors, []);
    assertCharts(b.charts, ['tradeoff', 'codecs', 'coverage', 'waterfall']);
    const bars = await b.page.$$eval('.waterfall-svg .wf-bar rect', (rs) => rs.filter((r) => (r as unknown as Boxed).getBBox().width > 0).length);
    assert.ok(bars > 20, `waterfall bars drawn: ${bars}`);
    const height = await b.page.evaluate(() => (globalThis as unknown as { document: { body: { scrollHeight: number } } }).document.body.scrollHeight);
    await b.page.screenshot({ path: join(root, 'docs/report.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.min(height, 1000) } });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
