// Flags as a user meets them: every numeric flag refuses what cannot be right with a usage error
// naming the flag, its range and the value; help says what is required and what a flag does;
// --single writes what it says; evaluate reads the labels generate wrote; stats does not depend on
// how its input is batched.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTracesData } from '../../src/otlp/index.js';
import { countSpans } from '../../src/model/index.js';

import { assertOneLineError, slimtrace } from './helpers.js';

describe('slimtrace flags', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-cli-flags-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const out = () => join(dir, 'never-written.otlp');
  const refused: [string, () => string[], RegExp][] = [
    ['--level 99', () => ['compress', '--traces', '5', '-o', out(), '--level', '99'], /--level must be an integer from 1 to 22 for zstd, got '99'/],
    ['--level 0', () => ['compress', '--traces', '5', '-o', out(), '--level', '0'], /--level must be an integer from 1 to 22 for zstd, got '0'/],
    ['--level with gzip', () => ['compress', '--traces', '5', '-o', out(), '--compression', 'gzip', '--level', '9'], /--level sets the zstd level; gzip frames are always written at level 6/],
    ['--traces 0', () => ['convert', '--traces', '0', '-o', out()], /--traces must be a positive integer, got '0'/],
    ['--traces -3', () => ['stats', '--traces', '-3'], /--traces must be a positive integer, got '-3'/],
    ['--traces 2.5', () => ['stats', '--traces', '2.5'], /--traces must be a positive integer, got '2\.5'/],
    ['--traces NaN', () => ['stats', '--traces', 'NaN'], /--traces must be a positive integer, got 'NaN'/],
    ['--traces empty', () => ['stats', '--traces', ''], /--traces must be a positive integer, got ''/],
    ['--traces 1e3', () => ['stats', '--traces', '1e3'], /--traces must be a positive integer, got '1e3'/],
    ['--seed -1', () => ['stats', '--seed', '-1'], /--seed must be a non-negative integer, got '-1'/],
    ['generate --traces 0', () => ['generate', '--traces', '0', '-o', out()], /--traces must be a positive integer/],
    ['--batch 0', () => ['convert', '--traces', '5', '--batch', '0', '-o', out()], /--batch must be a positive integer, got '0'/],
    ['compress --batch 1.5', () => ['compress', '--traces', '5', '--batch', '1.5', '-o', out()], /--batch must be a positive integer, got '1\.5'/],
    ['--rate 0', () => ['generate', '--rate', '0', '-o', out()], /--rate must be a positive number, got '0'/],
    ['--rate abc', () => ['generate', '--rate', 'abc', '-o', out()], /--rate must be a positive number, got 'abc'/],
    ['--target-reduction 1', () => ['sample', '--traces', '5', '--strategy', 'head', '-o', out(), '--target-reduction', '1'], /--target-reduction must be a number in \[0, 1\), got '1'/],
    ['--target-reduction empty', () => ['evaluate', '--traces', '5', '--target-reduction', ''], /--target-reduction must be a number in \[0, 1\), got ''/],
    ['analyze --target-reduction -0.1', () => ['analyze', '--source-dir', dir, '-o', out(), '--target-reduction', '-0.1'], /--target-reduction must be a number in \[0, 1\), got '-0\.1'/],
    ['--decision-wait -1', () => ['sample', '--traces', '5', '--strategy', 'head', '-o', out(), '--decision-wait', '-1'], /--decision-wait must be a non-negative number, got '-1'/],
    ['--latency-threshold Infinity', () => ['evaluate', '--traces', '5', '--latency-threshold', 'Infinity'], /--latency-threshold must be a non-negative number, got 'Infinity'/],
    ['--bytes-per-second 0', () => ['sample', '--traces', '5', '--strategy', 'tail', '-o', out(), '--bytes-per-second', '0'], /--bytes-per-second must be a positive number, got '0'/],
    ['evaluate --bytes-per-second with a strategy without a byte budget', () => ['evaluate', '--traces', '5', '--bytes-per-second', '100'], /strategy head has no byte budget to adapt/],
    ['--max-spans 0', () => ['stats', '--max-spans', '0'], /--max-spans must be a positive integer, got '0'/],
    ['--single with --batch', () => ['convert', '--traces', '5', '--single', '--batch', '8', '-o', out()], /--batch and --single exclude each other/],
    ['two outputs on one file', () => ['generate', '--traces', '5', '-o', join(dir, 'same'), '--ground-truth', join(dir, 'same')], /-o and --ground-truth name the same file/],
    ['a missing --ground-truth file', () => ['evaluate', '--traces', '5', '--ground-truth', join(dir, 'nope.csv')], /nope\.csv: no such file or directory/],
  ];
  for (const [what, args, message] of refused) {
    it(`refuses ${what} with a one-line usage error, exit 2`, () => {
      assertOneLineError(slimtrace(...args()), message);
    });
  }

  it('stops at --max-spans with a message saying how to raise it', () => {
    assertOneLineError(slimtrace('stats', '--traces', '20', '--max-spans', '50'), /more than 50 spans: .*--max-spans raises the limit/);
  });

  it('help shows required options as required, in the usage line and the option list', () => {
    for (const [command, usage] of [
      ['convert', /Usage: slimtrace convert -o <file> \[options\] \[input\]/],
      ['compress', /Usage: slimtrace compress -o <file> \[options\] \[input\]/],
      ['decompress', /Usage: slimtrace decompress -o <file> \[options\] <input>/],
      ['sample', /Usage: slimtrace sample -o <file> --strategy <name> \[options\] \[input\]/],
      ['analyze', /Usage: slimtrace analyze -o <file> \[options\]/],
    ] as const) {
      const r = slimtrace(command, '--help');
      assert.equal(r.status, 0);
      assert.match(r.stdout, usage);
      assert.match(r.stdout.replace(/\s+/g, ' '), /-o, --output <file> .*?\(required\)/, command);
    }
    const generate = slimtrace('generate', '--help').stdout;
    assert.doesNotMatch(generate, /\(required\)/, 'generate has no required option');
  });

  it('help says where --target-reduction is a target and where a floor', () => {
    const sample = slimtrace('sample', '--help').stdout.replace(/\s+/g, ' ');
    assert.match(sample, /A target for the strategies with a byte budget/);
    assert.match(sample, /With --bytes-per-second it is a floor/);
    const analyze = slimtrace('analyze', '--help').stdout.replace(/\s+/g, ' ');
    assert.match(analyze, /recorded in analysis\.json's settings only/);
    const compress = slimtrace('compress', '--help').stdout.replace(/\s+/g, ' ');
    assert.match(compress, /zstd level, 1 \(fastest\) to 22/);
  });

  it('--single writes every span as one bare request, as its help says', () => {
    const pb = join(dir, 'single.pb');
    const r = slimtrace('convert', '--traces', '120', '--single', '-o', pb);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, / in 1 otlp-proto requests/);
    const all = JSON.parse(slimtrace('stats', '--traces', '120', '--json').stdout);
    assert.equal(countSpans(decodeTracesData(readFileSync(pb))), all.spans);
    assert.match(slimtrace('convert', '--help').stdout.replace(/\s+/g, ' '), /--single write all spans as one bare request .* refused when that request would exceed 64 MiB/);
  });

  it('--single refuses an input over the 64 MiB request limit, before holding all of it', () => {
    const pb = join(dir, 'too-big.pb');
    assertOneLineError(slimtrace('convert', '--traces', '40000', '--single', '-o', pb), /--single: the input's spans take over \d+ bytes of OTLP protobuf, more than the 64 MiB one request may hold/);
    assert.equal(existsSync(pb), false);
  });

  it('stats gives the same traces, roots and sizes whatever the batching of the file it reads', () => {
    const direct = JSON.parse(slimtrace('stats', '--traces', '80', '--json').stdout);
    for (const batch of ['3', '50']) {
      const f = join(dir, `b${batch}.otlp`);
      assert.equal(slimtrace('convert', '--traces', '80', '--batch', batch, '-o', f).status, 0);
      const s = JSON.parse(slimtrace('stats', f, '--json').stdout);
      for (const k of ['spans', 'traces', 'rootSpans', 'orphanSpans', 'duplicateSpans', 'spansPerTrace', 'depth', 'durationMs'] as const) assert.deepEqual(s[k], direct[k], `${k} with --batch ${batch}`);
    }
  });

  it('evaluate --ground-truth uses the labels generate wrote for a file', () => {
    const traffic = join(dir, 'gen.otlp');
    const gt = join(dir, 'gen-gt.csv');
    assert.equal(slimtrace('generate', '--traces', '300', '-o', traffic, '--ground-truth', gt).status, 0);
    const run = (...args: string[]) => {
      const r = slimtrace('evaluate', ...args, '--strategies', 'head,random-span', '--json');
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout).results as { strategy: string; coverage: Record<string, unknown>; coverageByType: Record<string, unknown> }[];
    };
    const unlabelled = run(traffic);
    assert.deepEqual(unlabelled[0]!.coverage, {}, 'a file alone has no labels');
    const fromFile = run(traffic, '--ground-truth', gt);
    const generated = run('--traces', '300');
    assert.ok(Object.keys(fromFile[0]!.coverage).length > 0, 'coverage from the label file');
    for (let i = 0; i < generated.length; i++) {
      assert.deepEqual(fromFile[i]!.coverage, generated[i]!.coverage, generated[i]!.strategy);
      assert.deepEqual(fromFile[i]!.coverageByType, generated[i]!.coverageByType, generated[i]!.strategy);
    }
    assert.match(slimtrace('evaluate', traffic, '--ground-truth', gt, '--strategies', 'head').stdout, /exact coverage/);
  });
});
