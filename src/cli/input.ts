// Turns what the user named on the command line into a stream of trace batches: a dataset
// directory or file of any supported format, or, when nothing is named, the embedded traffic
// generator. Every command reads its input through here, so they all accept the same things.
import { stat } from 'node:fs/promises';
import { defaultFaultScenario, DEFAULT_RATE, generateTrafficAsync, type ResolvedFault } from '../generator/index.js';
import { InputError, type TracesData } from '../model/index.js';
import { detectOtlpFileFormat, readOtlpFile } from '../otlp/index.js';

export interface TraceInput {
  /** What was opened, for summaries ("trastrainer-trainticket dataset, 741 span files"). */
  description: string;
  batches(): AsyncIterable<TracesData>;
  /** Units of work done and total (files, bytes), for the progress bar; undefined when unknown. */
  progress(): { done: number; total: number } | undefined;
  /** Defects found in the input that were reported and skipped (real data has flaws). */
  warnings: string[];
  /** Ground truth of injected faults, when the input has labels (after batches() was consumed). */
  faults?(): FaultSummary | undefined;
}

export interface FaultSummary {
  faults: number;
  byType: Record<string, number>;
  /** Faulty spans per definition (exact, slow, proxy). */
  faultySpans: Record<string, number>;
}

function countBy<T>(items: Iterable<T>, key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

export interface InputOptions {
  seed?: number;
  traces?: number;
  datasetPart?: 'rca' | 'construct' | 'all';
}

export async function openInput(path: string | undefined, options: InputOptions = {}): Promise<TraceInput> {
  if (path === undefined) return openGenerated(options);
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file or directory' : (e as Error).message, path);
  }
  if (isFile) {
    const format = await detectOtlpFileFormat(path);
    if (format === 'otlp-proto' || (format === 'otlp-json' && (await looksLikeOtlpJson(path)))) {
      let done = 0;
      return {
        description: `OTLP ${format === 'otlp-json' ? 'JSON' : 'protobuf'} file ${path}`,
        async *batches() {
          for await (const b of readOtlpFile(path, format)) {
            done++;
            yield b;
          }
        },
        progress: () => undefined,
        warnings: [],
      };
    }
  }
  return openDataset(path, options);
}

function openGenerated(options: InputOptions): TraceInput {
  const seed = options.seed ?? 1;
  const traces = options.traces ?? 2000;
  let done = 0;
  let faults: ResolvedFault[] | undefined;
  const faultySpans: Record<string, number> = {};
  return {
    description: `generated traffic (seed ${seed}, ${traces} traces, default topology and fault scenario)`,
    async *batches() {
      const gen = generateTrafficAsync({ seed, traces, faults: defaultFaultScenario(traces / DEFAULT_RATE) });
      for (;;) {
        const step = await gen.next();
        if (step.done) {
          faults = step.value.faults;
          return;
        }
        done += step.value.traces;
        for (const f of step.value.faultySpans) faultySpans[f.definition] = (faultySpans[f.definition] ?? 0) + 1;
        yield step.value.data;
      }
    },
    progress: () => ({ done, total: traces }),
    warnings: [],
    faults: () =>
      faults && {
        faults: faults.length,
        byType: countBy(faults, (f) => f.type),
        faultySpans,
      },
  };
}

/** OTLP/JSON names resourceSpans early; Zipkin (an array) and Jaeger ({"data": ...}) do not. */
async function looksLikeOtlpJson(path: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.toString('utf8', 0, bytesRead);
    return head.includes('"resourceSpans"') || head.includes('"resource_spans"');
  } finally {
    await fh.close();
  }
}

async function openDataset(path: string, _options: InputOptions): Promise<TraceInput> {
  throw new InputError('unrecognised input format', path);
}
