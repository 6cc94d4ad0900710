// Trace waterfalls of faulty traces: the original trace (bars on a time axis, indented by depth,
// coloured by service, faulty spans outlined in red) beside what one strategy kept of it — kept,
// re-parented (with the levels skipped), summarized into a kept ancestor, or dropped — and a grid of
// every strategy's fate for each span. Rows line up, so a span reads across from original to reduced.
import type { SpanFate, WaterfallTrace } from '../eval/results.js';
import { clip, esc, num } from './escape.js';
import { ms } from './format.js';
import { color, line, rect, svg, text } from './svg.js';

/** Rows drawn per trace; longer traces show their first rows and say how many were left out. */
export const MAX_WATERFALL_ROWS = 80;

const FATE_LABEL: Record<SpanFate, string> = { kept: 'kept', reparented: 're-parented', summarized: 'summarized', dropped: 'dropped' };

export function waterfallChart(trace: WaterfallTrace, featured: string, id: number): string {
  const rows = trace.spans.slice(0, MAX_WATERFALL_ROWS);
  const services = [...new Set(trace.spans.map((s) => s.service))];
  const serviceColor = (s: string): string => color(services.indexOf(s));
  const rowH = 18;
  const labelW = 280;
  const panelW = 300;
  const gap = 16;
  const cellW = 16;
  const top = 96;
  const gridX = labelW + 2 * panelW + 2 * gap;
  const axisY = top + rows.length * rowH + 4;
  const box = { width: gridX + Math.max(1, trace.strategies.length) * cellW + 60, height: axisY + 20 + (trace.spans.length > rows.length ? 18 : 0) };
  const end = Math.max(1e-6, ...trace.spans.map((s) => s.startMs + s.durationMs));
  const panels = [
    { x: labelW, title: 'original', fate: (): SpanFate => 'kept' },
    { x: labelW + panelW + gap, title: `reduced by ${featured}`, fate: (i: number): SpanFate => rows[i]!.fates[featured] ?? 'dropped' },
  ];
  const hatch = `hatch-${id}`;
  let body = `<defs><pattern id="${hatch}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>`;
  body += text(4, top - 44, `trace ${trace.traceId}`, 'class="wf-title"');
  body += text(4, top - 28, `${trace.spans.length} spans, ${ms(end)}${trace.faultTypes.length ? `; fault: ${trace.faultTypes.join(', ')}` : ''}`, 'class="wf-sub"');
  for (const p of panels) {
    body += text(p.x, top - 10, p.title, 'class="wf-panel-title"');
    body += line(p.x, top - 4, p.x + panelW, top - 4, 'axis');
  }
  trace.strategies.forEach((s, k) => {
    body += `<text class="wf-grid-title" transform="translate(${num(gridX + k * cellW + cellW / 2 + 3)} ${top - 8}) rotate(-60)">${esc(clip(s, 16))}</text>`;
  });
  rows.forEach((s, i) => {
    const ry = top + i * rowH;
    if (i % 2 === 1) body += rect(0, ry, box.width, rowH, 'class="wf-stripe"');
    const indent = Math.min(s.depth, 12) * 10;
    body += `<g class="wf-label${s.faulty ? ' faulty' : ''}">`;
    if (s.faulty) body += `<circle cx="${num(indent + 5)}" cy="${num(ry + rowH / 2)}" r="3.5" class="faulty-dot"><title>labelled faulty</title></circle>`;
    body += text(indent + 12, ry + 13, clip(`${s.service}: ${s.name}`, Math.max(10, 40 - Math.floor(indent / 7))), `class="wf-name"${s.error ? ' font-weight="bold"' : ''}`);
    body += `<title>${esc(`${s.service}: ${s.name} — ${ms(s.durationMs)}${s.error ? ', error' : ''}${s.faulty ? ', faulty' : ''}`)}</title></g>`;
    panels.forEach((p, pi) => {
      const fate = p.fate(i);
      const bx = p.x + (s.startMs / end) * panelW;
      const bw = Math.max(2, (s.durationMs / end) * panelW);
      const c = serviceColor(s.service);
      const stroke = s.faulty ? ' stroke="#d00" stroke-width="1.5"' : '';
      // A skeleton is the span without its attributes and events: drawn pale, with a tick at its start.
      const skeleton = pi > 0 && (fate === 'kept' || fate === 'reparented') && s.skeleton?.[featured] === true;
      const pale = skeleton ? ' fill-opacity="0.4"' : '';
      let bar: string;
      if (fate === 'kept') bar = rect(bx, ry + 4, bw, rowH - 8, `fill="${c}"${pale}${stroke}`);
      else if (fate === 'reparented') {
        const n = s.skipped?.[featured];
        bar = rect(bx, ry + 4, bw, rowH - 8, `fill="${c}"${pale} stroke="#e8590c" stroke-width="1.5" stroke-dasharray="3 2"`) + text(Math.min(bx + bw + 3, p.x + panelW - 24), ry + 13, `↑${n ?? ''}`, 'class="wf-note"');
      } else if (fate === 'summarized') bar = rect(bx, ry + 5, bw, rowH - 10, `fill="url(#${hatch})"`);
      else bar = rect(bx, ry + 6, bw, rowH - 12, 'class="wf-dropped"');
      if (skeleton) bar += line(bx, ry + 2, bx, ry + rowH - 2, 'wf-skeleton-tick');
      const what = pi === 0 ? ms(s.durationMs) : FATE_LABEL[fate] + (skeleton ? ' as a skeleton (no attributes or events)' : '');
      body += `<g class="wf-bar fate-${pi === 0 ? 'original' : fate}${skeleton ? ' skeleton' : ''}">${bar}<title>${esc(`${p.title}: ${s.service}: ${s.name} — ${what}`)}</title></g>`;
    });
    trace.strategies.forEach((st, k) => {
      const fate = s.fates[st] ?? 'dropped';
      const skeleton = fate !== 'dropped' && fate !== 'summarized' && s.skeleton?.[st] === true;
      body += `<g class="wf-cell">${rect(gridX + k * cellW + 2, ry + 3, cellW - 4, rowH - 6, `class="fate-cell ${fate}${skeleton ? ' skeleton' : ''}"`)}<title>${esc(`${st}: ${FATE_LABEL[fate]}${skeleton ? ' as a skeleton' : ''}`)}</title></g>`;
    });
  });
  // The time axis under both panels: the trace's own clock, from its earliest span.
  for (const p of panels) {
    body += line(p.x, axisY, p.x + panelW, axisY, 'axis');
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const x = p.x + f * panelW;
      body += line(x, axisY, x, axisY + 4, 'axis');
      body += text(x, axisY + 15, f === 0 ? '0' : ms(f * end), `class="wf-axis" text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}"`);
    }
  }
  if (trace.spans.length > rows.length) body += text(4, axisY + 33, `… ${trace.spans.length - rows.length} more spans not drawn`, 'class="wf-sub"');
  return svg(box, `Waterfall of trace ${trace.traceId}: original and reduced`, body, 'chart-svg waterfall-svg');
}
