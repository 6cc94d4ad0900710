// google.rpc.Status as the receivers write it, checked against protobufjs in both directions: what
// slimtrace encodes protobufjs decodes to the same code, message, BadRequest and RetryInfo, and what
// protobufjs encodes (details in any order, unknown fields, other detail types) slimtrace decodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import {
  BAD_REQUEST_TYPE_URL,
  decodeStatus,
  encodeStatus,
  encodeStatusJson,
  makeStatus,
  retryDelayOf,
  RETRY_INFO_TYPE_URL,
  RpcCode,
} from '../../src/pipeline/index.js';
import { ProtobufDecodeError } from '../../src/otlp/index.js';
import { oracleDecodeStatus } from './receiver-helpers.js';

test('encodeStatus: protobufjs reads code, message and both details', () => {
  const bytes = encodeStatus(makeStatus(RpcCode.UNAVAILABLE, 'queue full: retry in 2.5 s ✓', { retryDelaySeconds: 2.5, badRequest: { field: 'resource_spans[0]', description: 'bad' } }));
  const st = oracleDecodeStatus(bytes);
  assert.equal(st.code, 14);
  assert.equal(st.message, 'queue full: retry in 2.5 s ✓');
  assert.equal(st.retryDelaySeconds, 2.5);
  assert.deepEqual(st.badRequest, [{ field: 'resource_spans[0]', description: 'bad' }]);
  assert.deepEqual(st.detailTypes, [BAD_REQUEST_TYPE_URL, RETRY_INFO_TYPE_URL]);
});

test('proto3 defaults are omitted: code 0 and an empty message encode to nothing', () => {
  assert.equal(encodeStatus(makeStatus(0, '')).length, 0);
  const zeroDelay = encodeStatus(makeStatus(RpcCode.UNAVAILABLE, 'x', { retryDelaySeconds: 0 }));
  assert.equal(oracleDecodeStatus(zeroDelay).retryDelaySeconds, 0, 'a RetryInfo with a zero delay is still there');
});

test('decodeStatus and retryDelayOf read what protobufjs writes, skipping what they do not know', () => {
  const root = protobuf.Root.fromJSON({
    nested: {
      Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 }, extra: { type: 'string', id: 9 } } },
      Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
      RetryInfo: { fields: { retryDelay: { type: 'Duration', id: 1 } } },
      Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
    },
  });
  const retry = root.lookupType('RetryInfo').encode({ retryDelay: { seconds: 3, nanos: 250_000_000 } }).finish();
  const bytes = root
    .lookupType('Status')
    .encode({ code: 8, message: 'slow down', extra: 'ignored', details: [{ typeUrl: 'type.googleapis.com/other.Thing', value: Uint8Array.of(1, 2) }, { typeUrl: RETRY_INFO_TYPE_URL, value: retry }] })
    .finish();
  const st = decodeStatus(bytes);
  assert.equal(st.code, 8);
  assert.equal(st.message, 'slow down');
  assert.deepEqual(st.details.map((d) => d.typeUrl), ['type.googleapis.com/other.Thing', RETRY_INFO_TYPE_URL]);
  assert.equal(retryDelayOf(st), 3.25);
  assert.equal(retryDelayOf(decodeStatus(encodeStatus(makeStatus(3, 'no retry')))), undefined);
});

test('decodeStatus: malformed bytes are a ProtobufDecodeError', () => {
  assert.throws(() => decodeStatus(Uint8Array.of(0x12, 0x05, 0x61)), ProtobufDecodeError);
});

test('encodeStatusJson: the proto3 JSON mapping (Any with @type, Duration as a string of seconds)', () => {
  assert.deepEqual(JSON.parse(encodeStatusJson(3, 'bad "data"', { badRequest: { description: 'bad "data"' } })), {
    code: 3,
    message: 'bad "data"',
    details: [{ '@type': BAD_REQUEST_TYPE_URL, fieldViolations: [{ description: 'bad "data"' }] }],
  });
  const delays = [2, 1.5, 0.000001, 0, -4, 1.23456789].map((s) => JSON.parse(encodeStatusJson(14, 'x', { retryDelaySeconds: s })).details[0].retryDelay);
  assert.deepEqual(delays, ['2s', '1.500s', '0.000001s', '0s', '0s', '1.234567890s']);
  assert.equal(encodeStatusJson(0, ''), '{}');
});
