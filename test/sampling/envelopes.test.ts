// The envelope meter (what OTLP requests add around kept spans) against the bytes of the requests
// themselves, and the byte budget's use of it: counted as output, the margin dropped once reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectTraffic } from '../../src/generator/index.js';
import { locatedSpans } from '../../src/model/index.js';
import { encodedSpanSize } from '../../src/otlp/index.js';
import { ByteBudget } from '../../src/sampling/index.js';
import { EnvelopeMeter } from '../../src/sampling/envelopes.js';
import { OtlpByteCounter } from '../../src/eval/sampling.js';

test('the meter measures what requests of N spans add around their spans, span by span or batch by batch, within the length prefixes', () => {
  const run = collectTraffic({ seed: 4, traces: 300, batchSpans: 97 });
  for (const [n, bySpans] of [[512, true], [64, true], [7, true], [512, false], [7, false]] as const) {
    const meter = new EnvelopeMeter(n);
    const counter = new OtlpByteCounter(n);
    let spanBytes = 0;
    let envelopes = 0;
    for (const b of run.batches) {
      envelopes += bySpans ? meter.add([...locatedSpans(b)]) : meter.addData(b);
      counter.addData(b);
      for (const rs of b.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) spanBytes += encodedSpanSize(s);
    }
    const actual = counter.finish() - spanBytes;
    assert.ok(actual > 0);
    // Each envelope's estimate allows 2 bytes for the growth of its length prefix: over, by at most that.
    assert.ok(envelopes >= actual && envelopes - actual <= 0.25 * actual, `batches of ${n}: measured ${envelopes}, requests add ${actual}`);
  }
  assert.throws(() => new EnvelopeMeter(0), /positive integer/);
});

test('the budget counts reported envelopes as output and drops its margin once they are reported', () => {
  const budget = new ByteBudget({ targetReduction: 0.8, margin: 0.05 });
  assert.ok(budget.allowance(1000) < 200, 'the margin lowers the share while envelopes are unknown');
  budget.recordOverhead(0, 0);
  assert.equal(Math.round(budget.allowance(1000)), 200, 'the share at the target once they are reported');
  budget.record(1000, 150);
  budget.recordOverhead(100, 30);
  assert.equal(Math.round(budget.credit), 40, 'the input envelopes add to what may be kept, the output ones take from it');
  assert.ok(Math.abs(budget.achieved() - (1 - 180 / 1100)) < 1e-9);
});
