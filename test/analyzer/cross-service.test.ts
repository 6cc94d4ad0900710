// Cross-service edges (src/analyzer/cross-service.ts): URL parsing and route matching on their own;
// Java RestTemplate calls (literal host, a base URL from a field, a URL built in local variables, a
// `getServiceUrl("svc")` base) and TypeScript fetch/axios calls matched to Spring and Express routes
// of other services through analyzeSources; and on the traffic generator's services, every HTTP
// client call the generator's model says reaches another service matches that service's handler.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis } from '../../src/analyzer/analyze.js';
import { matchRoute, parseClientUrl } from '../../src/analyzer/cross-service.js';
import { defaultTopology, emitServiceSources } from '../../src/generator/index.js';

describe('parseClientUrl and matchRoute', () => {
  const services = new Set(['ts-order-service', 'orders']);
  it('takes the host from a literal URL or a service name inside a leading expression', () => {
    assert.deepEqual(parseClientUrl('http://ts-order-service:12031/api/v1/order/${id}?x=1', services), {
      literalHost: 'ts-order-service',
      host: 'ts-order-service',
      segments: ['api', 'v1', 'order', '\u0000'],
    });
    assert.equal(parseClientUrl('${getServiceUrl("ts-order-service")}/api/x', services).host, 'ts-order-service');
    assert.equal(parseClientUrl('${base}/api/x', services).host, undefined);
    assert.deepEqual(parseClientUrl('${base}/api/x', services).segments, ['api', 'x']);
    assert.equal(parseClientUrl('https://api.stripe.example/v1/charges', services).host, undefined);
    assert.equal(parseClientUrl('${url}', services).segments, undefined);
  });
  it('matches {var}, :var and ${expr} segments and prefers variables where the route has them', () => {
    const seg = (p: string): string[] => parseClientUrl(p, services).segments!;
    assert.ok(matchRoute(seg('/api/orders/${id}'), '/api/orders/{orderId}') > matchRoute(seg('/api/orders/${id}'), '/api/orders/welcome'));
    assert.ok(matchRoute(seg('/api/orders/${id}'), '/api/orders/welcome') >= 0);
    assert.ok(matchRoute(seg('/api/orders/7/items'), '/api/orders/:id/items') >= 0);
    assert.equal(matchRoute(seg('/api/orders/7'), '/api/orders/:id/items'), -1);
    assert.equal(matchRoute(seg('/api/orders/7'), '/api/carts/{id}'), -1);
    assert.ok(matchRoute(seg('/api/orders/by${kind}'), '/api/orders/byDate') >= 0);
  });
});

const FILES: Record<string, string> = {
  'orders/pom.xml': '<project><artifactId>orders</artifactId></project>\n',
  'orders/src/main/java/o/OrderController.java': `package o;
@RestController
@RequestMapping("/api/v1/orders")
public class OrderController {
    @GetMapping("/welcome")
    public String home() { return "hi"; }
    @GetMapping("/{orderId}")
    public String get(@PathVariable String orderId) { return orderId; }
    @PostMapping("")
    public String create(@RequestBody String o) { return o; }
}
`,
  'billing/pom.xml': '<project><artifactId>billing</artifactId></project>\n',
  'billing/src/main/java/b/BillingService.java': `package b;
@Service
public class BillingService {
    @Autowired
    private RestTemplate restTemplate;
    private String orderBase = "http://orders:8080";
    private String getServiceUrl(String name) { return "http://" + name; }
    public void bill(String id) {
        restTemplate.getForObject("http://orders:8080/api/v1/orders/" + id, String.class);
        String url = orderBase + "/api/v1/orders";
        restTemplate.exchange(url, HttpMethod.POST, null, String.class);
        String base = getServiceUrl("orders");
        restTemplate.exchange(base + "/api/v1/orders/welcome", HttpMethod.GET, null, String.class);
        restTemplate.getForObject("http://elsewhere/api/v1/orders/" + id, String.class);
        restTemplate.delete("http://orders:8080/api/v1/orders/" + id);
    }
}
`,
  'web/package.json': '{"name":"web"}\n',
  'web/src/client.ts': "import axios from 'axios';\nexport const api = axios.create({ baseURL: 'x' });\n",
  'web/src/index.ts': `import { api } from './client';
export async function page(id: string) {
  const a = await fetch(\`http://orders:8080/api/v1/orders/\${id}\`);
  const b = await fetch('http://orders:8080/api/v1/orders', { method: 'POST', body: '{}' });
  const c = await api.get('http://carts:3000/carts/' + id);
  return [a, b, c];
}
`,
  'carts/package.json': '{"name":"carts"}\n',
  'carts/src/server.ts': `import express from 'express';
const app = express();
app.get('/carts/:userId', getCart);
function getCart(req: any, res: any) { res.json({}); }
`,
};

describe('cross-service edges through analyzeSources', () => {
  let dir: string;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-cross-'));
    for (const [rel, text] of Object.entries(FILES)) {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), text);
    }
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const fnName = (id: string | undefined): string | undefined => doc.functions.find((f) => f.id === id)?.name;
  const edges = (from: string): string[] =>
    doc.crossServiceEdges
      .filter((e) => e.fromService === from)
      .map((e) => `${e.httpMethod} ${e.toService} ${e.route} ${fnName(e.toFunction)}`)
      .sort();

  it('matches Java RestTemplate calls by literal host, field base URL, locals and getServiceUrl("svc")', () => {
    assert.deepEqual(edges('billing'), [
      'GET orders /api/v1/orders/welcome OrderController.home',
      'GET orders /api/v1/orders/{orderId} OrderController.get',
      'POST orders /api/v1/orders OrderController.create',
    ]);
    const post = doc.spans.find((s) => s.service === 'billing' && s.httpMethod === 'POST')!;
    assert.equal(post.url, '${url}');
    assert.equal(post.urlExpanded, 'http://orders:8080/api/v1/orders');
    // Unmatched: a host that is no analyzed service, and a DELETE no route takes.
    assert.equal(doc.summary.httpClientCalls, 5 + 3);
  });

  it('matches TypeScript fetch and axios-instance calls to Spring and Express routes', () => {
    assert.deepEqual(edges('web'), [
      'GET carts /carts/:userId getCart',
      'GET orders /api/v1/orders/{orderId} OrderController.get',
      'POST orders /api/v1/orders OrderController.create',
    ]);
    const clients = doc.spans.filter((s) => s.service === 'web' && s.via === 'http-client');
    assert.deepEqual(clients.map((c) => `${c.spanName} ${c.target}`).sort(), ['GET api.get', 'GET fetch', 'POST fetch']);
  });

  it('points every edge at the client call node of the calling function', () => {
    for (const e of doc.crossServiceEdges) {
      const caller = doc.functions.find((f) => f.id === e.fromFunction);
      const node = caller?.nodes.find((n) => n.id === e.callNode);
      assert.ok(node && node.kind === 'call', JSON.stringify(e));
    }
    assert.equal(doc.summary.crossServiceEdges, doc.crossServiceEdges.length);
    assert.equal(doc.summary.httpClientCallsMatched, 6);
  });
});

describe('cross-service edges on the generated services', () => {
  let dir: string;
  after(() => rm(dir, { recursive: true, force: true }));
  it('matches every HTTP call between generated services to the callee operation', async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-cross-gen-'));
    const model = await emitServiceSources(defaultTopology(), dir);
    const doc = await analyzeSources({ sourceDirs: [dir] });
    const ops = new Map<string, (typeof model.services)[number]['operations'][number]>(model.services.flatMap((s) => s.operations.map((o) => [`${s.name}.${o.operation}`, o] as const)));
    let checked = 0;
    for (const svc of model.services) {
      for (const op of svc.operations) {
        for (const sp of op.spans) {
          const callee = sp.callee ? ops.get(sp.callee) : undefined;
          if (sp.kind !== 'CLIENT' || !callee || callee.entry.protocol !== 'http') continue;
          const client = doc.spans.find((s) => s.service === svc.name && s.via === 'http-client' && s.file === join(dir, sp.file) && s.line === sp.line);
          assert.ok(client, `${sp.stepId}: client span at ${sp.file}:${sp.line}`);
          const caller = doc.functions.find((f) => f.id === client.function)!;
          const edge = doc.crossServiceEdges.filter((e) => e.fromFunction === client.function && caller.nodes[e.callNode!]?.kind === 'call' && (caller.nodes[e.callNode!] as { line: number }).line === client.line);
          assert.equal(edge.length, 1, `${sp.stepId}: ${client.url}`);
          assert.equal(edge[0]!.toService, callee.service);
          assert.equal(doc.functions.find((f) => f.id === edge[0]!.toFunction)?.name, callee.function, sp.stepId);
          checked++;
        }
      }
    }
    assert.ok(checked >= 10, `${checked} calls checked`);
  });
});
