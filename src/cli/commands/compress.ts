// `slimtrace compress IN -o OUT.tzip` and `slimtrace decompress IN.tzip -o OUT`: Tracezip's file
// mode. Every frame of a .tzip file is self-contained; decompress gives back OTLP exactly.
import type { Command } from 'commander';
import { countSpans, rebatch } from '../../model/index.js';
import { encodeTracesData, OtlpFileWriter } from '../../otlp/index.js';
import { TracezipFileWriter, defaultCompression, readTracezipFile, type Compression } from '../../tracezip/index.js';
import { UsageError } from '../errors.js';
import { forEachBatch, openInput, printWarnings } from '../input.js';
import { commonInputOptions, parseInputOptions, positiveInt, type CommonInputFlags } from './common.js';

interface CompressFlags extends CommonInputFlags {
  output: string;
  batch?: string;
  compression?: string;
  level?: string;
}

function compressionOf(text: string | undefined): Compression {
  const c = text ?? defaultCompression();
  if (c !== 'zstd' && c !== 'gzip' && c !== 'none') throw new UsageError(`--compression must be zstd, gzip or none, got '${c}'`);
  return c;
}

export function registerCompress(program: Command): void {
  const cmd = program
    .command('compress')
    .description('compress a trace input losslessly into a Tracezip file (self-contained frames)')
    .argument('[input]', 'dataset directory or trace file (default: generated traffic)')
    .requiredOption('-o, --output <file>', 'output .tzip file')
    .option('--batch <spans>', 'spans per frame', '4096')
    .option('--compression <method>', 'whole-frame compression: zstd, gzip or none (default: zstd when available)')
    .option('--level <n>', 'zstd level', '3');
  commonInputOptions(cmd).action(async (input: string | undefined, flags: CompressFlags) => {
    const batch = positiveInt('--batch', flags.batch, 4096);
    if (batch === 0) throw new UsageError('--batch must be at least 1');
    const compression = compressionOf(flags.compression);
    const level = positiveInt('--level', flags.level, 3);
    const source = await openInput(input, parseInputOptions(flags));
    const writer = new TracezipFileWriter(flags.output, { compression, zstdLevel: level });
    const started = process.hrtime.bigint();
    let otlpBytes = 0;
    let spans: number;
    try {
      spans = await forEachBatch(source, rebatch(source.batches(), batch), 'compress', async (b) => {
        otlpBytes += encodeTracesData(b).length;
        await writer.write(b);
      });
    } finally {
      await writer.close();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
      `${spans} spans: ${otlpBytes} bytes of OTLP in, ${writer.bytesWritten} bytes out (${writer.frames} frames), ` +
        `ratio ${(otlpBytes / Math.max(1, writer.bytesWritten)).toFixed(2)}x, ${(writer.bytesWritten / Math.max(1, spans)).toFixed(1)} bytes/span, ${seconds.toFixed(1)} s\n`,
    );
    printWarnings(source.warnings(), false);
  });
}

interface DecompressFlags {
  output: string;
  format?: string;
}

export function registerDecompress(program: Command): void {
  program
    .command('decompress')
    .description('decompress a Tracezip file back to OTLP protobuf (size-delimited) or OTLP/JSON (JSON Lines)')
    .argument('<input>', '.tzip file')
    .requiredOption('-o, --output <file>', 'output file')
    .option('-f, --format <format>', 'proto or json (default: from the output name, else proto)')
    .action(async (input: string, flags: DecompressFlags) => {
      const f = flags.format ?? (/\.(json|jsonl|ndjson)$/i.test(flags.output) ? 'json' : 'proto');
      if (f !== 'json' && f !== 'proto') throw new UsageError(`--format must be proto or json, got '${f}'`);
      const writer = new OtlpFileWriter(flags.output, f === 'json' ? 'otlp-json' : 'otlp-proto');
      const started = process.hrtime.bigint();
      let spans = 0;
      let frames = 0;
      try {
        for await (const b of readTracezipFile(input)) {
          await writer.write(b);
          spans += countSpans(b);
          frames++;
        }
      } finally {
        await writer.close();
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      process.stdout.write(`${input} -> ${flags.output}: ${spans} spans from ${frames} frames, ${writer.bytesWritten} bytes of ${f === 'json' ? 'OTLP/JSON' : 'OTLP protobuf'}, ${seconds.toFixed(1)} s\n`);
    });
}
