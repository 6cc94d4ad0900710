// The embedded default topology: an online shop of ten services. It is written to exercise what the
// samplers and the analyzer care about: branch points whose arms emit different spans (cache hit or
// miss, payment method, shipping method, notification channel), loops that repeat spans (N+1
// queries, per-item stock checks), try/catch fallbacks, early returns, fan-out through Kafka, and a
// wrong-return path (inventory's CheckStock decides a downstream branch in cart and order).
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
  Latency,
  LoopStep,
  OperationDef,
  PublishStep,
  ReturnStep,
  ServiceDef,
  Step,
  Topology,
  TryStep,
} from './topology.js';

const ms = (medianMs: number, sigma = 0.5): Latency => ({ medianMs, sigma });

const call = (id: string, service: string, operation: string, as?: string): CallStep => ({ kind: 'call', id, service, operation, as });
const external = (id: string, method: HttpMethod, url: string, latency: Latency, errorRate?: number): ExternalStep => ({
  kind: 'external',
  id,
  method,
  url,
  latency,
  errorRate,
});
const sql = (id: string, statement: string, latency: Latency = ms(0.9, 0.6), as?: string): DbStep => {
  const operation = statement.split(' ', 1)[0]!.toUpperCase();
  const m = /\b(?:FROM|INTO|UPDATE)\s+([a-z_]+)/i.exec(statement);
  return { kind: 'db', id, operation, table: m ? m[1]! : '', statement, latency, as };
};
const mongo = (id: string, operation: string, table: string, filter: string, latency: Latency = ms(1.2, 0.6), as?: string): DbStep => ({
  kind: 'db',
  id,
  operation,
  table,
  statement: filter,
  latency,
  as,
});
const cache = (id: string, command: CacheCommand, key: string, as?: string): CacheStep => ({ kind: 'cache', id, command, key, latency: ms(0.25, 0.4), as });
const publish = (id: string, topic: string): PublishStep => ({ kind: 'publish', id, topic, latency: ms(1.5, 0.4) });
const internal = (id: string, name: string, latency: Latency, body?: Step[], attributes?: InternalStep['attributes']): InternalStep => ({
  kind: 'internal',
  id,
  name,
  latency,
  body,
  attributes,
});
const ifElse = (id: string, condition: string, then: [string, number, Step[]], otherwise: [string, number, Step[]], dependsOn?: [string, string]): BranchStep => ({
  kind: 'branch',
  id,
  style: 'if',
  condition,
  arms: [arm(then), arm(otherwise)],
  dependsOn: dependsOn?.[0],
  onWrongReturn: dependsOn?.[1],
});
const switchOn = (id: string, condition: string, arms: [string, number, Step[]][]): BranchStep => ({
  kind: 'branch',
  id,
  style: 'switch',
  condition,
  arms: arms.map(arm),
});
const arm = ([label, probability, body]: [string, number, Step[]]): BranchArm => ({ label, probability, body });
const loop = (id: string, min: number, max: number, over: string, item: string, body: Step[]): LoopStep => ({ kind: 'loop', id, count: { min, max }, over, item, body });
const tryCatch = (id: string, body: Step[], fallback: Step[]): TryStep => ({ kind: 'try', id, body, catch: fallback });
const ret = (id: string, status = 200, value?: string): ReturnStep => ({ kind: 'return', id, status, value });

const http = (method: HttpMethod, route: string) => ({ protocol: 'http' as const, method, route });
const grpc = (service: string, method: string) => ({ protocol: 'grpc' as const, service, method });
const kafka = (topic: string) => ({ protocol: 'kafka' as const, topic });

const pg = (name: string) => ({ system: 'postgresql' as const, name, host: `${name}-db`, port: 5432 });
const redis = (host: string) => ({ host, port: 6379 });

/** Verifies the caller's token first; an auth failure of any kind answers 401. */
const authenticated = (id: string): TryStep => tryCatch(id, [call(`${id}-verify`, 'auth-service', 'verifyToken', 'session')], [ret(`${id}-denied`, 401)]);

function op(id: string, entry: OperationDef['entry'], latency: Latency, body: Step[], extra: Partial<OperationDef> = {}): OperationDef {
  return { id, entry, latency, body, ...extra };
}

const frontend: ServiceDef = {
  name: 'frontend',
  version: '2.7.1',
  instances: 3,
  port: 8080,
  operations: [
    op('listProducts', http('GET', '/api/products'), ms(1.6), [
      call('catalog', 'catalog-service', 'listProducts', 'products'),
      ifElse('signed-in', 'input.userId', ['signed-in', 0.45, [call('recommend', 'recommendation-service', 'getRecommendations')]], ['anonymous', 0.55, []]),
    ], { responseBytes: 18000 }),
    op('getProduct', http('GET', '/api/products/:id'), ms(1.2), [
      { kind: 'parallel', id: 'fetch', body: [call('product', 'catalog-service', 'getProduct', 'product'), call('recommend', 'recommendation-service', 'getRecommendations', 'recommendations')] },
    ], { responseBytes: 6500 }),
    op('viewCart', http('GET', '/api/cart'), ms(1.1), [authenticated('auth'), call('cart', 'cart-service', 'getCart', 'cart')], { responseBytes: 3200 }),
    op('addToCart', http('POST', '/api/cart/items'), ms(1.0), [authenticated('auth'), call('add', 'cart-service', 'addItem')], { responseBytes: 400 }),
    op('checkout', http('POST', '/api/checkout'), ms(1.8), [authenticated('auth'), call('place', 'order-service', 'placeOrder', 'order')], { responseBytes: 900 }),
    op('getOrder', http('GET', '/api/orders/:id'), ms(1.0), [authenticated('auth'), call('order', 'order-service', 'getOrder', 'order')], { responseBytes: 2400 }),
  ],
};

const auth: ServiceDef = {
  name: 'auth-service',
  version: '1.12.0',
  instances: 2,
  port: 8080,
  database: pg('auth'),
  cache: redis('auth-cache'),
  operations: [
    op('verifyToken', http('POST', '/api/auth/verify'), ms(0.6), [
      cache('session-get', 'get', 'session:{token}', 'session'),
      ifElse('session-cached', 'session !== null', ['hit', 0.85, []], ['miss', 0.15, [
        sql('session-query', 'SELECT user_id, expires_at, revoked FROM sessions WHERE token_hash = $1', ms(1.1), 'row'),
        ifElse('session-valid', 'row.valid', ['valid', 0.97, [cache('session-set', 'set', 'session:{token}')]], ['invalid', 0.03, [ret('unauthorized', 401)]]),
      ]]),
    ], { responseBytes: 120 }),
  ],
};

const catalog: ServiceDef = {
  name: 'catalog-service',
  version: '3.4.2',
  instances: 2,
  port: 8080,
  database: { system: 'mongodb', name: 'catalog', host: 'catalog-mongo', port: 27017 },
  cache: redis('catalog-cache'),
  operations: [
    op('listProducts', http('GET', '/api/catalog/products'), ms(0.9), [
      cache('list-get', 'get', 'catalog:list:{category}', 'cached'),
      ifElse('list-cached', 'cached !== null', ['hit', 0.7, [ret('cached-list', 200, 'cached')]], ['miss', 0.3, []]),
      mongo('list-find', 'find', 'products', '{"category":"?","active":"?"}', ms(2.5, 0.6), 'products'),
      loop('prices', 2, 6, 'products', 'product', [cache('price-get', 'get', 'price:{productId}')]),
      cache('list-set', 'set', 'catalog:list:{category}'),
    ], { responseBytes: 16000 }),
    op('getProduct', http('GET', '/api/catalog/products/:id'), ms(0.7), [
      cache('product-get', 'get', 'product:{id}', 'cached'),
      ifElse('product-cached', 'cached !== null', ['hit', 0.8, []], ['miss', 0.2, [
        mongo('product-find', 'findOne', 'products', '{"_id":"?"}', ms(1.1, 0.5)),
        cache('product-set', 'set', 'product:{id}'),
      ]]),
    ], { responseBytes: 4200 }),
  ],
};

const cart: ServiceDef = {
  name: 'cart-service',
  version: '1.8.5',
  instances: 2,
  port: 8080,
  cache: redis('cart-cache'),
  operations: [
    op('getCart', http('GET', '/api/carts/:userId'), ms(0.5), [
      cache('cart-get', 'hgetall', 'cart:{userId}', 'items'),
      loop('item-details', 0, 4, 'Object.keys(items)', 'productId', [call('product', 'catalog-service', 'getProduct')]),
    ], { responseBytes: 2800 }),
    op('addItem', http('POST', '/api/carts/:userId/items'), ms(0.6), [
      call('stock', 'inventory-service', 'checkStock', 'stock'),
      ifElse('in-stock', 'stock.available', ['in-stock', 0.93, [cache('cart-add', 'hset', 'cart:{userId}'), cache('cart-ttl', 'expire', 'cart:{userId}')]], ['out-of-stock', 0.07, [ret('sold-out', 409)]], ['stock', 'out-of-stock']),
    ], { responseBytes: 300 }),
    op('clearCart', http('DELETE', '/api/carts/:userId'), ms(0.3), [cache('cart-del', 'del', 'cart:{userId}')], { responseBytes: 40 }),
  ],
};

const inventory: ServiceDef = {
  name: 'inventory-service',
  version: '2.2.0',
  instances: 2,
  port: 50051,
  database: pg('inventory'),
  cache: redis('inventory-cache'),
  operations: [
    op('checkStock', grpc('shop.InventoryService', 'CheckStock'), ms(0.35), [
      cache('stock-get', 'get', 'stock:{productId}', 'cached'),
      ifElse('stock-cached', 'cached !== null', ['hit', 0.6, []], ['miss', 0.4, [
        sql('stock-query', 'SELECT product_id, available, reserved FROM stock WHERE product_id = $1', ms(0.8)),
        cache('stock-set', 'set', 'stock:{productId}'),
      ]]),
    ]),
    op('reserveStock', kafka('order-events'), ms(0.5), [
      loop('reserve-items', 1, 4, 'input.items', 'item', [
        sql('reserve', 'UPDATE stock SET available = available - $1, reserved = reserved + $1 WHERE product_id = $2 AND available >= $1', ms(1.4)),
      ]),
      cache('stock-invalidate', 'del', 'stock:{productId}'),
    ]),
  ],
};

const order: ServiceDef = {
  name: 'order-service',
  version: '4.1.3',
  instances: 2,
  port: 8080,
  database: pg('orders'),
  operations: [
    op('placeOrder', http('POST', '/api/orders'), ms(1.5), [
      call('cart', 'cart-service', 'getCart', 'cart'),
      internal('validate', 'validateOrder', ms(0.3, 0.4), undefined, { 'app.validation.rules': 12 }),
      loop('check-items', 1, 4, 'cart.items', 'item', [
        call('stock', 'inventory-service', 'checkStock', 'stock'),
        ifElse('item-in-stock', 'stock.available', ['in-stock', 0.98, []], ['out-of-stock', 0.02, [ret('out-of-stock', 409)]], ['stock', 'out-of-stock']),
      ]),
      internal('totals', 'computeTotals', ms(0.4, 0.4), [
        ifElse('coupon', 'input.couponCode', ['coupon', 0.2, [sql('coupon-query', 'SELECT discount_pct, valid_until FROM coupons WHERE code = $1', ms(0.7))]], ['no-coupon', 0.8, []]),
      ]),
      sql('order-insert', 'INSERT INTO orders (user_id, total, currency, status) VALUES ($1, $2, $3, $4) RETURNING id', ms(1.6)),
      loop('insert-items', 1, 4, 'cart.items', 'item', [
        sql('item-insert', 'INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, $4)', ms(0.9)),
      ]),
      tryCatch('payment', [call('charge', 'payment-service', 'charge', 'payment')], [
        sql('mark-failed', 'UPDATE orders SET status = $1 WHERE id = $2', ms(0.9)),
        ret('payment-failed', 402),
      ]),
      switchOn('shipping', 'input.shippingMethod', [
        ['standard', 0.7, [call('ship', 'shipping-service', 'createShipment')]],
        ['express', 0.25, [call('quote', 'shipping-service', 'getQuote'), call('ship-express', 'shipping-service', 'createShipment')]],
        ['pickup', 0.05, [sql('pickup-insert', 'INSERT INTO pickups (order_id, store_id, ready_at) VALUES ($1, $2, $3)', ms(0.9))]],
      ]),
      sql('order-confirm', 'UPDATE orders SET status = $1, updated_at = now() WHERE id = $2', ms(1.0)),
      publish('order-placed', 'order-events'),
      call('clear-cart', 'cart-service', 'clearCart'),
    ], { responseBytes: 900 }),
    op('getOrder', http('GET', '/api/orders/:id'), ms(0.6), [
      sql('order-select', 'SELECT id, user_id, status, total, created_at FROM orders WHERE id = $1', ms(0.8), 'order'),
      ifElse('found', 'order.rowCount > 0', ['found', 0.97, []], ['not-found', 0.03, [ret('no-order', 404)]]),
      sql('items-select', 'SELECT product_id, quantity, unit_price FROM order_items WHERE order_id = $1', ms(0.9)),
      ifElse('shipped', "order.status === 'shipped'", ['shipped', 0.6, [call('tracking', 'shipping-service', 'getShipmentStatus')]], ['pending', 0.4, []]),
    ], { responseBytes: 2100 }),
  ],
};

const payment: ServiceDef = {
  name: 'payment-service',
  version: '5.0.4',
  instances: 2,
  port: 50051,
  database: pg('payments'),
  operations: [
    op('charge', grpc('shop.PaymentService', 'Charge'), ms(0.9), [
      sql('method-select', 'SELECT type, provider_token FROM payment_methods WHERE user_id = $1 AND is_default = $2', ms(0.8), 'method'),
      switchOn('method', 'method.type', [
        ['card', 0.7, [
          tryCatch('card-provider', [external('stripe', 'POST', 'https://api.stripe.example/v1/charges', ms(120, 0.35), 0.02)], [
            external('adyen', 'POST', 'https://checkout.adyen.example/v71/payments', ms(150, 0.35)),
          ]),
        ]],
        ['paypal', 0.2, [external('paypal', 'POST', 'https://api-m.paypal.example/v2/checkout/orders', ms(210, 0.4))]],
        ['giftcard', 0.1, [
          sql('giftcard', 'UPDATE gift_cards SET balance = balance - $1 WHERE code = $2 AND balance >= $1', ms(1.1), 'updated'),
          // An insufficient balance answers FAILED_PRECONDITION: a throw the caller's catch handles.
          ifElse('balance', 'updated.rowCount === 1', ['covered', 0.9, []], ['insufficient', 0.1, [ret('insufficient-balance', 402)]]),
        ]],
      ]),
      sql('payment-insert', 'INSERT INTO payments (order_id, amount, method, status) VALUES ($1, $2, $3, $4)', ms(1.2)),
    ]),
  ],
};

const shipping: ServiceDef = {
  name: 'shipping-service',
  version: '1.3.9',
  instances: 1,
  port: 8080,
  database: pg('shipping'),
  operations: [
    op('createShipment', http('POST', '/api/shipments'), ms(0.8), [
      internal('route', 'calculateRoute', ms(1.8, 0.5), [
        loop('legs', 1, 3, 'input.legs', 'leg', [sql('depot-select', 'SELECT id, lat, lon, capacity FROM depots WHERE region = $1', ms(0.7))]),
      ]),
      sql('shipment-insert', 'INSERT INTO shipments (order_id, carrier, service_level, status) VALUES ($1, $2, $3, $4)', ms(1.2)),
      external('label', 'POST', 'https://api.carrier.example/v1/labels', ms(85, 0.4)),
    ], { responseBytes: 700 }),
    op('getQuote', http('GET', '/api/shipments/quote'), ms(0.4), [
      sql('rate-select', 'SELECT carrier, price, eta_days FROM rates WHERE zone = $1 AND speed = $2', ms(0.7)),
    ], { responseBytes: 350 }),
    op('getShipmentStatus', http('GET', '/api/shipments/:orderId'), ms(0.4), [
      sql('status-select', 'SELECT status, carrier, eta FROM shipments WHERE order_id = $1', ms(0.7)),
    ], { responseBytes: 500 }),
  ],
};

const notification: ServiceDef = {
  name: 'notification-service',
  version: '0.9.12',
  instances: 1,
  port: 8080,
  database: pg('notifications'),
  operations: [
    op('sendOrderConfirmation', kafka('order-events'), ms(0.8), [
      sql('contact-select', 'SELECT email, phone, channel FROM contacts WHERE user_id = $1', ms(0.8), 'contact'),
      switchOn('channel', 'contact.channel', [
        ['email', 0.7, [external('sendgrid', 'POST', 'https://api.sendgrid.example/v3/mail/send', ms(60, 0.4))]],
        ['sms', 0.2, [external('twilio', 'POST', 'https://api.twilio.example/2010-04-01/Accounts/AC01/Messages.json', ms(95, 0.4))]],
        ['push', 0.1, [publish('push', 'push-notifications')]],
      ]),
      sql('log-insert', 'INSERT INTO notifications (user_id, channel, template, sent_at) VALUES ($1, $2, $3, now())', ms(0.9)),
    ]),
  ],
};

const recommendation: ServiceDef = {
  name: 'recommendation-service',
  version: '0.21.0',
  instances: 2,
  port: 8080,
  cache: redis('recommendation-cache'),
  operations: [
    op('getRecommendations', http('GET', '/api/recommendations/:userId'), ms(0.8), [
      cache('recs-get', 'get', 'recs:{userId}', 'cached'),
      ifElse('recs-cached', 'cached !== null', ['hit', 0.5, [ret('cached-recs', 200, 'cached')]], ['miss', 0.5, []]),
      call('candidates', 'catalog-service', 'listProducts', 'candidates'),
      internal('score', 'scoreCandidates', ms(2.5, 0.5), [
        loop('rank', 3, 8, 'candidates', 'candidate', [internal('features', 'rankFeatures', ms(0.25, 0.4), undefined, { 'app.model.version': 'ranker-v7' })]),
      ]),
      cache('recs-set', 'set', 'recs:{userId}'),
    ], { responseBytes: 1500 }),
  ],
};

/** The default topology: a ten-service online shop. A fresh object each call, so callers may edit it. */
export function defaultTopology(): Topology {
  const services = [frontend, auth, catalog, cart, inventory, order, payment, shipping, notification, recommendation];
  return structuredClone({
    name: 'online-shop',
    namespace: 'shop',
    services,
    entryPoints: [
      { service: 'frontend', operation: 'listProducts', weight: 0.34 },
      { service: 'frontend', operation: 'getProduct', weight: 0.26 },
      { service: 'frontend', operation: 'viewCart', weight: 0.12 },
      { service: 'frontend', operation: 'addToCart', weight: 0.12 },
      { service: 'frontend', operation: 'checkout', weight: 0.08 },
      { service: 'frontend', operation: 'getOrder', weight: 0.08 },
    ],
  });
}
