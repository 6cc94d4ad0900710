#!/usr/bin/env node
// The slimtrace command line: one file per command under commands/, wired together here.
import { Command, CommanderError, Help, type Option } from 'commander';
import { registerAnalyze } from './commands/analyze.js';
import { registerCompress, registerDecompress } from './commands/compress.js';
import { registerConvert } from './commands/convert.js';
import { registerGenerate } from './commands/generate.js';
import { registerStats } from './commands/stats.js';
import { registerEvaluate, registerSample } from './commands/sample.js';
import { registerServe } from './commands/serve.js';
import { registerDemo } from './commands/demo.js';
import { EXIT_USAGE, reportAndExit } from './errors.js';
import { removeOutputsOnSignals } from './output.js';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The command-line program under the name it is installed as (`slimtrace`, or `autoscope`). */
export function buildProgram(name = 'slimtrace'): Command {
  const program = new Command();
  program
    .name(name)
    .description('Cut the cost of distributed tracing: lossless Tracezip compression and Autoscope span-level sampling for OpenTelemetry traces.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureHelp({
      // Required options are marked in the option list (commander lists them like the others).
      optionDescription(this: Help, option: Option) {
        return `${Help.prototype.optionDescription.call(this, option)}${option.mandatory ? ' (required)' : ''}`;
      },
    });
  registerDemo(program);
  registerStats(program);
  registerConvert(program);
  registerGenerate(program);
  registerCompress(program);
  registerDecompress(program);
  registerAnalyze(program);
  registerSample(program);
  registerEvaluate(program);
  registerServe(program);
  for (const cmd of program.commands) showRequiredInUsage(cmd);
  return program;
}

/** Puts a command's required options in its usage line: `slimtrace convert -o <file> [options] [input]`. */
function showRequiredInUsage(cmd: Command): void {
  const required = cmd.options.filter((o) => o.mandatory).map((o) => `${o.short ?? o.long} ${o.flags.slice(o.flags.lastIndexOf(' ') + 1)}`);
  if (required.length > 0) cmd.usage(`${required.join(' ')} ${cmd.usage()}`);
}

/** Parses the process's arguments and exits the way the CLI does (2 on a user's mistake). */
export async function runCli(name = 'slimtrace', argv: readonly string[] = process.argv): Promise<void> {
  // A reader that stops early (`slimtrace evaluate | head`) closes the pipe: a normal end, not a crash.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  removeOutputsOnSignals();
  try {
    await buildProgram(name).parseAsync(argv as string[]);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
    reportAndExit(e);
  }
}

// Run only when this file is the entry point (autoscope.ts imports buildProgram/runCli).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await runCli();
