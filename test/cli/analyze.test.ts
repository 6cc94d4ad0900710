// `slimtrace analyze` / `autoscope analyze` as a user runs them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTopology, emitServiceSources, grpcTopology } from '../../src/generator/index.js';

import { assertOneLineError, runEntry as run } from './helpers.js';

describe('slimtrace analyze', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-cli-analyze-'));
    await emitServiceSources(defaultTopology(), join(dir, 'src'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes analysis.json and a summary line; autoscope takes the same flags; a missing dir is exit 2', () => {
    const out = join(dir, 'analysis.json');
    const r = run('main.ts', 'analyze', '--source-dir', join(dir, 'src'), '--output', out, '--target-reduction', '0.7');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^analyzed 30 files of 10 services: \d+ functions, \d+ branch points, \d+ spans mapped, 0 unsupported, 0 syntax errors in [\d.]+ s/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(doc.format, 'slimtrace-analysis');
    assert.equal(doc.version, 1);
    assert.equal(doc.settings.targetReduction, 0.7);
    assert.equal(doc.services.length, 10);

    const out2 = join(dir, 'auto.json');
    const a = run('autoscope.ts', 'analyze', '--source-dir', join(dir, 'src'), '--service', `front=${join(dir, 'src/services/frontend')}`, '--output', out2);
    assert.equal(a.status, 0, a.stderr);
    const doc2 = JSON.parse(readFileSync(out2, 'utf8'));
    assert.ok(doc2.services.some((s: { name: string }) => s.name === 'front'));
    assert.ok(!doc2.services.some((s: { name: string }) => s.name === 'frontend'));

    assertOneLineError(run('main.ts', 'analyze', '--source-dir', join(dir, 'missing'), '--output', join(dir, 'x.json')), /missing/);
  });

  it('gRPC code without its .proto files: a warning that says what to add; with them, the stubs are joined to their handlers', async () => {
    const g = join(dir, 'grpc');
    await emitServiceSources(grpcTopology(), g);
    const partial = run('main.ts', 'analyze', '--source-dir', join(g, 'services'), '--output', join(dir, 'grpc-partial.json'));
    assert.equal(partial.status, 0, partial.stderr);
    assert.match(partial.stderr, /warning: \d+ files use a gRPC library but no \.proto file was found .*--proto-dir/);
    assert.ok(JSON.parse(readFileSync(join(dir, 'grpc-partial.json'), 'utf8')).summary.grpcFilesWithoutProto > 0);
    const full = run('main.ts', 'analyze', '--source-dir', join(g, 'services'), '--proto-dir', join(g, 'proto'), '--output', join(dir, 'grpc-full.json'));
    assert.equal(full.status, 0, full.stderr);
    assert.doesNotMatch(full.stderr, /gRPC library/);
    assert.match(full.stdout, /([1-9]\d*) of \1 gRPC stub calls matched/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'grpc-full.json'), 'utf8')).summary.grpcFilesWithoutProto, undefined);
  });

  it('a folder with no source it reads is an error naming it, and writes nothing', () => {
    const empty = join(dir, 'only-docs');
    mkdirSync(join(empty, 'svc'), { recursive: true });
    writeFileSync(join(empty, 'svc', 'README.md'), '# nothing to analyze\n');
    const out = join(dir, 'empty.json');
    assertOneLineError(run('main.ts', 'analyze', '--source-dir', empty, '--output', out), /no Java, TypeScript\/JavaScript, Go, Python or C# source files in .*only-docs/);
    assert.equal(existsSync(out), false);
  });
});
