// Outputs as a user meets them: a path that cannot be written ends every command with one line
// naming it (exit 2, no stack, nothing created), a failed or interrupted run leaves no partial
// output and an existing one as it was, and a successful run puts the output in place.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { assertOneLineError, root, slimtrace } from './helpers.js';

const main = join(root, 'src/cli/main.ts');

/** Files a run may have left in a folder: staging files are hidden (`.name.pid-xxxx.tmp`). */
const leftovers = (d: string) => readdirSync(d).filter((n) => n.startsWith('.'));

describe('slimtrace outputs', () => {
  let dir: string;
  let tzip: string;
  let sources: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-cli-outputs-'));
    tzip = join(dir, 'in.tzip');
    assert.equal(slimtrace('compress', '--traces', '60', '--batch', '64', '-o', tzip).status, 0);
    sources = join(dir, 'sources');
    mkdirSync(join(sources, 'svc'), { recursive: true });
    writeFileSync(join(sources, 'svc', 'index.ts'), 'export function handle(): number {\n  return 1;\n}\n');
  });
  after(() => {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every command with the flag that names its output. */
  const commands: [string, (out: string) => string[]][] = [
    ['convert', (out) => ['convert', '--traces', '5', '-o', out]],
    ['compress', (out) => ['compress', '--traces', '5', '-o', out]],
    ['decompress', (out) => ['decompress', tzip, '-o', out]],
    ['sample', (out) => ['sample', '--traces', '5', '--strategy', 'head', '-o', out]],
    ['generate -o', (out) => ['generate', '--traces', '5', '-o', out]],
    ['generate --ground-truth', (out) => ['generate', '--traces', '5', '--ground-truth', out]],
    ['generate --source-dir', (out) => ['generate', '--source-dir', out]],
    ['analyze --output', (out) => ['analyze', '--source-dir', sources, '--output', out]],
  ];

  for (const [what, args] of commands) {
    it(`${what}: an output in a folder that does not exist is one line naming it, exit 2`, () => {
      const out = join(dir, 'no-such-folder', 'out');
      assertOneLineError(slimtrace(...args(out)), /no-such-folder\/out: cannot write: the folder .*no-such-folder does not exist/);
      assert.equal(existsSync(join(dir, 'no-such-folder')), false);
    });
  }

  for (const [what, args] of commands.filter(([w]) => w !== 'generate --source-dir')) {
    it(`${what}: an output that is a directory is one line naming it, exit 2`, () => {
      const out = join(dir, 'a-directory');
      mkdirSync(out, { recursive: true });
      assertOneLineError(slimtrace(...args(out)), /a-directory: cannot write: is a directory/);
      assert.deepEqual(readdirSync(out), []);
    });
  }

  it('generate --source-dir naming a file is one line naming it, exit 2', () => {
    const out = join(dir, 'a-file');
    writeFileSync(out, 'mine');
    assertOneLineError(slimtrace('generate', '--source-dir', out), /a-file: cannot write: exists and is not a directory/);
    assert.equal(readFileSync(out, 'utf8'), 'mine');
  });

  // root writes anywhere a mode allows nothing; /sys refuses even root.
  const readOnly = process.getuid?.() === 0 ? '/sys' : undefined;
  for (const [what, args] of [commands[0]!, commands[5]!]) {
    it(`${what}: an output in a read-only place is one line naming it, exit 2`, () => {
      let place = readOnly;
      if (!place) {
        place = join(dir, 'read-only');
        mkdirSync(place, { recursive: true });
        chmodSync(place, 0o555);
      }
      const out = join(place, 'slimtrace-out');
      assertOneLineError(slimtrace(...args(out)), /slimtrace-out: cannot write: (permission denied|read-only file system)/);
      assert.equal(existsSync(out), false);
    });
  }

  it('a write that fails half-way (a full device) is one line, exit 2', { skip: !existsSync('/dev/full') }, () => {
    assertOneLineError(slimtrace('convert', '--traces', '50', '-o', '/dev/full'), /\/dev\/full: cannot write: no space left/);
  });

  it('decompress of a directory is one line naming it, exit 2', () => {
    assertOneLineError(slimtrace('decompress', dir, '-o', join(dir, 'x.otlp')), /: is a directory, expected a \.tzip file/);
    assert.equal(existsSync(join(dir, 'x.otlp')), false);
  });

  it('a failed run leaves no partial output, and an existing output as it was', () => {
    const bytes = readFileSync(tzip);
    const cut = join(dir, 'cut.tzip');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    const fresh = join(dir, 'fresh.otlp');
    assertOneLineError(slimtrace('decompress', cut, '-o', fresh), /cut\.tzip: /);
    assert.equal(existsSync(fresh), false, 'no partial output');
    const kept = join(dir, 'kept.otlp');
    writeFileSync(kept, 'the previous output');
    assertOneLineError(slimtrace('decompress', cut, '-o', kept), /cut\.tzip: /);
    assert.equal(readFileSync(kept, 'utf8'), 'the previous output');
    assert.deepEqual(leftovers(dir), []);
  });

  it('generate puts none of its outputs in place when one of them fails', { skip: !existsSync('/dev/full') }, () => {
    const src = join(dir, 'gen-src');
    const gt = join(dir, 'gen-gt.csv');
    assertOneLineError(slimtrace('generate', '--traces', '50', '--source-dir', src, '--ground-truth', gt, '-o', '/dev/full'), /no space left/);
    assert.equal(existsSync(src), false);
    assert.equal(existsSync(gt), false);
    assert.deepEqual(leftovers(dir), []);
  });

  it('an output can replace its own input (it is read before the output is put in place)', () => {
    const f = join(dir, 'self.otlp');
    assert.equal(slimtrace('convert', '--traces', '20', '-o', f).status, 0);
    const before = JSON.parse(slimtrace('stats', f, '--json').stdout);
    const r = slimtrace('convert', f, '--batch', '7', '-o', f);
    assert.equal(r.status, 0, r.stderr);
    const after = JSON.parse(slimtrace('stats', f, '--json').stdout);
    assert.equal(after.spans, before.spans);
    assert.ok(after.batches > before.batches);
  });

  it('SIGINT and SIGTERM remove the unfinished output and exit 130 / 143', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const work = mkdtempSync(join(dir, 'signal-'));
      const out = join(work, 'big.otlp');
      const child = spawn(process.execPath, ['--import', 'tsx', main, 'convert', '--traces', '1000000', '-o', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((done) => child.on('exit', (status) => done(status)));
      // The staging file appears when the output is opened, before any input is read.
      const deadline = Date.now() + 30_000;
      while (leftovers(work).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(leftovers(work).length, 1, 'the staging file beside the output');
      await new Promise((r) => setTimeout(r, 300)); // let it write some frames
      child.kill(signal);
      assert.equal(await exited, code, stderr);
      assert.match(stderr, new RegExp(`interrupted \\(${signal}\\); 1 unfinished output removed`));
      assert.deepEqual(readdirSync(work), [], 'neither the output nor its staging file');
    }
  });
});
