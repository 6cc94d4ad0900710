// bench/sample-vs-stats: `slimtrace sample` (read, decide, write) against `slimtrace stats` (read and
// count) on the same input, side by side in one run, alternating, so a shared machine's load falls on
// both alike (issue 14: sample at most 1.5x the time of stats). Each run is a fresh CLI process
// under /usr/bin/time: wall seconds, CPU seconds and peak RSS; the 1-minute load average is noted
// before each run.
//
//   node --import tsx bench/sample-vs-stats.ts [DATASET ...] [--rounds 2] [--strategy autoscope] [--target-reduction 0.85] [--json out.json]
import { spawnSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './timing.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '2' },
    strategy: { type: 'string', default: 'autoscope' },
    'target-reduction': { type: 'string', default: '0.85' },
    json: { type: 'string' },
  },
});
const datasets = positionals.length > 0 ? positionals : ['../shared/datasets/nezha-trainticket', '../shared/datasets/trastrainer-trainticket'];
const rounds = Number(values.rounds);
const dir = mkdtempSync(join(tmpdir(), 'slimtrace-bench-'));
const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Run {
  dataset: string;
  command: 'stats' | 'sample';
  round: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  load1: number;
}

function run(dataset: string, command: 'stats' | 'sample', round: number): Run {
  const timeFile = join(dir, 'time.txt');
  const args =
    command === 'stats'
      ? ['stats', dataset]
      : ['sample', dataset, '-o', join(dir, 'out.otlp'), '--strategy', values.strategy!, '--target-reduction', values['target-reduction']!];
  const load1 = loadavg()[0]!;
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, '--max-old-space-size=8000', '--import', 'tsx', cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`slimtrace ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [wall, user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
  if (command === 'sample') process.stderr.write(r.stdout);
  return { dataset, command, round, wallSeconds: wall, cpuSeconds: user + sys, peakRssMb: rssKb / 1024, load1 };
}

const runs: Run[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const dataset of datasets) {
      // Alternate which goes first, so a load change does not always hit the same command.
      const order: ('stats' | 'sample')[] = round % 2 === 1 ? ['stats', 'sample'] : ['sample', 'stats'];
      for (const c of order) {
        const r = run(dataset, c, round);
        runs.push(r);
        process.stderr.write(`${dataset} ${c} round ${round}: ${r.wallSeconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU, ${r.peakRssMb.toFixed(0)} MB, load ${r.load1.toFixed(2)}\n`);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`| input | command | wall s (each round) | CPU s (each round) | peak RSS MB | load (1 min) before each | sample / stats (median wall) |`);
console.log('|---|---|---|---|---|---|---|');
for (const dataset of datasets) {
  const of = (c: 'stats' | 'sample') => runs.filter((r) => r.dataset === dataset && r.command === c);
  const ratio = median(of('sample').map((r) => r.wallSeconds)) / median(of('stats').map((r) => r.wallSeconds));
  const cpuRatio = median(of('sample').map((r) => r.cpuSeconds)) / median(of('stats').map((r) => r.cpuSeconds));
  for (const c of ['stats', 'sample'] as const) {
    const rs = of(c);
    const name = dataset.replace(/\/+$/, '').split('/').pop();
    const cmd = c === 'stats' ? 'stats' : `sample --strategy ${values.strategy} --target-reduction ${values['target-reduction']}`;
    console.log(
      `| ${name} | ${cmd} | ${rs.map((r) => r.wallSeconds.toFixed(1)).join(', ')} | ${rs.map((r) => r.cpuSeconds.toFixed(1)).join(', ')} | ${Math.max(...rs.map((r) => r.peakRssMb)).toFixed(0)} | ${rs.map((r) => r.load1.toFixed(1)).join(', ')} | ${c === 'sample' ? `${ratio.toFixed(2)}x wall, ${cpuRatio.toFixed(2)}x CPU` : ''} |`,
    );
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify(runs, null, 1) + '\n');
