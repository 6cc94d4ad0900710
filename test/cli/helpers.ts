// What the CLI tests share: the real CLI run as a user runs it (a process, its exit code and
// output), and what a user's mistake must look like (one line on stderr, exit 2, no stack).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI entry point of src/cli (main.ts is `slimtrace`, autoscope.ts `autoscope`). */
export function runEntry(entry: string, ...args: string[]): CliRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli', entry), ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function slimtrace(...args: string[]): CliRun {
  return runEntry('main.ts', ...args);
}

/** A user's mistake: exit 2 and one line on stderr that matches `message`, without a stack trace. */
export function assertOneLineError(r: CliRun, message: RegExp): void {
  assert.equal(r.status, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a user error');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}
