// Child process of the fuzz runner (fuzz-core.ts): runs inputs [from, to) of one decoder, or the
// bombs by index, telling the runner which input it starts before each one (so a hang names its
// input), then sends its counts and its peak RSS (the kernel's, transients included).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { SLOW_MS, bombs, makeTarget, type WorkerInput, type WorkerReport } from './fuzz-core.js';

async function main(input: WorkerInput): Promise<WorkerReport> {
  const report: WorkerReport = { ok: 0, typed: 0, other: 0, slow: 0, maxMs: 0, peakHeapMb: 0, peakRssMb: 0, failures: [], bombs: [] };
  const heap = (): void => {
    const h = getHeapStatistics();
    report.peakHeapMb = Math.max(report.peakHeapMb, (h.used_heap_size + h.external_memory) / 2 ** 20);
  };
  const list = input.mode === 'bombs' ? bombs() : undefined;
  const target = input.mode === 'inputs' ? makeTarget(input.decoder, input.seed) : undefined;
  heap();
  for (let i = input.from; i < input.to; i++) {
    process.send!({ at: i });
    const bytes = list ? new Uint8Array(readFileSync(input.bombPath!)) : undefined;
    const t0 = performance.now();
    const v = list ? await list[i]!.run(bytes!, input.bombPath!) : await target!.run(i);
    const ms = performance.now() - t0;
    report.maxMs = Math.max(report.maxMs, ms);
    if (ms > SLOW_MS) {
      report.slow++;
      if (report.failures.length < 20) report.failures.push(`#${i}: took ${ms.toFixed(0)} ms`);
    }
    if (v === 'ok') report.ok++;
    else if (v === 'typed') report.typed++;
    else {
      report.other++;
      if (report.failures.length < 20) report.failures.push(`#${i}: ${v.problem}`);
    }
    if (list) report.bombs!.push({ name: list[i]!.name, verdict: typeof v === 'string' ? v : v.problem, ms });
    if (list || (i & 63) === 0 || ms > 50) heap();
  }
  heap();
  target?.close?.();
  report.peakRssMb = process.resourceUsage().maxRSS / 1024; // KiB
  return report;
}

const report = await main(JSON.parse(process.argv[2]!) as WorkerInput);
process.send!({ report }, () => process.disconnect());
