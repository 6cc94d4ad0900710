// `slimtrace compress IN -o OUT.tzip` and `slimtrace decompress IN.tzip -o OUT`: Tracezip's file
// mode. Every frame of a .tzip file is self-contained; decompress gives back OTLP exactly.
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { countSpans, InputError, rebatch } from '../../model/index.js';
import { encodeTracesData, OtlpFileWriter } from '../../otlp/index.js';
import { fileError } from '../../datasets/input.js';
import { TracezipFileWriter, defaultCompression, readTracezipFile, type Compression } from '../../tracezip/index.js';
import { UsageError } from '../errors.js';
import { intFlag } from '../flags.js';
import { forEachBatch, openInput, printWarnings } from '../input.js';
import { AtomicFile, otlpFormatOf, withOutputs } from '../output.js';
import { commonInputOptions, parseInputOptions, type CommonInputFlags } from './common.js';

interface CompressFlags extends CommonInputFlags {
  output: string;
  batch?: string;
  compression?: string;
  level?: string;
}

/** zstd's levels: 1 (fastest) to 22 (ZSTD_maxCLevel, smallest); the file writer's default is 3. */
const ZSTD_MIN_LEVEL = 1;
const ZSTD_MAX_LEVEL = 22;
const DEFAULT_ZSTD_LEVEL = 3;

function compressionOf(text: string | undefined): Compression {
  const c = text ?? defaultCompression();
  if (c !== 'zstd' && c !== 'gzip' && c !== 'none') throw new UsageError(`--compression must be zstd, gzip or none, got '${c}'`);
  // defaultCompression() falls back to gzip exactly when zstd-napi cannot load here.
  if (c === 'zstd' && defaultCompression() !== 'zstd') throw new UsageError('--compression zstd: zstd is not available on this machine (zstd-napi did not load); use gzip');
  return c;
}

/** --level is zstd's: the gzip fallback always compresses at level 6 and none has no level, so a level given with them would be ignored. */
function levelOf(text: string | undefined, compression: Compression): number {
  if (text !== undefined && compression !== 'zstd') throw new UsageError(`--level sets the zstd level; ${compression === 'gzip' ? 'gzip frames are always written at level 6' : 'none has no level'}, got --level ${text} with --compression ${compression}`);
  return intFlag('--level', text, DEFAULT_ZSTD_LEVEL, { min: ZSTD_MIN_LEVEL, max: ZSTD_MAX_LEVEL, context: 'for zstd' });
}

export function registerCompress(program: Command): void {
  const cmd = program
    .command('compress')
    .description('compress a trace input losslessly into a Tracezip file (self-contained frames)')
    .argument('[input]', 'dataset directory or trace file (default: generated traffic)')
    .requiredOption('-o, --output <file>', 'output .tzip file')
    .option('--batch <spans>', 'spans per frame: a positive integer', '4096')
    .option('--compression <method>', 'whole-frame compression: zstd, gzip or none (default: zstd when available)')
    .option('--level <n>', `zstd level, ${ZSTD_MIN_LEVEL} (fastest) to ${ZSTD_MAX_LEVEL} (smallest) (default: ${DEFAULT_ZSTD_LEVEL}); zstd only: gzip frames are always written at level 6`);
  commonInputOptions(cmd).action(async (input: string | undefined, flags: CompressFlags) => {
    const batch = intFlag('--batch', flags.batch, 4096, { min: 1 });
    const compression = compressionOf(flags.compression);
    const level = levelOf(flags.level, compression);
    const source = await openInput(input, parseInputOptions(flags));
    const output = await AtomicFile.create(flags.output);
    const writer = new TracezipFileWriter(output, { compression, zstdLevel: level });
    const started = process.hrtime.bigint();
    let otlpBytes = 0;
    const spans = await withOutputs([output], () =>
      forEachBatch(source, rebatch(source.batches(), batch), 'compress', async (b) => {
        otlpBytes += encodeTracesData(b).length;
        await writer.write(b);
      }),
    );
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

/** The .tzip to read must be a file: a directory or a missing path is named before any output is opened. */
async function checkInputFile(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    throw fileError(e, path);
  }
  if (s.isDirectory()) throw new InputError('is a directory, expected a .tzip file', path);
}

export function registerDecompress(program: Command): void {
  program
    .command('decompress')
    .description('decompress a Tracezip file back to OTLP protobuf (size-delimited) or OTLP/JSON (JSON Lines)')
    .argument('<input>', '.tzip file')
    .requiredOption('-o, --output <file>', 'output file')
    .option('-f, --format <format>', 'proto or json (default: from the output name, else proto)')
    .action(async (input: string, flags: DecompressFlags) => {
      const format = otlpFormatOf(flags.format, flags.output);
      await checkInputFile(input);
      const output = await AtomicFile.create(flags.output);
      const writer = new OtlpFileWriter(output, format);
      const started = process.hrtime.bigint();
      let spans = 0;
      let frames = 0;
      await withOutputs([output], async () => {
        for await (const b of readTracezipFile(input)) {
          await writer.write(b);
          spans += countSpans(b);
          frames++;
        }
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      process.stdout.write(`${input} -> ${flags.output}: ${spans} spans from ${frames} frames, ${writer.bytesWritten} bytes of ${format === 'otlp-json' ? 'OTLP/JSON' : 'OTLP protobuf'}, ${seconds.toFixed(1)} s\n`);
    });
}
