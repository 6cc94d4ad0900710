// The Go front end of the CSCFG (src/analyzer/golang.ts) on small hand-written fixtures: names of
// functions and methods, call order, branch points for if/switch/select/loops, defer at exit,
// panic as throw, inline function literals, span names of tracer.Start and HTTP client calls.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { branchPoints, callSites, type FunctionCscfg } from '../../src/analyzer/cscfg.js';
import { after, calls, word } from '../helpers/cscfg-reading.js';
import { analyzeGoSource, type GoCallNode, type GoFunction } from '../../src/analyzer/golang.js';

async function fn(code: string, name: string): Promise<GoFunction> {
  const file = await analyzeGoSource('fixture.go', code);
  assert.deepEqual(file.syntaxErrors, [], 'fixture parses');
  const found = file.functions.find((f) => f.name === name);
  assert.ok(found, `function ${name} among ${file.functions.map((f) => f.name).join(', ')}`);
  return found;
}

const branches = (g: FunctionCscfg): string[] => branchPoints(g).map((b) => `${word(b.node)}/${b.successors.length}`);

describe('Go front end', () => {
  test('functions, methods named Type.Method, function literals', async () => {
    const file = await analyzeGoSource(
      'svc.go',
      `package svc

var tracer = otel.Tracer("orders")

type OrderService struct{ repo *Repo }

func (s *OrderService) Place(ctx context.Context) error { return s.repo.Save(ctx) }
func (s Cart[T]) Add() {}
func helper() {}
func main() {
	handler := func(w http.ResponseWriter, r *http.Request) { serve(w) }
	http.HandleFunc("/orders", handler)
}
`,
    );
    assert.deepEqual(file.syntaxErrors, []);
    assert.deepEqual(
      file.functions.map((f) => `${f.name}:${f.form}`),
      ['<module>:module', 'OrderService.Place:method', 'Cart.Add:method', 'helper:function', 'main:function', 'handler:function-expression'],
    );
    const place = file.functions.find((f) => f.name === 'OrderService.Place')!;
    assert.equal(place.className, 'OrderService');
    assert.equal(place.receiver, 'OrderService');
    assert.deepEqual(calls(place), ['s.repo.Save']);
    assert.deepEqual(calls(file.functions[0]!), ['otel.Tracer']);
    assert.deepEqual(callSites(file.functions.find((f) => f.name === 'main')!)[0]?.firstArg, '/orders');
  });

  test('if/else with init statement, else-if chain', async () => {
    const g = await fn(
      `package m
func f() error {
	if v, err := load(); err != nil {
		log.Error(err)
		return err
	} else if v.ok() {
		a()
	} else {
		b()
	}
	done()
	return nil
}`,
      'f',
    );
    assert.deepEqual(calls(g), ['load', 'log.Error', 'v.ok', 'a', 'b', 'done']);
    assert.deepEqual(branches(g), ['if/2', 'if/2']);
    assert.deepEqual(after(g, 'load'), ['if']);
    assert.deepEqual(after(g, 'log.Error'), ['exit']);
    assert.deepEqual(after(g, 'if', 0), ['else:v.ok', 'then:log.Error']);
    assert.deepEqual(after(g, 'if', 1), ['else:b', 'then:a']);
    assert.deepEqual(after(g, 'a'), ['done']);
  });

  test('expression switch: no fall-through unless fallthrough; type switch; select', async () => {
    const g = await fn(
      `package m
func f(x any) {
	switch kind() {
	case "a", "b":
		a()
		fallthrough
	case "c":
		c()
	default:
		d()
	}
	switch v := x.(type) {
	case int:
		i(v)
	case string, error:
		s()
	}
	select {
	case m := <-ch:
		recv(m)
	case <-ctx.Done():
		return
	default:
		idle()
	}
	end()
}`,
      'f',
    );
    assert.deepEqual(calls(g), ['kind', 'a', 'c', 'd', 'i', 's', 'recv', 'ctx.Done', 'idle', 'end']);
    assert.deepEqual(after(g, 'switch', 0), ['case "a", "b":a', 'case "c":c', 'default:d']);
    assert.deepEqual(after(g, 'a'), ['c']);
    assert.deepEqual(after(g, 'c'), ['switch']);
    assert.deepEqual(after(g, 'd'), ['switch']);
    assert.deepEqual(after(g, 'switch', 1), ['case int:i', 'case string, error:s', 'default:switch']);
    assert.deepEqual(after(g, 'i'), ['switch']);
    assert.deepEqual(after(g, 'switch', 2), ['case <-ctx.Done():ctx.Done', 'case m := <-ch:recv', 'default:idle']);
    assert.deepEqual(after(g, 'ctx.Done'), ['exit']);
    assert.deepEqual(after(g, 'recv'), ['end']);
    assert.deepEqual(branches(g), ['switch/3', 'switch/3', 'switch/3']);
  });

  test('for loops of every form, labelled break and continue', async () => {
    const g = await fn(
      `package m
func f(items []Item) {
	for i := start(); i < limit(); i = next(i) {
		work(i)
	}
outer:
	for _, it := range fetch() {
		for {
			if bad(it) {
				continue outer
			}
			if stop() {
				break outer
			}
			break
		}
		more()
	}
	for cond() {
		body()
	}
	finish()
}`,
      'f',
    );
    assert.deepEqual(calls(g), ['start', 'limit', 'work', 'next', 'fetch', 'bad', 'stop', 'more', 'cond', 'body', 'finish']);
    assert.deepEqual(after(g, 'limit'), ['loop']);
    assert.deepEqual(after(g, 'loop', 0), ['body:work', 'exit:fetch']);
    assert.deepEqual(after(g, 'next'), ['back:limit']);
    assert.deepEqual(after(g, 'loop', 1), ['body:loop', 'exit:cond']);
    assert.deepEqual(after(g, 'if', 0), ['else:stop', 'then:loop']);
    assert.deepEqual(after(g, 'if', 1), ['else:more', 'then:cond']);
    assert.deepEqual(after(g, 'more'), ['back:loop']);
    assert.deepEqual(after(g, 'body'), ['back:cond']);
    assert.deepEqual(after(g, 'loop', 3), ['body:body', 'exit:finish']);
  });

  test('defer runs before every return and panic and at the end; panic is a throw', async () => {
    const g = await fn(
      `package m
func (h *Handler) Serve(ctx context.Context) error {
	ctx, span := tracer.Start(ctx, "Handler.Serve")
	defer span.End()
	resp, err := http.Get("http://inventory/items")
	if err != nil {
		panic(fmt.Sprintf("get: %v", err))
	}
	if resp.StatusCode != 200 {
		return errors.New("bad status")
	}
	h.repo.Find(ctx, "id")
	return nil
}
func g() {
	defer func() {
		if r := recover(); r != nil {
			report(r)
		}
	}()
	step()
}`,
      'Handler.Serve',
    );
    assert.deepEqual(calls(g), ['tracer.Start', 'http.Get', 'fmt.Sprintf', 'span.End', 'errors.New', 'span.End', 'h.repo.Find', 'span.End']);
    const start = callSites(g)[0] as GoCallNode;
    assert.equal(start.secondArg, 'Handler.Serve');
    assert.equal(start.firstArg, undefined);
    assert.equal(callSites(g)[1]!.firstArg, 'http://inventory/items');
    assert.equal((callSites(g)[6] as GoCallNode).secondArg, 'id');
    assert.deepEqual(after(g, 'fmt.Sprintf'), ['span.End']);
    assert.deepEqual(after(g, 'span.End', 0), ['throw:exit']);
    assert.deepEqual(after(g, 'span.End', 1), ['exit']);
    assert.deepEqual(after(g, 'span.End', 2), ['exit']);
    assert.deepEqual(branches(g), ['if/2', 'if/2']);

    const recovered = await fn(
      `package m
func g() {
	defer func() {
		if r := recover(); r != nil {
			report(r)
		}
	}()
	step()
}`,
      'g',
    );
    assert.deepEqual(calls(recovered), ['step', 'recover', 'report']);
    assert.deepEqual(branches(recovered), ['if/2']);
  });

  test('function literals passed inline are folded into the caller', async () => {
    const file = await analyzeGoSource(
      'x.go',
      `package m
func f(items []int) {
	sort.Slice(items, func(i, j int) bool { return less(i, j) })
	go func() { worker() }()
	after()
}`,
    );
    assert.deepEqual(file.functions.map((f) => f.name), ['<module>', 'f']);
    const g = file.functions[1]!;
    assert.deepEqual(calls(g), ['sort.Slice', 'less', 'worker', 'after']);
    assert.deepEqual(after(g, 'less'), ['worker']);
  });

  test('a file with a syntax error still yields the other functions', async () => {
    const file = await analyzeGoSource(
      'broken.go',
      `package m
func ok() { db.QueryContext(ctx, "SELECT 1") }
func broken() { x := ; y( }
func alsoOk() { http.Post("http://pay/charge", "application/json", body) }
`,
    );
    assert.ok(file.syntaxErrors.length > 0);
    const names = file.functions.map((f) => f.name);
    assert.ok(names.includes('ok') && names.includes('alsoOk'), names.join(', '));
    const ok = file.functions.find((f) => f.name === 'ok')!;
    assert.deepEqual(callSites(ok).map((c) => [c.callee, c.firstArg, (c as GoCallNode).secondArg]), [['db.QueryContext', undefined, 'SELECT 1']]);
    assert.equal(callSites(file.functions.find((f) => f.name === 'alsoOk')!)[0]!.firstArg, 'http://pay/charge');
  });
});
