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
  });
  after(() => rm(dir, { recursive: true, force: true }));

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
