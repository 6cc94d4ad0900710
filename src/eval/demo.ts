// `slimtrace demo`'s run, end to end on the embedded default: the generated services' TypeScript
// source is written to a temporary folder and analyzed (as `slimtrace analyze` would), traffic with
// injected faults is generated from the same topology, and runEvaluation measures every sampling
// strategy at one byte budget, every codec (Tracezip decoded back and checked lossless), and
// sample-then-compress. Optionally the traffic also goes through a live agent and gateway on
// loopback (a callback the CLI supplies, since this room knows no servers), to count wire bytes.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { analyzeSources } from '../analyzer/analyze.js';
import { GrammarLoadError } from '../analyzer/index.js';
import { FaultySpans } from '../datasets/index.js';
import { defaultTopology, DEFAULT_RATE, DEFAULT_START_TIME_UNIX_NANO, embeddedTopology, resolveFaults, generateTrafficAsync, renderServiceSources, type ResolvedFault } from '../generator/index.js';
import type { TracesData } from '../model/index.js';
import { codeKnowledgeFromAnalysis, createStrategy, STRATEGY_DESCRIPTIONS, STRATEGY_NAMES, type CodeKnowledge, type StrategyName } from '../sampling/index.js';
import type { EvaluationReport, PipelineFigures } from './results.js';
import { runEvaluation } from './run.js';
import { rcaFaultsFromGenerator } from './rca.js';

export const DEMO_DEFAULT_TRACES = 2000;
export const DEMO_DEFAULT_SEED = 1;
export const DEMO_TARGET_REDUCTION = 0.8;
/** Targets besides the main one at which the demo runs its budgeted samplers (the trade-off curve). */
export const DEMO_SWEEP: readonly number[] = [0.5, 0.7, 0.9, 0.95];

export interface DemoOptions {
  traces?: number;
  seed?: number;
  targetReduction?: number;
  command?: string;
  /** Called at each step's start, and with done/total while traffic streams. */
  onStep?: (step: string) => void;
  onTraffic?: (tracesDone: number, tracesTotal: number, spans: number) => void;
  /** Sends the generated traffic through a live pipeline and reports what crossed the wire. */
  pipeline?: (batches: readonly TracesData[], setup: { analysis?: unknown; targetReduction: number }) => Promise<PipelineFigures>;
}

/**
 * Generated traffic with its labels filled as it streams, and the faults once it has ended.
 * `topology` names an embedded topology (`default` or `grpc`; an unknown name is an InputError).
 */
export function generatedInput(seed: number, traces: number, onTraffic?: DemoOptions['onTraffic'], topology = 'default') {
  const labels = new FaultySpans();
  const embedded = embeddedTopology(topology);
  const scenario = embedded.faultScenario(traces / DEFAULT_RATE);
  // The faults resolve from the scenario before any trace exists, so fault types are known while
  // the traffic streams (the waterfalls pick one trace per type as they go).
  const resolved = resolveFaults(scenario, embedded.topology, DEFAULT_START_TIME_UNIX_NANO);
  const planned = new Map(resolved.map((f) => [f.id, f.type as string]));
  let faults: ResolvedFault[] | undefined;
  let done = 0;
  let spans = 0;
  async function* batches(): AsyncGenerator<TracesData> {
    const gen = generateTrafficAsync({ seed, traces, faults: scenario, topology: embedded.topology });
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        faults = step.value.faults;
        return;
      }
      done += step.value.traces;
      spans += step.value.spans;
      for (const f of step.value.faultySpans) labels.add(f.definition, f.traceId, f.spanId, f.faultId);
      onTraffic?.(done, traces, spans);
      yield step.value.data;
    }
  }
  const faultTypes = (): ReadonlyMap<string, string> => (faults ? new Map(faults.map((f) => [f.id, f.type as string])) : planned);
  const byType = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const f of faults ?? []) out[f.type] = (out[f.type] ?? 0) + 1;
    return out;
  };
  return {
    description: `generated traffic (seed ${seed}, ${traces} traces, ${embedded.name} topology and fault scenario)`,
    batches,
    labels: { faultySpans: labels, faultTypes },
    faults: async () => (faults ? { faults: faults.length, byType: byType() } : undefined),
    /** Each fault's root-cause service and window, for root-cause localisation (rca.ts). */
    rcaFaults: rcaFaultsFromGenerator(resolved),
  };
}

/** The generated services' source, analyzed: the code knowledge Autoscope uses. */
export async function analyzeGeneratedServices(): Promise<{ code: CodeKnowledge; doc: unknown; files: number; spansMapped: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'slimtrace-demo-src-'));
  try {
    for (const f of renderServiceSources(defaultTopology()).files) {
      const path = join(dir, ...f.path.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.content);
    }
    const analysis = await analyzeSources({ sourceDirs: [dir] });
    // Through JSON, as analysis.json would be read: the sampler takes the document, not the analyzer's objects.
    const doc: unknown = JSON.parse(JSON.stringify(analysis));
    return { code: codeKnowledgeFromAnalysis(doc, 'the generated services'), doc, files: analysis.summary.files, spansMapped: analysis.summary.spansMapped };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runDemo(options: DemoOptions = {}): Promise<EvaluationReport> {
  const traces = options.traces ?? DEMO_DEFAULT_TRACES;
  const seed = options.seed ?? DEMO_DEFAULT_SEED;
  const targetReduction = options.targetReduction ?? DEMO_TARGET_REDUCTION;
  const steps: { step: string; seconds: number; note?: string }[] = [];
  const step = async <T>(name: string, work: () => Promise<T>, note?: (t: T) => string): Promise<T> => {
    options.onStep?.(name);
    const t0 = performance.now();
    const out = await work();
    steps.push({ step: name, seconds: (performance.now() - t0) / 1000, ...(note ? { note: note(out) } : {}) });
    return out;
  };
  // The grammars are optional dependencies (`npm install --omit=optional`): without them the demo
  // goes on with Autoscope mining structure from traffic only, and says so.
  const analysis = await step(
    'analyze the generated services',
    () => analyzeGeneratedServices().catch((e: unknown) => {
      if (e instanceof GrammarLoadError) return { code: undefined, doc: undefined, files: 0, spansMapped: 0, missing: e.message };
      throw e;
    }),
    (a) => ('missing' in a ? `skipped: ${a.missing}` : `${a.files} files, ${a.spansMapped} spans mapped`),
  );
  const input = generatedInput(seed, traces, options.onTraffic);
  // The live pipeline needs the traffic again: the generator is seeded, so a second run is the same traffic.
  const kept: TracesData[] | undefined = options.pipeline ? [] : undefined;
  async function* batches(): AsyncGenerator<TracesData> {
    for await (const b of input.batches()) {
      kept?.push(b);
      yield b;
    }
  }
  const strategies = STRATEGY_NAMES.map((name: StrategyName) => ({
    name,
    description: STRATEGY_DESCRIPTIONS[name],
    make: () => createStrategy(name, { targetReduction, code: analysis.code }),
  }));
  const report = await step('generate traffic, sample with every strategy, compress and check', () =>
    runEvaluation({
      title: 'slimtrace demo: what sampling and compression save, and what they keep',
      command: options.command,
      description: input.description,
      batches: batches(),
      strategies,
      labels: input.labels,
      faults: input.faults,
      rcaFaults: input.rcaFaults,
      targetReduction,
      codeKnowledge: analysis.code !== undefined,
      combinedStrategy: 'autoscope',
      // The trade-off curve: the budgeted samplers at other targets, in the same pass.
      sweep: (['autoscope', 'tail', 'random-span'] as const).map((name) => ({ strategy: name, targets: DEMO_SWEEP, make: (t: number) => createStrategy(name, { targetReduction: t, code: analysis.code }) })),
    }),
  );
  if (options.pipeline && kept) {
    const figures = await step('send the traffic through an agent and a gateway on loopback', () => options.pipeline!(kept, { analysis: analysis.doc, targetReduction }));
    report.pipeline = figures;
  }
  report.steps = steps;
  return report;
}
