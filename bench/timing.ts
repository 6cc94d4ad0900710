// Timing helpers every benchmark shares: one warm-up pass, then timed passes, and their median.

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `fn` once to warm up, then `runs` times; returns each timed run in seconds. */
export function timePasses(fn: () => void, runs: number): number[] {
  fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return out;
}
