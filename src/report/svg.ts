// Small hand-written SVG pieces the charts share: linear scales, axes with ticks and grid lines,
// the palette, and the <svg> wrapper. No charting library: the report must open without a network
// and stay small, and these charts need only rectangles, lines, circles and text.
import { esc, num } from './escape.js';

/** Colours for series (strategies, codecs, services), chosen to stay apart for common colour blindness. */
export const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0', '#1f4e79', '#b7950b'];

export function color(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

export interface Scale {
  (v: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linear(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** About `count` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function inner(box: Box): { x0: number; x1: number; y0: number; y1: number } {
  return { x0: box.left, x1: box.width - box.right, y0: box.height - box.bottom, y1: box.top };
}

/** The outer <svg>, sized by its viewBox so it scales with the page, with an accessible title. */
export function svg(box: Pick<Box, 'width' | 'height'>, title: string, body: string, cls = 'chart-svg'): string {
  return (
    `<svg class="${cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${num(box.width)} ${num(box.height)}" width="${num(box.width)}" height="${num(box.height)}" role="img" aria-label="${esc(title)}">` +
    `<title>${esc(title)}</title>${body}</svg>`
  );
}

export function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? ' ' + attrs : ''}>${esc(content)}</text>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, cls: string): string {
  return `<line class="${cls}" x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}"/>`;
}

export function rect(x: number, y: number, w: number, h: number, attrs: string): string {
  return `<rect x="${num(x)}" y="${num(y)}" width="${num(Math.max(0, w))}" height="${num(Math.max(0, h))}" ${attrs}/>`;
}

/** A left axis with grid lines across the plot and tick labels. */
export function yAxis(box: Box, y: Scale, format: (v: number) => string, label: string, count = 5): string {
  const { x0, x1 } = inner(box);
  let out = '';
  for (const v of ticks(y.domain[0], y.domain[1], count)) {
    out += line(x0, y(v), x1, y(v), 'grid');
    out += text(x0 - 6, y(v) + 4, format(v), 'class="tick" text-anchor="end"');
  }
  const mid = (y.range[0] + y.range[1]) / 2;
  out += `<text class="axis-label" transform="translate(14 ${num(mid)}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`;
  return out;
}

/** A bottom axis with tick labels (no grid: the y grid is enough for these charts). */
export function xAxis(box: Box, x: Scale, format: (v: number) => string, label: string, count = 5): string {
  const { x0, x1, y0 } = inner(box);
  let out = line(x0, y0, x1, y0, 'axis');
  for (const v of ticks(x.domain[0], x.domain[1], count)) {
    out += line(x(v), y0, x(v), y0 + 4, 'axis');
    out += text(x(v), y0 + 16, format(v), 'class="tick" text-anchor="middle"');
  }
  out += text((x0 + x1) / 2, box.height - 6, label, 'class="axis-label" text-anchor="middle"');
  return out;
}
