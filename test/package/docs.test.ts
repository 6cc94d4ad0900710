// The documentation's commands exist: every `slimtrace` (or `autoscope`) command line in README.md and
// docs/ names a real command and only flags that command has; every bench/ or scripts/ file a shell
// block runs is in the repository; every `npm run` script is in package.json. (Code blocks are
// compiled and run by package.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { codeBlocks, shellBlocks } from './snippets.js';

const root = resolve(import.meta.dirname, '../..');

/** The command a line runs and the flags it passes, or undefined when it does not run the CLI. */
function cliInvocation(line: string): { command: string; flags: string[] } | undefined {
  const code = line.replace(/\s#.*$/, '').trim();
  const m = /(?:^|&&\s*|\s)(?:npx\s+)?(?:slimtrace|autoscope)\s+([a-z][a-z-]*)(.*)$/.exec(code);
  if (!m) return undefined;
  const flags = [...m[2]!.matchAll(/(?:^|[\s[|])(--?[a-zA-Z][\w-]*)/g)].map((f) => f[1]!);
  return { command: m[1]!, flags };
}

function flagsOf(cmd: Command): Set<string> {
  const out = new Set(['--help', '-h']);
  for (const o of cmd.options) {
    if (o.long) out.add(o.long);
    if (o.short) out.add(o.short);
    // commander registers --no-x as the negation of x; both spellings are what users type.
    if (o.negate && o.long) out.add(o.long);
  }
  return out;
}

test('every slimtrace command line in README.md and docs/ names a real command and its real flags', () => {
  const program = buildProgram();
  const commands = new Map(program.commands.map((c) => [c.name(), c]));
  let checked = 0;
  const problems: string[] = [];
  // Shell blocks, and the plain blocks that hold the CLI's synopsis (README's "CLI" section).
  for (const block of codeBlocks(root).filter((b) => b.language === '' || shellBlocks(root).some((s) => s.id === b.id))) {
    block.code.split('\n').forEach((line, i) => {
      const call = cliInvocation(line);
      if (!call) return;
      const where = `${block.source.split(':')[0]}:${Number(block.source.split(':')[1]) + 1 + i}`;
      const cmd = commands.get(call.command);
      if (!cmd) {
        problems.push(`${where}: no command '${call.command}' in: ${line.trim()}`);
        return;
      }
      const known = flagsOf(cmd);
      for (const f of call.flags) if (!known.has(f)) problems.push(`${where}: '${call.command}' has no flag ${f}`);
      checked++;
    });
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 15, `command lines checked: ${checked}`);
});

test('every bench/ and scripts/ file and npm script the docs run exists', () => {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const problems: string[] = [];
  for (const block of shellBlocks(root)) {
    for (const m of block.code.matchAll(/(?:^|\s)((?:bench|scripts)\/[\w./-]+\.ts)/g)) {
      if (!existsSync(join(root, m[1]!))) problems.push(`${block.source}: ${m[1]} does not exist`);
    }
    for (const m of block.code.matchAll(/npm run ([\w:-]+)/g)) {
      if (!(m[1]! in scripts)) problems.push(`${block.source}: no npm script '${m[1]}'`);
    }
  }
  assert.deepEqual(problems, []);
});
