#!/usr/bin/env node
// The slimtrace command line: one file per command under commands/, wired together here.
import { Command, CommanderError } from 'commander';
import { registerCompress, registerDecompress } from './commands/compress.js';
import { registerConvert } from './commands/convert.js';
import { registerGenerate } from './commands/generate.js';
import { registerStats } from './commands/stats.js';
import { EXIT_USAGE, reportAndExit } from './errors.js';

const program = new Command();
program
  .name('slimtrace')
  .description('Cut the cost of distributed tracing: lossless Tracezip compression and Autoscope span-level sampling for OpenTelemetry traces.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();
registerStats(program);
registerConvert(program);
registerGenerate(program);
registerCompress(program);
registerDecompress(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
  reportAndExit(e);
}
