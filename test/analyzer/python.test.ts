// The Python front end of the CSCFG (src/analyzer/python.ts) on small hand-written fixtures: names
// of functions and methods, decorators (routes, manual spans), call order, branch points for
// if/elif/else, loops with else, try/except/else/finally, with, match, raise, and HTTP client calls.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { branchPoints, callSites, type FunctionCscfg } from '../../src/analyzer/cscfg.js';
import { after, calls, word } from '../helpers/cscfg-reading.js';
import { analyzePythonSource, type PythonFunction } from '../../src/analyzer/python.js';

async function fn(code: string, name: string): Promise<PythonFunction> {
  const file = await analyzePythonSource('fixture.py', code);
  assert.deepEqual(file.syntaxErrors, [], 'fixture parses');
  const found = file.functions.find((f) => f.name === name);
  assert.ok(found, `function ${name} among ${file.functions.map((f) => f.name).join(', ')}`);
  return found;
}

const branches = (g: FunctionCscfg): string[] => branchPoints(g).map((b) => `${word(b.node)}/${b.successors.length}`);

describe('Python front end', () => {
  test('functions, methods, async, decorators for routes and spans', async () => {
    const file = await analyzePythonSource(
      'app.py',
      `import requests
app = Flask(__name__)
tracer = trace.get_tracer("orders")

@app.route("/orders/<id>", methods=["GET"])
def get_order(id):
    return repo.find(id)

@router.get(f"/items/{VERSION}")
async def list_items():
    async with session.begin():
        return await session.query(Item)

class OrderService:
    @staticmethod
    def build(): pass

    @tracer.start_as_current_span("OrderService.place")
    def place(self, order):
        def validate(o):
            return checker.ok(o)
        if not validate(order):
            raise ValueError("invalid")
        self.repo.save(order)
        requests.post("http://payment/charge", json=order)
        sort(order.items, key=lambda i: weight(i))
`,
    );
    assert.deepEqual(file.syntaxErrors, []);
    assert.deepEqual(
      file.functions.map((f) => `${f.name}:${f.form}`),
      ['<module>:module', 'get_order:function', 'list_items:function', 'OrderService.build:method', 'OrderService.place:method', 'validate:function'],
    );
    assert.deepEqual(calls(file.functions[0]!), ['Flask', 'trace.get_tracer']);
    const get = file.functions[1]!;
    assert.equal(get.line, 5);
    assert.deepEqual(get.decorators, [
      { text: 'app.route("/orders/<id>", methods=["GET"])', callee: 'app.route', call: true, firstArg: '/orders/<id>', firstArgKind: 'string', line: 5 },
    ]);
    const items = file.functions[2]!;
    assert.equal(items.async, true);
    assert.deepEqual([items.decorators[0]?.callee, items.decorators[0]?.firstArg, items.decorators[0]?.firstArgKind], ['router.get', '/items/{VERSION}', 'template']);
    assert.deepEqual(calls(items), ['session.begin', 'session.query']);
    const build = file.functions[3]!;
    assert.deepEqual(build.decorators.map((d) => [d.callee, d.call]), [['staticmethod', false]]);
    const place = file.functions[4]!;
    assert.equal(place.className, 'OrderService');
    assert.deepEqual(place.decorators.map((d) => [d.callee, d.firstArg]), [['tracer.start_as_current_span', 'OrderService.place']]);
    assert.deepEqual(calls(place), ['validate', 'ValueError', 'self.repo.save', 'requests.post', 'sort', 'weight']);
    assert.equal(callSites(place)[3]!.firstArg, 'http://payment/charge');
    assert.deepEqual(after(place, 'ValueError'), ['throw:exit']);
    assert.deepEqual(after(place, 'sort'), ['weight']);
    assert.equal(file.functions[5]!.className, undefined);
  });

  test('if/elif/else and early return', async () => {
    const g = await fn(
      `def f(x):
    if check(x):
        a()
        return
    elif other(x):
        b()
    else:
        c()
    done()
`,
      'f',
    );
    assert.deepEqual(calls(g), ['check', 'a', 'other', 'b', 'c', 'done']);
    assert.deepEqual(branches(g), ['if/2', 'if/2']);
    assert.deepEqual(after(g, 'if', 0), ['else:other', 'then:a']);
    assert.deepEqual(after(g, 'a'), ['exit']);
    assert.deepEqual(after(g, 'if', 1), ['else:c', 'then:b']);
    assert.deepEqual(after(g, 'b'), ['done']);
  });

  test('for/while with else, break and continue', async () => {
    const g = await fn(
      `def f():
    for item in fetch():
        if skip(item):
            continue
        if found(item):
            break
        for x in inner():
            break
    else:
        not_found()
    while poll():
        work()
    end()
`,
      'f',
    );
    assert.deepEqual(calls(g), ['fetch', 'skip', 'found', 'inner', 'not_found', 'poll', 'work', 'end']);
    assert.deepEqual(after(g, 'loop', 0), ['body:skip', 'exit:not_found']);
    assert.deepEqual(after(g, 'if', 0), ['else:found', 'then:loop']);
    assert.deepEqual(after(g, 'if', 1), ['else:inner', 'then:poll']);
    assert.deepEqual(after(g, 'loop', 1), ['body:loop', 'exit:loop']);
    assert.deepEqual(after(g, 'not_found'), ['poll']);
    assert.deepEqual(after(g, 'work'), ['back:poll']);
    assert.deepEqual(after(g, 'loop', 2), ['body:work', 'exit:end']);
  });

  test('try/except/else/finally, several except clauses, raise', async () => {
    const g = await fn(
      `def f():
    try:
        resp = requests.get("http://inventory/items")
    except (Timeout, ConnectionError) as e:
        log.error("down")
        raise
    except HTTPError:
        fallback()
    else:
        parse(resp)
    finally:
        close()
    end()
`,
      'f',
    );
    assert.deepEqual(calls(g), ['requests.get', 'log.error', 'fallback', 'parse', 'close', 'close', 'end']);
    assert.deepEqual(after(g, 'requests.get'), ['exception:catch', 'parse']);
    assert.deepEqual(after(g, 'switch'), ['case (Timeout, ConnectionError) as e:log.error', 'case HTTPError:fallback', 'default:close']);
    // log.error may itself raise: inside the try/finally both ways out run the exceptional finally.
    assert.deepEqual(after(g, 'log.error'), ['exception:close', 'throw:close']);
    assert.deepEqual(after(g, 'close', 0), ['exit']); // the exceptional copy of the finally, then out
    assert.deepEqual(after(g, 'fallback'), ['close', 'exception:close']);
    assert.deepEqual(after(g, 'parse'), ['close', 'exception:close']);
    assert.deepEqual(after(g, 'close', 1), ['end']);

    const single = await fn(
      `def g():
    try:
        db.execute("SELECT 1")
    except Exception:
        log.exception("failed")
    h()
`,
      'g',
    );
    assert.deepEqual(calls(single), ['db.execute', 'log.exception', 'h']);
    assert.equal(callSites(single)[0]!.firstArg, 'SELECT 1');
    assert.deepEqual(branches(single), ['try/2', 'db.execute/2']);
    assert.deepEqual(after(single, 'db.execute'), ['exception:catch', 'h']);
    assert.deepEqual(after(single, 'log.exception'), ['h']);
  });

  test('with: manual spans as call sites, body in sequence; match/case', async () => {
    const g = await fn(
      `def handle(cmd):
    with tracer.start_as_current_span("handle") as span, lock:
        match cmd:
            case "get" | "head":
                do_get()
            case Command(x) if valid(x):
                run(x)
            case _:
                reject()
        span.set_attribute("done", True)
`,
      'handle',
    );
    assert.deepEqual(calls(g), ['tracer.start_as_current_span', 'do_get', 'valid', 'run', 'reject', 'span.set_attribute']);
    assert.equal(callSites(g)[0]!.firstArg, 'handle');
    assert.deepEqual(after(g, 'tracer.start_as_current_span'), ['switch']);
    assert.deepEqual(after(g, 'switch'), ['case "get" | "head":do_get', 'case Command(x):valid', 'default:reject']);
    assert.deepEqual(after(g, 'do_get'), ['span.set_attribute']);
    assert.deepEqual(after(g, 'run'), ['span.set_attribute']);
  });

  test('a file with a syntax error still yields the other functions', async () => {
    const file = await analyzePythonSource(
      'broken.py',
      `def ok():
    session.query("users")

def broken():
    x = = 1

def also_ok():
    httpx.get("http://users/me")
`,
    );
    assert.ok(file.syntaxErrors.length > 0);
    const names = file.functions.map((f) => f.name);
    assert.ok(names.includes('ok') && names.includes('also_ok'), names.join(', '));
    assert.equal(callSites(file.functions.find((f) => f.name === 'also_ok')!)[0]!.firstArg, 'http://users/me');
  });
});
