// A process the disk queue tests run and kill. The crash workload writes each event line to a log
// file with one write(2) before the act it reports when the act could be cut short by SIGKILL (K:
// before ack) and after it when the act must be finished to count (A: after append resolved), so the
// parent's view of what happened errs only on the side the checks allow. (Not stdout: a pipe's
// writes are asynchronous in Node, and a kill loses what is still buffered.)
//
//   hold DIR          open the queue, print "held", wait to be killed
//   crash DIR SEED LOG  appenders and consumers at full speed until killed; prints S and O on
//                     stdout too, so the parent can time the kill:
//                       S                 started (the queue is being opened and recovered)
//                       O commit next recovered torn corrupt
//                       P id              an append of payload `id` is about to be made
//                       A seq id          that append resolved (durable) with `seq`
//                       D seq id n        next() handed out `seq` holding `id` (-1: damaged), n-th delivery
//                       K seq             about to ack `seq`
//                       W code message    a queue warning
//   fill DIR          append 1 KiB records one by one until one fails (the test limits the file size):
//                       A seq | F name reason | C (closed)
import { closeSync, openSync, writeSync } from 'node:fs';
import { DiskQueue } from '../../src/pipeline/index.js';
import { Rng } from '../helpers/arbitrary.js';
import { CRASH_MAX_IN_FLIGHT, CRASH_SEGMENT_BYTES, checkPayload, payloadFor } from './queue-helpers.js';

const out = (line: string) => process.stdout.write(line + '\n');
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function hold(dir: string): Promise<void> {
  await DiskQueue.open({ dir });
  out('held');
  setInterval(() => undefined, 1 << 30);
}

async function crash(dir: string, seed: number, logPath: string): Promise<void> {
  const rng = new Rng(seed);
  const log = openSync(logPath, 'a');
  const event = (line: string) => writeSync(log, line + '\n');
  event('S');
  out('S');
  const q = await DiskQueue.open({
    dir,
    segmentBytes: CRASH_SEGMENT_BYTES,
    maxInFlight: CRASH_MAX_IN_FLIGHT,
    cursorDelayMs: 2,
    onWarning: (w) => event(`W ${w.code} ${w.message.replace(/\s+/g, ' ')}`),
  });
  const s = q.stats();
  event(`O ${s.commitSeq} ${s.nextSeq} ${s.recoveredRecords} ${s.tornTails} ${s.corruptRecords}`);
  out('O');
  let nextId = seed * 1_000_000;
  const appender = async () => {
    for (;;) {
      const id = nextId++;
      event(`P ${id}`);
      const seq = await q.append(payloadFor(id, rng.int(3000)));
      event(`A ${seq} ${id}`);
      if (rng.float() < 0.3) await sleep(rng.int(3));
    }
  };
  const consumer = async () => {
    for (;;) {
      const r = await q.next();
      event(`D ${r.seq} ${checkPayload(r.payload)} ${r.deliveries}`);
      await sleep(rng.int(3));
      const x = rng.float();
      if (x < 0.85) {
        event(`K ${r.seq}`);
        q.ack(r.seq);
      } else if (x < 0.95) q.nack(r.seq);
      else q.rewind();
    }
  };
  await Promise.all([appender(), appender(), appender(), appender(), consumer(), consumer(), consumer()]);
  closeSync(log);
}

async function fill(dir: string): Promise<void> {
  const q = await DiskQueue.open({ dir, segmentBytes: 1 << 20, onWarning: (w) => out(`W ${w.code}`) });
  for (let id = 0; ; id++) {
    try {
      out(`A ${await q.append(payloadFor(id, 1000))}`);
    } catch (err) {
      out(`F ${(err as Error).name} ${(err as { reason?: string }).reason} ${(err as Error).message}`);
      break;
    }
  }
  await q.close();
  out('C');
}

const [mode, dir, seed, logPath] = process.argv.slice(2);
if (mode === 'hold') await hold(dir!);
else if (mode === 'crash') await crash(dir!, Number(seed), logPath!);
else if (mode === 'fill') await fill(dir!);
else throw new Error(`unknown mode ${mode}`);
