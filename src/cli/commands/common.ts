// Flags every command that reads traces shares: which generated traffic to use when no input is named.
import type { Command } from 'commander';
import { EMBEDDED_TOPOLOGIES } from '../../generator/index.js';
import { UsageError } from '../errors.js';
import { intFlag } from '../flags.js';
import type { InputOptions } from '../input.js';
import type { OtlpReadOptions } from '../../otlp/index.js';

export interface CommonInputFlags {
  seed?: string;
  traces?: string;
  topology?: string;
  dataset?: string;
  inputLimits?: string;
}

export function commonInputOptions(cmd: Command): Command {
  return cmd
    .option('--seed <n>', 'seed of the generated traffic (no input named): a non-negative integer', '1')
    .option('--traces <n>', 'number of generated traces (no input named): a positive integer', '2000')
    .option('--topology <name>', `embedded topology of the generated traffic (no input named): ${EMBEDDED_TOPOLOGIES.join(' or ')}`, 'default')
    .option('--dataset-part <part>', 'nezha datasets: rca, construct or all', 'rca')
    .option(
      '--input-limits <list>',
      'raise or lower what reading an input may spend, e.g. maxSpans=8388608,maxDecodedMemory=2GiB (also maxDocumentBytes, maxCompressionRatio, maxRecordBytes; see docs/otlp.md "Limits")',
    );
}

/** The generator's seed and trace count, checked the same way by every command that generates. */
export function generatorFlags(flags: { seed?: string; traces?: string }): { seed: number; traces: number } {
  return { seed: intFlag('--seed', flags.seed, 1), traces: intFlag('--traces', flags.traces, 2000, { min: 1 }) };
}

export function parseInputOptions(flags: CommonInputFlags & { datasetPart?: string }): InputOptions {
  const part = flags.datasetPart ?? 'rca';
  if (part !== 'rca' && part !== 'construct' && part !== 'all') throw new UsageError(`--dataset-part must be rca, construct or all, got '${part}'`);
  return { ...generatorFlags(flags), topology: topologyFlag(flags.topology), datasetPart: part, limits: inputLimitsFlag(flags.inputLimits) };
}

/** `--topology`: the name of an embedded topology. */
export function topologyFlag(name: string | undefined): string {
  const n = name ?? 'default';
  if (!(EMBEDDED_TOPOLOGIES as readonly string[]).includes(n)) throw new UsageError(`--topology must be ${EMBEDDED_TOPOLOGIES.join(' or ')}, got '${n}'`);
  return n;
}

const LIMIT_NAMES = ['maxSpans', 'maxDecodedMemory', 'maxDocumentBytes', 'maxCompressionRatio', 'maxRecordBytes'] as const;
const UNITS: Record<string, number> = { '': 1, k: 1e3, kib: 1024, m: 1e6, mib: 1024 ** 2, g: 1e9, gib: 1024 ** 3 };

/** `--input-limits name=value,...`: the DecodeLimits and ReadLimits by their own names; sizes may take KiB, MiB, GiB. */
export function inputLimitsFlag(text: string | undefined): OtlpReadOptions | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(\w+)\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(part);
    const name = m?.[1];
    const unit = UNITS[(m?.[3] ?? '').toLowerCase()];
    if (!m || !LIMIT_NAMES.includes(name as (typeof LIMIT_NAMES)[number]) || unit === undefined) {
      throw new UsageError(`--input-limits takes name=value pairs separated by commas, names ${LIMIT_NAMES.join(', ')} (sizes may end in KiB, MiB or GiB), got '${part}'`);
    }
    const v = Number(m[2]) * unit;
    if (!(v > 0) || !Number.isFinite(v)) throw new UsageError(`--input-limits ${name} must be positive, got '${part}'`);
    out[name!] = name === 'maxCompressionRatio' ? v : Math.floor(v);
  }
  return out as OtlpReadOptions;
}
