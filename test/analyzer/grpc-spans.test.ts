// gRPC span mapping and cross-service edges on a small hand-written polyglot system (Go, Node.js,
// Python, Java, C#), and on odd input: a stub of unknown type, no .proto files, an empty .proto, a
// streaming rpc, a client that is not a stub.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis, type AnalysisSpan } from '../../src/analyzer/analyze.js';
import { writeGrpcFixture } from './grpc-fixture.js';
import { InputError } from '../../src/model/index.js';

/** `service kind spanName -> function name` of the document's gRPC spans. */
function grpcSpans(doc: Analysis): string[] {
  const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
  return doc.spans
    .filter((s) => s.via === 'grpc' && s.aliasOf === undefined)
    .map((s) => `${s.service} ${s.kind} ${s.spanName} -> ${s.function ? nameOf.get(s.function) : '?'}`)
    .sort();
}

describe('gRPC spans of a polyglot system', () => {
  let dir: string;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-grpc-'));
    await writeGrpcFixture(dir);
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('finds a service per language, the C# one by its .csproj', () => {
    const langs = Object.fromEntries(doc.services.map((s) => [s.name, Object.keys(s.languages).join()]));
    assert.deepEqual(langs, { cart: 'go', email: 'csharp', inventory: 'typescript', payment: 'python', proto: '', shipping: 'java' });
    assert.deepEqual(doc.syntaxErrors, []);
  });

  it('maps every server span to its handler and every client span to the function with the stub call', () => {
    assert.deepEqual(grpcSpans(doc), [
      'cart client shop.inventory.InventoryService/CheckStock -> cartServer.AddItem',
      'cart server shop.cart.CartService/AddItem -> cartServer.AddItem',
      'cart server shop.cart.CartService/GetCart -> cartServer.GetCart',
      'cart server shop.cart.CartService/WatchCart -> cartServer.WatchCart',
      'email client shop.cart.CartService/GetCart -> EmailService.SendConfirmation',
      'email server shop.email.EmailService/SendConfirmation -> EmailService.SendConfirmation',
      'inventory client shop.payment.PaymentService/Charge -> checkStock',
      'inventory server shop.inventory.InventoryService/CheckStock -> checkStock',
      'payment client shop.shipping.ShippingService/Quote -> PaymentService.Charge',
      'payment server shop.payment.PaymentService/Charge -> PaymentService.Charge',
      'shipping client shop.email.EmailService/SendConfirmation -> ShippingServiceImpl.quote',
      'shipping server shop.shipping.ShippingService/Quote -> ShippingServiceImpl.quote',
      'shipping server shop.shipping.ShippingService/Track -> ShippingServiceImpl.track',
    ]);
  });

  it('repeats Node.js and Python records under their instrumentations\' own names (grpc.<name>, /<name>)', () => {
    const aliases = doc.spans.filter((s) => s.aliasOf !== undefined).map((s) => `${s.service} ${s.kind} ${s.spanName}`).sort();
    assert.deepEqual(aliases, [
      'inventory client grpc.shop.payment.PaymentService/Charge',
      'inventory server grpc.shop.inventory.InventoryService/CheckStock',
      'payment client /shop.shipping.ShippingService/Quote',
      'payment server /shop.payment.PaymentService/Charge',
    ]);
    for (const a of doc.spans.filter((s) => s.aliasOf !== undefined)) {
      const canonical = doc.spans.find((s) => s.spanName === a.aliasOf && s.service === a.service && s.kind === a.kind && s.aliasOf === undefined);
      assert.equal(a.function, canonical?.function, a.spanName);
    }
  });

  it('records the rpc service, method and streaming side', () => {
    const watch = doc.spans.find((s) => s.spanName === 'shop.cart.CartService/WatchCart')!;
    assert.equal(watch.rpcService, 'shop.cart.CartService');
    assert.equal(watch.rpcMethod, 'WatchCart');
    assert.equal(watch.streaming, 'server');
    assert.equal(doc.spans.find((s) => s.spanName === 'shop.shipping.ShippingService/Track')!.streaming, 'bidi');
    const server = doc.spans.find((s) => s.via === 'grpc' && s.kind === 'server' && s.service === 'cart')!;
    assert.equal(server.handlerFunction, server.function);
  });

  it('joins every stub call to the handler of its method in the serving service', () => {
    const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
    const grpc = doc.crossServiceEdges.filter((e) => e.protocol === 'grpc');
    assert.deepEqual(grpc.map((e) => `${e.fromService}:${nameOf.get(e.fromFunction!)} -> ${e.toService}:${nameOf.get(e.toFunction!)} ${e.route}`).sort(), [
      'cart:cartServer.AddItem -> inventory:checkStock shop.inventory.InventoryService/CheckStock',
      'email:EmailService.SendConfirmation -> cart:cartServer.GetCart shop.cart.CartService/GetCart',
      'inventory:checkStock -> payment:PaymentService.Charge shop.payment.PaymentService/Charge',
      'payment:PaymentService.Charge -> shipping:ShippingServiceImpl.quote shop.shipping.ShippingService/Quote',
      'shipping:ShippingServiceImpl.quote -> email:EmailService.SendConfirmation shop.email.EmailService/SendConfirmation',
    ]);
    for (const e of grpc) {
      const caller = doc.functions.find((f) => f.id === e.fromFunction)!;
      const node = caller.nodes.find((n) => n.id === e.callNode);
      assert.ok(node && node.kind === 'call', `${e.route}: the stub call's node`);
    }
    assert.equal(doc.summary.grpcClientCalls, 5);
    assert.equal(doc.summary.grpcClientCallsMatched, 5);
  });
});

describe('gRPC spans on odd input', () => {
  let dir: string;
  const put = async (rel: string, text: string): Promise<void> => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-grpc-odd-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('maps nothing without .proto files, or with an empty one, and does not fail', async () => {
    const root = join(dir, 'noproto');
    await mkdir(join(root, 'svc'), { recursive: true });
    await writeFile(join(root, 'svc', 'go.mod'), 'module x\n');
    await writeFile(join(root, 'svc', 'main.go'), 'package main\ntype s struct { pb.UnimplementedCartServiceServer }\nfunc (x *s) AddItem() {}\n');
    assert.deepEqual((await analyzeSources({ sourceDirs: [root] })).spans.filter((s) => s.via === 'grpc' && s.aliasOf === undefined), []);
    await mkdir(join(root, 'proto'), { recursive: true });
    await writeFile(join(root, 'proto', 'empty.proto'), '');
    assert.deepEqual((await analyzeSources({ sourceDirs: [root] })).spans.filter((s) => s.via === 'grpc' && s.aliasOf === undefined), []);
  });

  it('reads .proto files from --proto-dir directories outside the sources, and rejects a missing one', async () => {
    await put('apart/protos/cart.proto', 'package shop.cart;\nservice CartService { rpc AddItem (A) returns (B); }\n');
    await put('apart/src/svc/go.mod', 'module x\n');
    await put('apart/src/svc/main.go', 'package main\ntype s struct { pb.UnimplementedCartServiceServer }\nfunc (x *s) AddItem() {}\n');
    const src = join(dir, 'apart', 'src');
    assert.equal((await analyzeSources({ sourceDirs: [src] })).spans.filter((s) => s.via === 'grpc' && s.aliasOf === undefined).length, 0);
    const doc = await analyzeSources({ sourceDirs: [src], protoDirs: [join(dir, 'apart', 'protos')] });
    assert.deepEqual(doc.spans.filter((s) => s.via === 'grpc' && s.aliasOf === undefined).map((s) => s.spanName), ['shop.cart.CartService/AddItem']);
    assert.deepEqual(doc.settings.protoDirs, [join(dir, 'apart', 'protos')]);
    await assert.rejects(analyzeSources({ sourceDirs: [src], protoDirs: [join(dir, 'nope')] }), (e: unknown) => e instanceof InputError && e.message.includes('nope'));
  });

  it('leaves a call on a stub variable of unknown type unmapped, and ignores clients that are no stub', async () => {
    const root = join(dir, 'unknown');
    await put('unknown/proto/cart.proto', 'package shop.cart;\nservice CartService { rpc AddItem (A) returns (B); }\n');
    await put('unknown/svc/go.mod', 'module x\n');
    await put(
      'unknown/svc/main.go',
      `package main

func Handle(ctx context.Context, client interface{ AddItem(context.Context, any) error }, h *http.Client) {
	client.AddItem(ctx, nil)
	c := pb.NewCartServiceClient(conn)
	c.RemoveItem(ctx, nil)
	h.Do(req)
	other := NewHttpClient()
	other.AddItem(ctx, nil)
}

func Direct(ctx context.Context) {
	pb.NewCartServiceClient(conn).AddItem(ctx, nil)
}
`,
    );
    await put('unknown/web/package.json', '{}\n');
    await put('unknown/web/index.ts', "const cart = new Map();\ncart.addItem(1);\nconst real = new CartServiceClient('cart:50051', creds);\nexport function add() { return real.addItem({}, () => undefined); }\n");
    const doc = await analyzeSources({ sourceDirs: [root] });
    const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
    const spans = doc.spans.filter((s) => s.via === 'grpc' && s.aliasOf === undefined).map((s: AnalysisSpan) => `${s.service} ${s.spanName} -> ${nameOf.get(s.function!)}`);
    assert.deepEqual(spans.sort(), ['svc shop.cart.CartService/AddItem -> Direct', 'web shop.cart.CartService/AddItem -> add']);
    assert.equal(doc.summary.grpcClientCallsMatched, 0, 'no handler is analyzed');
  });

  it('follows stubs injected through constructors and typed parameters, and Go servers made by a constructor function', async () => {
    await put('inject/proto/cart.proto', 'package shop.cart;\nservice CartService { rpc GetCart (A) returns (B); }\n');
    await put('inject/proto/checkout.proto', 'package shop.checkout;\nservice CheckoutService { rpc PlaceOrder (A) returns (B); }\n');
    await put('inject/py/requirements.txt', 'grpcio\n');
    await put('inject/py/service.py', 'import checkout_pb2_grpc\n\nclass Checkout(checkout_pb2_grpc.CheckoutServiceServicer):\n    def __init__(self, cart):\n        self.cart = cart\n\n    def PlaceOrder(self, request, context):\n        return self.cart.GetCart(request)\n');
    await put('inject/py/server.py', 'import grpc\nimport cart_pb2_grpc\nfrom service import Checkout\n\ndef serve():\n    cart_stub = cart_pb2_grpc.CartServiceStub(grpc.insecure_channel("cart:50051"))\n    return Checkout(cart_stub)\n');
    await put('inject/ts/package.json', '{}\n');
    await put('inject/ts/checkout.ts', "export class Checkout {\n  constructor(private readonly cart: CartServiceClient) {}\n  place(): void {\n    this.cart.getCart({}, () => undefined);\n  }\n}\n");
    await put('inject/go/go.mod', 'module x\n');
    await put('inject/node/package.json', '{}\n');
    await put('inject/node/server.ts', "class CartServer {\n  getCart(call: any, callback: any) { callback(null, {}); }\n  helper() {}\n}\nconst server = new grpc.Server();\nserver.addService(CartServiceService, new CartServer());\n");
    await put('inject/go2/go.mod', 'module y\n');
    await put('inject/go2/main.go', 'package main\n\ntype checkout struct{}\n\nfunc newCheckout() *checkout { return &checkout{} }\n\nfunc (c *checkout) PlaceOrder(ctx context.Context, r *pb.A) (*pb.B, error) { return nil, nil }\n\nfunc main() {\n\tsrv := newCheckout()\n\tpb.RegisterCheckoutServiceServer(s, srv)\n}\n');
    await put('inject/go/main.go', 'package main\n\ntype cart struct{ db *sql.DB }\n\nfunc newCart(db *sql.DB) *cart { return &cart{db: db} }\n\nfunc (c *cart) GetCart(ctx context.Context, r *pb.A) (*pb.B, error) { return nil, nil }\n\nfunc main() {\n\tpb.RegisterCartServiceServer(s, newCart(db))\n}\n');
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'inject')] });
    const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
    const spans = doc.spans.filter((s) => s.via === 'grpc' && s.aliasOf === undefined).map((s) => `${s.service} ${s.kind} ${s.spanName} -> ${nameOf.get(s.function!)}`);
    assert.deepEqual(spans.sort(), [
      'go server shop.cart.CartService/GetCart -> cart.GetCart',
      'go2 server shop.checkout.CheckoutService/PlaceOrder -> checkout.PlaceOrder',
      'node server shop.cart.CartService/GetCart -> CartServer.getCart',
      'py client shop.cart.CartService/GetCart -> Checkout.PlaceOrder',
      'py server shop.checkout.CheckoutService/PlaceOrder -> Checkout.PlaceOrder',
      'ts client shop.cart.CartService/GetCart -> Checkout.place',
    ]);
  });

  it('maps a streaming rpc served by Python and Node.js handlers written as methods and inline functions', async () => {
    const root = join(dir, 'stream');
    await put('stream/proto/chat.proto', 'syntax = "proto3";\npackage chat.v1;\nservice Chat {\n  rpc Talk (stream Msg) returns (stream Msg);\n  rpc Say (Msg) returns (Ack);\n}\n');
    await put('stream/py/requirements.txt', 'grpcio\n');
    await put('stream/py/chat.py', 'import chat_pb2_grpc\n\nclass Chat(chat_pb2_grpc.ChatServicer):\n    def Talk(self, request_iterator, context):\n        for m in request_iterator:\n            yield m\n\n    def helper(self):\n        pass\n');
    await put(
      'stream/node/package.json',
      '{}\n',
    );
    await put(
      'stream/node/server.js',
      "const grpc = require('@grpc/grpc-js');\nconst impl = {\n  talk(call) { call.on('data', (m) => call.write(m)); },\n  Say: async (call, callback) => { callback(null, {}); },\n};\nconst server = new grpc.Server();\nserver.addService(chatProto.chat.v1.Chat.service, impl);\n",
    );
    const doc = await analyzeSources({ sourceDirs: [root] });
    const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
    const spans = doc.spans.filter((s) => s.via === 'grpc' && s.aliasOf === undefined).map((s) => `${s.service} ${s.spanName} ${s.streaming ?? 'unary'} -> ${nameOf.get(s.function!)}`);
    assert.deepEqual(spans.sort(), ['node chat.v1.Chat/Say unary -> Say', 'node chat.v1.Chat/Talk bidi -> talk', 'py chat.v1.Chat/Talk bidi -> Chat.Talk']);
  });
});
