// `slimtrace convert INPUT -o OUT`: any supported input to OTLP protobuf (size-delimited requests)
// or OTLP/JSON (JSON Lines), re-batched to --batch spans per request, or with --single all spans as
// one bare request.
import type { Command } from 'commander';
import { forEachSpan, rebatch, type TracesData } from '../../model/index.js';
import { encodedSpanSize, encodeTracesData, MAX_MESSAGE_BYTES, OtlpFileWriter } from '../../otlp/index.js';
import { UsageError } from '../errors.js';
import { intFlag } from '../flags.js';
import { forEachBatch, openInput, printWarnings, type TraceInput } from '../input.js';
import { AtomicFile, otlpFormatOf, withOutputs } from '../output.js';
import { commonInputOptions, parseInputOptions, type CommonInputFlags } from './common.js';

interface ConvertFlags extends CommonInputFlags {
  output: string;
  format?: string;
  batch?: string;
  single?: boolean;
}

const SINGLE_LIMIT_MIB = MAX_MESSAGE_BYTES / (1024 * 1024);

function tooLargeForSingle(bytes: string): UsageError {
  return new UsageError(
    `--single: the input's spans take ${bytes} bytes of OTLP protobuf, more than the ${SINGLE_LIMIT_MIB} MiB one request may hold (the limit readers accept); leave out --single to write size-delimited requests`,
  );
}

/**
 * All of the input as one request. Spans are gathered only while their own encoded size stays
 * under the request limit (the request is at least that large), so an input too large is refused
 * without being held whole.
 */
async function oneRequest(source: TraceInput): Promise<{ request: TracesData | undefined; spans: number }> {
  const batches: TracesData[] = [];
  let spanBytes = 0;
  const spans = await forEachBatch(source, source.batches(), 'convert', (b) => {
    forEachSpan(b, (span) => {
      spanBytes += encodedSpanSize(span);
    });
    if (spanBytes > MAX_MESSAGE_BYTES) throw tooLargeForSingle(`over ${spanBytes}`);
    batches.push(b);
  });
  let request: TracesData | undefined;
  for await (const all of rebatch(batches, Number.MAX_SAFE_INTEGER)) request = all;
  if (request) {
    const size = encodeTracesData(request).length;
    if (size > MAX_MESSAGE_BYTES) throw tooLargeForSingle(String(size));
  }
  return { request, spans };
}

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a trace input to OTLP protobuf (size-delimited requests) or OTLP/JSON (JSON Lines)')
    .argument('[input]', 'dataset directory or trace file (default: generated traffic)')
    .requiredOption('-o, --output <file>', 'output file')
    .option('-f, --format <format>', 'proto or json (default: from the output name, else proto)')
    .option('--batch <spans>', 'spans per request: a positive integer', '512')
    .option('--single', `write all spans as one bare request (readable by protoc --decode) instead of size-delimited requests; refused when that request would exceed ${SINGLE_LIMIT_MIB} MiB, the OTLP request limit readers accept`);
  commonInputOptions(cmd).action(async (input: string | undefined, flags: ConvertFlags) => {
    const format = otlpFormatOf(flags.format, flags.output);
    const batch = intFlag('--batch', flags.batch, 512, { min: 1 });
    if (flags.single && cmd.getOptionValueSource('batch') === 'cli') throw new UsageError('--batch and --single exclude each other: --single writes one request');
    const source = await openInput(input, parseInputOptions(flags));
    const output = await AtomicFile.create(flags.output);
    const writer = new OtlpFileWriter(output, format, flags.single === true);
    const started = process.hrtime.bigint();
    let requests = 0;
    const spans = await withOutputs([output], async () => {
      if (flags.single) {
        const { request, spans } = await oneRequest(source);
        if (request) await writer.write(request);
        requests = request ? 1 : 0;
        return spans;
      }
      return forEachBatch(source, rebatch(source.batches(), batch), 'convert', async (b) => {
        await writer.write(b);
        requests++;
      });
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
      `${source.description} -> ${flags.output}: ${spans} spans in ${requests} ${format} requests, ${writer.bytesWritten} bytes, ${seconds.toFixed(1)} s\n`,
    );
    printWarnings(source.warnings(), false);
  });
}
