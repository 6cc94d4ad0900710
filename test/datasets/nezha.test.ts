// nezha-trainticket: log records attached to their spans as events (also from the next minutes'
// log files), the corrupt-time fallback, the malformed-row salvage, and unmatched records.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, getAttribute } from '../../src/model/index.js';
import { logEventAttributes, openTraceSource, parseLogLine } from '../../src/datasets/index.js';
import { LOG_HEADER, SPAN_HEADER, TempDir, bySpanId, collect, csvField, logRow, runtimeLine, spanRow } from './helpers.js';

const TRAVEL = 'ts-travel-service-64469b5b48-25zj6';
const USER = 'ts-user-service-687d654649-lrcwv';
const TR1 = '8609fbd1b13573b2b5f70109be0b4246';
const TR2 = '24b5c62bafb05a6974660c972c0f946a';
const S1 = 'dc69735c11aaf93f'; // minute 10_05, logs in 10_05, 10_06 and 10_07
const S2 = 'e9a50b7b30baea63'; // minute 10_06
const S3 = '4a16b45cd44e4496'; // minute 10_06
const NS = (s: string) => BigInt(s);

function appLine(time: string, level: string, where: string, trace: string, span: string, message: string): string {
  return `${time} ${level.padEnd(5)} ${where} TraceID: ${trace} SpanID: ${span} ${message}\n`;
}

function log(nanos: string, iso: string, trace: string, span: string, line: string, pod = TRAVEL): string {
  return logRow(iso, nanos, pod, trace, span, runtimeLine(line, iso));
}

/** A two-day nezha layout with logs spread over three minutes and every known defect. */
function writeNezha(tmp: TempDir): void {
  const day = 'rca_data/2023-01-29';
  tmp.write(
    `${day}/trace/10_05_trace.csv.gz`,
    [SPAN_HEADER, spanRow(TR1, S1, 'aa2fdb9707cf3b58', TRAVEL, 'TravelController.getRouteByTripId', 1674986728560964020n, 1674986728579011128n)],
    { gzip: true },
  );
  tmp.write(
    `${day}/trace/10_06_trace.csv.gz`,
    [
      SPAN_HEADER,
      spanRow(TR2, S2, 'root', USER, 'UserController.getUserByUserId', 1674986763360000000n, 1674986763362000000n),
      spanRow(TR2, S3, 'root', TRAVEL, 'TravelController.queryInfo', 1674986763250000000n, 1674986763260000000n),
    ],
    { gzip: true },
  );
  tmp.write(`${day}/trace/10_07_trace.csv.gz`, [SPAN_HEADER], { gzip: true });
  tmp.write(
    `${day}/log/10_05_log.csv.gz`,
    [
      LOG_HEADER,
      // out of time order in the file: events must come out sorted
      log('1674986728579588645', '2023-01-29T10:05:28.579588645Z', TR1, S1, appLine('18:05:28.579', 'INFO', 't.s.TravelServiceImpl#532', TR1, S1, '[getRouteByRouteId][Route is: Route(id=f3d4)]')),
      log('1674986728562600021', '2023-01-29T10:05:28.562600021Z', TR1, S1, appLine('18:05:28.561', 'INFO', 't.c.TravelController#53', TR1, S1, '[getRouteByTripId][TripId: D1345]')),
    ],
    { gzip: true },
  );
  const good631 = log('1674986763361647039', '2023-01-29T10:06:03.361647039Z', TR2, S2, appLine('18:06:03.361', 'INFO', 'u.c.UserController#48', TR2, S2, '[getUserByUserId][UserId: 4d2a46c7]'), USER);
  // Line 3 is line 631 of the real file in small: a complete record with a fragment of another
  // record glued after its closing quote.
  const broken = `${good631}ulate distance][calculate time：175]\\n"",""stream"":""stdout"",""time"":""2023-01-29T10:06:03.254774537Z""}"`;
  tmp.write(
    `${day}/log/10_06_log.csv.gz`,
    [
      LOG_HEADER,
      log('1674986728590000000', '2023-01-29T10:05:28.590000000Z', TR1, S1, appLine('18:05:28.590', 'WARN', 't.s.TravelServiceImpl#540', TR1, S1, 'late line of the previous minute')),
      broken,
      // corrupt TimeUnixNano: the Timestamp column (millisecond text, no zone) gives the time
      logRow('2023-01-29T10:06:03.255', '-6795364578871345152', TRAVEL, TR2, S3, runtimeLine(appLine('18:06:03.256', 'ERROR', 'o.a.c.c.C.[.[.[.[dispatcherServlet]#175', TR2, S3, 'Servlet.service() threw exception'), '2023-01-29T10:06:03.256Z')),
      log('1674986763254554238', '2023-01-29T10:06:03.254554238Z', TR2, S3, appLine('18:06:03.254', 'INFO', 't.s.TravelServiceImpl#366', TR2, S3, '[getTickets][calculate time：0]')),
      log('1674986763300000000', '2023-01-29T10:06:03.300000000Z', TR2, 'ffffffffffffffff', appLine('18:06:03.300', 'INFO', 't.s.X#1', TR2, 'ffffffffffffffff', 'no such span')),
    ],
    { gzip: true },
  );
  tmp.write(
    `${day}/log/10_07_log.csv.gz`,
    [LOG_HEADER, log('1674986728600000000', '2023-01-29T10:05:28.600000000Z', TR1, S1, appLine('18:05:28.600', 'INFO', 't.s.TravelServiceImpl#545', TR1, S1, 'two minutes late'))],
    { gzip: true },
  );
  tmp.write(`${day}/traceid/10_05_traceid.csv.gz`, [TR1], { gzip: true });
  tmp.write(`${day}/2023-01-29-fault_list.json`, JSON.stringify({ '10': [{ inject_time: '2023-01-29 10:05:00', inject_timestamp: '1674957900', inject_pod: TRAVEL, inject_type: 'exception' }] }));
  tmp.write(
    'rca_data/2023-01-30/trace/11_51_trace.csv',
    [SPAN_HEADER, spanRow('959e7db2fec7ca3d6414555ca9eb3ee5', '50e59424ed5c89cb', 'root', USER, '/api/v1/users', 1675079506100000000n, 1675079506200000000n)],
  );
  tmp.write('rca_data/2023-01-30/2023-01-30-fault_list.json', JSON.stringify({ '11': [{ inject_time: '2023-01-30 11:51:46', inject_timestamp: '1675079506', inject_pod: USER, inject_type: 'network_delay' }] }));
  tmp.write(
    'construct_data/2023-01-29/trace/08_50_trace.csv.gz',
    [SPAN_HEADER, spanRow('898fbabdd1894463575af052c4cd7982', '233d5101e107e112', 'root', USER, '/*', 1674982159219000000n, 1674982159247160439n)],
    { gzip: true },
  );
  tmp.write('construct_data/2023-01-29/log/08_50_log.csv.gz', [LOG_HEADER], { gzip: true });
  tmp.write('root_cause_ts.json', JSON.stringify({ 'ts-travel-service': { exception: 't.s.TravelServiceImpl#451_t.s.TravelServiceImpl#457' } }));
}

describe('nezha log lines', () => {
  it('parses level, code location and message out of the application line', () => {
    assert.deepEqual(parseLogLine('18:05:28.579 INFO  t.s.TravelServiceImpl#532 TraceID: 86 SpanID: dc [a][b]\n'), {
      body: '[a][b]',
      severity: 'INFO',
      codeNamespace: 't.s.TravelServiceImpl',
      codeLine: 532n,
    });
    assert.deepEqual(parseLogLine('17:20:29.299 ERROR o.a.c.c.C.[.[.[.[dispatcherServlet]#175 TraceID: e8 SpanID: de Servlet failed'), {
      body: 'Servlet failed',
      severity: 'ERROR',
      codeNamespace: 'o.a.c.c.C.[.[.[.[dispatcherServlet]',
      codeLine: 175n,
    });
    assert.deepEqual(parseLogLine('WARN something odd'), { body: 'something odd', severity: 'WARN', codeNamespace: undefined, codeLine: undefined });
    assert.deepEqual(parseLogLine('\tat java.base/Thread.run(Thread.java:829)\n'), {
      body: '\tat java.base/Thread.run(Thread.java:829)',
      severity: undefined,
      codeNamespace: undefined,
      codeLine: undefined,
    });
  });

  it('keeps the Log column verbatim beside the parsed parts, or as the body in verbatim mode', () => {
    const column = runtimeLine('18:05:28.561 INFO  t.c.TravelController#53 TraceID: 86 SpanID: dc [getRouteByTripId]\n', '2023-01-29T10:05:28.562600021Z');
    assert.deepEqual(
      logEventAttributes(column, 'parsed').map((a) => [a.key, a.value]),
      [
        ['log.record.body', '[getRouteByTripId]'],
        ['log.severity_text', 'INFO'],
        ['code.namespace', 't.c.TravelController'],
        ['code.lineno', 53n],
        ['log.record.original', column],
      ],
    );
    assert.deepEqual(
      logEventAttributes(column, 'verbatim').map((a) => [a.key, a.value]),
      [['log.record.body', column]],
    );
    // Not the runtime's JSON: the column is the body, and is not repeated.
    assert.deepEqual(
      logEventAttributes('plain text', 'parsed').map((a) => [a.key, a.value]),
      [['log.record.body', 'plain text']],
    );
  });
});

describe('nezha-trainticket dataset', () => {
  let tmp: TempDir;
  before(() => {
    tmp = new TempDir();
    writeNezha(tmp);
  });
  after(() => tmp.remove());

  it('attaches every log record to its span as a time-ordered event, also from the next minutes', async () => {
    const source = await openTraceSource(tmp.path);
    assert.equal(source.kind, 'nezha-trainticket');
    const { batches, spans } = await collect(source.batches());
    assert.equal(batches.length, 3, 'one batch per minute with spans: 10_05, 10_06, 11_51 (10_07 has none)');
    assert.equal(spans.length, 4);

    const s1 = bySpanId(spans, S1).span;
    assert.deepEqual(
      s1.events.map((e) => [e.name, e.timeUnixNano, getAttribute(e.attributes, 'log.record.body')]),
      [
        ['log', NS('1674986728562600021'), '[getRouteByTripId][TripId: D1345]'],
        ['log', NS('1674986728579588645'), '[getRouteByRouteId][Route is: Route(id=f3d4)]'],
        ['log', NS('1674986728590000000'), 'late line of the previous minute'],
        ['log', NS('1674986728600000000'), 'two minutes late'],
      ],
    );
    assert.equal(getAttribute(s1.events[2]!.attributes, 'log.severity_text'), 'WARN');
    assert.equal(getAttribute(s1.events[0]!.attributes, 'code.lineno'), 53n);

    assert.equal(source.stats.logFiles, 3);
    assert.equal(source.stats.logRecords, 8);
    assert.equal(source.stats.logRecordsAttached, 7);
    assert.equal(source.stats.logRecordsUnmatched, 1);
  });

  it('takes the time of a record with a corrupt TimeUnixNano from its Timestamp column, and reports it', async () => {
    const source = await openTraceSource(tmp.path);
    const { spans } = await collect(source.batches());
    const s3 = bySpanId(spans, S3).span;
    assert.deepEqual(
      s3.events.map((e) => e.timeUnixNano),
      [NS('1674986763254554238'), NS('1674986763255000000')],
    );
    assert.equal(getAttribute(s3.events[1]!.attributes, 'log.severity_text'), 'ERROR');
    assert.equal(source.stats.logTimeFallbacks, 1);
    const w = source.warnings.list.find((x) => x.code === 'log-time-fallback')!;
    assert.match(w.file!, /10_06_log\.csv\.gz$/);
    assert.equal(w.line, 4);
    assert.match(w.message, /TimeUnixNano -6795364578871345152 is corrupt; event time taken from Timestamp 2023-01-29T10:06:03.255/);
  });

  it('salvages the complete record of a malformed CSV row, reports it, and reads on', async () => {
    const source = await openTraceSource(tmp.path);
    const { spans } = await collect(source.batches());
    const s2 = bySpanId(spans, S2).span;
    assert.equal(s2.events.length, 1);
    assert.equal(s2.events[0]!.timeUnixNano, NS('1674986763361647039'));
    assert.equal(getAttribute(s2.events[0]!.attributes, 'log.record.body'), '[getUserByUserId][UserId: 4d2a46c7]');
    const w = source.warnings.list.filter((x) => x.code === 'malformed-csv');
    assert.equal(w.length, 1);
    assert.equal(w[0]!.line, 3);
    assert.match(w[0]!.message, /kept the complete record the line starts with, dropped the \d+ characters after it/);
  });

  it('reports a log record whose span is not in the window', async () => {
    const source = await openTraceSource(tmp.path);
    await collect(source.batches());
    const w = source.warnings.list.filter((x) => x.code === 'log-unmatched');
    assert.equal(w.length, 1);
    assert.equal(w[0]!.line, 6);
    assert.match(w[0]!.message, /no span 24b5c62bafb05a6974660c972c0f946a\/ffffffffffffffff/);
  });

  it('reports records beyond a smaller window instead of attaching them', async () => {
    const source = await openTraceSource(tmp.path, { logWindow: 1 });
    const { spans } = await collect(source.batches());
    assert.equal(bySpanId(spans, S1).span.events.length, 3);
    assert.equal(source.stats.logRecordsUnmatched, 2);
  });

  it('can leave the logs out or keep the Log column as the body', async () => {
    const without = await openTraceSource(tmp.path, { logs: false });
    const a = await collect(without.batches());
    assert.ok(a.spans.every((s) => s.span.events.length === 0));
    assert.equal(without.stats.logRecords, 0);
    const verbatim = await openTraceSource(tmp.path, { logBody: 'verbatim' });
    const b = await collect(verbatim.batches());
    const e = bySpanId(b.spans, S1).span.events[0]!;
    assert.equal(e.attributes.length, 1);
    assert.match(getAttribute(e.attributes, 'log.record.body') as string, /^\{"log":"18:05:28.561 INFO/);
  });

  it('re-cuts into batches of N spans with one ResourceSpans per pod', async () => {
    const source = await openTraceSource(tmp.path, { batchSpans: 3 });
    const { batches, spans } = await collect(source.batches());
    assert.deepEqual(
      batches.map((b) => b.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0)),
      [3, 1],
    );
    const pods = batches[0]!.resourceSpans.map((rs) => getAttribute(rs.resource!.attributes, 'k8s.pod.name'));
    assert.deepEqual(pods, [TRAVEL, USER]);
    assert.equal(bySpanId(spans, S1).span.events.length, 4);
  });

  it('reads construct_data or both parts on request, in time order', async () => {
    const construct = await openTraceSource(tmp.path, { nezhaPart: 'construct' });
    const c = await collect(construct.batches());
    assert.deepEqual(
      c.spans.map((s) => bytesToHex(s.span.spanId)),
      ['233d5101e107e112'],
    );
    const all = await openTraceSource(tmp.path, { nezhaPart: 'all' });
    const a = await collect(all.batches());
    assert.deepEqual(
      a.spans.map((s) => bytesToHex(s.span.spanId)),
      ['233d5101e107e112', S1, S2, S3, '50e59424ed5c89cb'],
    );
    assert.match(all.describe(), /nezha-trainticket dataset at .* \(rca_data \+ construct_data\): 5 span files over 2 days, 2023-01-29 08:50 … 2023-01-30 11:51/);
  });

  it('reads one day directory on its own as nezha', async () => {
    const source = await openTraceSource(`${tmp.path}/rca_data/2023-01-29`);
    assert.equal(source.kind, 'nezha-trainticket');
    const { spans } = await collect(source.batches());
    assert.equal(spans.length, 3);
    assert.equal(source.stats.logRecordsAttached, 7);
    const truth = await source.groundTruth();
    assert.deepEqual(
      truth!.faults.map((f) => [f.id, f.injectTimeText]),
      [['F01', '2023-01-29 10:05:00']],
    );
  });

  it('has ground truth: faults of every day, code regions', async () => {
    const source = await openTraceSource(tmp.path);
    assert.ok(source.hasGroundTruth);
    const truth = await source.groundTruth();
    assert.deepEqual(
      truth!.faults.map((f) => [f.id, f.injectService, f.type]),
      [
        ['F01', 'ts-travel-service', 'exception'],
        ['F02', 'ts-user-service', 'network_delay'],
      ],
    );
    assert.equal(truth!.faultySpans, undefined);
    assert.equal(truth!.codeRegions!['ts-travel-service']!.exception, 't.s.TravelServiceImpl#451_t.s.TravelServiceImpl#457');
    // The README's caveat: inject_timestamp is 8 h off on 2023-01-29.
    assert.ok(source.warnings.list.some((w) => w.code === 'label-mismatch' && /inject_timestamp 1674957900 disagrees/.test(w.message)));
  });

  it('quotes fields the way the fixture helper claims', () => {
    assert.equal(csvField('a"b,c'), '"a""b,c"');
  });
});
