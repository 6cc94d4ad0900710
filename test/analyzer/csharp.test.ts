// The C# front end: method naming, the CSCFG of its statements (if/switch/loops/try/return/throw,
// await, lambdas folded into the enclosing method), class facts and call resolution.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCSharpSource, type CSharpFileCscfg, type CSharpFunction } from '../../src/analyzer/csharp.js';
import { branchPoints, callSites, successors } from '../../src/analyzer/cscfg.js';
import { resolveServiceCalls } from '../../src/analyzer/call-graph.js';
import { after, calls } from '../helpers/cscfg-reading.js';

const ORDER = `using System;
namespace Shop.Orders;

public class OrderService : IOrderService
{
    private readonly IOrderRepository _repo;
    private readonly HttpClient _http;

    public OrderService(IOrderRepository repo) { _repo = repo; }

    public async Task<Order> Place(Order order, CancellationToken ct)
    {
        if (order.Items.Count == 0)
        {
            throw new ArgumentException("empty");
        }
        else if (order.Express) { Prioritise(order); }
        foreach (var item in order.Items) { await Reserve(item); }
        switch (order.Kind)
        {
            case OrderKind.Gift:
                Wrap(order);
                break;
            case OrderKind.Normal:
            case OrderKind.Bulk:
                return await _repo.SaveAsync(order);
            default:
                Log("other");
                break;
        }
        try
        {
            await Task.Run(() => Notify(order));
        }
        catch (TimeoutException ex) when (Retryable(ex)) { Retry(); }
        catch (Exception) { throw; }
        finally { Cleanup(); }
        var total = order.Items.Sum(i => Price(i));
        Func<int, int> twice = x => Double(x);
        do { Tick(); } while (Pending());
        return this.Finish(order, total > 0 ? High() : Low());
    }

    private void Prioritise(Order o) { }
    private Task Reserve(Item i) => _repo.ReserveAsync(i);
    private Order Finish(Order o, int n) { return o; }
    public int Count { get { return _repo.Count(); } }

    public class Nested
    {
        public void Inner() { Helper(); void Helper() { Deep(); } }
    }
}

public class OrderRepository : IOrderRepository
{
    public Task<Order> SaveAsync(Order o) => Task.FromResult(o);
    public Task ReserveAsync(Item i) => Task.CompletedTask;
    public int Count() => 0;
}
`;

const fnNamed = (fc: CSharpFileCscfg, name: string): CSharpFunction => {
  const f = fc.functions.find((x) => x.name === name);
  assert.ok(f, `${name} in ${fc.functions.map((x) => x.name).join(', ')}`);
  return f;
};

describe('C# front end', () => {
  it('names methods Class.Method, constructors Class.<init>, properties, nested classes and local functions', async () => {
    const fc = await analyzeCSharpSource('OrderService.cs', ORDER);
    assert.deepEqual(fc.syntaxErrors, []);
    const names = fc.functions.map((f) => f.name);
    for (const n of ['<module>', 'OrderService.<init>', 'OrderService.Place', 'OrderService.Reserve', 'OrderService.Count', 'OrderService.Nested.Inner', 'OrderService.Nested.Inner.Helper', 'OrderRepository.SaveAsync'])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    // A lambda held by a variable is a function of its own; lambdas passed as arguments are not.
    assert.ok(names.includes('OrderService.Place.twice'), names.join());
    assert.ok(!names.some((n) => n.includes('<lambda')), names.join());
  });

  it('lays out call sites in order, folds inline lambdas, and gives if/switch/loops/try their branch points', async () => {
    const fc = await analyzeCSharpSource('OrderService.cs', ORDER);
    const place = fnNamed(fc, 'OrderService.Place');
    const callees = callSites(place).map((c) => c.callee);
    for (const c of ['ArgumentException', 'Prioritise', 'Reserve', 'Wrap', '_repo.SaveAsync', 'Log', 'Task.Run', 'Notify', 'Retryable', 'Retry', 'Cleanup', 'order.Items.Sum', 'Price', 'Tick', 'Pending', 'High', 'Low', 'this.Finish'])
      assert.ok(callees.includes(c), `${c} in ${callees.join(', ')}`);
    assert.ok(!callees.includes('Double'), 'the body of a lambda held by a variable is not run here');
    assert.ok(callees.indexOf('Task.Run') < callees.indexOf('Notify'), 'an inline lambda runs after its call');
    const kinds = branchPoints(place).map((b) => (b.node.kind === 'branch' ? b.node.branch : 'call'));
    for (const k of ['if', 'switch', 'loop', 'try']) assert.ok(kinds.includes(k as never), `${k} in ${kinds.join()}`);
    // The switch has a case per section plus default; sections never fall through.
    const sw = branchPoints(place).find((b) => b.node.kind === 'branch' && b.node.branch === 'switch')!;
    assert.deepEqual(sw.successors.map((e) => e.label).sort(), ['case OrderKind.Bulk', 'case OrderKind.Gift', 'case OrderKind.Normal', 'default']);
    // `throw` and `return` reach the exit.
    const out = successors(place);
    const ctor = callSites(place).find((c) => c.callee === 'ArgumentException')!;
    assert.ok(ctor.construct);
    assert.ok(out[ctor.id]!.some((e) => e.to === 1), 'the throw leaves the function');
  });

  it('builds the edges of loops, try/catch/finally, early returns and awaited calls', async () => {
    const fc = await analyzeCSharpSource('Flow.cs', `class Flow {
  async Task<int> Run(List<int> xs) {
    while (Cond()) { if (Stop()) break; Step(); }
    try { await LoadAsync(); }
    catch (IOException) { Recover(); return -1; }
    finally { Close(); }
    do { Poll(); } while (More());
    return Done();
  }
}`);
    const g = fnNamed(fc, 'Flow.Run');
    assert.deepEqual(calls(g), ['Cond', 'Stop', 'Step', 'LoadAsync', 'Recover', 'Close', 'Close', 'Close', 'Poll', 'More', 'Done']);
    assert.deepEqual(after(g, 'loop'), ['body:Stop', 'exit:try']);
    assert.deepEqual(after(g, 'Step'), ['back:Cond']);
    assert.deepEqual(after(g, 'LoadAsync'), ['Close', 'exception:catch']);
    assert.deepEqual(after(g, 'More'), ['loop']);
    assert.deepEqual(after(g, 'loop', 1), ['body:Poll', 'exit:Done']);
  });

  it('reads switch expressions as switches, and interpolated strings as templates', async () => {
    const fc = await analyzeCSharpSource('Expr.cs', 'class E {\n  string K(int t) => t switch { > 100 => Big(), 0 when Zero() => None(), _ => Small() };\n  int Plain(int t) => t switch { 1 => 2, _ => 3 };\n  void L(Order o) { _http.GetAsync($"http://orders/{o!.Id}/lines/{n,4:D}"); }\n}\n');
    assert.deepEqual(after(fnNamed(fc, 'E.K'), 'switch'), ['case 0:Zero', 'case > 100:Big', 'default:Small']);
    assert.equal(branchPoints(fnNamed(fc, 'E.Plain')).length, 0, 'a switch expression without calls adds no branch point');
    const site = callSites(fnNamed(fc, 'E.L'))[0]!;
    assert.equal(site.firstArgKind, 'template');
    assert.equal(site.firstArg, 'http://orders/${o!.Id}/lines/${n}');
  });

  it('records class bases and field types, and parameter and local types', async () => {
    const fc = await analyzeCSharpSource('OrderService.cs', ORDER);
    const cls = fc.classes.find((c) => c.name === 'OrderService')!;
    assert.deepEqual(cls.bases, ['IOrderService']);
    assert.equal(cls.fields._repo, 'IOrderRepository');
    assert.equal(cls.fields._http, 'HttpClient');
    assert.equal(fnNamed(fc, 'OrderService.Place').variables?.order, 'Order');
    assert.ok(fc.classes.some((c) => c.name === 'OrderService.Nested'));
  });

  it('resolves this/unqualified calls, field calls through an interface to its implementation, and constructors', async () => {
    const fc = await analyzeCSharpSource('OrderService.cs', ORDER);
    const ids = fc.functions.map((f) => `svc:${f.name}`);
    const { targets } = resolveServiceCalls([{ fc, ids }]);
    const place = fnNamed(fc, 'OrderService.Place');
    const resolvedOf = (callee: string): string[] => targets.get('svc:OrderService.Place')?.get(callSites(place).find((c) => c.callee === callee)!.id) ?? [];
    assert.deepEqual(resolvedOf('Prioritise'), ['svc:OrderService.Prioritise']);
    assert.deepEqual(resolvedOf('this.Finish'), ['svc:OrderService.Finish']);
    assert.deepEqual(resolvedOf('_repo.SaveAsync'), ['svc:OrderRepository.SaveAsync']);
    assert.deepEqual(resolvedOf('Log'), []);
  });

  it('analyzes a file with syntax errors and top-level statements without throwing', async () => {
    const fc = await analyzeCSharpSource('Program.cs', 'var app = Build();\napp.MapGet("/x", () => Handle());\nclass A { void F() { int x = ; if (x > ) { } } }\n');
    assert.ok(fc.syntaxErrors.length > 0);
    const mod = fnNamed(fc, '<module>');
    assert.deepEqual(callSites(mod).map((c) => c.callee), ['Build', 'app.MapGet']);
    assert.equal(callSites(mod)[1]!.firstArg, '/x');
    assert.deepEqual((await analyzeCSharpSource('Empty.cs', '')).functions.map((f) => f.name), ['<module>']);
  });
});
