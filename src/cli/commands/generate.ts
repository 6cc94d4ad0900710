// `slimtrace generate`: the embedded traffic generator as files: the traffic as OTLP, its ground
// truth of faulty spans (CSV in the datasets' labels/faulty_spans.csv columns), and the source of
// the generated services (TypeScript; Go, Python, Java, C# and .proto files for the polyglot `grpc`
// topology) with the code model an analyzer is checked against.
import type { Command } from 'commander';
import {
  DEFAULT_RATE,
  DEFAULT_START_TIME_UNIX_NANO,
  CODE_MODEL_FILE,
  embeddedTopology,
  EMBEDDED_TOPOLOGIES,
  generateTraffic,
  renderServiceSources,
  resolveFaults,
  type FaultySpan,
  type ResolvedFault,
} from '../../generator/index.js';
import { countSpans } from '../../model/index.js';
import { OtlpFileWriter } from '../../otlp/index.js';
import { UsageError } from '../errors.js';
import { numberFlag } from '../flags.js';
import { AtomicDirectory, AtomicFile, checkDistinctOutputs, otlpFormatOf, withOutputs } from '../output.js';
import { createProgress } from '../progress.js';
import { generatorFlags, topologyFlag } from './common.js';

interface GenerateFlags {
  output?: string;
  format?: string;
  seed?: string;
  traces?: string;
  rate?: string;
  faults: boolean;
  groundTruth?: string;
  sourceDir?: string;
  topology?: string;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write generated microservice traffic (OTLP), its fault ground truth, and the services\' source')
    .option('-o, --output <file>', 'traffic as OTLP (size-delimited protobuf, or JSON Lines for .json/.jsonl)')
    .option('-f, --format <format>', 'proto or json (default: from the output name)')
    .option('--seed <n>', 'seed: the same seed gives the same spans (a non-negative integer)', '1')
    .option('--traces <n>', 'number of traces: a positive integer', '2000')
    .option('--rate <n>', `mean traces per second: a positive number (default ${DEFAULT_RATE})`)
    .option('--topology <name>', `embedded topology: default (TypeScript online shop) or grpc (polyglot gRPC shop: TypeScript, Go, Python, Java, C#); one of ${EMBEDDED_TOPOLOGIES.join(', ')}`, 'default')
    .option('--no-faults', 'generate fault-free traffic')
    .option('--ground-truth <file>', 'faulty spans as CSV (fault_id,inject_time,inject_pod,inject_type,definition,trace_id,span_id); `evaluate --ground-truth` reads it')
    .option('--source-dir <dir>', 'emit the generated services\' source (one folder per service, proto/ for gRPC APIs of a polyglot topology), with slimtrace-model.json')
    .action(async (flags: GenerateFlags) => {
      if (!flags.output && !flags.groundTruth && !flags.sourceDir) throw new UsageError('nothing to write: give -o, --ground-truth and/or --source-dir');
      const { seed, traces } = generatorFlags(flags);
      const embedded = embeddedTopology(topologyFlag(flags.topology));
      const rate = numberFlag('--rate', flags.rate, DEFAULT_RATE, { min: 0, minExclusive: true });
      const format = otlpFormatOf(flags.format, flags.output);
      checkDistinctOutputs([
        ['-o', flags.output],
        ['--ground-truth', flags.groundTruth],
        ['--source-dir', flags.sourceDir],
      ]);
      // Every output is opened before anything is generated, and all are put in place at the end.
      const sourceDir = flags.sourceDir ? await AtomicDirectory.create(flags.sourceDir) : undefined;
      const traffic = flags.output ? await AtomicFile.create(flags.output) : undefined;
      const writer = traffic && new OtlpFileWriter(traffic, format);
      const truth = flags.groundTruth ? await AtomicFile.create(flags.groundTruth) : undefined;
      const topology = embedded.topology;
      let spans = 0;
      let done = 0;
      let faulty = 0;
      let sourceSummary = '';
      await withOutputs([sourceDir, traffic, truth], async () => {
        if (sourceDir) {
          const { files, model } = renderServiceSources(topology);
          for (const f of files) await sourceDir.writeFile(f.path, f.content);
          const ops = model.services.reduce((n, s) => n + s.operations.length, 0);
          sourceSummary = `${flags.sourceDir}: ${model.services.length} services, ${ops} operations (code model in ${CODE_MODEL_FILE})\n`;
        }
        if (!writer && !truth) return;
        await truth?.write(Buffer.from('fault_id,inject_time,inject_pod,inject_type,definition,trace_id,span_id\n'));
        const faults = flags.faults ? embedded.faultScenario(traces / rate) : [];
        const byId = new Map<string, ResolvedFault>(resolveFaults(faults, topology, DEFAULT_START_TIME_UNIX_NANO).map((f) => [f.id, f]));
        const progress = createProgress('generate');
        progress.setTotal(traces);
        const gen = generateTraffic({ seed, traces, rate, topology, faults, startTimeUnixNano: DEFAULT_START_TIME_UNIX_NANO });
        try {
          for (;;) {
            const step = gen.next();
            if (step.done) break;
            const batch = step.value;
            if (writer) await writer.write(batch.data);
            if (truth) {
              for (const f of batch.faultySpans) await truth.write(Buffer.from(truthLine(f, byId)));
              faulty += batch.faultySpans.length;
            }
            spans += countSpans(batch.data);
            done += batch.traces;
            progress.update(done, spans);
          }
        } finally {
          progress.stop();
        }
      });
      process.stdout.write(sourceSummary);
      if (!writer && !truth) return;
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
