// A hand-built EvaluationReport for the report tests: two strategies, three codecs at two batch
// sizes, an RCA section, and a waterfall of one faulty trace with every fate, with hostile text in
// every name the data carries (span, service, strategy, fault type, description, trace id).
import type { EvaluationReport } from '../../src/report/index.js';

export const HOSTILE = '</svg><script>alert("x")</script><img src=x onerror=alert(1)>&amp;';

export function handBuiltReport(overrides: Partial<EvaluationReport> = {}): EvaluationReport {
  const cov = (kept: number, faulty: number) => ({ kept, faulty, share: kept / faulty });
  return {
    format: 'slimtrace-evaluation',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    title: `report ${HOSTILE}`,
    command: `slimtrace evaluate ${HOSTILE}`,
    input: { description: `input ${HOSTILE}`, spans: 1000, traces: 100, otlpBytes: 300_000, faults: { count: 2, byType: { [HOSTILE]: 1, delay: 1 } }, faultySpans: { exact: 10 } },
    settings: { targetReduction: 0.8, coverageGoal: 0.99, decisionWaitMs: 30_000, summaries: true, codeKnowledge: false, combinedStrategy: 'autoscope' },
    strategies: [
      {
        strategy: 'autoscope',
        inputBytes: 300_000,
        outputBytes: 60_000,
        reduction: 0.8,
        inputSpans: 1000,
        outputSpans: 220,
        traces: 100,
        tracesKept: 100,
        tracesIntact: 100,
        traceQueryMissRate: 0,
        spanQueryMissRate: 0.78,
        coverage: { exact: cov(10, 10) },
        coverageByType: { exact: { [HOSTILE]: cov(5, 5), delay: cov(5, 5) } },
        sampleThenTracezipBytes: 9_000,
        tierBytes: { full: 40_000, skeleton: 0, summary: 0 },
        seconds: 0.1,
      },
      {
        strategy: `evil ${HOSTILE}`,
        description: HOSTILE,
        inputBytes: 300_000,
        outputBytes: 150_000,
        reduction: 0.5,
        inputSpans: 1000,
        outputSpans: 500,
        traces: 100,
        tracesKept: 50,
        tracesIntact: 49,
        traceQueryMissRate: 0.5,
        spanQueryMissRate: 0.5,
        coverage: { exact: cov(4, 10) },
        coverageByType: { exact: { [HOSTILE]: cov(0, 5), delay: cov(4, 5) } },
        tierBytes: { full: 20_000, skeleton: 6_000, summary: 1_500 },
        seconds: 0.05,
      },
    ],
    codecs: {
      batchSizes: [16, 512],
      rows: [
        { codec: 'otlp-protobuf', label: 'OTLP protobuf', spans: 1000, bytes: [320_000, 300_000], bytesPerInputSpan: [320, 300] },
        { codec: 'tracezip', label: 'Tracezip', spans: 1000, bytes: [30_000, 24_000], bytesPerInputSpan: [30, 24] },
        { codec: 'autoscope+tracezip', label: 'autoscope then Tracezip', spans: 220, bytes: [12_000, 9_000], bytesPerInputSpan: [12, 9] },
      ],
      lossless: { checked: true, frames: 70, spans: 1000, ok: true },
    },
    timings: [{ stage: `sample ${HOSTILE}`, count: 100, p50Ms: 0.02, p99Ms: 0.3, cpuSecondsPerMillionSpans: 4 }],
    resources: { peakRssBytes: 200 * 1024 * 1024, wallSeconds: 2, cpuSeconds: 1.5 },
    rca: {
      methods: [
        { method: 'TraceRCA', full: { ac1: 0.6, ac3: 0.9, avg5: 0.8 }, reduced: { autoscope: { ac1: 0.6, ac3: 0.9, avg5: 0.82 } }, chance: { ac1: 0.1, ac3: 0.3, avg5: 0.3 } },
        { method: HOSTILE, full: { ac1: 0.5, ac3: 0.7, avg5: 0.7 }, reduced: { autoscope: { ac1: 0.4, ac3: 0.7, avg5: 0.65 } } },
      ],
    },
    tradeoff: [{ strategy: 'autoscope', points: [{ targetReduction: 0.5, reduction: 0.5, coverage: 1 }, { targetReduction: 0.8, reduction: 0.8, coverage: 1 }, { targetReduction: 0.9, reduction: 0.85, coverage: 0.9 }] }],
    waterfalls: [
      {
        traceId: HOSTILE,
        faultTypes: [HOSTILE],
        strategies: ['autoscope', `evil ${HOSTILE}`],
        spans: [
          { name: `GET ${HOSTILE}`, service: 'frontend', parent: -1, depth: 0, startMs: 0, durationMs: 10, error: false, faulty: false, fates: { autoscope: 'kept', [`evil ${HOSTILE}`]: 'kept' }, skeleton: { autoscope: true } },
          { name: 'call', service: HOSTILE, parent: 0, depth: 1, startMs: 1, durationMs: 6, error: false, faulty: false, fates: { autoscope: 'summarized', [`evil ${HOSTILE}`]: 'dropped' } },
          { name: 'query', service: HOSTILE, parent: 1, depth: 2, startMs: 2, durationMs: 3, error: true, faulty: true, fates: { autoscope: 'reparented', [`evil ${HOSTILE}`]: 'dropped' }, skipped: { autoscope: 1 } },
          { name: 'cache', service: 'frontend', parent: 0, depth: 1, startMs: 8, durationMs: 1, error: false, faulty: false, fates: { autoscope: 'dropped', [`evil ${HOSTILE}`]: 'kept' } },
        ],
      },
    ],
    ...overrides,
  };
}
