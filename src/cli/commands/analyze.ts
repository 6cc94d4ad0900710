// `slimtrace analyze` (also `autoscope analyze`): the Autoscope analyzer over source directories,
// written as analysis.json v1 (docs/analysis-format.md).
import type { Command } from 'commander';
import { InputError } from '../../model/index.js';
import { analyzeSources } from '../../analyzer/analyze.js';
import { UsageError } from '../errors.js';
import { reductionFlag } from '../flags.js';
import { AtomicFile, withOutputs } from '../output.js';
import { createProgress } from '../progress.js';

interface AnalyzeFlags {
  sourceDir: string[];
  service: string[];
  output: string;
  targetReduction?: string;
  businessKeywords?: string;
  protoDir: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('analyze services\' source code (Java, TypeScript/JavaScript, Go, Python, C#) into analysis.json: call-site graphs, call resolution, span mapping, cross-service edges, features and scores')
    .option('--source-dir <dir>', 'a directory of services (repeatable); each top-level folder or folder with a build file is a service', collect, [])
    .option('--service <name=dir>', 'a directory analyzed as one service (repeatable)', collect, [])
    .option('--proto-dir <dir>', 'a directory of gRPC .proto files outside the source directories (repeatable); those under them are read anyway', collect, [])
    .requiredOption('-o, --output <file>', 'where to write analysis.json')
    .option('--target-reduction <ratio>', "a number in [0, 1), recorded in analysis.json's settings only: neither the analysis nor `sample` uses it (`sample` takes its own --target-reduction)", '0.8')
    .option('--business-keywords <list>', 'comma-separated keywords that mark business-critical code in the importance score (default payment,order,checkout,auth,security)')
    .action(async (flags: AnalyzeFlags) => {
      if (flags.sourceDir.length === 0 && flags.service.length === 0) throw new UsageError('nothing to analyze: give --source-dir and/or --service');
      const services: Record<string, string> = {};
      for (const s of flags.service) {
        const eq = s.indexOf('=');
        if (eq <= 0 || eq === s.length - 1) throw new UsageError(`--service must be NAME=DIR, got '${s}'`);
        const name = s.slice(0, eq);
        if (name in services) throw new UsageError(`--service ${name} is named twice`);
        services[name] = s.slice(eq + 1);
      }
      const targetReduction = reductionFlag(flags.targetReduction);
      let businessKeywords: string[] | undefined;
      if (flags.businessKeywords !== undefined) {
        businessKeywords = flags.businessKeywords.split(',').map((k) => k.trim()).filter((k) => k !== '');
        if (businessKeywords.length === 0) throw new UsageError(`--business-keywords needs at least one keyword, got '${flags.businessKeywords}'`);
      }
      const output = await AtomicFile.create(flags.output);
      const progress = createProgress('analyze');
      const doc = await withOutputs([output], async () => {
        try {
          const d = await analyzeSources({
            sourceDirs: flags.sourceDir,
            services,
            ...(flags.protoDir.length > 0 ? { protoDirs: flags.protoDir } : {}),
            targetReduction,
            ...(businessKeywords ? { businessKeywords } : {}),
            onProgress: (p) => {
              if (p.filesDone === 0) progress.setTotal(p.filesTotal);
              else progress.update(p.filesDone, p.spans);
            },
          });
          // Nothing the analyzer reads is as empty an input as an empty file: an error, not an empty analysis.
          if (d.summary.files === 0) {
            const where = [...flags.sourceDir, ...Object.values(services)].join(', ');
            const skipped = d.unsupported.length > 0 ? ` (${d.unsupported.length} files in languages it does not read)` : '';
            throw new InputError(`no Java, TypeScript/JavaScript, Go, Python or C# source files in ${where}${skipped}; --source-dir takes a folder of service folders, --service NAME=DIR one service`);
          }
          await output.write(Buffer.from(`${JSON.stringify(d, null, 1)}\n`));
          return d;
        } finally {
          progress.stop();
        }
      });
      if (doc.unsupported.length > 0) {
        const langs = [...new Set(doc.unsupported.map((u) => u.language))].sort().join(', ');
        process.stderr.write(`slimtrace: warning: ${doc.unsupported.length} files in unsupported languages skipped (${langs}), e.g. ${doc.unsupported[0]!.path}\n`);
      }
      const s = doc.summary;
      if (s.grpcFilesWithoutProto)
        process.stderr.write(
          `slimtrace: warning: ${s.grpcFilesWithoutProto} files use a gRPC library but no .proto file was found under the source directories: their gRPC spans and cross-service edges are not mapped; add --proto-dir DIR (or a --source-dir that holds the .proto files)\n`,
        );
      process.stdout.write(
        `analyzed ${s.files} files of ${doc.services.length} services: ${s.functions} functions, ${s.branchPoints} branch points, ${s.spansMapped} spans mapped, ` +
          `${doc.unsupported.length} unsupported, ${doc.syntaxErrors.length} syntax errors in ${s.seconds} s -> ${flags.output}\n` +
          `calls: ${s.callsResolved} resolved, ${s.callsUnresolved} unresolved, ${s.callsLibrary} library; ${s.httpClientCallsMatched} of ${s.httpClientCalls} HTTP client calls and ${s.grpcClientCallsMatched} of ${s.grpcClientCalls} gRPC stub calls matched to ${s.crossServiceEdges} cross-service edges\n`,
      );
    });
}
