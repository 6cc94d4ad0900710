// `slimtrace demo`: the embedded default end to end in one command — the generated services'
// source analyzed, generated traffic with injected faults, every sampling strategy at one byte
// budget, Tracezip checked lossless, sample-then-compress, optionally a live agent and gateway on
// loopback — then a short comparison table and the HTML report (src/report) with results.json.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LosslessError, runDemo, type EvaluationReport } from '../../eval/index.js';
import { combinedFigures, writeReport } from '../../report/index.js';
import { intFlag, reductionFlag } from '../flags.js';
import { createProgress } from '../progress.js';
import { runLoopbackPipeline } from '../loopback.js';

interface DemoFlags {
  report: string;
  traces?: string;
  seed?: string;
  targetReduction?: string;
  pipeline?: boolean;
}

export const DEFAULT_REPORT_DIR = 'slimtrace-report';

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The short comparison the terminal shows; the report has the rest. */
export function formatDemoSummary(report: EvaluationReport): string {
  const lines: string[] = [];
  const raw = report.codecs?.rows.find((r) => r.codec === 'otlp-protobuf');
  const g = report.codecs ? Math.max(0, report.codecs.batchSizes.indexOf(512)) : 0;
  const rawBytes = raw?.bytes[g];
  const head = ['strategy', 'reduction', '+ Tracezip', 'exact coverage', 'traces kept', 'intact'];
  const rows = report.strategies.map((s) => [
    s.strategy,
    pct(s.reduction),
    s.sampleThenTracezipBytes !== undefined && rawBytes ? pct(1 - s.sampleThenTracezipBytes / rawBytes) : '-',
    s.coverage.exact ? `${pct(s.coverage.exact.share)} (${s.coverage.exact.kept}/${s.coverage.exact.faulty})` : '-',
    `${s.tracesKept}/${s.traces}`,
    `${s.tracesIntact}/${s.tracesKept}`,
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  lines.push(`${report.input.description}: ${report.input.spans} spans, ${report.input.traces} traces; target reduction ${pct(report.settings.targetReduction)}`);
  lines.push('');
  lines.push(fmt(head));
  for (const r of rows) lines.push(fmt(r));
  if (report.codecs) {
    lines.push('');
    lines.push(`bytes per span at ${report.codecs.batchSizes[g]} spans a batch: ${report.codecs.rows.map((r) => `${r.label} ${r.bytesPerInputSpan[g]!.toFixed(1)}`).join(', ')}`);
    const l = report.codecs.lossless;
    lines.push(`Tracezip lossless: ${l.ok ? `yes, ${l.spans} spans in ${l.frames} frames decoded back equal` : `NO: ${l.problem}`}`);
  }
  const combined = combinedFigures(report);
  if (combined) {
    const s = report.strategies.find((x) => x.strategy === combined.strategy);
    lines.push(`combined (${combined.strategy} then Tracezip): ${pct(combined.reduction)} fewer bytes than raw OTLP protobuf${s?.coverage.exact ? `, ${pct(s.coverage.exact.share)} of faulty spans kept` : ''}`);
  }
  if (report.pipeline) lines.push(`live agent -> gateway on loopback: ${report.pipeline.spansIn} spans in, ${report.pipeline.spansAtBackend} at the backend, ${report.pipeline.otlpBytesIn} bytes of OTLP in, ${report.pipeline.otlpBytesAtBackend} out (${pct(1 - report.pipeline.otlpBytesAtBackend / Math.max(1, report.pipeline.otlpBytesIn))} fewer), ${report.pipeline.wireBytes} bytes on the wire (${pct(1 - report.pipeline.wireBytes / Math.max(1, report.pipeline.otlpBytesIn))} fewer)`);
  return lines.join('\n') + '\n';
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the embedded default end to end (analyze, generate with faults, sample with every strategy, Tracezip, sample-then-compress) and write an HTML report')
    .option('--report <dir>', 'where to write report.html and results.json', DEFAULT_REPORT_DIR)
    .option('--traces <n>', 'number of generated traces: a positive integer', '2000')
    .option('--seed <n>', 'seed of the generated traffic: a non-negative integer', '1')
    .option('--target-reduction <r>', 'the byte budget every strategy gets: share of OTLP bytes to drop, in [0, 1)', '0.8')
    .option('--no-pipeline', 'skip sending the traffic through a live agent and gateway on loopback')
    .action(async (flags: DemoFlags) => {
      const traces = intFlag('--traces', flags.traces, 2000, { min: 1 });
      const seed = intFlag('--seed', flags.seed, 1);
      const targetReduction = reductionFlag(flags.targetReduction);
      const tty = process.stdout.isTTY === true && process.stderr.isTTY === true;
      const progress = createProgress('traffic');
      let started = false;
      const report = await runDemo({
        traces,
        seed,
        targetReduction,
        command: `slimtrace demo${process.argv.slice(3).length ? ' ' + process.argv.slice(3).join(' ') : ''}`,
        onStep: (step) => {
          progress.stop();
          if (tty) process.stderr.write(`slimtrace demo: ${step}...\n`);
        },
        onTraffic: (done, total, spans) => {
          if (!started) {
            progress.setTotal(total);
            started = true;
          }
          progress.update(done, spans);
        },
        ...(flags.pipeline !== false ? { pipeline: runLoopbackPipeline } : {}),
      }).catch((e: unknown) => {
        progress.stop();
        if (e instanceof LosslessError) throw new Error(`the lossless check failed: ${e.message}`);
        throw e;
      });
      progress.stop();
      const written = await writeReport(flags.report, report);
      process.stdout.write(formatDemoSummary(report));
      process.stdout.write(`\nreport: ${resolve(written.html)} (results: ${resolve(written.json)})\n`);
    });
}
