// Call resolution and the inter-procedural graph (src/analyzer/call-graph.ts) through analyzeSources,
// on small fixtures per language: Java beans by field and constructor injection, an interface with one
// and with two implementations, overloads, static and `this` calls; TypeScript imports (named,
// default, namespace, require) and `this.m()`; Go same-package functions and receiver methods;
// Python module functions and `self.m()`; the resolved/unresolved/library counts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis, type AnalysisFunction } from '../../src/analyzer/analyze.js';

const JAVA: Record<string, string> = {
  'pom.xml': '<project><artifactId>shop</artifactId></project>\n',
  'src/main/java/shop/OrderController.java': `package shop;
@RestController
public class OrderController {
    private final OrderService orderService;
    public OrderController(OrderService orderService) { this.orderService = orderService; }
    @GetMapping("/orders/{id}")
    public String get(String id) {
        String x = orderService.find(id);
        return Util.trim(x);
    }
}
`,
  'src/main/java/shop/OrderService.java': `package shop;
public interface OrderService {
    String find(String id);
}
`,
  'src/main/java/shop/OrderServiceImpl.java': `package shop;
@Service
public class OrderServiceImpl implements OrderService {
    @Autowired
    private Notifier notifier;
    @Autowired
    private OrderRepository repo;
    public String find(String id) {
        if (id == null) return none();
        repo.findById(id);
        notifier.send(id);
        return this.format(id);
    }
    private String format(String id) { return id; }
    private String format(String id, int width) { return id; }
    private String none() { Helper h = new Helper(); return h.fill(); }
    public void unknown(Object o) { o.toString(); helperOfNobody.format("x"); }
}
`,
  'src/main/java/shop/Notifier.java': `package shop;
public interface Notifier { void send(String s); }
`,
  'src/main/java/shop/MailNotifier.java': `package shop;
public class MailNotifier implements Notifier { public void send(String s) {} }
`,
  'src/main/java/shop/SmsNotifier.java': `package shop;
public class SmsNotifier implements Notifier { public void send(String s) {} }
`,
  'src/main/java/shop/OrderRepository.java': `package shop;
public interface OrderRepository extends JpaRepository<Order, String> { }
`,
  'src/main/java/shop/Helper.java': `package shop;
public class Helper {
    public Helper() {}
    public String fill() { return Util.trim("y"); }
}
`,
  'src/main/java/shop/Util.java': `package shop;
public class Util { public static String trim(String s) { return s.trim(); } }
`,
};

const TS: Record<string, string> = {
  'package.json': '{"name":"web"}\n',
  'src/index.ts': `import { loadUser as load } from './users.js';
import render from './render';
import * as db from './db/index';
const { audit } = require('./audit');
export async function handler(req: any) {
  const u = await load(req.id);
  local(u);
  audit(u);
  return render(db.query(u));
}
function local(u: any) { return u; }
class Cart {
  add(x: any) { return this.total(x); }
  total(x: any) { return x; }
}
export function makeCart() { return new Cart(); }
`,
  'src/users.ts': 'export async function loadUser(id: string) { return fetch(`/u/${id}`); }\n',
  'src/render.ts': 'export default function renderPage(x: unknown) { return String(x); }\n',
  'src/db/index.ts': 'export function query(x: unknown) { return x; }\n',
  'src/audit.js': 'function audit(x) { console.log(x); }\nmodule.exports = { audit };\n',
};

const GO: Record<string, string> = {
  'go.mod': 'module example.com/svc\n',
  'main.go': 'package main\nfunc main() {\n  s := &Server{}\n  s.Run()\n  helper()\n}\n',
  'server.go': 'package main\ntype Server struct{}\nfunc (s *Server) Run() {\n  s.step()\n  helper()\n}\nfunc (s *Server) step() {}\n',
  'util.go': 'package main\nfunc helper() {}\n',
  'other/other.go': 'package other\nfunc helper() {}\n',
};

const PY: Record<string, string> = {
  'requirements.txt': 'flask\n',
  'app.py': `class Repo:
    def __init__(self):
        self.items = []
    def save(self, x):
        self.check(x)
    def check(self, x):
        pass

def handle(x):
    r = Repo()
    r.save(x)
    return fmt(x)

def fmt(x):
    return str(x)
`,
};

describe('call resolution', () => {
  let dir: string;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-calls-'));
    const put = async (svc: string, files: Record<string, string>): Promise<void> => {
      for (const [rel, text] of Object.entries(files)) {
        await mkdir(join(dir, svc, rel, '..'), { recursive: true });
        await writeFile(join(dir, svc, rel), text);
      }
    };
    await put('shop', JAVA);
    await put('web', TS);
    await put('gosvc', GO);
    await put('pysvc', PY);
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const fn = (service: string, name: string): AnalysisFunction => {
    const f = doc.functions.find((x) => x.service === service && x.name === name);
    assert.ok(f, `${service} ${name}`);
    return f;
  };
  /** The names of the functions a call reaches, from its `resolved` field. */
  const targets = (service: string, name: string, callee: string): string[] => {
    const f = fn(service, name);
    const node = f.nodes.find((n) => n.kind === 'call' && n.callee === callee);
    assert.ok(node, `${name}: call ${callee}`);
    const r = node.resolved === undefined ? [] : Array.isArray(node.resolved) ? node.resolved : [node.resolved];
    return r.map((id) => doc.functions.find((x) => x.id === id)!.name).sort();
  };

  it('Java: a constructor-injected interface field reaches its single implementation', () => {
    assert.deepEqual(targets('shop', 'OrderController.get', 'orderService.find'), ['OrderServiceImpl.find']);
  });
  it('Java: static calls, this-calls by argument count, constructors and locals by declared type', () => {
    assert.deepEqual(targets('shop', 'OrderController.get', 'Util.trim'), ['Util.trim']);
    assert.deepEqual(targets('shop', 'OrderServiceImpl.find', 'this.format'), ['OrderServiceImpl.format']);
    assert.equal(fn('shop', 'OrderServiceImpl.find').nodes.find((n) => n.kind === 'call' && n.callee === 'this.format')?.resolved, fn('shop', 'OrderServiceImpl.format').id);
    assert.deepEqual(targets('shop', 'OrderServiceImpl.find', 'none'), ['OrderServiceImpl.none']);
    assert.deepEqual(targets('shop', 'OrderServiceImpl.none', 'Helper'), ['Helper.<init>']);
    assert.deepEqual(targets('shop', 'OrderServiceImpl.none', 'h.fill'), ['Helper.fill']);
  });
  it('Java: an interface with two implementations gives both; a repository interface none', () => {
    assert.deepEqual(targets('shop', 'OrderServiceImpl.find', 'notifier.send'), ['MailNotifier.send', 'SmsNotifier.send']);
    assert.deepEqual(targets('shop', 'OrderServiceImpl.find', 'repo.findById'), []);
  });
  it('TypeScript: named, default, namespace and require imports, same-file functions, this and new', () => {
    assert.deepEqual(targets('web', 'handler', 'load'), ['loadUser']);
    assert.deepEqual(targets('web', 'handler', 'render'), ['renderPage']);
    assert.deepEqual(targets('web', 'handler', 'db.query'), ['query']);
    assert.deepEqual(targets('web', 'handler', 'audit'), ['audit']);
    assert.deepEqual(targets('web', 'handler', 'local'), ['local']);
    assert.deepEqual(targets('web', 'Cart.add', 'this.total'), ['Cart.total']);
    assert.deepEqual(targets('web', 'loadUser', 'fetch'), []);
  });
  it('Go: same-package functions (not another package of the same name) and receiver methods', () => {
    const main = fn('gosvc', 'main');
    const helperId = main.nodes.find((n) => n.kind === 'call' && n.callee === 'helper')?.resolved;
    const helpers = doc.functions.filter((f) => f.service === 'gosvc' && f.name === 'helper');
    assert.equal(helpers.length, 2);
    assert.equal(helperId, helpers.find((f) => f.file.endsWith('/gosvc/util.go'))!.id);
    assert.deepEqual(targets('gosvc', 'Server.Run', 's.step'), ['Server.step']);
  });
  it('Python: module functions, self-calls and a class call to __init__', () => {
    assert.deepEqual(targets('pysvc', 'handle', 'fmt'), ['fmt']);
    assert.deepEqual(targets('pysvc', 'handle', 'Repo'), ['Repo.__init__']);
    assert.deepEqual(targets('pysvc', 'Repo.save', 'self.check'), ['Repo.check']);
  });
  it('joins the graphs with one edge per resolved target and counts the calls', () => {
    const send = fn('shop', 'OrderServiceImpl.find').nodes.find((n) => n.kind === 'call' && n.callee === 'notifier.send')!;
    const edges = doc.calls.filter((e) => e.from === fn('shop', 'OrderServiceImpl.find').id && e.node === send.id);
    assert.equal(edges.length, 2);
    const ids = new Set(doc.functions.map((f) => f.id));
    for (const e of doc.calls) assert.ok(ids.has(e.from) && ids.has(e.to), JSON.stringify(e));
    const s = doc.summary;
    assert.equal(s.callsResolved + s.callsUnresolved + s.callsLibrary, s.callSites);
    assert.equal(s.callsResolved, doc.functions.reduce((n, f) => n + f.nodes.filter((x) => x.kind === 'call' && x.resolved !== undefined).length, 0));
    // `helperOfNobody.format("x")`: a name the service has, on a receiver it cannot type.
    assert.ok(s.callsUnresolved >= 1);
  });
});
