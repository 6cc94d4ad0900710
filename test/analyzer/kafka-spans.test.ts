// kafkajs producer and consumer spans of TypeScript services, and the messaging edges from sends to
// the consumers of their topic.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis } from '../../src/analyzer/analyze.js';

describe('kafkajs spans', () => {
  let dir: string;
  let doc: Analysis;
  const put = async (rel: string, text: string): Promise<void> => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-kafka-'));
    await put('orders/package.json', '{}\n');
    await put('orders/src/clients.ts', "import { Kafka } from 'kafkajs';\nexport const kafka = new Kafka({ clientId: 'orders', brokers: ['kafka:9092'] });\nexport const producer = kafka.producer();\n");
    await put(
      'orders/src/handlers.ts',
      "import { producer } from './clients.js';\nexport async function placeOrder(input: unknown) {\n  if (input) {\n    await producer.send({\n      topic: 'order-events',\n      messages: [{ value: JSON.stringify(input) }],\n    });\n  }\n  await producer.send({ topic: `dyn-${input}`, messages: [] });\n}\n",
    );
    await put('stock/package.json', '{}\n');
    await put(
      'stock/src/server.ts',
      "import { kafka } from './clients.js';\nimport { reserveStock, audit } from './handlers.js';\nconst consumer = kafka.consumer({ groupId: 'stock' });\nawait consumer.subscribe({ topic: 'order-events' });\nawait consumer.run({ eachMessage: ({ message }) => reserveStock(message) });\nconst auditor = kafka.consumer({ groupId: 'audit' });\nawait auditor.subscribe({ topics: ['order-events', 'refunds'] });\nawait auditor.run({\n  eachMessage: async ({ message }) => {\n    audit(message);\n    audit(message);\n  },\n});\n",
    );
    await put('stock/src/handlers.ts', 'export async function reserveStock(m: unknown) { return m; }\nexport function audit(m: unknown) { return m; }\n');
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('maps sends with a literal topic to the sending function and consumers to their handler', () => {
    const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
    const spans = doc.spans.filter((s) => s.via === 'messaging').map((s) => `${s.service} ${s.kind} ${s.spanName} -> ${nameOf.get(s.handlerFunction ?? s.function ?? '')}`);
    assert.deepEqual(spans.sort(), [
      'orders client send order-events -> placeOrder',
      'stock server process order-events -> eachMessage',
      'stock server process order-events -> reserveStock',
      'stock server process refunds -> eachMessage',
    ]);
  });

  it('joins each send to the consumers of its topic', () => {
    const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
    assert.deepEqual(doc.messagingEdges.map((e) => `${e.fromService}:${nameOf.get(e.fromFunction!)} -> ${e.toService}:${nameOf.get(e.toFunction!)} ${e.queue}`).sort(), [
      'orders:placeOrder -> stock:eachMessage order-events',
      'orders:placeOrder -> stock:reserveStock order-events',
    ]);
  });
});
