// AtomicFile and AtomicDirectory: an output appears whole when it is closed and not at all when it
// is aborted (an existing target keeps its content), paths that cannot be written fail with an
// OutputError naming them, and nothing of the staging is left behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { AtomicDirectory, AtomicFile, OutputError, removeUnfinishedOutputs } from '../../src/otlp/index.js';
import { InputError } from '../../src/model/index.js';

describe('atomic outputs', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-output-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const hidden = (d: string) => readdirSync(d).filter((n) => n.startsWith('.'));

  it('puts the file in place only when it is closed, with every byte in order', async () => {
    const path = join(dir, 'a.bin');
    const f = await AtomicFile.create(path);
    const parts: Buffer[] = [];
    // Small writes (buffered) around large ones (written through), across the buffer's size.
    for (const size of [10, 700_000, 500_000, 3 << 20, 1, 1 << 20, 20]) {
      const b = Buffer.alloc(size, parts.length + 1);
      parts.push(b);
      await f.write(b);
      b.fill(0); // the writer must not keep a view of the caller's buffer
    }
    assert.equal(existsSync(path), false, 'not there before close');
    assert.equal(hidden(dir).length, 1, 'one staging file beside the target');
    await f.close();
    const expected = Buffer.concat(parts.map((p, i) => Buffer.alloc(p.length, i + 1)));
    assert.ok(readFileSync(path).equals(expected));
    assert.equal(f.bytesWritten, expected.length);
    assert.deepEqual(hidden(dir), []);
  });

  it('leaves an existing target as it was when aborted, and keeps its mode when replaced', async () => {
    const path = join(dir, 'keep.txt');
    writeFileSync(path, 'old');
    chmodSync(path, 0o640);
    const f = await AtomicFile.create(path);
    await f.write(Buffer.from('new, half written'));
    await f.abort();
    assert.equal(readFileSync(path, 'utf8'), 'old');
    assert.deepEqual(hidden(dir), []);
    const g = await AtomicFile.create(path);
    await g.write(Buffer.from('new'));
    await g.close();
    assert.equal(readFileSync(path, 'utf8'), 'new');
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  it('writes through a symbolic link, which stays a link', async () => {
    const real = join(dir, 'real.txt');
    const link = join(dir, 'link.txt');
    writeFileSync(real, 'old');
    symlinkSync(real, link);
    const f = await AtomicFile.create(link);
    await f.write(Buffer.from('new'));
    await f.close();
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readFileSync(real, 'utf8'), 'new');
  });

  it('names the path and the problem when the output cannot be written', async () => {
    const cases: [string, RegExp][] = [
      [join(dir, 'missing', 'x.otlp'), /missing\/x\.otlp: cannot write: the folder .*missing does not exist/],
      [dir, /cannot write: is a directory/],
    ];
    const notDir = join(dir, 'plain-file');
    writeFileSync(notDir, '');
    cases.push([join(notDir, 'x'), /plain-file\/x: cannot write: a part of the path is not a folder/]);
    for (const [path, message] of cases) {
      await assert.rejects(AtomicFile.create(path), (e: unknown) => e instanceof OutputError && e instanceof InputError && message.test(e.message), path);
      // Given to a writer without waiting, the same error comes from the first write.
      const lazy = new AtomicFile(path);
      await assert.rejects(lazy.write(Buffer.from('x')), (e: unknown) => e instanceof OutputError && message.test(e.message));
      await lazy.abort();
    }
    assert.equal(existsSync(join(dir, 'missing')), false);
  });

  it('reports a write that fails (a full device) as an OutputError', { skip: !existsSync('/dev/full') }, async () => {
    const f = await AtomicFile.create('/dev/full');
    await assert.rejects(
      (async () => {
        await f.write(Buffer.alloc(2 << 20));
        await f.close();
      })(),
      (e: unknown) => e instanceof OutputError && /\/dev\/full: cannot write: no space left/.test(e.message),
    );
    await f.abort();
  });

  it('writes a device such as /dev/null in place', async () => {
    const f = await AtomicFile.create('/dev/null');
    await f.write(Buffer.from('gone'));
    await f.close();
    assert.ok(statSync('/dev/null').isCharacterDevice());
  });

  it('removeUnfinishedOutputs removes what was staged and not closed', async () => {
    const path = join(dir, 'interrupted.otlp');
    // Made in a function of its own, so that nothing here keeps the file (and its handle) alive.
    await (async () => {
      const f = await AtomicFile.create(path);
      await f.write(Buffer.alloc(2 << 20));
    })();
    const d = await AtomicDirectory.create(join(dir, 'tree'));
    await d.writeFile('a/b.txt', 'x');
    assert.equal(hidden(dir).length, 2);
    assert.ok(removeUnfinishedOutputs() >= 2);
    assert.deepEqual(hidden(dir), []);
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(join(dir, 'tree')), false);
    // The discarded file's handle is closed through the handle: collecting it later must not close
    // a descriptor number again (that ended this test file with EBADF, at the collector's whim).
    const held = await open(join(dir, 'held.txt'), 'w');
    await new Promise((ok) => setTimeout(ok, 50));
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    await new Promise((ok) => setTimeout(ok, 50));
    await held.write('still mine');
    await held.close();
    assert.equal(readFileSync(join(dir, 'held.txt'), 'utf8'), 'still mine');
  });

  it('AtomicDirectory creates a new tree whole, or moves its files into an existing one', async () => {
    const fresh = join(dir, 'fresh');
    const d = await AtomicDirectory.create(fresh);
    await d.writeFile('src/a.ts', 'a');
    await d.writeFile('model.json', '{}');
    assert.equal(existsSync(fresh), false);
    await d.close();
    assert.equal(readFileSync(join(fresh, 'src/a.ts'), 'utf8'), 'a');

    const existing = join(dir, 'existing');
    mkdirSync(existing);
    writeFileSync(join(existing, 'mine.txt'), 'mine');
    writeFileSync(join(existing, 'model.json'), 'old');
    const e = await AtomicDirectory.create(existing);
    await e.writeFile('model.json', 'new');
    await e.writeFile('src/b.ts', 'b');
    await e.close();
    assert.equal(readFileSync(join(existing, 'mine.txt'), 'utf8'), 'mine');
    assert.equal(readFileSync(join(existing, 'model.json'), 'utf8'), 'new');
    assert.equal(readFileSync(join(existing, 'src/b.ts'), 'utf8'), 'b');

    const aborted = await AtomicDirectory.create(join(dir, 'aborted'));
    await aborted.writeFile('x.txt', 'x');
    await aborted.abort();
    assert.equal(existsSync(join(dir, 'aborted')), false);
    await assert.rejects(AtomicDirectory.create(join(dir, 'keep.txt')), /keep\.txt: cannot write: exists and is not a directory/);
    await assert.rejects(AtomicDirectory.create(join(dir, 'missing', 'src')), /missing\/src: cannot write: the folder .* does not exist/);
    assert.deepEqual(hidden(dir), []);
  });
});
