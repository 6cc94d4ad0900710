// Database and cache client spans by the OpenTelemetry instrumentation libraries' names, mapped to
// the function with the call site, on the polyglot fixture (Go, Node.js, Python, C#) and on small
// per-language snippets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis } from '../../src/analyzer/analyze.js';
import { mongoCommandOf, sqlParts } from '../../src/analyzer/span-map-db.js';
import { writeGrpcFixture } from './grpc-fixture.js';

const dbSpans = (doc: Analysis, service?: string): string[] => {
  const nameOf = new Map(doc.functions.map((f) => [f.id, f.name]));
  return doc.spans
    .filter((s) => s.via === 'database' && (service === undefined || s.service === service))
    .map((s) => `${s.service} ${s.spanName} -> ${s.function ? nameOf.get(s.function) : '?'}`)
    .sort();
};

describe('sqlParts and mongoCommandOf', () => {
  it('read the verb and table of a statement', () => {
    assert.deepEqual(sqlParts('select qty from stock where id = $1'), { verb: 'SELECT', table: 'stock' });
    assert.deepEqual(sqlParts('INSERT INTO orders (id) VALUES (?)'), { verb: 'INSERT', table: 'orders' });
    assert.deepEqual(sqlParts('UPDATE shop.carts SET x = 1'), { verb: 'UPDATE', table: 'shop.carts' });
    assert.deepEqual(sqlParts(undefined), {});
    assert.deepEqual(sqlParts(''), {});
  });
  it('name driver methods by the wire command', () => {
    assert.equal(mongoCommandOf('findOne'), 'find');
    assert.equal(mongoCommandOf('FindOneAsync'), 'find');
    assert.equal(mongoCommandOf('insertMany'), 'insert');
    assert.equal(mongoCommandOf('replaceOne'), 'update');
    assert.equal(mongoCommandOf('findOneAndUpdate'), 'findAndModify');
    assert.equal(mongoCommandOf('countDocuments'), 'aggregate');
    assert.equal(mongoCommandOf('watch'), undefined);
  });
});

describe('database and cache spans of the polyglot fixture', () => {
  let dir: string;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-db-'));
    await writeGrpcFixture(dir);
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('maps each query and command to the function that runs it, named as each library names it', () => {
    assert.deepEqual(dbSpans(doc), [
      'cart del -> cartServer.AddItem',
      'cart get -> cartServer.GetCart',
      'cart sql.conn.exec -> cartServer.AddItem',
      'cart sql.conn.query -> cartServer.GetCart',
      'email GET -> EmailService.SendConfirmation',
      'inventory get -> checkStock',
      'inventory pg.query:SELECT inventorydb -> checkStock',
      'payment INSERT -> PaymentService.Charge',
      'payment SET -> PaymentService.Charge',
    ]);
    const pg = doc.spans.find((s) => s.spanName.startsWith('pg.query'))!;
    assert.equal(pg.kind, 'client');
    assert.equal(pg.dbSystem, 'postgresql');
    assert.equal(pg.library, 'pg');
  });
});

describe('database and cache spans per language', () => {
  let dir: string;
  const put = async (rel: string, text: string): Promise<void> => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-db-lang-'));
    await put(
      'go/go.mod',
      'module x\n',
    );
    await put(
      'go/store.go',
      `package main

type Store struct {
	orders *mongo.Collection
	cache  *redis.Client
}

func NewStore(client *mongo.Client) *Store {
	return &Store{orders: client.Database("shop").Collection("orders"), cache: redis.NewClient(&redis.Options{})}
}

func (s *Store) Find(ctx context.Context, id string) error {
	db, err := otelsql.Open("postgres", "host=db dbname=shop")
	tx, _ := db.BeginTx(ctx, nil)
	tx.ExecContext(ctx, "UPDATE orders SET x = 1")
	tx.Commit()
	s.orders.FindOne(ctx, bson.M{"_id": id})
	s.cache.HGet(ctx, "k", "f")
	s.cache.Close()
	notADb.QueryContext(ctx, "SELECT 1")
	return err
}
`,
    );
    await put('node/package.json', '{}\n');
    await put(
      'node/store.ts',
      `import { MongoClient } from 'mongodb';
import Redis from 'ioredis';
const client = new MongoClient(url);
const mongo = client.db('shop');
const products = mongo.collection('products');
const redis = new Redis();
export async function list(category: string) {
  await redis.hgetall('cat:' + category);
  await redis.quit();
  await products.find({ category }).toArray();
  return mongo.collection('products').insertOne({ category });
}
`,
    );
    await put('py/requirements.txt', 'pymongo\n');
    await put(
      'py/store.py',
      `import pymongo
import asyncpg

client = pymongo.MongoClient("mongodb://mongo")
db = client["shop"]
orders = db["orders"]


async def load(order_id):
    conn = await asyncpg.connect(dsn)
    row = await conn.fetchrow("SELECT * FROM orders WHERE id = $1", order_id)
    orders.find_one({"_id": order_id})
    db.audit.insert_one({"id": order_id})
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM carts WHERE id = {order_id}")
    return row
`,
    );
    await put('cs/Store.csproj', '<Project/>\n');
    await put(
      'cs/Store.cs',
      `public class Store
{
    private readonly NpgsqlDataSource _ds;
    private readonly IDatabase _cache;

    public async Task<int> Count(string id)
    {
        await using var conn = await _ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM orders", conn);
        var n = await cmd.ExecuteScalarAsync();
        await _cache.KeyDeleteAsync("orders:" + id);
        await _cache.HashGetAllAsync("h");
        var rows = await conn.QueryAsync<Order>("SELECT * FROM orders");
        return 0;
    }
}
`,
    );
    // Python wiring that makes the clients and injects them through a constructor.
    await put('pyinj/requirements.txt', 'redis\n');
    await put(
      'pyinj/service.py',
      'class Catalog:\n    def __init__(self, cursor, redis):\n        self.cursor = cursor\n        self.redis = redis\n\n    def get(self, pid):\n        if self.redis.get(f"p:{pid}") is None:\n            self.cursor.execute("SELECT * FROM products WHERE id = %s", (pid,))\n            self.redis.set(f"p:{pid}", "x")\n',
    );
    await put(
      'pyinj/server.py',
      'import psycopg\nimport redis\nfrom service import Catalog\n\ndef serve():\n    cur = psycopg.connect("postgresql://db:5432/catalog").cursor()\n    cache = redis.Redis(host="cache")\n    return Catalog(cur, cache)\n',
    );
    await put('java/pom.xml', '<project><artifactId>java</artifactId></project>\n');
    await put(
      'java/src/main/java/shop/Orders.java',
      `package shop;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;

public class Orders {
  private final JdbcTemplate jdbc;
  private final Jedis jedis;
  private final HttpClient http;

  public Orders(JdbcTemplate jdbc, Jedis jedis, HttpClient http) {
    this.jdbc = jdbc;
    this.jedis = jedis;
    this.http = http;
  }

  public void place(String id) throws Exception {
    Span span = tracer.spanBuilder("placeOrder").startSpan();
    if (jedis.get("order:" + id) == null) {
      jdbc.update("INSERT INTO orders (id) VALUES (?)", id);
    }
    jdbc.queryForList("SELECT * FROM coupons WHERE id = ?", id);
    http.send(HttpRequest.newBuilder(URI.create("https://carrier.example/v1/shipments")).POST(HttpRequest.BodyPublishers.noBody()).build(), null);
  }
}
`,
    );
    await put('java/src/main/resources/application.properties', 'spring.datasource.url=jdbc:postgresql://orders-db:5432/orders?sslmode=disable\n');

  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('Python: clients made in the wiring code and passed to a constructor bind the attributes it sets', async () => {
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'pyinj')] });
    assert.deepEqual(dbSpans(doc), ['pyinj GET -> Catalog.get', 'pyinj SELECT -> Catalog.get', 'pyinj SET -> Catalog.get']);
  });

  it('Java: JDBC `<VERB> <db>.<table>`, Jedis commands, java.net.http client calls by their verb, spanBuilder manual spans', async () => {
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'java')] });
    assert.deepEqual(dbSpans(doc), ['java GET -> Orders.place', 'java INSERT orders.orders -> Orders.place', 'java SELECT orders.coupons -> Orders.place']);
    assert.deepEqual(doc.spans.filter((s) => s.via === 'manual-span').map((s) => s.spanName), ['placeOrder']);
    const http = doc.spans.filter((s) => s.via === 'http-client');
    assert.deepEqual(http.map((s) => `${s.spanName} ${s.url}`), ['POST https://carrier.example/v1/shipments']);
  });

  it('Go: otelsql, redisotel and otelmongo names; a receiver that is no client is not mapped', async () => {
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'go')] });
    assert.deepEqual(dbSpans(doc), ['go hget -> Store.Find', 'go orders.find -> Store.Find', 'go sql.conn.begin_tx -> Store.Find', 'go sql.conn.exec -> Store.Find', 'go sql.tx.commit -> Store.Find']);
  });

  it('Node.js: ioredis commands and mongodb wire commands', async () => {
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'node')] });
    assert.deepEqual(dbSpans(doc), ['node hgetall -> list', 'node mongodb.find -> list', 'node mongodb.insert -> list']);
  });

  it('Python: DB-API statement verbs and pymongo <db>.<collection>.<command>', async () => {
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'py')] });
    assert.deepEqual(dbSpans(doc), ['py DELETE -> load', 'py SELECT -> load', 'py shop.audit.insert -> load', 'py shop.orders.find -> load']);
  });

  it('C#: StackExchange.Redis commands and Npgsql statements (named by the statement without a configured database)', async () => {
    const doc = await analyzeSources({ sourceDirs: [join(dir, 'cs')] });
    assert.deepEqual(dbSpans(doc), ['cs DEL -> Store.Count', 'cs HGETALL -> Store.Count', 'cs SELECT orders -> Store.Count']);
  });
});
