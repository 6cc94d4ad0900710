// Flags every command that reads traces shares: which generated traffic to use when no input is named.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { intFlag } from '../flags.js';
import type { InputOptions } from '../input.js';

export interface CommonInputFlags {
  seed?: string;
  traces?: string;
  dataset?: string;
}

export function commonInputOptions(cmd: Command): Command {
  return cmd
    .option('--seed <n>', 'seed of the generated traffic (no input named): a non-negative integer', '1')
    .option('--traces <n>', 'number of generated traces (no input named): a positive integer', '2000')
    .option('--dataset-part <part>', 'nezha datasets: rca, construct or all', 'rca');
}

/** The generator's seed and trace count, checked the same way by every command that generates. */
export function generatorFlags(flags: { seed?: string; traces?: string }): { seed: number; traces: number } {
  return { seed: intFlag('--seed', flags.seed, 1), traces: intFlag('--traces', flags.traces, 2000, { min: 1 }) };
}

export function parseInputOptions(flags: CommonInputFlags & { datasetPart?: string }): InputOptions {
  const part = flags.datasetPart ?? 'rca';
  if (part !== 'rca' && part !== 'construct' && part !== 'all') throw new UsageError(`--dataset-part must be rca, construct or all, got '${part}'`);
  return { ...generatorFlags(flags), datasetPart: part };
}
