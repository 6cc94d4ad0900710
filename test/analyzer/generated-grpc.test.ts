// The analyzer against the generator's polyglot gRPC topology and its answer key (issue 14: at least
// 95% of the distinct span names mapped to the function that produces them). The topology comes from
// the generator (`grpcTopology`); until the generator has it, the test is skipped.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as generator from '../../src/generator/index.js';
import { measureGeneratedCoverage, type GeneratedCoverage } from '../../scripts/generated-coverage.js';

/** The generator's polyglot topology factory, when this build of the generator has one. */
const grpcTopology = (generator as Record<string, unknown>).grpcTopology as (() => Parameters<typeof generator.emitServiceSources>[0]) | undefined;

describe('analysis of the generated polyglot gRPC topology', { skip: grpcTopology ? false : 'the generator has no grpcTopology yet' }, () => {
  let dir: string;
  let result: GeneratedCoverage;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-generated-grpc-'));
    const model = await generator.emitServiceSources(grpcTopology!(), dir);
    await writeFile(join(dir, 'slimtrace-model.json'), JSON.stringify(model));
    result = await measureGeneratedCoverage(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('maps at least 95% of the distinct span names to the function the answer key names', () => {
    assert.ok(result.spanNamesMapped >= 0.95 * result.distinctSpanNames, `${result.spanNamesMapped} of ${result.distinctSpanNames}:\n${result.misses.join('\n')}`);
    assert.equal(result.syntaxErrors, 0);
  });

  it('joins every gRPC stub call to its handler and finds the branch points of the key', () => {
    const [matched, calls] = result.grpcStubCallsMatched.split('/').map(Number);
    assert.ok(calls! > 0 && matched === calls, result.grpcStubCallsMatched);
    const [found, all] = result.branchPoints.split('/').map(Number);
    assert.ok(found! >= 0.95 * all!, `${result.branchPoints}:\n${result.branchPointMisses.join('\n')}`);
  });
});
