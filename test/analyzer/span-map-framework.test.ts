// Framework and messaging spans of Java services (src/analyzer/span-map-framework.ts) through
// analyzeSources: a parent pom giving spring-boot-starter-web to its modules, a web service with an
// application class (the error controller), a gateway (no error controller, gateway spans), a library
// module without an application (nothing), RabbitMQ listeners and senders whose queue names are
// string constants and literals, and a Gradle build.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis } from '../../src/analyzer/analyze.js';
import { readBuildDependencies } from '../../src/analyzer/span-map-framework.js';

const PARENT = `<project>
  <artifactId>parent-pom</artifactId>
  <dependencyManagement><dependencies><dependency><artifactId>spring-boot-starter-amqp</artifactId></dependency></dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency>
  </dependencies>
</project>
`;
const child = (name: string, deps: string[]): string =>
  `<project>\n  <parent><artifactId>parent-pom</artifactId></parent>\n  <artifactId>${name}</artifactId>\n  <dependencies>\n${deps.map((d) => `    <dependency><artifactId>${d}</artifactId></dependency>\n`).join('')}  </dependencies>\n</project>\n`;
const app = (pkg: string, cls: string): string =>
  `package ${pkg};\n@SpringBootApplication\npublic class ${cls} {\n    public static void main(String[] args) { SpringApplication.run(${cls}.class, args); }\n}\n`;

const FILES: Record<string, string> = {
  'pom.xml': PARENT,
  'orders/pom.xml': child('orders', ['spring-boot-starter-amqp']),
  'orders/src/main/java/orders/OrdersApplication.java': app('orders', 'OrdersApplication'),
  'orders/src/main/java/orders/Queues.java': 'package orders;\npublic class Queues {\n    public static final String QUEUE = "order_" + "events";\n}\n',
  'orders/src/main/java/orders/Receiver.java': `package orders;
@Component
public class Receiver {
    @RabbitListener(queues = Queues.QUEUE)
    public void onEvent(String payload) { handle(payload); }
    @RabbitListener(queues = {"audit", "ignored_" })
    public void onAudit(String payload) { }
    private void handle(String p) { }
}
`,
  'orders/src/main/java/orders/Sender.java': `package orders;
@Component
public class Sender {
    @Autowired
    private RabbitTemplate rabbitTemplate;
    private static final String EXCHANGE = "billing";
    public void send(String v) {
        rabbitTemplate.convertAndSend(Queues.QUEUE, v);
        for (int i = 0; i < 3; i++) {
            this.rabbitTemplate.convertAndSend(EXCHANGE, "key", v);
        }
    }
}
`,
  'gateway/pom.xml': child('gateway', ['spring-cloud-starter-gateway']),
  'gateway/src/main/java/gw/GatewayApplication.java': app('gw', 'GatewayApplication'),
  'common/pom.xml': child('common', []),
  'common/src/main/java/common/Util.java': 'package common;\npublic class Util { public static int one() { return 1; } }\n',
};

describe('framework and messaging spans', () => {
  let dir: string;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-framework-'));
    for (const [rel, text] of Object.entries(FILES)) {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), text);
    }
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const spans = (service: string, via: string): string[] => doc.spans.filter((s) => s.service === service && s.via === via).map((s) => s.spanName).sort();

  it('reads dependencies from the pom and its parent, not from dependencyManagement', async () => {
    const deps = await readBuildDependencies(join(dir, 'orders'));
    assert.deepEqual(deps.map((d) => d.artifact).sort(), ['spring-boot-starter-amqp', 'spring-boot-starter-web']);
    const web = deps.find((d) => d.artifact === 'spring-boot-starter-web')!;
    assert.ok(web.file.endsWith('pom.xml') && !web.file.includes('orders/pom.xml'), web.file);
    assert.equal(web.line, 5);
  });

  it('gives a servlet web application the error controller, tied to its main', () => {
    assert.deepEqual(spans('orders', 'framework'), ['/error', 'BasicErrorController.error']);
    const err = doc.spans.find((s) => s.service === 'orders' && s.spanName === 'BasicErrorController.error')!;
    assert.equal(err.kind, 'internal');
    assert.equal(err.dependency, 'spring-boot-starter-web');
    assert.equal(doc.functions.find((f) => f.id === err.function)?.name, 'OrdersApplication.main');
  });

  it('gives a gateway the gateway spans and no error controller; a module without an application nothing', () => {
    assert.deepEqual(spans('gateway', 'framework'), ['/*', 'FilteringWebHandler.handle', 'HTTP DELETE', 'HTTP GET', 'HTTP PATCH', 'HTTP POST', 'HTTP PUT']);
    assert.equal(doc.spans.find((s) => s.service === 'gateway' && s.spanName === '/*')?.kind, 'server');
    assert.deepEqual(spans('common', 'framework'), []);
  });

  it('maps RabbitMQ listeners by queue (constants resolved) and sends by exchange', () => {
    assert.deepEqual(spans('orders', 'messaging'), ['<default> send', 'audit process', 'billing send', 'ignored_ process', 'order_events process']);
    const process = doc.spans.find((s) => s.spanName === 'order_events process')!;
    assert.equal(doc.functions.find((f) => f.id === process.function)?.name, 'Receiver.onEvent');
    const send = doc.spans.find((s) => s.spanName === 'billing send')!;
    assert.equal(send.line, 10);
    assert.equal(send.target, 'RabbitTemplate.convertAndSend');
    assert.equal(doc.functions.find((f) => f.id === send.function)?.name, 'Sender.send');
    assert.equal(send.exchange, 'billing');
    assert.equal(send.queue, 'key');
  });

  it('joins a default-exchange send to the listener of the queue its routing key names', () => {
    assert.equal(doc.messagingEdges.length, 1);
    const e = doc.messagingEdges[0]!;
    assert.equal(e.queue, 'order_events');
    assert.equal(doc.functions.find((f) => f.id === e.fromFunction)?.name, 'Sender.send');
    assert.equal(doc.functions.find((f) => f.id === e.toFunction)?.name, 'Receiver.onEvent');
    const sender = doc.functions.find((f) => f.id === e.fromFunction)!;
    const node = sender.nodes.find((n) => n.id === e.callNode);
    assert.ok(node?.kind === 'call' && node.callee === 'rabbitTemplate.convertAndSend' && node.line === 8);
  });

  it('reads Gradle dependency strings', async () => {
    const g = join(dir, 'gradle-svc');
    await mkdir(g, { recursive: true });
    await writeFile(join(g, 'build.gradle'), "dependencies {\n  implementation 'org.springframework.boot:spring-boot-starter-amqp:3.2.0'\n  implementation \"org.springframework.boot:spring-boot-starter-web\"\n}\n");
    const deps = await readBuildDependencies(g);
    assert.deepEqual(deps.map((d) => `${d.artifact}@${d.line}`), ['spring-boot-starter-amqp@2', 'spring-boot-starter-web@3']);
  });
});
