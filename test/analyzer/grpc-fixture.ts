// A small hand-written polyglot gRPC system for the analyzer's tests: one .proto per service under a
// shared proto/ folder, and a server and a client in each of Go, Node.js (TypeScript), Python, Java
// and C#, written the way the grpc libraries' own examples write them.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const GRPC_FIXTURE: Record<string, string> = {
  'proto/cart.proto': `syntax = "proto3";
// A comment that mentions service Fake { rpc Nope (A) returns (B); }
package shop.cart;
option go_package = "example.com/shop/cart;cartpb";

message AddItemRequest { string user_id = 1; string product_id = 2; }
message AddItemResponse { bool ok = 1; }

service CartService {
  /* rpc Commented (A) returns (B); */
  rpc AddItem (AddItemRequest) returns (AddItemResponse);
  rpc GetCart (GetCartRequest) returns (Cart) {
    option (google.api.http) = { get: "/v1/cart/{user_id}" };
  }
  rpc WatchCart (GetCartRequest) returns (stream Cart);
}
`,
  'proto/inventory.proto': `syntax = "proto3";
package shop.inventory;
service InventoryService {
  rpc CheckStock (CheckStockRequest) returns (CheckStockResponse);
}
`,
  'proto/payment.proto': 'syntax = "proto3";\npackage shop.payment;\nservice PaymentService {\n  rpc Charge (ChargeRequest) returns (ChargeResponse);\n}\n',
  'proto/shipping.proto': 'syntax = "proto3";\npackage shop.shipping;\nservice ShippingService {\n  rpc Quote (QuoteRequest) returns (QuoteResponse);\n  rpc Track (stream TrackRequest) returns (stream TrackEvent);\n}\n',
  'proto/email.proto': 'syntax = "proto3";\npackage shop.email;\nservice EmailService {\n  rpc SendConfirmation (SendRequest) returns (SendResponse);\n}\n',
  'proto/empty.proto': '',

  // Go: the cart service. Server through the embedded Unimplemented type, a client held in a struct field.
  'cart/go.mod': 'module example.com/shop/cart\n',
  'cart/server.go': `package main

import (
	"context"
	"database/sql"

	"github.com/redis/go-redis/v9"
	pb "example.com/shop/cart/cartpb"
	invpb "example.com/shop/inventory/inventorypb"
)

type cartServer struct {
	pb.UnimplementedCartServiceServer
	db        *sql.DB
	rdb       *redis.Client
	inventory invpb.InventoryServiceClient
}

func (s *cartServer) AddItem(ctx context.Context, req *pb.AddItemRequest) (*pb.AddItemResponse, error) {
	stock, err := s.inventory.CheckStock(ctx, &invpb.CheckStockRequest{ProductId: req.ProductId})
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO cart_items (user_id, product_id) VALUES ($1, $2)", req.UserId, req.ProductId); err != nil {
		return nil, err
	}
	s.rdb.Del(ctx, "cart:"+req.UserId)
	_ = stock
	return &pb.AddItemResponse{Ok: true}, nil
}

func (s *cartServer) GetCart(ctx context.Context, req *pb.GetCartRequest) (*pb.Cart, error) {
	if v, err := s.rdb.Get(ctx, "cart:"+req.UserId).Result(); err == nil {
		return decode(v), nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT product_id FROM cart_items WHERE user_id = $1", req.UserId)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scan(rows), nil
}

func (s *cartServer) WatchCart(req *pb.GetCartRequest, stream pb.CartService_WatchCartServer) error {
	return nil
}

func (s *cartServer) helper() {}
`,
  'cart/main.go': `package main

import (
	"google.golang.org/grpc"
	pb "example.com/shop/cart/cartpb"
	invpb "example.com/shop/inventory/inventorypb"
)

func main() {
	conn, _ := grpc.NewClient("inventory:50051")
	srv := grpc.NewServer()
	pb.RegisterCartServiceServer(srv, &cartServer{inventory: invpb.NewInventoryServiceClient(conn)})
	srv.Serve(lis)
}
`,

  // Node.js (TypeScript): the inventory service. Handlers bound in addService, a dynamic client.
  'inventory/package.json': '{ "name": "inventory" }\n',
  'inventory/src/server.ts': `import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { checkStock } from './handlers.js';

const proto = grpc.loadPackageDefinition(protoLoader.loadSync('proto/inventory.proto')) as any;
const server = new grpc.Server();
server.addService(proto.shop.inventory.InventoryService.service, {
  checkStock: checkStock,
});
server.bindAsync('0.0.0.0:50051', grpc.ServerCredentials.createInsecure(), () => server.start());
`,
  'inventory/src/handlers.ts': `import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import pg from 'pg';

const packages = grpc.loadPackageDefinition(def) as any;
export const paymentClient = new packages.shop.payment.PaymentService('payment:50051', grpc.credentials.createInsecure());
const db = new pg.Pool({ host: 'db', database: 'inventorydb' });
const redis = new Redis({ host: 'cache' });

export async function checkStock(call: any, callback: any): Promise<void> {
  const cached = await redis.get('stock:' + call.request.productId);
  if (cached) return callback(null, { available: Number(cached) });
  const rows = await db.query('SELECT qty FROM stock WHERE product_id = $1', [call.request.productId]);
  paymentClient.Charge({ amount: 0 }, () => undefined);
  callback(null, { available: rows.rows[0].qty });
}
`,

  // Python: the payment service. A Servicer subclass, a stub for the shipping service.
  'payment/requirements.txt': 'grpcio\n',
  'payment/server.py': `import grpc
import psycopg2
import redis
import payment_pb2_grpc
import shipping_pb2
import shipping_pb2_grpc


class PaymentService(payment_pb2_grpc.PaymentServiceServicer):
    def __init__(self, channel):
        self.shipping = shipping_pb2_grpc.ShippingServiceStub(channel)
        self.conn = psycopg2.connect(dbname="payments")
        self.cache = redis.Redis(host="cache")

    def Charge(self, request, context):
        cur = self.conn.cursor()
        cur.execute("INSERT INTO charges (amount) VALUES (%s)", (request.amount,))
        self.cache.set("last", request.amount)
        try:
            quote = self.shipping.Quote(shipping_pb2.QuoteRequest(order_id=request.order_id))
        except grpc.RpcError:
            quote = None
        return quote


def serve():
    server = grpc.server(None)
    payment_pb2_grpc.add_PaymentServiceServicer_to_server(PaymentService(grpc.insecure_channel("shipping:50051")), server)
    server.start()
`,

  // Java: the shipping service. ImplBase subclass, a blocking stub for the email service.
  'shipping/pom.xml': '<project><artifactId>shipping</artifactId></project>\n',
  'shipping/src/main/java/shop/ShippingServiceImpl.java': `package shop;

import io.grpc.stub.StreamObserver;

public class ShippingServiceImpl extends ShippingServiceGrpc.ShippingServiceImplBase {
  private final EmailServiceGrpc.EmailServiceBlockingStub email;

  public ShippingServiceImpl(io.grpc.Channel channel) {
    this.email = EmailServiceGrpc.newBlockingStub(channel);
  }

  @Override
  public void quote(QuoteRequest request, StreamObserver<QuoteResponse> responseObserver) {
    if (request.getExpress()) {
      email.sendConfirmation(SendRequest.newBuilder().build());
    }
    responseObserver.onNext(QuoteResponse.newBuilder().build());
    responseObserver.onCompleted();
  }

  @Override
  public StreamObserver<TrackRequest> track(StreamObserver<TrackEvent> responseObserver) {
    return null;
  }
}
`,

  // C#: the email service. CartServiceBase-style base class, a client for the cart service.
  'email/Email.csproj': '<Project Sdk="Microsoft.NET.Sdk.Web"></Project>\n',
  'email/Services/EmailService.cs': `using Grpc.Core;
using StackExchange.Redis;

namespace Shop.Email;

public class EmailService : Shop.Email.EmailService.EmailServiceBase
{
    private readonly CartService.CartServiceClient _cart;
    private readonly IDatabase _redis;
    private readonly ILogger<EmailService> _logger;

    public EmailService(CartService.CartServiceClient cart, IConnectionMultiplexer mux, ILogger<EmailService> logger)
    {
        _cart = cart;
        _redis = mux.GetDatabase();
        _logger = logger;
    }

    public override async Task<SendResponse> SendConfirmation(SendRequest request, ServerCallContext context)
    {
        var seen = await _redis.StringGetAsync("sent:" + request.OrderId);
        if (seen.HasValue)
        {
            return new SendResponse();
        }
        try
        {
            var cart = await _cart.GetCartAsync(new GetCartRequest { UserId = request.UserId });
            await Render(cart);
        }
        catch (RpcException ex)
        {
            _logger.LogWarning(ex, "no cart");
        }
        return new SendResponse();
    }

    private Task Render(Cart cart) => Task.CompletedTask;
}
`,
  'email/Program.cs': `var builder = WebApplication.CreateBuilder(args);
builder.Services.AddGrpc();
var app = builder.Build();
app.MapGrpcService<EmailService>();
app.Run();
`,
};

/** Writes the fixture under `dir`. */
export async function writeGrpcFixture(dir: string): Promise<void> {
  for (const [rel, text] of Object.entries(GRPC_FIXTURE)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
}
