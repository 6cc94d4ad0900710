// Span mapping of Java services (src/analyzer/span-map-java.ts) on small Spring Boot fixtures: a
// controller with class and method mappings, a service calling a repository field's inherited `save`
// and a declared `findByX`, a RestTemplate exchange with a concatenated URL, a @WithSpan method.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeJavaSource } from '../../src/analyzer/java.js';
import { groupByService, joinRoute, mapJavaSpans, serviceOfPath, type JavaSpanMapping } from '../../src/analyzer/span-map-java.js';

const CONTROLLER = `package order.controller;
import org.springframework.web.bind.annotation.*;
@RestController
@RequestMapping("/api/v1/orderservice/")
public class OrderController {
    @Autowired
    private OrderService orderService;

    @GetMapping(path = "/welcome")
    public String home() { return "hi"; }

    @GetMapping("order/{orderId}")
    public HttpEntity getOrderById(@PathVariable String orderId) {
        return ok(orderService.getOrderById(orderId));
    }

    @RequestMapping(value = "/order", method = RequestMethod.POST)
    public HttpEntity create(@RequestBody Order o) { return ok(orderService.create(o)); }

    private static String helper() { return ""; }
}
`;

const REPOSITORY = `package order.repository;
@Repository
public interface OrderRepository extends JpaRepository<Order, String> {
    ArrayList<Order> findByAccountId(String accountId);
}
`;

const PLAIN_REPOSITORY = `package order.repository;
public interface UserRepository extends CrudRepository<User, String> {
    User findByUserName(String name);
}
`;

const SERVICE = `package order.service;
@Service
public class OrderServiceImpl implements OrderService {
    @Autowired
    private OrderRepository orderRepository;
    @Autowired
    private UserRepository users;
    @Autowired
    private RestTemplate restTemplate;
    private String stationServiceUrl = "http://ts-station-service:12345";

    public Order create(Order o) {
        ArrayList<Order> existing = orderRepository.findByAccountId(o.getAccountId());
        if (existing.isEmpty()) {
            this.orderRepository.save(o);
        }
        users.findByUserName("x");
        return o;
    }

    public String stationName(String id) {
        ResponseEntity<Response> re = restTemplate.exchange(
                stationServiceUrl + "/api/v1/stationservice/stations/name/" + id,
                HttpMethod.GET,
                null,
                Response.class);
        return re.getBody().toString();
    }

    public Object price() {
        return restTemplate.postForObject("http://ts-price-service:16579/api/v1/priceservice/prices", null, Object.class);
    }

    @WithSpan
    public void audit() { }

    @WithSpan("check-order")
    public void check() { }
}
`;

const TEST_FILE = `package order.service;
public class OrderServiceImplTest {
    @Mock
    private OrderRepository orderRepository;
    void t() { orderRepository.save(null); }
}
`;

async function mapFixture(): Promise<JavaSpanMapping[]> {
  const root = '/src/tt';
  const texts: Record<string, string> = {
    [`${root}/ts-order-service/src/main/java/order/controller/OrderController.java`]: CONTROLLER,
    [`${root}/ts-order-service/src/main/java/order/repository/OrderRepository.java`]: REPOSITORY,
    [`${root}/ts-order-service/src/main/java/order/repository/UserRepository.java`]: PLAIN_REPOSITORY,
    [`${root}/ts-order-service/src/main/java/order/service/OrderServiceImpl.java`]: SERVICE,
    [`${root}/ts-order-service/src/test/java/order/service/OrderServiceImplTest.java`]: TEST_FILE,
  };
  const files = await Promise.all(Object.entries(texts).map(([f, t]) => analyzeJavaSource(f, t)));
  for (const f of files) assert.deepEqual(f.syntaxErrors, [], `${f.file} parses`);
  return mapJavaSpans(groupByService(files, root), { sources: new Map(Object.entries(texts)) });
}

const brief = (m: JavaSpanMapping): string =>
  `${m.via} ${m.kind} ${m.spanName} <- ${m.function}:${m.line}${m.target ? ` (${m.target})` : ''}${m.httpMethod ? ` [${m.httpMethod}]` : ''}${m.url !== undefined ? ` ${m.url}` : ''}`;

describe('Java span mapping', () => {
  test('routes, services and paths', () => {
    assert.equal(joinRoute('/api/v1/orderservice/', '/order/{id}'), '/api/v1/orderservice/order/{id}');
    assert.equal(joinRoute('api', 'x'), '/api/x');
    assert.equal(joinRoute('', ''), '/');
    assert.equal(serviceOfPath('/src/tt/ts-order-service/src/main/A.java', '/src/tt'), 'ts-order-service');
  });

  test('every mapping of the fixture service, and nothing from test sources', async () => {
    const all = await mapFixture();
    assert.ok(all.every((m) => m.service === 'ts-order-service'));
    assert.ok(all.every((m) => !m.file.includes('/src/test/')));
    assert.deepEqual(all.map(brief).sort(), [
      'controller internal OrderController.create <- OrderController.create:17',
      'controller internal OrderController.getOrderById <- OrderController.getOrderById:12',
      'controller internal OrderController.home <- OrderController.home:9',
      'http-client client HTTP GET <- OrderServiceImpl.stationName:22 (RestTemplate.exchange) [GET] ${stationServiceUrl}/api/v1/stationservice/stations/name/${id}',
      'http-client client HTTP POST <- OrderServiceImpl.price:31 (RestTemplate.postForObject) [POST] http://ts-price-service:16579/api/v1/priceservice/prices',
      'inherited-repository internal OrderRepository.save <- OrderServiceImpl.create:15 (OrderRepository.save)',
      'repository internal OrderRepository.findByAccountId <- OrderRepository.findByAccountId:2',
      'repository internal UserRepository.findByUserName <- UserRepository.findByUserName:2',
      'route server /api/v1/orderservice/order <- OrderController.create:17 [POST]',
      'route server /api/v1/orderservice/order/{orderId} <- OrderController.getOrderById:12 [GET]',
      'route server /api/v1/orderservice/welcome <- OrderController.home:9 [GET]',
      'sql client INSERT <- OrderServiceImpl.create:15 (OrderRepository.save)',
      'sql client SELECT <- OrderServiceImpl.create:13 (OrderRepository.findByAccountId)',
      'sql client SELECT <- OrderServiceImpl.create:15 (OrderRepository.save)',
      'sql client SELECT <- OrderServiceImpl.create:17 (UserRepository.findByUserName)',
      'sql client UPDATE <- OrderServiceImpl.create:15 (OrderRepository.save)',
      'with-span internal OrderServiceImpl.audit <- OrderServiceImpl.audit:34',
      'with-span internal check-order <- OrderServiceImpl.check:37',
    ]);
  });

  test('without sources, exchange keeps an unknown verb and only a literal-first URL', async () => {
    const files = [await analyzeJavaSource('/x/svc/S.java', SERVICE), await analyzeJavaSource('/x/svc/R.java', REPOSITORY)];
    const all = await mapJavaSpans([{ service: 'svc', files }]);
    const exchange = all.find((m) => m.target === 'RestTemplate.exchange');
    assert.ok(exchange);
    assert.equal(exchange.spanName, 'HTTP');
    assert.equal(exchange.httpMethod, undefined);
    assert.equal(exchange.url, undefined);
    assert.equal(all.find((m) => m.target === 'RestTemplate.postForObject')?.spanName, 'HTTP POST');
  });
});
