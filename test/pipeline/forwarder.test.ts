// The agent's forwarder between its queue and its link: without a sampler it hands the link a batch
// factory (the decoded batch once, the records decoded again when asked again, as after a resync),
// and acknowledges the records only once the batch is delivered; it tells the link the batch's OTLP size.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countSpans, tracesDataEqual, type TracesData } from '../../src/model/index.js';
import { encodeTracesData, encodedTracesDataSize } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { Forwarder, type QueuedRecord, type RecordSource } from '../../src/pipeline/forwarder.js';

const batches: TracesData[] = [...trafficData({ seed: 11, traces: 30, batchSpans: 40 })].slice(0, 4);

describe('Forwarder', () => {
  it('gives the link a factory whose every call makes the same batch; acks after delivery', async () => {
    const records: QueuedRecord[] = batches.map((b, i) => ({ seq: i + 1, payload: encodeTracesData(b) }));
    const acked: number[] = [];
    const controller = new AbortController();
    const source: RecordSource = {
      next: async (signal) => {
        const r = records.shift();
        if (r) return r;
        return new Promise((_, fail) => signal?.addEventListener('abort', () => fail(new Error('aborted')), { once: true }));
      },
      ack: (seq) => acked.push(seq),
    };
    const made: TracesData[] = [];
    let toldOtlpBytes: number | undefined;
    const forwarder = new Forwarder({
      source,
      // Full exactly at the last record: the batch closes then, whatever the machine's load.
      batchSpans: batches.reduce((s, b) => s + countSpans(b), 0),
      lingerMs: 60_000,
      pollMs: 60_000,
      link: {
        deliver: async (batch, _signal, otlpBytes) => {
          toldOtlpBytes = otlpBytes;
          assert.equal(typeof batch, 'function');
          const make = batch as () => TracesData;
          made.push(make(), make(), make()); // first the decoded batch, then decoded again
          assert.deepEqual(acked, [], 'nothing acknowledged before delivery');
          controller.abort();
        },
      },
      onDelivered: (spans, n) => {
        assert.equal(spans, batches.reduce((s, b) => s + countSpans(b), 0));
        assert.equal(n, batches.length);
      },
    });
    await forwarder.run(controller.signal);
    assert.equal(made.length, 3);
    const expected: TracesData = { resourceSpans: batches.flatMap((b) => b.resourceSpans) };
    made.forEach((m, i) => assert.ok(tracesDataEqual(m, expected), `batch made ${i}: ${countSpans(m)} spans, ${countSpans(expected)} expected`));
    assert.notEqual(made[0], made[1], 'made again, not the same object kept');
    assert.deepEqual(acked.sort(), [1, 2, 3, 4]);
    // The batch's OTLP size is its records' bytes: the size of the batch encoded as one request.
    assert.equal(toldOtlpBytes, encodedTracesDataSize(expected));
  });
});
