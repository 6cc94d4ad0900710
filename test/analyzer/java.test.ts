// The Java front end of the CSCFG (src/analyzer/java.ts) on small Spring Boot style fixtures: a
// controller with routes calling a service, a service with branches, loops, try/catch around a
// RestTemplate call, early returns and switches; names, annotations, routes, string-literal first
// arguments, and a file with a syntax error that still yields its other methods.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { branchPoints, callSites, type FunctionCscfg } from '../../src/analyzer/cscfg.js';
import { after, calls, word } from '../helpers/cscfg-reading.js';
import { analyzeJavaSource, type JavaFileCscfg, type JavaFunction } from '../../src/analyzer/java.js';

async function analyze(code: string, file = 'Fixture.java'): Promise<JavaFileCscfg> {
  return analyzeJavaSource(file, code);
}

async function fn(code: string, name: string): Promise<JavaFunction> {
  const file = await analyze(code);
  assert.deepEqual(file.syntaxErrors, [], 'fixture parses');
  const found = file.functions.find((f) => f.name === name);
  assert.ok(found, `function ${name} among ${file.functions.map((f) => f.name).join(', ')}`);
  return found;
}

/** A method body wrapped in a class, for statement-level tests. */
const inClass = (body: string): string => `class C {\n  void m() {\n${body}\n  }\n}`;

const branches = (g: FunctionCscfg): string[] =>
  branchPoints(g)
    .filter((b) => b.node.kind === 'branch')
    .map((b) => `${word(b.node)}@${b.node.kind === 'branch' ? b.node.line : 0}/${b.successors.length}`);

const CONTROLLER = `package com.example.order.controller;

import com.example.order.service.OrderService;
import org.springframework.web.bind.annotation.*;

@RestController
@RequestMapping("/api/v1/orderservice")
public class OrderController {

    private static final Logger LOGGER = LoggerFactory.getLogger(OrderController.class);

    @Autowired
    private OrderService orderService;

    @GetMapping(path = "/welcome")
    public String home() {
        return "Welcome to [ Order Service ] !";
    }

    @GetMapping("/order/{orderId}")
    public HttpEntity getOrderById(@PathVariable String orderId, @RequestHeader HttpHeaders headers) {
        OrderController.LOGGER.info("[getOrderById][Get order by id][OrderId: {}]", orderId);
        return ok(orderService.getOrderById(orderId, headers));
    }

    @PostMapping(value = "/order", consumes = {"application/json"})
    @WithSpan
    public HttpEntity createNewOrder(@RequestBody Order createOrder, @RequestHeader HttpHeaders headers) {
        return ok(this.orderService.create(createOrder, headers));
    }

    @RequestMapping(value = {"/order/refresh", "/order/reload"}, method = RequestMethod.PUT)
    public HttpEntity refresh() {
        return new ResponseEntity<>(orderService.refresh(), HttpStatus.OK);
    }
}
`;

const SERVICE = `package com.example.order.service;

@Service
public class OrderServiceImpl implements OrderService {

    @Autowired
    private OrderRepository orderRepository;

    @Autowired
    private RestTemplate restTemplate;

    private static final Logger LOGGER = LoggerFactory.getLogger(OrderServiceImpl.class);

    @Override
    @Transactional
    public Response create(Order order, HttpHeaders headers) {
        if (order == null) {
            LOGGER.error("no order");
            return new Response<>(0, "no order", null);
        }
        Order existing = orderRepository.findById(order.getId());
        if (existing != null) {
            return new Response<>(0, "exists", existing);
        } else if (order.getAccountId() == null) {
            LOGGER.warn("no account");
        } else {
            checkAccount(order.getAccountId());
        }
        for (Item item : order.getItems()) {
            orderRepository.saveItem(item);
        }
        orderRepository.save(order);
        return new Response<>(1, "ok", order);
    }

    public Route getRoute(String routeId, HttpHeaders headers) {
        try {
            ResponseEntity<Response<Route>> re = restTemplate.exchange(
                    "http://ts-route-service:11178/api/v1/routeservice/routes/" + routeId,
                    HttpMethod.GET, new HttpEntity(headers), new ParameterizedTypeReference() {});
            return re.getBody().getData();
        } catch (RestClientException e) {
            LOGGER.error("[getRoute] failed: {}", e.getMessage());
            throw e;
        }
    }

    public int price(Order order) {
        switch (order.getSeatClass()) {
            case 1:
            case 2:
                firstClass();
                break;
            case 3:
                economy();
            default:
                LOGGER.warn("unknown class");
        }
        return 0;
    }

    public String status(Order order) {
        String label = switch (order.getStatus()) {
            case PAID, COLLECTED -> describe(order);
            case CANCELLED -> {
                refund(order);
                yield "cancelled";
            }
            default -> throw new IllegalStateException("bad status");
        };
        return label;
    }

    class Audit {
        Audit() {
            super();
        }

        void record(String event) {
            LOGGER.info(event);
        }
    }
}
`;

describe('Java front end: names, annotations, routes', () => {
  test('controller methods are Class.method with their annotations; the class has its own record', async () => {
    const file = await analyze(CONTROLLER, 'OrderController.java');
    assert.deepEqual(file.syntaxErrors, []);
    assert.equal(file.language, 'java');
    assert.equal(file.package, 'com.example.order.controller');
    assert.deepEqual(file.imports, ['com.example.order.service.OrderService', 'org.springframework.web.bind.annotation.*']);
    assert.deepEqual(
      file.functions.map((f) => f.name),
      ['OrderController.home', 'OrderController.getOrderById', 'OrderController.createNewOrder', 'OrderController.refresh'],
    );
    const cls = file.classes.find((c) => c.name === 'OrderController');
    assert.ok(cls);
    assert.equal(cls.kind, 'class');
    assert.deepEqual(
      cls.annotations.map((a) => [a.name, a.firstString]),
      [
        ['RestController', undefined],
        ['RequestMapping', '/api/v1/orderservice'],
      ],
    );
    assert.deepEqual(
      cls.fields.map((f) => [f.name, f.type, f.annotations.map((a) => a.name), f.static ?? false]),
      [
        ['LOGGER', 'Logger', [], true],
        ['orderService', 'OrderService', ['Autowired'], false],
      ],
    );
    assert.deepEqual(cls.methods, ['home', 'getOrderById', 'createNewOrder', 'refresh']);

    const route = (name: string): [string, string | undefined][] =>
      file.functions.find((f) => f.name === `OrderController.${name}`)!.annotations.map((a) => [a.name, a.firstString]);
    assert.deepEqual(route('home'), [['GetMapping', '/welcome']]);
    assert.deepEqual(route('getOrderById'), [['GetMapping', '/order/{orderId}']]);
    assert.deepEqual(route('createNewOrder'), [
      ['PostMapping', '/order'],
      ['WithSpan', undefined],
    ]);
    const refresh = file.functions.find((f) => f.name === 'OrderController.refresh')!;
    assert.equal(refresh.annotations[0]!.firstString, '/order/refresh');
    assert.deepEqual(refresh.annotations[0]!.elements, { value: '{"/order/refresh", "/order/reload"}', method: 'RequestMethod.PUT' });
    assert.deepEqual(
      file.functions.find((f) => f.name === 'OrderController.getOrderById')!.parameters,
      ['String', 'HttpHeaders'],
    );
  });

  test('controller call order: callee as written, receiver and arguments before the call', async () => {
    const file = await analyze(CONTROLLER);
    const get = file.functions.find((f) => f.name === 'OrderController.getOrderById')!;
    assert.deepEqual(calls(get), ['OrderController.LOGGER.info', 'orderService.getOrderById', 'ok']);
    assert.equal(callSites(get)[0]!.firstArg, '[getOrderById][Get order by id][OrderId: {}]');
    assert.equal(callSites(get)[0]!.firstArgKind, 'string');
    assert.deepEqual(branches(get), []);
    const create = file.functions.find((f) => f.name === 'OrderController.createNewOrder')!;
    assert.deepEqual(calls(create), ['this.orderService.create', 'ok']);
    const refresh = file.functions.find((f) => f.name === 'OrderController.refresh')!;
    // A constructor call's callee is the type without its type arguments.
    assert.deepEqual(calls(refresh), ['orderService.refresh', 'ResponseEntity']);
    assert.equal(callSites(refresh)[1]!.construct, true);
    const home = file.functions.find((f) => f.name === 'OrderController.home')!;
    assert.deepEqual(calls(home), []);
    assert.deepEqual(after(home, 'entry'), ['exit']);
  });

  test('service: class record, nested class methods and constructors', async () => {
    const file = await analyze(SERVICE);
    assert.deepEqual(file.syntaxErrors, []);
    const cls = file.classes.find((c) => c.name === 'OrderServiceImpl')!;
    assert.deepEqual(cls.annotations.map((a) => a.name), ['Service']);
    assert.deepEqual(cls.interfaces, ['OrderService']);
    assert.deepEqual(
      cls.fields.filter((f) => !f.static).map((f) => `${f.type} ${f.name}`),
      ['OrderRepository orderRepository', 'RestTemplate restTemplate'],
    );
    assert.ok(file.classes.some((c) => c.name === 'OrderServiceImpl.Audit'));
    const names = file.functions.map((f) => f.name);
    for (const n of ['OrderServiceImpl.create', 'OrderServiceImpl.getRoute', 'OrderServiceImpl.price', 'OrderServiceImpl.status', 'OrderServiceImpl.Audit.<init>', 'OrderServiceImpl.Audit.record']) {
      assert.ok(names.includes(n), `${n} among ${names.join(', ')}`);
    }
    const ctor = file.functions.find((f) => f.name === 'OrderServiceImpl.Audit.<init>')!;
    assert.equal(ctor.javaKind, 'constructor');
    assert.equal(ctor.className, 'OrderServiceImpl.Audit');
    assert.deepEqual(calls(ctor), ['super']);
    const create = file.functions.find((f) => f.name === 'OrderServiceImpl.create')!;
    assert.deepEqual(create.annotations.map((a) => a.name), ['Override', 'Transactional']);
    // The anonymous ParameterizedTypeReference subclass is a class of its own.
    assert.ok(file.classes.some((c) => c.name === 'OrderServiceImpl.<anonymous ParameterizedTypeReference>' && c.kind === 'anonymous'));
  });
});

describe('Java front end: CSCFG of a Spring service', () => {
  test('if/else-if/else, early returns, a for loop over items calling the repository', async () => {
    const g = await fn(SERVICE, 'OrderServiceImpl.create');
    assert.deepEqual(calls(g), [
      'LOGGER.error',
      'Response',
      'order.getId',
      'orderRepository.findById',
      'Response',
      'order.getAccountId',
      'LOGGER.warn',
      'order.getAccountId',
      'checkAccount',
      'order.getItems',
      'orderRepository.saveItem',
      'orderRepository.save',
      'Response',
    ]);
    assert.deepEqual(branches(g), ['if@17/2', 'if@22/2', 'if@24/2', 'loop@29/2']);
    assert.deepEqual(after(g, 'if', 0), ['else:order.getId', 'then:LOGGER.error']);
    // The early return goes to the exit.
    assert.deepEqual(after(g, 'Response', 0), ['exit']);
    assert.deepEqual(after(g, 'Response', 1), ['exit']);
    assert.deepEqual(after(g, 'if', 1), ['else:order.getAccountId', 'then:Response']);
    assert.deepEqual(after(g, 'if', 2), ['else:order.getAccountId', 'then:LOGGER.warn']);
    // Both remaining arms join at the loop's iterable; the loop repeats the repository call.
    assert.deepEqual(after(g, 'LOGGER.warn'), ['order.getItems']);
    assert.deepEqual(after(g, 'checkAccount'), ['order.getItems']);
    assert.deepEqual(after(g, 'loop'), ['body:orderRepository.saveItem', 'exit:orderRepository.save']);
    assert.deepEqual(after(g, 'orderRepository.saveItem'), ['back:loop']);
    assert.equal(callSites(g)[0]!.firstArg, 'no order');
    assert.equal(callSites(g)[1]!.construct, true);
    assert.equal(callSites(g)[1]!.firstArg, undefined, 'a number first argument is not kept');
  });

  test('try/catch around a RestTemplate call that logs and rethrows; URL concatenation keeps its literal prefix', async () => {
    const g = await fn(SERVICE, 'OrderServiceImpl.getRoute');
    assert.deepEqual(calls(g), [
      'HttpEntity',
      'ParameterizedTypeReference',
      'restTemplate.exchange',
      're.getBody',
      're.getBody().getData',
      'e.getMessage',
      'LOGGER.error',
    ]);
    const exchange = callSites(g).find((c) => c.callee === 'restTemplate.exchange')!;
    assert.equal(exchange.firstArg, 'http://ts-route-service:11178/api/v1/routeservice/routes/${routeId}');
    assert.equal(exchange.firstArgKind, 'template');
    assert.equal(callSites(g).find((c) => c.callee === 'HttpEntity')!.construct, true);
    assert.deepEqual(branches(g), ['try@37/2']);
    assert.deepEqual(after(g, 'try'), ['exception:catch', 'try:HttpEntity']);
    // Every call in the try body can continue or go to the handler.
    assert.deepEqual(after(g, 'restTemplate.exchange'), ['exception:catch', 're.getBody']);
    assert.deepEqual(after(g, 're.getBody().getData'), ['exception:catch', 'exit']);
    assert.deepEqual(after(g, 'catch'), ['e.getMessage']);
    assert.equal(callSites(g).find((c) => c.callee === 'LOGGER.error')!.firstArg, '[getRoute] failed: {}');
    // The rethrow leaves the method.
    assert.deepEqual(after(g, 'LOGGER.error'), ['throw:exit']);
  });

  test('old-style switch: fall-through, grouped labels, default', async () => {
    const g = await fn(SERVICE, 'OrderServiceImpl.price');
    assert.deepEqual(calls(g), ['order.getSeatClass', 'firstClass', 'economy', 'LOGGER.warn']);
    assert.deepEqual(branches(g), ['switch@49/4']);
    assert.deepEqual(after(g, 'switch'), ['case 1:firstClass', 'case 2:firstClass', 'case 3:economy', 'default:LOGGER.warn']);
    assert.deepEqual(after(g, 'firstClass'), ['exit']);
    assert.deepEqual(after(g, 'economy'), ['LOGGER.warn'], 'case 3 falls through into default');
  });

  test('switch expression with arrow rules: no fall-through, yield, throw', async () => {
    const g = await fn(SERVICE, 'OrderServiceImpl.status');
    assert.deepEqual(calls(g), ['order.getStatus', 'describe', 'refund', 'IllegalStateException']);
    assert.deepEqual(branches(g), ['switch@63/3']);
    assert.deepEqual(after(g, 'switch'), ['case CANCELLED:refund', 'case PAID, COLLECTED:describe', 'default:IllegalStateException']);
    assert.deepEqual(after(g, 'describe'), ['exit']);
    assert.deepEqual(after(g, 'refund'), ['exit']);
    assert.deepEqual(after(g, 'IllegalStateException'), ['throw:exit']);
    assert.equal(callSites(g)[3]!.firstArg, 'bad status');
  });
});

describe('Java front end: statements', () => {
  test('while, do/while, classic for with calls in condition and update', async () => {
    const g = await fn(
      inClass(`    while (more()) { a(); }
    do { b(); } while (again());
    for (int i = init(); i < limit(); i = step(i)) { c(); }
    done();`),
      'C.m',
    );
    assert.deepEqual(calls(g), ['more', 'a', 'b', 'again', 'init', 'limit', 'c', 'step', 'done']);
    assert.deepEqual(branches(g), ['loop@3/2', 'loop@4/2', 'loop@5/2']);
    assert.deepEqual(after(g, 'loop', 0), ['body:a', 'exit:b']);
    assert.deepEqual(after(g, 'a'), ['back:more']);
    assert.deepEqual(after(g, 'loop', 1), ['body:b', 'exit:init']);
    assert.deepEqual(after(g, 'c'), ['step']);
    assert.deepEqual(after(g, 'step'), ['back:limit']);
    assert.deepEqual(after(g, 'loop', 2), ['body:c', 'exit:done']);
  });

  test('labelled break and continue leave the outer loop', async () => {
    const g = await fn(
      inClass(`    outer:
    for (Item i : items()) {
      for (Part p : i.parts()) {
        if (bad(p)) continue outer;
        if (stop(p)) break outer;
        use(p);
      }
    }
    done();`),
      'C.m',
    );
    assert.deepEqual(after(g, 'if', 0), ['else:stop', 'then:loop']);
    assert.deepEqual(after(g, 'if', 1), ['else:use', 'then:done']);
  });

  test('try-with-resources: resource calls first inside the try; catch and finally', async () => {
    const g = await fn(
      inClass(`    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("select 1")) {
      s.execute();
    } catch (SQLException e) {
      LOGGER.error("sql", e);
    } finally {
      cleanup();
    }`),
      'C.m',
    );
    // The finally block appears twice: on the normal way out and on the exceptional one.
    assert.deepEqual(calls(g), ['dataSource.getConnection', 'c.prepareStatement', 's.execute', 'LOGGER.error', 'cleanup', 'cleanup']);
    assert.deepEqual(after(g, 'try'), ['exception:catch', 'try:dataSource.getConnection']);
    assert.deepEqual(after(g, 'dataSource.getConnection'), ['c.prepareStatement', 'exception:catch']);
    assert.deepEqual(after(g, 's.execute'), ['cleanup', 'exception:catch']);
    // With a finally, what the catch body throws runs the (exceptional copy of the) finally.
    assert.deepEqual(after(g, 'LOGGER.error'), ['cleanup', 'exception:cleanup']);
    assert.equal(callSites(g)[1]!.firstArg, 'select 1');
  });

  test('several catch clauses: the handler chooses by type; an unmatched exception goes on', async () => {
    const g = await fn(
      inClass(`    try {
      call();
    } catch (IOException | TimeoutException e) {
      io();
    } catch (RuntimeException e) {
      rt();
    }
    after();`),
      'C.m',
    );
    assert.deepEqual(after(g, 'switch'), ['case IOException | TimeoutException:io', 'case RuntimeException:rt', 'default:exit']);
    assert.deepEqual(after(g, 'io'), ['after']);
    assert.deepEqual(after(g, 'rt'), ['after']);
  });

  test('synchronized is a plain block; inline lambdas fold into the method, a stored lambda is its own function', async () => {
    const file = await analyze(`class C {
  private final Runnable hook = () -> onHook();
  void m(List<Item> items) {
    synchronized (lockFor(items)) {
      items.forEach(i -> repo.save(i));
    }
    executor.submit(() -> {
      if (ready()) return;
      work();
    });
    Supplier<String> s = () -> compute();
    done();
  }
}`);
    assert.deepEqual(file.syntaxErrors, []);
    const m = file.functions.find((f) => f.name === 'C.m')!;
    assert.deepEqual(calls(m), ['lockFor', 'items.forEach', 'repo.save', 'executor.submit', 'ready', 'work', 'done']);
    assert.deepEqual(branches(m), ['if@8/2']);
    // A return inside the inline lambda only leaves the lambda.
    assert.deepEqual(after(m, 'if'), ['else:work', 'then:done']);
    assert.deepEqual(
      file.functions.map((f) => [f.name, f.javaKind]),
      [
        ['C.hook', 'lambda'],
        ['C.m', 'method'],
        ['C.m.<lambda@11>', 'lambda'],
      ],
    );
    assert.deepEqual(calls(file.functions[0]!), ['onHook']);
  });

  test('interfaces, enums, records, static initializers', async () => {
    const file = await analyze(`public interface OrderRepository extends CrudRepository<Order, String> {
  Order findByAccountId(String id);
  default void touch() { log(); }
}
@Repository
class Store {
  static { init(); }
  enum Kind { A, B; void k() { kk(); } }
  record Pair(int a) { Pair { check(a); } }
}`);
    assert.deepEqual(file.syntaxErrors, []);
    assert.deepEqual(
      file.functions.map((f) => f.name),
      ['OrderRepository.touch', 'Store.<clinit>', 'Store.Kind.k', 'Store.Pair.<init>'],
    );
    const repo = file.classes.find((c) => c.name === 'OrderRepository')!;
    assert.equal(repo.kind, 'interface');
    assert.deepEqual(repo.interfaces, ['CrudRepository<Order, String>']);
    assert.deepEqual(repo.methods, ['findByAccountId', 'touch']);
    assert.deepEqual(file.classes.find((c) => c.name === 'Store')!.annotations.map((a) => a.name), ['Repository']);
    assert.equal(file.functions[1]!.static, true);
  });

  test('a file with a syntax error is reported and its other methods are still analyzed', async () => {
    const file = await analyze(`@Service
public class Broken {
  public void good() {
    repo.findAll();
  }

  public void bad( {
    oops(;
  }

  public void alsoGood() {
    client.call("http://x/api");
  }
}`);
    assert.ok(file.syntaxErrors.length > 0, 'the error is reported');
    assert.ok(file.syntaxErrors.every((e) => e.line >= 7 && e.line <= 9), JSON.stringify(file.syntaxErrors));
    const good = file.functions.find((f) => f.name === 'Broken.good');
    assert.ok(good, file.functions.map((f) => f.name).join(', '));
    assert.deepEqual(calls(good), ['repo.findAll']);
    const also = file.functions.find((f) => f.name === 'Broken.alsoGood');
    assert.ok(also, file.functions.map((f) => f.name).join(', '));
    assert.deepEqual(callSites(also).map((c) => [c.callee, c.firstArg]), [['client.call', 'http://x/api']]);
  });
});
