// A request received as protobuf goes to the sink as its bytes; its decoded form is made (once) only
// when the sink reads `data`, and is equal to decoding the bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countSpans, tracesDataEqual } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { protobufRequest } from '../../src/pipeline/receiver-common.js';

test('protobufRequest: bytes as given, data decoded on demand, once, equal', () => {
  const batch = [...trafficData({ seed: 3, traces: 5, batchSpans: 30 })][0]!;
  const bytes = encodeTracesData(batch);
  const r = protobufRequest(bytes, countSpans(batch), 'otlp-http', undefined);
  assert.equal(r.protobuf, bytes);
  assert.equal(r.spans, countSpans(batch));
  const first = r.data;
  assert.ok(tracesDataEqual(first, batch));
  assert.equal(r.data, first, 'decoded once');
});
