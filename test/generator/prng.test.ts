// The generator's PRNG: reproducible, seed-sensitive, and with the distributions the engine relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../src/generator/index.js';

test('same seed gives the same stream; nearby and string seeds differ', () => {
  const draw = (seed: number | string) => {
    const r = new Prng(seed);
    return Array.from({ length: 8 }, () => r.nextU32());
  };
  assert.deepEqual(draw(42), draw(42));
  assert.deepEqual(draw('demo'), draw('demo'));
  assert.notDeepEqual(draw(42), draw(43));
  assert.notDeepEqual(draw(0), draw(2 ** 32)); // high bits of a number seed count too
  assert.notDeepEqual(draw('42'), draw(42));
});

test('uniform, normal and log-normal draws have the expected moments', () => {
  const r = new Prng(7);
  const n = 200_000;
  let sum = 0;
  let nsum = 0;
  let nsq = 0;
  const logs: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = r.float();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    const z = r.normal();
    nsum += z;
    nsq += z * z;
    if (i < 20_001) logs.push(r.logNormal(Math.log(5), 0.5));
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005);
  assert.ok(Math.abs(nsum / n) < 0.01);
  assert.ok(Math.abs(Math.sqrt(nsq / n) - 1) < 0.01);
  logs.sort((a, b) => a - b);
  assert.ok(Math.abs(logs[10_000]! - 5) < 0.1, `log-normal median ${logs[10_000]}`);
});

test('intBetween covers both ends and fill writes every byte', () => {
  const r = new Prng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(r.intBetween(2, 5));
  assert.deepEqual([...seen].sort(), [2, 3, 4, 5]);
  const bytes = r.fill(new Uint8Array(7));
  assert.equal(bytes.length, 7);
  assert.ok(bytes.some((b) => b !== 0));
});
