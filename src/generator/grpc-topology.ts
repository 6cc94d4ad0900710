// The embedded polyglot gRPC topology: an online shop of eight services in five languages (a
// TypeScript HTTP front door and pricing service, Go identity and inventory, a Python catalog, a
// Java checkout, C# cart and payment) calling each other over gRPC. It exercises what an analyzer
// of real polyglot code must handle: gRPC server handlers and client stubs in every language, each
// language's database and cache clients, manual spans in helpers, and branch points (if, switch,
// loop, try, early return) whose arms emit different spans, with a wrong-return path (inventory's
// CheckStock decides a branch in cart and checkout).
import type {
  BranchArm,
  BranchStep,
  CacheCommand,
  CacheStep,
  CallStep,
  DbStep,
  ExternalStep,
  HttpMethod,
  InternalStep,
  Language,
  Latency,
  LoopStep,
  OperationDef,
  ReturnStep,
  ServiceDef,
  Step,
  Topology,
  TryStep,
} from './topology.js';
import type { FaultType } from './faults.js';

const ms = (medianMs: number, sigma = 0.5): Latency => ({ medianMs, sigma });

const call = (id: string, service: string, operation: string, as?: string): CallStep => ({ kind: 'call', id, service, operation, as });
const external = (id: string, method: HttpMethod, url: string, latency: Latency, errorRate?: number): ExternalStep => ({ kind: 'external', id, method, url, latency, errorRate });
const sql = (id: string, statement: string, latency: Latency = ms(0.9, 0.6), as?: string): DbStep => {
  const operation = statement.split(' ', 1)[0]!.toUpperCase();
  const m = /\b(?:FROM|INTO|UPDATE)\s+([a-z_]+)/i.exec(statement);
  return { kind: 'db', id, operation, table: m ? m[1]! : '', statement, latency, as };
};
const mongo = (id: string, operation: string, table: string, filter: string, latency: Latency = ms(1.2, 0.6), as?: string): DbStep => ({ kind: 'db', id, operation, table, statement: filter, latency, as });
const cache = (id: string, command: CacheCommand, key: string, as?: string): CacheStep => ({ kind: 'cache', id, command, key, latency: ms(0.25, 0.4), as });
const internal = (id: string, name: string, latency: Latency, body?: Step[], attributes?: InternalStep['attributes']): InternalStep => ({ kind: 'internal', id, name, latency, body, attributes });
const arm = ([label, probability, body]: [string, number, Step[]]): BranchArm => ({ label, probability, body });
const ifElse = (id: string, condition: string, then: [string, number, Step[]], otherwise: [string, number, Step[]], dependsOn?: [string, string]): BranchStep => ({
  kind: 'branch',
  id,
  style: 'if',
  condition,
  arms: [arm(then), arm(otherwise)],
  dependsOn: dependsOn?.[0],
  onWrongReturn: dependsOn?.[1],
});
const switchOn = (id: string, condition: string, arms: [string, number, Step[]][]): BranchStep => ({ kind: 'branch', id, style: 'switch', condition, arms: arms.map(arm) });
const loop = (id: string, min: number, max: number, over: string, item: string, body: Step[]): LoopStep => ({ kind: 'loop', id, count: { min, max }, over, item, body });
const tryCatch = (id: string, body: Step[], fallback: Step[]): TryStep => ({ kind: 'try', id, body, catch: fallback });
const ret = (id: string, status = 200, value?: string): ReturnStep => ({ kind: 'return', id, status, value });

const http = (method: HttpMethod, route: string) => ({ protocol: 'http' as const, method, route });
const grpc = (service: string, method: string) => ({ protocol: 'grpc' as const, service, method });
const pg = (name: string) => ({ system: 'postgresql' as const, name, host: `${name}-db`, port: 5432 });
const redis = (host: string) => ({ host, port: 6379 });

function op(id: string, entry: OperationDef['entry'], latency: Latency, body: Step[], extra: Partial<OperationDef> = {}): OperationDef {
  return { id, entry, latency, body, ...extra };
}

function service(name: string, language: Language, version: string, instances: number, rest: Omit<ServiceDef, 'name' | 'language' | 'version' | 'instances' | 'port'> & { port?: number }): ServiceDef {
  return { name, language, version, instances, port: rest.port ?? 50051, ...rest };
}

/** The caller's session is checked first; any failure of the check answers 401. */
const authenticated = (id: string): TryStep => tryCatch(id, [call(`${id}-check`, 'identity-service', 'authenticate', 'session')], [ret(`${id}-denied`, 401)]);

const storefront = service('storefront', 'typescript', '3.2.0', 3, {
  port: 8080,
  operations: [
    op('browse', http('GET', '/api/products'), ms(1.4), [
      call('list', 'catalog-service', 'listProducts', 'products'),
      ifElse('signed-in', 'input.userId', ['signed-in', 0.45, [call('recommend', 'catalog-service', 'recommend')]], ['anonymous', 0.55, []]),
    ], { responseBytes: 16000 }),
    op('viewProduct', http('GET', '/api/products/:productId'), ms(1.1), [
      { kind: 'parallel', id: 'fetch', body: [call('product', 'catalog-service', 'getProduct', 'product'), call('price', 'pricing-service', 'quote', 'price')] },
    ], { responseBytes: 5200 }),
    op('viewCart', http('GET', '/api/cart'), ms(1.0), [authenticated('auth'), call('cart', 'cart-service', 'getCart', 'cart')], { responseBytes: 3000 }),
    op('addToCart', http('POST', '/api/cart/items'), ms(1.0), [authenticated('auth'), call('add', 'cart-service', 'addItem')], { responseBytes: 300 }),
    op('checkout', http('POST', '/api/checkout'), ms(1.7), [authenticated('auth'), call('place', 'checkout-service', 'placeOrder', 'order')], { responseBytes: 900 }),
  ],
});

const identity = service('identity-service', 'go', '1.9.3', 2, {
  database: pg('identity'),
  cache: redis('identity-cache'),
  operations: [
    op('authenticate', grpc('shop.identity.IdentityService', 'Authenticate'), ms(0.5), [
      cache('session-get', 'get', 'session:{token}', 'session'),
      ifElse('session-cached', 'session !== null', ['hit', 0.85, []], ['miss', 0.15, [
        sql('session-query', 'SELECT user_id, expires_at, revoked FROM sessions WHERE token_hash = $1', ms(1.1)),
        cache('session-set', 'set', 'session:{token}'),
      ]]),
      ifElse('mfa', 'input.mfaRequired', ['challenge', 0.04, [
        sql('challenge-insert', 'INSERT INTO mfa_challenges (user_id, method, expires_at) VALUES ($1, $2, $3)', ms(1.0)),
        ret('mfa-required', 401),
      ]], ['none', 0.96, []]),
    ]),
  ],
});

const catalog = service('catalog-service', 'python', '2.14.1', 2, {
  database: pg('catalog'),
  cache: redis('catalog-cache'),
  operations: [
    op('listProducts', grpc('shop.catalog.CatalogService', 'ListProducts'), ms(0.9), [
      cache('list-get', 'get', 'catalog:list:{category}', 'cached'),
      ifElse('list-cached', 'cached !== null', ['hit', 0.7, [ret('cached-list', 200, 'cached')]], ['miss', 0.3, []]),
      sql('list-select', 'SELECT id, name, price, stock FROM products WHERE category = $1 AND active = $2', ms(2.2, 0.6)),
      loop('prices', 2, 6, 'input.productIds', 'productId', [cache('price-get', 'get', 'price:{productId}')]),
      cache('list-set', 'set', 'catalog:list:{category}'),
    ]),
    op('getProduct', grpc('shop.catalog.CatalogService', 'GetProduct'), ms(0.7), [
      cache('product-get', 'get', 'product:{productId}', 'cached'),
      ifElse('product-cached', 'cached !== null', ['hit', 0.8, []], ['miss', 0.2, [
        sql('product-select', 'SELECT id, name, description, price FROM products WHERE id = $1', ms(1.0)),
        cache('product-set', 'set', 'product:{productId}'),
      ]]),
    ]),
    op('recommend', grpc('shop.catalog.CatalogService', 'Recommend'), ms(0.8), [
      cache('recs-get', 'get', 'recs:{userId}', 'cached'),
      ifElse('recs-cached', 'cached !== null', ['hit', 0.5, [ret('cached-recs', 200, 'cached')]], ['miss', 0.5, []]),
      sql('history-select', 'SELECT product_id FROM order_history WHERE user_id = $1', ms(1.4)),
      internal('score', 'scoreCandidates', ms(2.2, 0.5), [
        loop('rank', 3, 8, 'input.productIds', 'candidate', [internal('features', 'rankFeatures', ms(0.25, 0.4), undefined, { 'app.model.version': 'ranker-v7' })]),
      ]),
      cache('recs-set', 'set', 'recs:{userId}'),
    ]),
  ],
});

const pricing = service('pricing-service', 'typescript', '1.4.0', 2, {
  cache: redis('pricing-cache'),
  operations: [
    op('quote', grpc('shop.pricing.PricingService', 'Quote'), ms(0.4), [
      cache('price-get', 'get', 'price:{productId}', 'cached'),
      ifElse('price-cached', 'cached !== null', ['hit', 0.75, []], ['miss', 0.25, [
        internal('compute', 'computePrice', ms(0.6, 0.4), undefined, { 'app.pricing.rules': 9 }),
        cache('price-set', 'set', 'price:{productId}'),
      ]]),
      switchOn('currency', 'input.currency', [
        ['USD', 0.6, []],
        ['EUR', 0.3, [external('fx-eur', 'GET', 'https://api.fx.example/v1/rates/EUR', ms(35, 0.4))]],
        ['default', 0.1, [external('fx-any', 'GET', 'https://api.fx.example/v1/rates', ms(45, 0.4))]],
      ]),
    ]),
  ],
});

const cart = service('cart-service', 'csharp', '4.0.2', 2, {
  cache: redis('cart-cache'),
  operations: [
    op('getCart', grpc('shop.cart.CartService', 'GetCart'), ms(0.5), [
      cache('cart-get', 'hgetall', 'cart:{userId}', 'items'),
      loop('item-details', 0, 4, 'input.productIds', 'productId', [call('product', 'catalog-service', 'getProduct')]),
    ]),
    op('addItem', grpc('shop.cart.CartService', 'AddItem'), ms(0.6), [
      call('stock', 'inventory-service', 'checkStock', 'stock'),
      ifElse('in-stock', 'stock.available', ['in-stock', 0.93, [cache('cart-add', 'hset', 'cart:{userId}'), cache('cart-ttl', 'expire', 'cart:{userId}')]], ['out-of-stock', 0.07, [ret('sold-out', 409)]], ['stock', 'out-of-stock']),
    ]),
    op('clearCart', grpc('shop.cart.CartService', 'ClearCart'), ms(0.3), [cache('cart-del', 'del', 'cart:{userId}')]),
  ],
});

const inventory = service('inventory-service', 'go', '2.6.0', 2, {
  database: { system: 'mongodb', name: 'inventory', host: 'inventory-mongo', port: 27017 },
  cache: redis('inventory-cache'),
  operations: [
    op('checkStock', grpc('shop.inventory.InventoryService', 'CheckStock'), ms(0.35), [
      cache('stock-get', 'get', 'stock:{productId}', 'cached'),
      ifElse('stock-cached', 'cached !== null', ['hit', 0.6, []], ['miss', 0.4, [
        mongo('stock-find', 'findOne', 'stock', '{"_id":"?"}', ms(0.9)),
        cache('stock-set', 'set', 'stock:{productId}'),
      ]]),
    ]),
    op('reserveStock', grpc('shop.inventory.InventoryService', 'ReserveStock'), ms(0.5), [
      loop('reserve-items', 1, 4, 'input.productIds', 'productId', [mongo('reserve', 'updateOne', 'stock', '{"_id":"?","available":{"$gte":"?"}}', ms(1.3))]),
      cache('stock-invalidate', 'del', 'stock:{productId}'),
    ]),
  ],
});

const checkout = service('checkout-service', 'java', '5.3.1', 2, {
  database: pg('orders'),
  operations: [
    op('placeOrder', grpc('shop.checkout.CheckoutService', 'PlaceOrder'), ms(1.5), [
      call('cart', 'cart-service', 'getCart', 'cart'),
      internal('validate', 'validateOrder', ms(0.3, 0.4), undefined, { 'app.validation.rules': 14 }),
      loop('check-items', 1, 4, 'cart.productIds', 'productId', [
        call('stock', 'inventory-service', 'checkStock', 'stock'),
        ifElse('item-in-stock', 'stock.available', ['in-stock', 0.98, []], ['out-of-stock', 0.02, [ret('out-of-stock', 409)]], ['stock', 'out-of-stock']),
      ]),
      internal('totals', 'computeTotals', ms(0.4, 0.4), [
        ifElse('coupon', 'input.hasCoupon', ['coupon', 0.2, [sql('coupon-select', 'SELECT discount_pct, valid_until FROM coupons WHERE code = $1', ms(0.7))]], ['no-coupon', 0.8, []]),
      ]),
      sql('order-insert', 'INSERT INTO orders (user_id, total, currency, status) VALUES ($1, $2, $3, $4) RETURNING id', ms(1.6)),
      tryCatch('payment', [call('charge', 'payment-service', 'charge', 'payment')], [
        sql('mark-failed', 'UPDATE orders SET status = $1 WHERE id = $2', ms(0.9)),
        ret('payment-failed', 402),
      ]),
      switchOn('shipping', 'input.shippingMethod', [
        ['standard', 0.7, [sql('shipment-insert', 'INSERT INTO shipments (order_id, carrier, service_level) VALUES ($1, $2, $3)', ms(1.1))]],
        ['express', 0.25, [external('carrier', 'POST', 'https://api.carrier.example/v1/shipments', ms(80, 0.4)), sql('express-insert', 'INSERT INTO shipments (order_id, carrier, tracking_code) VALUES ($1, $2, $3)', ms(1.1))]],
        ['pickup', 0.05, [sql('pickup-insert', 'INSERT INTO pickups (order_id, store_id, ready_at) VALUES ($1, $2, $3)', ms(0.9))]],
      ]),
      call('reserve', 'inventory-service', 'reserveStock'),
      sql('order-confirm', 'UPDATE orders SET status = $1, updated_at = now() WHERE id = $2', ms(1.0)),
      call('clear-cart', 'cart-service', 'clearCart'),
    ]),
  ],
});

const payment = service('payment-service', 'csharp', '6.1.0', 2, {
  database: pg('payments'),
  operations: [
    op('charge', grpc('shop.payment.PaymentService', 'Charge'), ms(0.9), [
      sql('method-select', 'SELECT type, provider_token FROM payment_methods WHERE user_id = $1 AND is_default = $2', ms(0.8), 'method'),
      switchOn('method', 'input.paymentMethod', [
        ['card', 0.7, [
          tryCatch('card-provider', [external('stripe', 'POST', 'https://api.stripe.example/v1/charges', ms(120, 0.35), 0.02)], [
            external('adyen', 'POST', 'https://checkout.adyen.example/v71/payments', ms(150, 0.35)),
          ]),
        ]],
        ['paypal', 0.2, [external('paypal', 'POST', 'https://api-m.paypal.example/v2/checkout/orders', ms(210, 0.4))]],
        ['giftcard', 0.1, [
          sql('giftcard', 'UPDATE gift_cards SET balance = balance - $1 WHERE code = $2 AND balance >= $1', ms(1.1), 'updated'),
          ifElse('balance', 'updated > 0', ['covered', 0.9, []], ['insufficient', 0.1, [ret('insufficient-balance', 402)]]),
        ]],
      ]),
      sql('payment-insert', 'INSERT INTO payments (order_id, amount, method, status) VALUES ($1, $2, $3, $4)', ms(1.2)),
    ]),
  ],
});

/** The polyglot gRPC topology. A fresh object each call, so callers may edit it. */
export function grpcTopology(): Topology {
  return structuredClone({
    name: 'polyglot-shop',
    namespace: 'shop',
    services: [storefront, identity, catalog, pricing, cart, inventory, checkout, payment],
    entryPoints: [
      { service: 'storefront', operation: 'browse', weight: 0.36 },
      { service: 'storefront', operation: 'viewProduct', weight: 0.28 },
      { service: 'storefront', operation: 'viewCart', weight: 0.12 },
      { service: 'storefront', operation: 'addToCart', weight: 0.14 },
      { service: 'storefront', operation: 'checkout', weight: 0.1 },
    ],
  });
}

/** Where defaultFaultScenario injects each fault type in this topology. */
export const GRPC_FAULT_TARGETS: Record<FaultType, { service: string; operation?: string }> = {
  // A Python handler; storefront.viewProduct and cart.getCart (C#) call it outside any try.
  exception: { service: 'catalog-service', operation: 'getProduct' },
  // A Go handler: cart.addItem (C#) and checkout.placeOrder (Java) branch on its answer.
  'wrong-return': { service: 'inventory-service', operation: 'checkStock' },
  'latency-spike': { service: 'payment-service', operation: 'charge' },
  'cpu-contention': { service: 'cart-service' },
  'network-delay': { service: 'identity-service' },
};
