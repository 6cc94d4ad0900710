// Number formatting shared by the report's tables and chart labels.

export function pct(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '–';
}

/** Bytes with a binary unit: 1536 -> "1.5 KiB". */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function fixed(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

/** Milliseconds with sensible precision: 0.0123 -> "12.3 µs", 4.2 -> "4.20 ms". */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x < 1) return `${(x * 1000).toFixed(x < 0.01 ? 2 : 1)} µs`;
  return `${x.toFixed(x < 10 ? 2 : 1)} ms`;
}

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}
