// `slimtrace generate`: the embedded traffic generator as files: the traffic as OTLP, its ground
// truth of faulty spans (CSV in the datasets' labels/faulty_spans.csv columns), and the TypeScript
// source of the generated services with the code model an analyzer is checked against.
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import {
  DEFAULT_RATE,
  DEFAULT_START_TIME_UNIX_NANO,
  defaultFaultScenario,
  defaultTopology,
  emitServiceSources,
  generateTraffic,
  resolveFaults,
  type FaultySpan,
  type ResolvedFault,
} from '../../generator/index.js';
import { countSpans } from '../../model/index.js';
import { OtlpFileWriter } from '../../otlp/index.js';
import { UsageError } from '../errors.js';
import { createProgress } from '../progress.js';
import { positiveInt } from './common.js';

interface GenerateFlags {
  output?: string;
  format?: string;
  seed: string;
  traces: string;
  rate?: string;
  faults: boolean;
  groundTruth?: string;
  sourceDir?: string;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write generated microservice traffic (OTLP), its fault ground truth, and the services\' TypeScript source')
    .option('-o, --output <file>', 'traffic as OTLP (size-delimited protobuf, or JSON Lines for .json/.jsonl)')
    .option('-f, --format <format>', 'proto or json (default: from the output name)')
    .option('--seed <n>', 'seed: the same seed gives the same spans', '1')
    .option('--traces <n>', 'number of traces', '2000')
    .option('--rate <n>', `mean traces per second (default ${DEFAULT_RATE})`)
    .option('--no-faults', 'generate fault-free traffic')
    .option('--ground-truth <file>', 'faulty spans as CSV (fault_id,inject_time,inject_pod,inject_type,definition,trace_id,span_id)')
    .option('--source-dir <dir>', 'emit the generated services as a TypeScript project, with slimtrace-model.json')
    .action(async (flags: GenerateFlags) => {
      if (!flags.output && !flags.groundTruth && !flags.sourceDir) throw new UsageError('nothing to write: give -o, --ground-truth and/or --source-dir');
      const seed = positiveInt('--seed', flags.seed, 1);
      const traces = positiveInt('--traces', flags.traces, 2000);
      const rate = flags.rate === undefined ? DEFAULT_RATE : Number(flags.rate);
      if (!(rate > 0)) throw new UsageError(`--rate must be a positive number, got '${flags.rate}'`);
      const topology = defaultTopology();
      if (flags.sourceDir) {
        const model = await emitServiceSources(topology, flags.sourceDir);
        const ops = model.services.reduce((n, s) => n + s.operations.length, 0);
        process.stdout.write(`${flags.sourceDir}: ${model.services.length} services, ${ops} operations (code model in slimtrace-model.json)\n`);
      }
      if (!flags.output && !flags.groundTruth) return;
      const format = flags.format ?? (flags.output && /\.(json|jsonl|ndjson)$/i.test(flags.output) ? 'json' : 'proto');
      if (format !== 'json' && format !== 'proto') throw new UsageError(`--format must be proto or json, got '${format}'`);
      const writer = flags.output ? new OtlpFileWriter(flags.output, format === 'json' ? 'otlp-json' : 'otlp-proto') : undefined;
      const truth = flags.groundTruth ? createWriteStream(flags.groundTruth) : undefined;
      truth?.write('fault_id,inject_time,inject_pod,inject_type,definition,trace_id,span_id\n');
      const faults = flags.faults ? defaultFaultScenario(traces / rate) : [];
      const byId = new Map<string, ResolvedFault>(resolveFaults(faults, topology, DEFAULT_START_TIME_UNIX_NANO).map((f) => [f.id, f]));
      const progress = createProgress('generate');
      progress.setTotal(traces);
      let spans = 0;
      let done = 0;
      let faulty = 0;
      const gen = generateTraffic({ seed, traces, rate, topology, faults, startTimeUnixNano: DEFAULT_START_TIME_UNIX_NANO });
      try {
        for (;;) {
          const step = gen.next();
          if (step.done) break;
          const batch = step.value;
          if (writer) await writer.write(batch.data);
          if (truth) {
            for (const f of batch.faultySpans) truth.write(truthLine(f, byId));
            faulty += batch.faultySpans.length;
          }
          spans += countSpans(batch.data);
          done += batch.traces;
          progress.update(done, spans);
        }
      } finally {
        progress.stop();
        await writer?.close();
        if (truth) await new Promise<void>((resolve) => truth.end(resolve));
      }
      process.stdout.write(
        `generated ${done} traces, ${spans} spans (seed ${seed})` +
          (writer ? ` -> ${flags.output} (${writer.bytesWritten} bytes)` : '') +
          (truth ? `; ${faulty} faulty-span labels -> ${flags.groundTruth}` : '') +
          '\n',
      );
    });
}

function truthLine(f: FaultySpan, byId: Map<string, ResolvedFault>): string {
  const fault = byId.get(f.faultId);
  const when = fault ? new Date(Number(fault.startTimeUnixNano / 1_000_000n)).toISOString() : '';
  const type = fault?.type ?? '';
  return `${f.faultId},${when},${f.service},${type},${f.definition},${f.traceId},${f.spanId}\n`;
}
