// The report's charts, each a function from results to one inline <svg>: the reduction/coverage
// trade-off per strategy (target and goal marked), bytes per span per codec and batch size,
// faulty-span coverage per fault type (a heat map), and root-cause accuracy on full versus reduced
// data. Every chart is readable without colour alone: values are written on it.
import type { CodecFigures, CoverageDefinition, EvaluationReport, RcaFigures, StrategyFigures } from '../eval/results.js';
import { clip, esc, num } from './escape.js';
import { fixed, pct } from './format.js';
import { color, inner, line, linear, rect, svg, text, xAxis, yAxis, type Box } from './svg.js';

const DEFS: readonly CoverageDefinition[] = ['exact', 'slow', 'proxy'];

/** The coverage definition the charts show: exact labels when present, else the first measured. */
export function primaryDefinition(strategies: readonly StrategyFigures[]): CoverageDefinition | undefined {
  return DEFS.find((d) => strategies.some((s) => s.coverage[d]));
}

/**
 * Reduction (x) against faulty-span coverage (y) per strategy; without labels, against the share of
 * traces kept. The target reduction and the coverage goal are dashed lines, and the corner where
 * both are met is shaded.
 */
export function tradeoffChart(report: EvaluationReport): string {
  const box: Box = { width: 760, height: 400, left: 60, right: 180, top: 20, bottom: 46 };
  const { x0, x1, y0, y1 } = inner(box);
  const def = primaryDefinition(report.strategies);
  const yOf = (s: StrategyFigures): number => (def ? (s.coverage[def]?.share ?? 0) : s.traces === 0 ? 0 : s.tracesKept / s.traces);
  const yLabel = def ? `faulty-span coverage (${def} labels)` : 'traces kept';
  const minReduction = Math.min(0, ...report.strategies.map((s) => s.reduction));
  const x = linear([minReduction, 1], [x0, x1]);
  const y = linear([0, 1], [y0, y1]);
  const target = report.settings.targetReduction;
  const goal = report.settings.coverageGoal;
  let body = rect(x(target), y(1), x(1) - x(target), def ? y(goal) - y(1) : y(0) - y(1), 'class="goal-zone"');
  body += yAxis(box, y, (v) => pct(v, 0), yLabel);
  body += xAxis(box, x, (v) => pct(v, 0), 'reduction of OTLP bytes (higher is smaller)');
  body += line(x(target), y0, x(target), y1, 'target');
  body += text(x(target) + 4, y1 + 12, `target ${pct(target, 0)}`, 'class="target-label"');
  if (def) {
    body += line(x0, y(goal), x1, y(goal), 'target');
    body += text(x0 + 4, y(goal) + 14, `goal ${pct(goal, 0)} coverage`, 'class="target-label"');
  }
  (report.tradeoff ?? []).forEach((curve) => {
    const i = report.strategies.findIndex((s) => s.strategy === curve.strategy);
    const pts = curve.points.map((p) => `${num(x(p.reduction))},${num(y(p.coverage))}`).join(' ');
    body += `<polyline class="curve" points="${pts}" stroke="${color(i)}"/>`;
    for (const p of curve.points) body += `<circle class="curve-point" cx="${num(x(p.reduction))}" cy="${num(y(p.coverage))}" r="2.5" fill="${color(i)}"><title>${esc(`${curve.strategy} at target ${pct(p.targetReduction, 0)}: ${pct(p.reduction)} smaller, ${pct(p.coverage)} coverage`)}</title></circle>`;
  });
  // Labels in a legend column on the right, joined to their points, so close points stay readable.
  const order = report.strategies.map((s, i) => ({ s, i, py: y(yOf(s)) })).sort((a, b) => a.py - b.py);
  const step = Math.min(22, (y0 - y1) / Math.max(1, order.length));
  order.forEach(({ s, i, py }, k) => {
    const px = x(s.reduction);
    const ly = y1 + 8 + k * step;
    body += `<g class="point" data-strategy="${esc(s.strategy)}">`;
    body += `<circle cx="${num(px)}" cy="${num(py)}" r="6" fill="${color(i)}" stroke="#fff" stroke-width="1.5"><title>${esc(`${s.strategy}: ${pct(s.reduction)} smaller, ${yLabel} ${pct(yOf(s))}`)}</title></circle>`;
    body += `<polyline class="leader" points="${num(px + 6)},${num(py)} ${num(x1 + 8)},${num(ly)} ${num(x1 + 14)},${num(ly)}"/>`;
    body += text(x1 + 17, ly + 4, clip(s.strategy, 22), `class="series-label" fill="${color(i)}"`);
    body += '</g>';
  });
  return svg(box, `Reduction versus ${yLabel} per strategy`, body);
}

/** Bytes per input span for each codec (bars) at each batch size (groups), values on the bars. */
export function codecChart(codecs: CodecFigures): string {
  const rows = codecs.rows;
  const groups = codecs.batchSizes.length;
  const barW = 16;
  const groupW = rows.length * barW + 28;
  const box: Box = { width: Math.max(520, 70 + groups * groupW + 10), height: 340, left: 64, right: 10, top: 20, bottom: 90 };
  const { x0, y0, y1 } = inner(box);
  const max = Math.max(1, ...rows.flatMap((r) => r.bytesPerInputSpan.filter(Number.isFinite)));
  const y = linear([0, max * 1.12], [y0, y1]);
  let body = yAxis(box, y, (v) => fixed(v, v < 10 ? 1 : 0), 'bytes per input span');
  body += line(x0, y0, box.width - box.right, y0, 'axis');
  codecs.batchSizes.forEach((size, g) => {
    const gx = x0 + 14 + g * groupW;
    rows.forEach((r, i) => {
      const v = r.bytesPerInputSpan[g] ?? NaN;
      if (!Number.isFinite(v)) return;
      const bx = gx + i * barW;
      body += `<g class="bar" data-codec="${esc(r.codec)}">${rect(bx, y(v), barW - 3, y0 - y(v), `fill="${color(i)}"`)}<title>${esc(`${r.label}, ${size} spans a batch: ${fixed(v, 2)} bytes per span`)}</title></g>`;
      body += `<text class="bar-value" transform="translate(${num(bx + (barW - 3) / 2 + 3)} ${num(y(v) - 3)}) rotate(-90)">${esc(fixed(v, v < 10 ? 1 : 0))}</text>`;
    });
    body += text(gx + (rows.length * barW) / 2, y0 + 16, `${size} spans`, 'class="tick" text-anchor="middle"');
  });
  body += text((x0 + box.width - box.right) / 2, y0 + 34, 'spans per request / frame', 'class="axis-label" text-anchor="middle"');
  // Legend below the plot.
  let lx = x0;
  let ly = y0 + 54;
  rows.forEach((r, i) => {
    const w = 22 + clip(r.label, 28).length * 6.4;
    if (lx + w > box.width) {
      lx = x0;
      ly += 16;
    }
    body += rect(lx, ly - 9, 10, 10, `fill="${color(i)}"`) + text(lx + 14, ly, clip(r.label, 28), 'class="legend"');
    lx += w;
  });
  return svg(box, 'Bytes per span per codec and batch size', body);
}

/** Share of faulty spans kept, strategy (rows) by fault type (columns), for one definition. */
export function coverageHeatmap(strategies: readonly StrategyFigures[], def: CoverageDefinition): string {
  const types = [...new Set(strategies.flatMap((s) => Object.keys(s.coverageByType[def] ?? {})))].sort();
  const cols = ['all', ...types];
  const cellW = 78;
  const cellH = 24;
  const left = 170;
  const top = 58;
  const box = { width: left + cols.length * cellW + 110, height: top + strategies.length * cellH + 12 };
  let body = '';
  cols.forEach((c, j) => {
    body += `<text class="col-label" transform="translate(${num(left + j * cellW + cellW / 2)} ${top - 8}) rotate(-20)" text-anchor="start">${esc(clip(c, 18))}</text>`;
  });
  strategies.forEach((s, i) => {
    const ry = top + i * cellH;
    body += text(left - 8, ry + cellH / 2 + 4, clip(s.strategy, 24), 'class="row-label" text-anchor="end"');
    cols.forEach((c, j) => {
      const cov = c === 'all' ? s.coverage[def] : s.coverageByType[def]?.[c];
      const cx = left + j * cellW;
      if (!cov || cov.faulty === 0) {
        body += rect(cx + 1, ry + 1, cellW - 2, cellH - 2, 'class="cell-empty"');
        return;
      }
      body += `<g class="cell">${rect(cx + 1, ry + 1, cellW - 2, cellH - 2, `fill="${heat(cov.share)}"`)}<title>${esc(`${s.strategy}, ${c}: ${cov.kept} of ${cov.faulty} faulty spans kept`)}</title></g>`;
      body += text(cx + cellW / 2, ry + cellH / 2 + 4, pct(cov.share, cov.share === 1 ? 0 : 1), `class="cell-value${cov.share < 0.45 ? ' on-dark' : ''}" text-anchor="middle"`);
    });
  });
  return svg(box, `Faulty-span coverage per fault type (${def} labels)`, body);
}

/** Red (0) through amber to green (1). */
function heat(share: number): string {
  const s = Math.max(0, Math.min(1, share));
  const hue = Math.round(s * s * 130);
  return `hsl(${hue} 62% ${Math.round(42 + 14 * s)}%)`;
}

/** AC@1, AC@3 and Avg@5 per RCA method: full data, each strategy's reduced data, and chance. */
export function rcaChart(rca: RcaFigures): string {
  const metrics: { key: 'ac1' | 'ac3' | 'avg5'; label: string }[] = [
    { key: 'ac1', label: 'AC@1' },
    { key: 'ac3', label: 'AC@3' },
    { key: 'avg5', label: 'Avg@5' },
  ];
  const series = [...new Set(['full', ...rca.methods.flatMap((m) => Object.keys(m.reduced)), ...(rca.methods.some((m) => m.chance) ? ['chance'] : [])])];
  const barW = 12;
  const groupW = series.length * barW + 18;
  const methodW = metrics.length * groupW + 26;
  const box: Box = { width: Math.max(520, 70 + rca.methods.length * methodW), height: 330, left: 56, right: 10, top: 20, bottom: 86 };
  const { x0, y0, y1 } = inner(box);
  const y = linear([0, 1], [y0, y1]);
  let body = yAxis(box, y, (v) => pct(v, 0), 'accuracy (service level)');
  body += line(x0, y0, box.width - box.right, y0, 'axis');
  rca.methods.forEach((m, mi) => {
    const mx = x0 + 10 + mi * methodW;
    metrics.forEach((metric, gi) => {
      const gx = mx + gi * groupW;
      series.forEach((name, si) => {
        const scores = name === 'full' ? m.full : name === 'chance' ? m.chance : m.reduced[name];
        const v = scores?.[metric.key];
        if (v === undefined || !Number.isFinite(v)) return;
        const fill = name === 'chance' ? '#bbb' : name === 'full' ? '#333' : color(si);
        body += `<g class="bar" data-series="${esc(name)}">${rect(gx + si * barW, y(v), barW - 2, y0 - y(v), `fill="${fill}"`)}<title>${esc(`${m.method} ${metric.label}, ${name}: ${pct(v)}`)}</title></g>`;
      });
      body += text(gx + (series.length * barW) / 2, y0 + 14, metric.label, 'class="tick" text-anchor="middle"');
    });
    body += text(mx + (metrics.length * groupW) / 2, y0 + 32, clip(m.method, 30), 'class="axis-label" text-anchor="middle"');
  });
  let lx = x0;
  series.forEach((name, si) => {
    const fill = name === 'chance' ? '#bbb' : name === 'full' ? '#333' : color(si);
    body += rect(lx, y0 + 48, 10, 10, `fill="${fill}"`) + text(lx + 14, y0 + 57, clip(name === 'full' ? 'full data' : name, 24), 'class="legend"');
    lx += 24 + clip(name, 24).length * 6.4;
  });
  return svg(box, 'Root-cause accuracy on full versus reduced data', body);
}
