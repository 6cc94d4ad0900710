// Flags every command that reads traces shares: which generated traffic to use when no input is named.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { InputOptions } from '../input.js';

export interface CommonInputFlags {
  seed?: string;
  traces?: string;
  dataset?: string;
}

export function commonInputOptions(cmd: Command): Command {
  return cmd
    .option('--seed <n>', 'seed of the generated traffic (no input named)', '1')
    .option('--traces <n>', 'number of generated traces (no input named)', '2000')
    .option('--dataset-part <part>', 'nezha datasets: rca, construct or all', 'rca');
}

export function positiveInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer, got '${text}'`);
  return n;
}

export function parseInputOptions(flags: CommonInputFlags & { datasetPart?: string }): InputOptions {
  const part = flags.datasetPart ?? 'rca';
  if (part !== 'rca' && part !== 'construct' && part !== 'all') throw new UsageError(`--dataset-part must be rca, construct or all, got '${part}'`);
  return {
    seed: positiveInt('--seed', flags.seed, 1),
    traces: positiveInt('--traces', flags.traces, 2000),
    datasetPart: part,
  };
}
