// `slimtrace convert INPUT -o OUT`: any supported input to OTLP protobuf (size-delimited requests)
// or OTLP/JSON (JSON Lines), re-batched to --batch spans per request.
import type { Command } from 'commander';
import { rebatch } from '../../model/index.js';
import { OtlpFileWriter, type OtlpFileFormat } from '../../otlp/index.js';
import { UsageError } from '../errors.js';
import { forEachBatch, openInput, printWarnings } from '../input.js';
import { commonInputOptions, parseInputOptions, positiveInt, type CommonInputFlags } from './common.js';

interface ConvertFlags extends CommonInputFlags {
  output: string;
  format?: string;
  batch?: string;
  single?: boolean;
}

function formatOf(flags: ConvertFlags): OtlpFileFormat {
  const f = flags.format ?? (/\.(json|jsonl|ndjson)$/i.test(flags.output) ? 'json' : 'proto');
  if (f === 'json' || f === 'otlp-json') return 'otlp-json';
  if (f === 'proto' || f === 'protobuf' || f === 'otlp-proto') return 'otlp-proto';
  throw new UsageError(`--format must be proto or json, got '${f}'`);
}

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a trace input to OTLP protobuf (size-delimited requests) or OTLP/JSON (JSON Lines)')
    .argument('[input]', 'dataset directory or trace file (default: generated traffic)')
    .requiredOption('-o, --output <file>', 'output file')
    .option('-f, --format <format>', 'proto or json (default: from the output name, else proto)')
    .option('--batch <spans>', 'spans per request', '512')
    .option('--single', 'write one bare request (readable by protoc --decode); the input must fit one batch');
  commonInputOptions(cmd).action(async (input: string | undefined, flags: ConvertFlags) => {
    const format = formatOf(flags);
    const batch = positiveInt('--batch', flags.batch, 512);
    if (batch === 0) throw new UsageError('--batch must be at least 1');
    const source = await openInput(input, parseInputOptions(flags));
    const writer = new OtlpFileWriter(flags.output, format, flags.single === true);
    const started = process.hrtime.bigint();
    let requests = 0;
    let spans: number;
    try {
      spans = await forEachBatch(source, rebatch(source.batches(), flags.single ? Number.MAX_SAFE_INTEGER : batch), 'convert', async (b) => {
        await writer.write(b);
        requests++;
      });
    } finally {
      await writer.close();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
      `${source.description} -> ${flags.output}: ${spans} spans in ${requests} ${format} requests, ${writer.bytesWritten} bytes, ${seconds.toFixed(1)} s\n`,
    );
    printWarnings(source.warnings(), false);
  });
}
