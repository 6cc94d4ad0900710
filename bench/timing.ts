// Timing helpers every benchmark shares: one warm-up pass, then timed passes, and their median.

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Runs `fn` once to warm up, then `runs` times; returns each timed run in seconds. With
 * --expose-gc, a full collection runs before each pass: the inputs a benchmark holds (2 GB of span
 * objects for nezha) are not what is measured, and a major collection of them would otherwise land
 * inside whichever pass reaches the heap limit (the third of three, run after run). What a pass
 * allocates is still collected inside it.
 */
export function timePasses(fn: () => void, runs: number): number[] {
  fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    gc?.();
    const t = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return out;
}
