// The decoder's buffer ownership: views by default, copies on request.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTracesData, encodeTracesData } from '../../src/otlp/index.js';
import { diffTracesData, kv, makeResourceSpans, makeScopeSpans, makeSpan, makeTracesData } from '../../src/model/index.js';

const message = makeTracesData([
  makeResourceSpans({
    scopeSpans: [
      makeScopeSpans({
        spans: [
          makeSpan({
            traceId: new Uint8Array(16).fill(7),
            spanId: new Uint8Array(8).fill(9),
            name: 'op',
            attributes: [kv('blob', new Uint8Array([1, 2, 3]))],
            unknownFields: Uint8Array.of(0xa0, 0x06, 0x01), // field 100, varint 1
          }),
        ],
      }),
    ],
  }),
]);

it('copyBytes: the decoded message survives reuse of the input buffer', () => {
  const bytes = encodeTracesData(message);
  const copied = decodeTracesData(bytes, { copyBytes: true });
  const viewed = decodeTracesData(bytes);
  bytes.fill(0);
  assert.equal(diffTracesData(copied, message), undefined);
  // The default decode shares the ids with the input: that is the documented trade.
  assert.notEqual(diffTracesData(viewed, message), undefined);
  // Unknown fields are always copied.
  assert.deepEqual(viewed.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.unknownFields, Uint8Array.of(0xa0, 0x06, 0x01));
});
