// Ground truth: fault lists read as UTC and numbered as faulty_spans.py numbers them, and
// labels/faulty_spans.csv answering "is this span faulty, under which definition, for which fault".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, hexToBytes } from '../../src/model/index.js';
import { FAULT_WINDOW_NS, WarningLog, faultsAt, openTraceSource, readFaultLists, readFaultySpans } from '../../src/datasets/index.js';
import { SPAN_HEADER, TempDir, spanRow } from './helpers.js';

const CONTACTS = 'ts-contacts-service-866bd68c97-dzqgd';
const BASIC = 'ts-basic-service-5dc8d4f9fd-llznp';

const LABEL = {
  // Hours as text sort "9" after "11": ids still follow inject time.
  '9': [{ inject_time: '2023-01-30 09:10:00', inject_timestamp: '1675069800', inject_pod: BASIC, inject_type: 'cpu_contention' }],
  '11': [
    { inject_time: '2023-01-30 11:59:21', inject_timestamp: '1675079961', inject_pod: BASIC, inject_type: 'cpu_contention' },
    { inject_time: '2023-01-30 11:51:46', inject_timestamp: '1675079506', inject_pod: CONTACTS, inject_type: 'network_delay' },
  ],
  '12': [{ inject_time: '2023-01-30 12:06:12', inject_timestamp: '1675080432', inject_pod: BASIC, inject_type: 'network_delay' }],
};

const FAULTY = [
  'fault_id,inject_time,inject_pod,inject_type,definition,trace_id,span_id',
  `F02,2023-01-30 11:51:46,${CONTACTS},network_delay,proxy,959e7db2fec7ca3d6414555ca9eb3ee5,50e59424ed5c89cb`,
  `F02,2023-01-30 11:51:46,${CONTACTS},network_delay,proxy,959e7db2fec7ca3d6414555ca9eb3ee5,8f157590ba17ad56`,
  `F02,2023-01-30 11:51:46,${CONTACTS},network_delay,slow,959e7db2fec7ca3d6414555ca9eb3ee5,50e59424ed5c89cb`,
  `F03,2023-01-30 11:59:21,${BASIC},cpu_contention,proxy,959E7DB2FEC7CA3D6414555CA9EB3EE5,50E59424ED5C89CB`,
  `F03,2023-01-30 11:59:21,${BASIC},cpu_contention,exact,aaaa7db2fec7ca3d6414555ca9eb3ee5,1111111111111111`,
  `F04,2023-01-30 12:06:12,${CONTACTS},network_delay,proxy,bbbb7db2fec7ca3d6414555ca9eb3ee5,2222222222222222`,
  `F03,2023-01-30 11:59:21,${BASIC},cpu_contention,approximate,959e7db2fec7ca3d6414555ca9eb3ee5,50e59424ed5c89cb`,
  `F03,2023-01-30 11:59:21,${BASIC},cpu_contention,proxy,959e7db2fec7ca3d,50e59424ed5c89cb`,
];

describe('fault lists', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());

  it('reads inject_time as UTC, orders and numbers faults by it, and gives each its window', async () => {
    const warnings = new WarningLog();
    const faults = await readFaultLists([tmp.write('label.json', JSON.stringify(LABEL))], warnings);
    assert.deepEqual(
      faults.map((f) => [f.id, f.injectTimeText, f.injectPod, f.injectService, f.type]),
      [
        ['F01', '2023-01-30 09:10:00', BASIC, 'ts-basic-service', 'cpu_contention'],
        ['F02', '2023-01-30 11:51:46', CONTACTS, 'ts-contacts-service', 'network_delay'],
        ['F03', '2023-01-30 11:59:21', BASIC, 'ts-basic-service', 'cpu_contention'],
        ['F04', '2023-01-30 12:06:12', BASIC, 'ts-basic-service', 'network_delay'],
      ],
    );
    const f = faults[1]!;
    assert.equal(f.injectTime.toISOString(), '2023-01-30T11:51:46.000Z');
    assert.equal(f.injectTimeNs, 1675079506000000000n);
    assert.equal(f.windowEndNs, 1675079506000000000n + FAULT_WINDOW_NS);
    assert.equal(FAULT_WINDOW_NS, 180_000_000_000n);
    // 12:06:12 says 1675080432 but is 1675080372 in UTC: reported, inject_time wins.
    assert.equal(warnings.list.length, 1);
    assert.equal(warnings.list[0]!.code, 'label-mismatch');
    assert.equal(
      warnings.list[0]!.message,
      '"12"[0].inject_timestamp 1675080432 disagrees with inject_time 2023-01-30 12:06:12 (UTC 1675080372); inject_time used',
    );
    assert.deepEqual(
      faultsAt(faults, 1675079506000000000n + 179_999_999_999n).map((x) => x.id),
      ['F02'],
    );
    assert.deepEqual(
      faultsAt(faults, 1675079506000000000n + FAULT_WINDOW_NS).map((x) => x.id),
      [],
    );
    assert.deepEqual(
      faultsAt(faults, 1675079961500000000n, BASIC).map((x) => x.id),
      ['F03'],
    );
  });

  it('numbers faults across several lists as one sequence', async () => {
    const a = tmp.write('a/2023-01-29-fault_list.json', JSON.stringify({ '08': [{ inject_time: '2023-01-29 08:43:04', inject_pod: CONTACTS, inject_type: 'return' }] }));
    const b = tmp.write('b/2023-01-30-fault_list.json', JSON.stringify(LABEL));
    const faults = await readFaultLists([b, a], new WarningLog());
    assert.deepEqual(
      faults.map((f) => `${f.id} ${f.type}`),
      ['F01 return', 'F02 cpu_contention', 'F03 network_delay', 'F04 cpu_contention', 'F05 network_delay'],
    );
  });

  const BAD: [string, string, RegExp][] = [
    ['not JSON', '{"11": [', /invalid JSON/],
    ['an array', '[]', /not a fault list: expected an object of hour -> \[faults\]/],
    ['an hour that is not a list', '{"11": {}}', /"11" is not an array/],
    ['a missing pod', '{"11": [{"inject_time": "2023-01-30 11:51:46", "inject_type": "cpu_contention"}]}', /"11"\[0\]\.inject_pod: expected a non-empty string/],
    ['a bad time', '{"11": [{"inject_time": "2023-01-30 25:51:46", "inject_pod": "p-a-b", "inject_type": "x"}]}', /"11"\[0\]\.inject_time: "2023-01-30 25:51:46" is not a date-time/],
  ];
  for (const [what, text, pattern] of BAD) {
    it(`rejects a fault list with ${what}`, async () => {
      const path = tmp.write(`bad-${what.replace(/ /g, '-')}.json`, text);
      await assert.rejects(readFaultLists([path], new WarningLog()), (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.equal(err.source, path);
        assert.match(err.message, pattern);
        return true;
      });
    });
  }
});

describe('faulty spans', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());

  it('answers whether a span is faulty under each definition, and for which fault', async () => {
    const warnings = new WarningLog();
    const faults = await readFaultLists([tmp.write('label.json', JSON.stringify(LABEL))], new WarningLog());
    const fs = await readFaultySpans(tmp.write('faulty_spans.csv', FAULTY), warnings, faults);
    const trace = '959e7db2fec7ca3d6414555ca9eb3ee5';
    assert.deepEqual(fs.faultsOf(trace, '50e59424ed5c89cb', 'proxy'), ['F02', 'F03']);
    assert.deepEqual(fs.faultsOf(hexToBytes(trace)!, hexToBytes('50e59424ed5c89cb')!, 'slow'), ['F02']);
    assert.deepEqual(fs.faultsOf(trace, '50e59424ed5c89cb', 'exact'), []);
    assert.equal(fs.isFaulty(trace, '8f157590ba17ad56', 'proxy'), true);
    assert.equal(fs.isFaulty(trace, '8f157590ba17ad56', 'slow'), false);
    assert.equal(fs.isFaulty('AAAA7DB2FEC7CA3D6414555CA9EB3EE5', '1111111111111111', 'exact'), true);
    assert.equal(fs.count('proxy'), 3);
    assert.equal(fs.pairs('proxy'), 4);
    assert.equal(fs.count('proxy', 'F02'), 2);
    assert.equal(fs.count('exact'), 1);
    assert.deepEqual(fs.faultIds('proxy'), ['F02', 'F03', 'F04']);

    assert.deepEqual(
      warnings.list.map((w) => [w.code, w.line]),
      [
        ['label-mismatch', 7], // F04 is BASIC in the fault list
        ['ignored-input', 8], // unknown definition
        ['bad-row', 9], // short trace id
      ],
    );
  });

  it('loads through a dataset source: trastrainer layout with label.json and labels/', async () => {
    tmp.write('ds/trace/11_51_trace.csv.gz', [SPAN_HEADER, spanRow('959e7db2fec7ca3d6414555ca9eb3ee5', '50e59424ed5c89cb', 'root', CONTACTS, '/*', 1675079506100000000n, 1675079506200000000n)], { gzip: true });
    tmp.write('ds/label.json', JSON.stringify(LABEL));
    tmp.write('ds/labels/faulty_spans.csv', FAULTY.slice(0, 4));
    const source = await openTraceSource(`${tmp.path}/ds`);
    assert.equal(source.kind, 'trastrainer-trainticket');
    assert.ok(source.hasGroundTruth);
    const truth = await source.groundTruth();
    assert.equal(truth!.faults.length, 4);
    assert.equal(truth!.faultySpans!.count('proxy'), 2);
    assert.equal(truth!.codeRegions, undefined);
    assert.equal(await source.groundTruth(), truth, 'loaded once');
  });
});
