// The span CSV reader: the Java-agent mapping of kinds, scopes and resources, exact times, gzip,
// duplicates, batching, and what happens to each kind of bad input.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { InputError, SpanFlags, SpanKind, bytesToHex, countSpans } from '../../src/model/index.js';
import { classifyOperation, FAMILIES, openSpanCsvFiles, openTraceSource, serviceOfPod, type TraceSource } from '../../src/datasets/index.js';
import { GATEWAY, ORDER, SPAN_HEADER, TRACE_A, TempDir, attr, bySpanId, collect, spanRow } from './helpers.js';

const EXEC = 'ts-execute-service-775f544d9-tmwcv';
const T0 = 1675079940123456789n; // above 2^53: must survive exactly

/** A small trace touching every operation family. */
const ROWS = [
  spanRow(TRACE_A, '38009907060427dd', 'root', GATEWAY, '/*', T0, T0 + 31_497_824n),
  spanRow(TRACE_A, 'b4b9bcdec2d5f4c6', '38009907060427dd', GATEWAY, 'FilteringWebHandler.handle', T0 + 873_375n, T0 + 31_268_284n),
  spanRow(TRACE_A, '6b3de5a982926bbc', '38009907060427dd', GATEWAY, 'HTTP GET', T0 + 2_217_008n, T0 + 31_476_875n),
  spanRow(TRACE_A, '02a432d3873bc41a', '6b3de5a982926bbc', EXEC, '/api/v1/executeservice/execute/collected/{orderId}', T0 + 4_000_000n, T0 + 30_721_159n),
  spanRow(TRACE_A, '20600694f99b182e', '02a432d3873bc41a', EXEC, 'ExecuteControlller.collectTicket', T0 + 5_246_837n, T0 + 30_250_837n),
  spanRow(TRACE_A, '5cfd8dca5e4ba1f5', '20600694f99b182e', EXEC, 'HTTP POST', T0 + 6_269_164n, T0 + 13_767_734n),
  spanRow(TRACE_A, 'f5b975b070f3c61d', '5cfd8dca5e4ba1f5', ORDER, '/api/v1/orderservice/order/{orderId}', T0 + 9_000_000n, T0 + 13_390_533n),
  spanRow(TRACE_A, '30f86be2d83461ec', 'f5b975b070f3c61d', ORDER, 'OrderController.getOrderById', T0 + 9_489_795n, T0 + 13_263_695n),
  spanRow(TRACE_A, 'e23d8811faa11dab', '30f86be2d83461ec', ORDER, 'OrderRepository.findById', T0 + 9_960_413n, T0 + 12_846_659n),
  spanRow(TRACE_A, '5e18570b3f14bf54', 'e23d8811faa11dab', ORDER, 'Session.find order.entity.Order', T0 + 11_250_598n, T0 + 11_895_056n),
  spanRow(TRACE_A, '80370ea1ce4dc428', 'e23d8811faa11dab', ORDER, 'Transaction.commit', T0 + 11_907_592n, T0 + 12_531_160n),
  spanRow(TRACE_A, '4fec29475eecf68b', '5e18570b3f14bf54', ORDER, 'SELECT ts.orders', T0 + 11_338_114n, T0 + 11_866_452n),
];

async function read(source: TraceSource) {
  return collect(source.batches());
}

describe('operation mapping', () => {
  it('classifies every family as the Java agent records it', () => {
    const cases: [string, boolean, string, number, string][] = [
      ['/*', true, 'http-server', SpanKind.SERVER, 'io.opentelemetry.spring-webmvc-6.0'],
      ['FilteringWebHandler.handle', true, 'http-server', SpanKind.SERVER, 'io.opentelemetry.spring-webmvc-6.0'],
      ['/api/v1/orderservice/order/{orderId}', false, 'http-server', SpanKind.SERVER, 'io.opentelemetry.spring-webmvc-6.0'],
      ['orders/{id}', false, 'http-server', SpanKind.SERVER, 'io.opentelemetry.spring-webmvc-6.0'],
      ['HTTP GET', false, 'http-client', SpanKind.CLIENT, 'io.opentelemetry.spring-web-6.0'],
      ['SELECT ts.orders', false, 'sql', SpanKind.CLIENT, 'io.opentelemetry.jdbc'],
      ['INSERT ts.payment', false, 'sql', SpanKind.CLIENT, 'io.opentelemetry.jdbc'],
      ['Session.merge other.entity.Order', false, 'hibernate-session', SpanKind.CLIENT, 'io.opentelemetry.hibernate-6.0'],
      ['Transaction.commit', false, 'hibernate-other', SpanKind.INTERNAL, 'io.opentelemetry.hibernate-6.0'],
      ['OrderOtherRepository.findById', false, 'repository', SpanKind.INTERNAL, 'io.opentelemetry.spring-data-1.8'],
      ['OrderController.getOrderById', false, 'controller', SpanKind.INTERNAL, 'io.opentelemetry.spring-webmvc-6.0'],
      ['ExecuteControlller.collectTicket', false, 'controller', SpanKind.INTERNAL, 'io.opentelemetry.spring-webmvc-6.0'],
      ['FilteringWebHandler.handle', false, 'other', SpanKind.INTERNAL, 'io.opentelemetry.methods'],
      ['<default> send', false, 'other', SpanKind.INTERNAL, 'io.opentelemetry.methods'],
      ['SELECTION.run', false, 'other', SpanKind.INTERNAL, 'io.opentelemetry.methods'],
      ['HTTP get', false, 'other', SpanKind.INTERNAL, 'io.opentelemetry.methods'],
    ];
    for (const [name, root, family, kind, scope] of cases) {
      const f = FAMILIES[classifyOperation(name, root)]!;
      assert.deepEqual([f.family, f.kind, f.scope], [family, kind, scope], name);
    }
  });

  it('takes the service name from the pod name without its two hash suffixes', () => {
    assert.equal(serviceOfPod('ts-gateway-service-6f6cfc45b-d9pnv'), 'ts-gateway-service');
    assert.equal(serviceOfPod('a-b-c'), 'a');
    assert.equal(serviceOfPod('standalone'), 'standalone');
    assert.equal(serviceOfPod('two-parts'), 'two-parts');
  });
});

describe('span CSV reader', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());

  it('maps rows to spans with resources per pod, scopes per family and the agent attributes', async () => {
    const path = tmp.write('mapping.csv', [SPAN_HEADER, ...ROWS]);
    const source = await openTraceSource(path);
    assert.equal(source.kind, 'span-csv');
    const { batches, spans } = await read(source);
    assert.equal(batches.length, 1);
    assert.equal(spans.length, ROWS.length);

    // One resource per pod, with exactly service.name and k8s.pod.name.
    const data = batches[0]!;
    assert.deepEqual(
      data.resourceSpans.map((rs) => rs.resource!.attributes.map((a) => [a.key, a.value])),
      [
        [['service.name', 'ts-gateway-service'], ['k8s.pod.name', GATEWAY]],
        [['service.name', 'ts-execute-service'], ['k8s.pod.name', EXEC]],
        [['service.name', 'ts-order-service'], ['k8s.pod.name', ORDER]],
      ],
    );
    // Scopes group spans inside a resource, with a name and no version.
    const order = data.resourceSpans[2]!;
    assert.deepEqual(
      order.scopeSpans.map((ss) => [ss.scope!.name, ss.scope!.version, ss.spans.map((s) => s.name)]),
      [
        ['io.opentelemetry.spring-webmvc-6.0', '', ['/api/v1/orderservice/order/{orderId}', 'OrderController.getOrderById']],
        ['io.opentelemetry.spring-data-1.8', '', ['OrderRepository.findById']],
        ['io.opentelemetry.hibernate-6.0', '', ['Session.find order.entity.Order', 'Transaction.commit']],
        ['io.opentelemetry.jdbc', '', ['SELECT ts.orders']],
      ],
    );

    const root = bySpanId(spans, '38009907060427dd');
    assert.equal(root.span.kind, SpanKind.SERVER);
    assert.equal(root.span.parentSpanId.length, 0);
    assert.equal(bytesToHex(root.span.traceId), TRACE_A);
    assert.equal(root.span.startTimeUnixNano, T0);
    assert.equal(root.span.endTimeUnixNano, T0 + 31_497_824n);
    assert.deepEqual(root.span.attributes, []);
    assert.equal(root.span.status, undefined);

    const client = bySpanId(spans, '5cfd8dca5e4ba1f5');
    assert.equal(client.span.kind, SpanKind.CLIENT);
    assert.equal(attr(client.span.attributes, 'http.request.method'), 'POST');
    assert.equal(bytesToHex(client.span.parentSpanId), '20600694f99b182e');

    const sql = bySpanId(spans, '4fec29475eecf68b');
    assert.deepEqual(
      sql.span.attributes.map((a) => [a.key, a.value]),
      [
        ['db.system', 'mysql'],
        ['db.statement', 'SELECT ts.orders'],
      ],
    );
    assert.equal(bySpanId(spans, '20600694f99b182e').scope!.name, 'io.opentelemetry.spring-webmvc-6.0');
    assert.equal(bySpanId(spans, 'b4b9bcdec2d5f4c6').scope!.name, 'io.opentelemetry.methods');
  });

  it('marks the parent context remote exactly when the parent is on another pod', async () => {
    const path = tmp.write('flags.csv', [SPAN_HEADER, ...ROWS]);
    const { spans } = await read(await openTraceSource(path));
    const local = SpanFlags.SAMPLED | SpanFlags.CONTEXT_HAS_IS_REMOTE_MASK;
    const remote = local | SpanFlags.CONTEXT_IS_REMOTE_MASK;
    assert.equal(bySpanId(spans, '38009907060427dd').span.flags, local); // root
    assert.equal(bySpanId(spans, '6b3de5a982926bbc').span.flags, local); // client under its own server span
    assert.equal(bySpanId(spans, '02a432d3873bc41a').span.flags, remote); // server called from the gateway
    assert.equal(bySpanId(spans, 'f5b975b070f3c61d').span.flags, remote);
    assert.equal(bySpanId(spans, '4fec29475eecf68b').span.flags, local);
  });

  it('shares one Resource and one scope object per pod and scope across batches', async () => {
    const path = tmp.write('shared.csv', [SPAN_HEADER, ...ROWS]);
    const { batches, spans } = await read(openSpanCsvFiles([path, path], { batchSpans: 5 }));
    assert.deepEqual(
      batches.map((b) => countSpans(b)),
      [5, 5, 5, 5, 4],
    );
    const gateway = spans.filter((s) => attr(s.resource?.attributes, 'k8s.pod.name') === GATEWAY);
    assert.ok(gateway.length > 3 && gateway.every((s) => s.resource === gateway[0]!.resource));
    const jdbc = spans.filter((s) => s.scope?.name === 'io.opentelemetry.jdbc');
    assert.ok(jdbc.length === 2 && jdbc[0]!.scope === jdbc[1]!.scope);
    assert.ok(jdbc[0]!.batch !== jdbc[1]!.batch);
  });

  it('reads exact 64-bit nanosecond times, beyond what a double holds', async () => {
    const big = 18446744073709551615n; // uint64 max
    const path = tmp.write('times.csv', [
      SPAN_HEADER,
      spanRow(TRACE_A, '0000000000000001', 'root', GATEWAY, '/*', 1675079940123456789n, 1675079940123456790n),
      `${TRACE_A},0000000000000002,root,${GATEWAY},/*,${big - 1n},${big},0`,
    ]);
    const { spans } = await read(await openTraceSource(path));
    assert.equal(spans[0]!.span.startTimeUnixNano, 1675079940123456789n);
    assert.equal(spans[0]!.span.endTimeUnixNano, 1675079940123456790n);
    assert.notEqual(BigInt(Number(1675079940123456789n)), 1675079940123456789n); // a double would have lost it
    assert.equal(spans[1]!.span.endTimeUnixNano, big);
  });

  it('reads gzip by its magic bytes, whatever the name, and plain CSV named .gz', async () => {
    const text = [SPAN_HEADER, ...ROWS].join('\n') + '\n';
    const gz = tmp.writeBytes('compressed.csv', gzipSync(Buffer.from(text)));
    const plain = tmp.write('plain.csv.gz', text);
    const a = await read(await openTraceSource(gz));
    const b = await read(await openTraceSource(plain));
    assert.equal(a.spans.length, ROWS.length);
    assert.equal(b.spans.length, ROWS.length);
    assert.deepEqual(
      a.spans.map((s) => s.span.startTimeUnixNano),
      b.spans.map((s) => s.span.startTimeUnixNano),
    );
  });

  it('reads a file whose header has the columns in another order, with CRLF line ends', async () => {
    const header = 'SpanID,TraceID,OperationName,ParentID,PodName,EndTimeUnixNano,StartTimeUnixNano';
    const path = tmp.write('reordered.csv', `${header}\r\n38009907060427dd,${TRACE_A},/*,root,${GATEWAY},${T0 + 5n},${T0}\r\n`);
    const source = await openTraceSource(path);
    const { spans } = await read(source);
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.span.endTimeUnixNano, T0 + 5n);
    assert.equal(bytesToHex(spans[0]!.span.spanId), '38009907060427dd');
    assert.equal(source.warnings.total, 0);
  });

  it('keeps rows that exactly repeat an earlier row and counts them', async () => {
    const first = tmp.write('dup/11_39_trace.csv', [SPAN_HEADER, ...ROWS.slice(0, 4)]);
    const second = tmp.write('dup/11_40_trace.csv', [SPAN_HEADER, ROWS[2]!, ROWS[3]!, ...ROWS.slice(4)]);
    const source = openSpanCsvFiles([first, second]);
    const { batches, spans } = await read(source);
    assert.equal(batches.length, 2, 'one batch per file');
    assert.equal(spans.length, ROWS.length + 2);
    assert.equal(source.stats.spans, ROWS.length + 2);
    assert.equal(source.stats.duplicateRows, 2);
    assert.equal(source.stats.spans - source.stats.duplicateRows, ROWS.length);
    assert.equal(source.stats.spanIdConflicts, 0);
    assert.equal(source.warnings.total, 0);
  });

  it('reports a span id that repeats with different content, and keeps both rows', async () => {
    const changed = ROWS[1]!.replace('FilteringWebHandler.handle', 'FilteringWebHandler.other');
    const path = tmp.write('conflict.csv', [SPAN_HEADER, ROWS[0]!, ROWS[1]!, changed]);
    const source = await openTraceSource(path);
    const { spans } = await read(source);
    assert.equal(spans.length, 3);
    assert.equal(source.stats.duplicateRows, 0);
    assert.equal(source.stats.spanIdConflicts, 1);
    assert.deepEqual(
      source.warnings.list.map((w) => [w.code, w.line]),
      [['span-id-conflict', 4]],
    );
  });

  it('reports a Duration column that disagrees with the times, and keeps the times', async () => {
    const bad = ROWS[0]!.replace(/,31497$/, ',31498');
    const path = tmp.write('duration.csv', [SPAN_HEADER, bad]);
    const source = await openTraceSource(path);
    const { spans } = await read(source);
    assert.equal(spans.length, 1);
    assert.equal(source.warnings.list[0]!.code, 'duration-mismatch');
    assert.equal(source.warnings.list[0]!.line, 2);
  });
});

describe('span CSV reader: bad input', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());

  async function rejects(path: string, pattern: RegExp, options = {}): Promise<void> {
    await assert.rejects(
      async () => {
        const source = await openSpanCsvFiles([path], options);
        for await (const _ of source.batches());
      },
      (err: unknown) => {
        assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
        assert.equal(err.source, path);
        assert.match(err.message, pattern);
        return true;
      },
    );
  }

  it('fails on a missing column, naming the file, line 1 and the column', async () => {
    const path = tmp.write('missing.csv', ['TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano', `${TRACE_A},38009907060427dd,root,${GATEWAY},/*,1`]);
    await rejects(path, /^.*missing\.csv: line 1: not a span CSV: missing column EndTimeUnixNano/);
  });

  it('fails on an empty file', async () => {
    await rejects(tmp.write('empty.csv', ''), /empty\.csv is empty/);
  });

  it('fails on a truncated gzip file, saying how far it got', async () => {
    const lines = [SPAN_HEADER];
    for (let i = 0; i < 2000; i++) lines.push(spanRow(TRACE_A, (0x1000 + i).toString(16).padStart(16, '0'), 'root', GATEWAY, '/*', T0 + BigInt(i), T0 + BigInt(i) + 1000n));
    const gz = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const path = tmp.writeBytes('truncated.csv.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
    await rejects(path, /truncated gzip data: unexpected end of file after line \d+/);
  });

  it('fails on corrupt gzip data', async () => {
    const gz = gzipSync(Buffer.from([SPAN_HEADER, ...ROWS].join('\n')));
    const bad = Buffer.from(gz);
    for (let i = 12; i < 40; i++) bad[i] = 0xff;
    await rejects(tmp.writeBytes('corrupt.csv.gz', bad), /corrupt gzip data|truncated gzip data/);
  });

  const DEFECTS: [string, string, RegExp][] = [
    ['non-numeric time', ROWS[1]!.replace(String(T0 + 873_375n), '16750799401234x'), /StartTimeUnixNano "16750799401234x" is not an unsigned decimal integer/],
    ['negative time', ROWS[1]!.replace(String(T0 + 31_268_284n), '-5'), /EndTimeUnixNano "-5" is not an unsigned decimal integer/],
    ['time beyond uint64', ROWS[1]!.replace(String(T0 + 31_268_284n), '18446744073709551616'), /EndTimeUnixNano "18446744073709551616"/],
    ['bad hex trace id', ROWS[1]!.replace(TRACE_A, TRACE_A.slice(0, 31) + 'g'), /TraceID ".*g" is not 32 hex digits/],
    ['short span id', ROWS[1]!.replace('b4b9bcdec2d5f4c6', 'b4b9bcdec2d5f4'), /SpanID "b4b9bcdec2d5f4" is not 16 hex digits/],
    ['bad parent id', ROWS[1]!.replace(',38009907060427dd,', ',parent,'), /ParentID "parent" is neither "root" nor 16 hex digits/],
    ['missing field', ROWS[1]!.replace(/,[^,]*$/, ''), /expected 8 fields, got 7/],
  ];

  for (const [what, row, message] of DEFECTS) {
    it(`skips and reports a row with a ${what} (line 3), or fails on it in strict mode`, async () => {
      const path = tmp.write(`${what.replace(/ /g, '-')}.csv`, [SPAN_HEADER, ROWS[0]!, row, ROWS[2]!]);
      const source = await openTraceSource(path);
      const { spans } = await read(source);
      assert.equal(spans.length, 2);
      assert.equal(source.stats.skippedRows, 1);
      assert.equal(source.warnings.list.length, 1);
      const w = source.warnings.list[0]!;
      assert.deepEqual([w.code, w.file, w.line], ['bad-row', path, 3]);
      assert.match(w.message, message);
      assert.match(w.message, /row skipped$/);
      await rejects(path, new RegExp(`line 3: ${message.source}`), { strict: true });
    });
  }

  it('skips and reports a row that is not valid CSV, and continues with the next line', async () => {
    const broken = `${TRACE_A},b4b9bcdec2d5f4c6,38009907060427dd,${GATEWAY},"Filtering"x,1,2,0`;
    const path = tmp.write('quote.csv', [SPAN_HEADER, ROWS[0]!, broken, ROWS[2]!]);
    const source = await openTraceSource(path);
    const { spans } = await read(source);
    assert.deepEqual(
      spans.map((s) => bytesToHex(s.span.spanId)),
      ['38009907060427dd', '6b3de5a982926bbc'],
    );
    assert.deepEqual(
      source.warnings.list.map((w) => [w.code, w.line]),
      [['malformed-csv', 3]],
    );
    await rejects(path, /line 3: invalid CSV: Invalid Closing Quote/, { strict: true });
  });

  it('passes over blank lines and still names the right line', async () => {
    const path = tmp.write('blank.csv', `${SPAN_HEADER}\n${ROWS[0]}\n\n${ROWS[1]!.replace(',38009907060427dd,', ',x,')}\n${ROWS[2]}\n\n`);
    const source = await openTraceSource(path);
    const { spans } = await read(source);
    assert.equal(spans.length, 2);
    assert.deepEqual(
      source.warnings.list.map((w) => [w.code, w.line]),
      [['bad-row', 4]],
    );
  });

  it('reports columns it does not read', async () => {
    const path = tmp.write('extra.csv', [`${SPAN_HEADER},Status`, `${ROWS[0]!},OK`]);
    const source = await openTraceSource(path);
    const { spans } = await read(source);
    assert.equal(spans.length, 1);
    assert.deepEqual(
      source.warnings.list.map((w) => [w.code, w.line, w.message]),
      [['ignored-input', 1, 'column Status not read']],
    );
  });

  it('keeps the committed fixture readable', async () => {
    const path = new URL('./fixtures/spans.csv', import.meta.url).pathname;
    assert.match(readFileSync(path, 'utf8'), /^TraceID,SpanID/);
    const { spans } = await read(await openTraceSource(path));
    assert.equal(spans.length, 4);
  });
});
