// Database and cache client spans (issue 14, item 4): the OpenTelemetry instrumentation libraries of
// Go, Node.js, Python, C# and Java name the CLIENT span of every query or command; this module maps
// each such name to the function whose call site runs the query. Names per library (as the
// instrumentations write them, and as the generator's naming.ts has them):
//  - Go: database/sql through XSAM/otelsql `sql.conn.query` (Query*/QueryRow*), `sql.conn.exec`,
//    `sql.conn.ping`, `sql.conn.begin_tx`, `sql.conn.prepare`, `sql.stmt.query|exec`,
//    `sql.tx.commit|rollback`; go-redis (redisotel) the command in lower case (`get`, `hset`);
//    mongo-driver (otelmongo) `<collection>.<command>` (`orders.find`).
//  - Node.js: pg `pg.query:<VERB> <database>`; ioredis/node-redis the command in lower case;
//    mongodb `mongodb.<command>`.
//  - Python: DB-API (psycopg, psycopg2, asyncpg) the statement's first word (`SELECT`); redis-py the
//    command in upper case (`GET`); pymongo `<database>.<collection>.<command>`.
//  - C#: Npgsql/SqlClient the database name; StackExchange.Redis the command in upper case; the
//    MongoDB driver `<collection>.<command>`.
//  - Java (the agent): JDBC `<VERB> <database>.<table>`; Jedis/Lettuce the command in upper case.
// A MongoDB driver method is named by the wire command it sends (findOne is a `find`, insertMany an
// `insert`). Clients are recognised by how they are made or declared (`sql.Open`, `*sql.DB`,
// `redis.NewClient`, `new pg.Pool`, `new Redis`, `redis.Redis(...)`, `.cursor()`, `IDatabase`,
// `new NpgsqlCommand(sql, conn)`, `JdbcTemplate`, `Jedis`), read from the source text with small
// patterns, like the gRPC stubs in span-map-grpc.ts; a call on a receiver that is none of these is
// not mapped.
import type { CallSite } from './cscfg.js';
import { callSites } from './cscfg.js';
import type { CSharpFileCscfg, CSharpFunction } from './csharp.js';
import type { JavaFileCscfg, JavaFunction } from './java.js';
import type { FileCscfg } from './typescript.js';

export type DbClientKind = 'sql' | 'sql-tx' | 'sql-stmt' | 'redis' | 'mongo-collection' | 'mongo-database' | 'cursor' | 'sql-command' | 'jdbc-template' | 'jdbc-statement';

export interface DbBinding {
  kind: DbClientKind;
  /** Mongo collections: the collection's name, when the code names it with a literal. */
  collection?: string;
  /** Mongo databases (Python): the database's name. */
  database?: string;
}

/** What one file says about its database and cache clients. */
/** Python constructor injection facts of a file (see `DbFileFacts.injection`). */
export type PythonInjection = NonNullable<DbFileFacts['injection']>;

export interface DbFileFacts {
  file: string;
  /** Variable/field name -> client. */
  bindings: Map<string, DbBinding>;
  /** Database names the file configures (`database: 'shop'`, `dbname=shop`, `Database=shop`, `jdbc:postgresql://h/shop`). */
  databases: string[];
  /**
   * Python constructor injection: each class's `__init__` parameters and the attributes it sets from
   * them (`self.redis = redis`), and the classes constructed here with identifier arguments
   * (`CatalogService(cursor, cache)`), so a client made in the wiring code binds the attribute.
   */
  injection?: { params: Map<string, string[]>; attributes: Map<string, Map<string, string>>; constructions: { cls: string; args: string[] }[] };
}

export interface DbSpan {
  spanName: string;
  functionName: string;
  functionLine: number;
  file: string;
  line: number;
  target: string;
  dbSystem: string;
  library: string;
}

const MAYBE_DB = /sql|SQL|Sql|redis|Redis|mongo|Mongo|cursor|Database|Pool|Jdbc|Jedis|Npgsql|database|collection|Collection/;

const IDENT = String.raw`[A-Za-z_$][\w$]*`;

/** The SQL statement's verb (`SELECT`) and table (`orders`, after FROM/INTO/UPDATE), where a literal gives them. */
export function sqlParts(sql: string | undefined): { verb?: string; table?: string } {
  if (!sql) return {};
  const verb = /^\s*\(?\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase();
  const table = /\b(?:FROM|INTO|UPDATE|JOIN)\s+["`]?([A-Za-z_][\w.]*)/i.exec(sql)?.[1];
  return { ...(verb ? { verb } : {}), ...(table ? { table } : {}) };
}

/** The MongoDB wire command a driver method sends, or undefined for methods that send none. */
export function mongoCommandOf(method: string): string | undefined {
  const m = method.replace(/Async$/, '');
  if (/^findOneAnd|^FindOneAnd|^find_one_and/.test(m)) return 'findAndModify';
  const w = /^(find|insert|update|delete|replace|count|aggregate|distinct|estimated|bulk)/i.exec(m)?.[1]?.toLowerCase();
  switch (w) {
    case 'find':
    case 'insert':
    case 'update':
    case 'delete':
    case 'aggregate':
    case 'distinct':
      return w;
    case 'replace':
      return 'update';
    case 'count':
      // countDocuments runs an aggregation; the legacy count is `count`.
      return /documents/i.test(m) ? 'aggregate' : 'count';
    case 'estimated':
      return 'count';
    case 'bulk':
      return undefined;
    default:
      return undefined;
  }
}

/** Methods of Redis clients that send no command (connection handling, pipelines, hooks). */
const REDIS_NON_COMMANDS = new Set([
  'close', 'quit', 'disconnect', 'connect', 'on', 'once', 'off', 'duplicate', 'pipeline', 'pipelined', 'multi', 'txpipeline', 'txpipelined',
  'addhook', 'options', 'conn', 'context', 'withcontext', 'poolstats', 'subscribe', 'psubscribe', 'pubsub', 'lock', 'defineCommand', 'process',
  'result', 'val', 'err', 'scan_iter', 'register_script', 'getdatabase', 'getserver', 'getsubscriber', 'wait', 'ping_async',
].map((s) => s.toLowerCase()));

/** StackExchange.Redis `IDatabase` methods -> the command each sends. */
const STACKEXCHANGE_COMMANDS: ReadonlyMap<string, string> = new Map([
  ['StringGet', 'GET'], ['StringSet', 'SET'], ['StringGetSet', 'GETSET'], ['StringIncrement', 'INCRBY'], ['StringDecrement', 'DECRBY'], ['StringAppend', 'APPEND'],
  ['KeyDelete', 'DEL'], ['KeyExists', 'EXISTS'], ['KeyExpire', 'EXPIRE'], ['KeyTimeToLive', 'TTL'],
  ['HashGet', 'HGET'], ['HashSet', 'HSET'], ['HashGetAll', 'HGETALL'], ['HashDelete', 'HDEL'], ['HashIncrement', 'HINCRBY'], ['HashExists', 'HEXISTS'],
  ['ListLeftPush', 'LPUSH'], ['ListRightPush', 'RPUSH'], ['ListLeftPop', 'LPOP'], ['ListRightPop', 'RPOP'], ['ListRange', 'LRANGE'], ['ListLength', 'LLEN'],
  ['SetAdd', 'SADD'], ['SetRemove', 'SREM'], ['SetMembers', 'SMEMBERS'], ['SetContains', 'SISMEMBER'],
  ['SortedSetAdd', 'ZADD'], ['SortedSetRangeByRank', 'ZRANGE'], ['SortedSetRemove', 'ZREM'], ['SortedSetScore', 'ZSCORE'],
  ['Publish', 'PUBLISH'], ['Execute', 'EXECUTE'],
]);

/** Go database/sql methods -> otelsql span name, per receiver kind. */
function goSqlName(kind: DbClientKind, method: string): string | undefined {
  const m = method.replace(/Context$/, '');
  if (kind === 'sql-stmt') return m === 'Query' || m === 'QueryRow' ? 'sql.stmt.query' : m === 'Exec' ? 'sql.stmt.exec' : undefined;
  if (kind === 'sql-tx' && (m === 'Commit' || m === 'Rollback')) return `sql.tx.${m.toLowerCase()}`;
  switch (m) {
    case 'Query':
    case 'QueryRow':
      return 'sql.conn.query';
    case 'Exec':
      return 'sql.conn.exec';
    case 'Ping':
      return kind === 'sql-tx' ? undefined : 'sql.conn.ping';
    case 'Begin':
    case 'BeginTx':
      return 'sql.conn.begin_tx';
    case 'Prepare':
      return 'sql.conn.prepare';
    default:
      return undefined;
  }
}

/** Reads the database and cache client bindings of one file. */
export function dbFileFacts(fc: FileCscfg, source: string): DbFileFacts {
  const facts: DbFileFacts = { file: fc.file, bindings: new Map(), databases: [] };
  if (!MAYBE_DB.test(source)) return facts;
  const bind = (name: string | undefined, b: DbBinding): void => {
    if (name && !facts.bindings.has(name)) facts.bindings.set(name, b);
  };
  const each = (re: RegExp, f: (m: RegExpMatchArray) => void): void => {
    for (const m of source.matchAll(re)) f(m);
  };
  switch (fc.language) {
    case 'go':
      each(new RegExp(String.raw`\b(${IDENT})\s+\*?(?:sql|sqlx)\.(DB|Tx|Conn|Stmt)\b`, 'g'), (m) => bind(m[1], { kind: m[2] === 'Tx' ? 'sql-tx' : m[2] === 'Stmt' ? 'sql-stmt' : 'sql' }));
      each(new RegExp(String.raw`\b(${IDENT})\s*(?:,\s*${IDENT}\s*)?:?=\s*(?:otelsql|sql|sqlx)\.(?:Open|OpenDB|Connect|MustConnect)\s*\(`, 'g'), (m) => bind(m[1], { kind: 'sql' }));
      each(new RegExp(String.raw`\b(${IDENT})\s*(?:,\s*${IDENT}\s*)?:?=\s*[\w.]+\.(?:BeginTx|Begin)\s*\(`, 'g'), (m) => bind(m[1], { kind: 'sql-tx' }));
      each(new RegExp(String.raw`\b(${IDENT})\s*(?:,\s*${IDENT}\s*)?:?=\s*[\w.]+\.(?:PrepareContext|Prepare)\s*\(`, 'g'), (m) => bind(m[1], { kind: 'sql-stmt' }));
      each(new RegExp(String.raw`\b(${IDENT})\s+\*?redis\.(?:Client|ClusterClient|UniversalClient|Ring|Cmdable)\b`, 'g'), (m) => bind(m[1], { kind: 'redis' }));
      each(new RegExp(String.raw`\b(${IDENT})\s*(?::=|=|:)\s*redis\.New(?:Client|ClusterClient|UniversalClient|Ring|FailoverClient)\s*\(`, 'g'), (m) => bind(m[1], { kind: 'redis' }));
      each(new RegExp(String.raw`\b(${IDENT})\s*(?::=|=|:)\s*[\w.()"]*?\.Collection\s*\(\s*"([^"]+)"`, 'g'), (m) => bind(m[1], { kind: 'mongo-collection', collection: m[2]! }));
      each(new RegExp(String.raw`\b(${IDENT})\s+\*mongo\.Collection\b`, 'g'), (m) => bind(m[1], { kind: 'mongo-collection' }));
      each(/\bdbname=(\w+)/g, (m) => facts.databases.push(m[1]!));
      each(/postgres(?:ql)?:\/\/[^/"'\s]*\/(\w+)/g, (m) => facts.databases.push(m[1]!));
      break;
    case 'python':
      each(new RegExp(String.raw`(?:\bself\.)?\b(${IDENT})\s*=\s*(?:await\s+)?[\w.]*\.cursor\s*\(`, 'g'), (m) => bind(m[1], { kind: 'cursor' }));
      each(new RegExp(String.raw`\.cursor\s*\([^)]*\)\s+as\s+(${IDENT})`, 'g'), (m) => bind(m[1], { kind: 'cursor' }));
      each(new RegExp(String.raw`(?:\bself\.)?\b(${IDENT})\s*=\s*(?:await\s+)?(?:psycopg2?|asyncpg|sqlite3|pymysql|mysql\.connector)\.(?:connect|create_pool)\s*\(`, 'g'), (m) => bind(m[1], { kind: 'sql' }));
      each(new RegExp(String.raw`(?:\bself\.)?\b(${IDENT})\s*=\s*(?:redis\.)?(?:Redis|StrictRedis|from_url|RedisCluster)\s*[.(]`, 'g'), (m) => bind(m[1], { kind: 'redis' }));
      each(new RegExp(String.raw`(?:\bself\.)?\b(${IDENT})\s*=\s*(?:redis\.)?Redis\.from_url\s*\(`, 'g'), (m) => bind(m[1], { kind: 'redis' }));
      // pymongo: `db = client["shop"]` / `client.get_database("shop")`, `orders = db["orders"]` / `db.orders`.
      each(new RegExp(String.raw`(?:\bself\.)?\b(${IDENT})\s*=\s*[\w.]+(?:\[\s*["'](\w+)["']\s*\]|\.get_database\s*\(\s*["'](\w+)["']\s*\))\s*$`, 'gm'), (m) => {
        const rhs = m[0];
        if (/MongoClient|client|mongo/i.test(rhs)) bind(m[1], { kind: 'mongo-database', database: (m[2] ?? m[3])! });
      });
      each(new RegExp(String.raw`(?:\bself\.)?\b(${IDENT})\s*=\s*(?:self\.)?(${IDENT})(?:\[\s*["'](\w+)["']\s*\]|\.get_collection\s*\(\s*["'](\w+)["']\s*\))\s*$`, 'gm'), (m) => {
        const db = facts.bindings.get(m[2]!);
        if (db?.kind === 'mongo-database') bind(m[1], { kind: 'mongo-collection', collection: (m[3] ?? m[4])!, ...(db.database ? { database: db.database } : {}) });
      });
      each(/\b(?:dbname|database)\s*=\s*["'](\w+)["']/g, (m) => facts.databases.push(m[1]!));
      each(/postgres(?:ql)?:\/\/[^/"'\s]*\/(\w+)/g, (m) => facts.databases.push(m[1]!));
      // Type annotations: `cache: redis.Redis`, `cur: psycopg.Cursor`.
      each(new RegExp(String.raw`\b(${IDENT})\s*:\s*(?:redis\.)?(?:Redis|StrictRedis)\b`, 'g'), (m) => bind(m[1], { kind: 'redis' }));
      each(new RegExp(String.raw`\b(${IDENT})\s*:\s*(?:psycopg2?\.(?:extensions\.)?)?(?:Cursor|cursor|AsyncCursor)\b`, 'g'), (m) => bind(m[1], { kind: 'cursor' }));
      facts.injection = pythonInjection(source);
      break;
    case 'csharp': {
      const cs = fc as CSharpFileCscfg;
      const typed = (name: string, type: string): void => {
        if (/(^|\.)I?Database(Async)?$/.test(type)) bind(name, { kind: 'redis' });
        else if (/(Npgsql|Sql|Db|MySql|Sqlite)Command$/.test(type)) bind(name, { kind: 'sql-command' });
        else if (/(Npgsql|Sql|Db|MySql|Sqlite)(Connection|DataSource)$/.test(type)) bind(name, { kind: 'sql' });
        else if (/IMongoCollection$/.test(type)) bind(name, { kind: 'mongo-collection' });
      };
      for (const c of cs.classes) for (const [n, t] of Object.entries(c.fields)) typed(n, t);
      for (const f of cs.functions as CSharpFunction[]) for (const [n, t] of Object.entries(f.variables ?? {})) typed(n, t);
      each(new RegExp(String.raw`\b(${IDENT})\s*=\s*[\w.]+\.GetDatabase\s*\(`, 'g'), (m) => bind(m[1], { kind: 'redis' }));
      each(new RegExp(String.raw`\b(${IDENT})\s*=\s*[\w.]+\.GetCollection<[^>]*>\s*\(\s*"([^"]+)"`, 'g'), (m) => facts.bindings.set(m[1]!, { kind: 'mongo-collection', collection: m[2]! }));
      each(/\bDatabase\s*=\s*(\w+)/g, (m) => facts.databases.push(m[1]!));
      break;
    }
    case 'java': {
      const jf = fc as JavaFileCscfg;
      const typed = (name: string, type: string): void => {
        const t = type.replace(/<.*$/s, '');
        if (/(^|\.)(JdbcTemplate|NamedParameterJdbcTemplate|JdbcClient)$/.test(t)) bind(name, { kind: 'jdbc-template' });
        else if (/(^|\.)(Statement|PreparedStatement)$/.test(t)) bind(name, { kind: 'jdbc-statement' });
        else if (/(^|\.)(Jedis|JedisPooled|JedisCluster|RedisCommands|RedisAsyncCommands|UnifiedJedis)$/.test(t)) bind(name, { kind: 'redis' });
        else if (/(^|\.)MongoCollection$/.test(t)) bind(name, { kind: 'mongo-collection' });
      };
      for (const c of jf.classes) for (const f of c.fields) typed(f.name, f.type);
      for (const f of jf.functions as JavaFunction[]) for (const [n, t] of Object.entries(f.variables ?? {})) typed(n, t);
      each(new RegExp(String.raw`\b(${IDENT})\s*=\s*[\w.]+\.getCollection\s*\(\s*"([^"]+)"`, 'g'), (m) => facts.bindings.set(m[1]!, { kind: 'mongo-collection', collection: m[2]! }));
      each(/jdbc:\w+:\/\/[^/"\s]+\/(\w+)/g, (m) => facts.databases.push(m[1]!));
      break;
    }
    default: {
      // TypeScript/JavaScript.
      const decl = String.raw`(?:\b(?:const|let|var)\s+|\bthis\.|^\s*(?:(?:private|public|protected|readonly|static)\s+)*)(${IDENT})\s*(?::[^=\n]+)?=\s*`;
      each(new RegExp(`${decl}new\\s+(?:pg\\.)?(?:Pool|Client)\\s*\\(`, 'gm'), (m) => bind(m[1], { kind: 'sql' }));
      each(new RegExp(`${decl}(?:await\\s+)?(?:new\\s+(?:IORedis|Redis|Redis\\.Cluster)\\s*\\(|(?:redis\\.)?createClient\\s*\\()`, 'gm'), (m) => bind(m[1], { kind: 'redis' }));
      each(new RegExp(`${decl}[\\w$.()]*\\.collection\\s*\\(\\s*['"\`]([^'"\`]+)['"\`]\\s*\\)`, 'gm'), (m) => bind(m[1], { kind: 'mongo-collection', collection: m[2]! }));
      each(new RegExp(`${decl}(?:await\\s+)?[\\w$.]*\\.db\\s*\\(`, 'gm'), (m) => bind(m[1], { kind: 'mongo-database' }));
      each(/\bdatabase\s*:\s*['"`](\w+)['"`]/g, (m) => facts.databases.push(m[1]!));
      // Declared types (constructor parameter properties, fields, parameters): `private readonly pool: pg.Pool`.
      const typedAs = String.raw`\b(${IDENT})\s*[?!]?\s*:\s*`;
      each(new RegExp(`${typedAs}(?:pg\\.)?(?:Pool|PoolClient)\\b`, 'g'), (m) => bind(m[1], { kind: 'sql' }));
      each(new RegExp(`${typedAs}(?:IORedis\\.)?(?:Redis|Cluster|RedisClientType)\\b`, 'g'), (m) => bind(m[1], { kind: 'redis' }));
      each(new RegExp(`${typedAs}Collection\\b`, 'g'), (m) => bind(m[1], { kind: 'mongo-collection' }));
    }
  }
  return facts;
}

/** Python `__init__` parameters, `self.x = param` assignments, and `Cls(a, b)` constructions with identifier arguments. */
export function pythonInjection(source: string): NonNullable<DbFileFacts['injection']> {
  const params = new Map<string, string[]>();
  const attributes = new Map<string, Map<string, string>>();
  const lines = source.split('\n');
  let cls: string | undefined;
  let classIndent = -1;
  let inInit = false;
  for (const l of lines) {
    const indent = l.length - l.trimStart().length;
    if (l.trim() === '') continue;
    const c = /^(\s*)class\s+([A-Za-z_]\w*)/.exec(l);
    if (c) {
      cls = c[2];
      classIndent = c[1]!.length;
      inInit = false;
      continue;
    }
    if (cls && indent <= classIndent) cls = undefined;
    if (!cls) continue;
    const d = /^\s*def\s+(\w+)\s*\(([^)]*)\)/.exec(l);
    if (d) {
      inInit = d[1] === '__init__';
      if (inInit) params.set(cls, d[2]!.split(',').map((p) => p.trim().replace(/[:=].*$/s, '').trim()).filter((p) => p !== '' && p !== 'self'));
      continue;
    }
    const a = inInit ? /^\s*self\.([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*([A-Za-z_]\w*)\s*$/.exec(l) : null;
    if (a && cls) {
      const m = attributes.get(cls) ?? new Map<string, string>();
      m.set(a[1]!, a[2]!);
      attributes.set(cls, m);
    }
  }
  const constructions: { cls: string; args: string[] }[] = [];
  for (const m of source.matchAll(/\b([A-Z]\w*)\s*\(([^()]*)\)/g)) {
    const args = m[2]!.split(',').map((x) => x.trim());
    if (args.length > 0 && args.every((x) => /^[A-Za-z_]\w*$/.test(x))) constructions.push({ cls: m[1]!, args });
  }
  return { params, attributes, constructions };
}

/** Bindings that flow into attributes through constructors (`Svc(cache)` -> `self.redis = redis`). */
function injectedBindings(facts: readonly DbFileFacts[], known: ReadonlyMap<string, DbBinding>): Map<string, DbBinding> {
  const out = new Map<string, DbBinding>();
  const params = new Map<string, string[]>();
  const attributes = new Map<string, Map<string, string>>();
  for (const f of facts) {
    for (const [k, v] of f.injection?.params ?? []) params.set(k, v);
    for (const [k, v] of f.injection?.attributes ?? []) attributes.set(k, v);
  }
  for (const f of facts) {
    for (const c of f.injection?.constructions ?? []) {
      const ps = params.get(c.cls);
      const attrs = attributes.get(c.cls);
      if (!ps || !attrs) continue;
      c.args.forEach((arg, i) => {
        const b = f.bindings.get(arg) ?? known.get(arg);
        const param = ps[i];
        if (!b || !param) return;
        // Keyed `self.<attr>`: only `self.redis.get(...)` is the attribute, not the `redis` module.
        for (const [attr, from] of attrs) if (from === param && !out.has(`self.${attr}`)) out.set(`self.${attr}`, b);
      });
    }
  }
  return out;
}

interface Ctx {
  language: FileCscfg['language'];
  binding: (name: string) => DbBinding | undefined;
  database?: string;
}

/** The span names a call site makes, with the system and library; none when it is no client call. */
function dbCall(site: CallSite, ctx: Ctx, sqlOf: (receiver: string) => string | undefined): { names: string[]; system: string; library: string } | undefined {
  const dot = site.callee.lastIndexOf('.');
  if (dot < 0) return undefined;
  const method = site.callee.slice(dot + 1).replace(/<.*$/, '');
  const receiverText = site.callee.slice(0, dot);
  const receiver = /(?:^|\.)([A-Za-z_$][\w$]*)$/.exec(receiverText)?.[1];
  // A collection named on the spot: `db.Collection("orders").Find`, `db.collection('orders').find`, `db["orders"].find`.
  const inlineColl = /\.(?:collection|Collection|GetCollection<[^>]*>|getCollection)\s*\(\s*["'`]([^"'`]+)["'`]\s*\)$/.exec(receiverText)?.[1] ?? /\[\s*["'](\w+)["']\s*\]$/.exec(receiverText)?.[1];
  const viaSelf = receiver !== undefined && receiverText === `self.${receiver}` ? ctx.binding(receiverText) : undefined;
  const b: DbBinding | undefined = inlineColl !== undefined ? { kind: 'mongo-collection', collection: inlineColl } : (viaSelf ?? (receiver ? ctx.binding(receiver) : undefined));
  const sql = sqlParts(site.firstArgKind === 'string' || site.firstArgKind === 'template' ? site.firstArg : undefined);
  const db = ctx.database;
  switch (ctx.language) {
    case 'go': {
      if (!b) return undefined;
      if (b.kind === 'redis') {
        const cmd = method.toLowerCase();
        return REDIS_NON_COMMANDS.has(cmd) ? undefined : { names: [cmd], system: 'redis', library: 'redisotel' };
      }
      if (b.kind === 'mongo-collection') {
        const cmd = mongoCommandOf(method);
        return cmd && b.collection ? { names: [`${b.collection}.${cmd}`], system: 'mongodb', library: 'otelmongo' } : undefined;
      }
      const name = goSqlName(b.kind, method);
      return name ? { names: [name], system: 'sql', library: 'otelsql' } : undefined;
    }
    case 'typescript':
    case 'tsx':
    case 'javascript': {
      if (b?.kind === 'sql' && method === 'query') return { names: [sql.verb ? `pg.query:${sql.verb}${db ? ` ${db}` : ''}` : 'pg.query'], system: 'postgresql', library: 'pg' };
      if (b?.kind === 'redis') {
        const cmd = method.toLowerCase();
        return REDIS_NON_COMMANDS.has(cmd) || method === 'status' ? undefined : { names: [cmd], system: 'redis', library: 'ioredis' };
      }
      if (b?.kind === 'mongo-collection') {
        const cmd = mongoCommandOf(method);
        return cmd ? { names: [`mongodb.${cmd}`], system: 'mongodb', library: 'mongodb' } : undefined;
      }
      return undefined;
    }
    case 'python': {
      if (b?.kind === 'cursor' || (b?.kind === 'sql' && /^(execute|executemany|fetch|fetchrow|fetchval)$/.test(method))) {
        if (!/^(execute|executemany|fetch|fetchrow|fetchval)$/.test(method)) return undefined;
        return { names: [sql.verb ?? db ?? 'postgresql'], system: 'postgresql', library: 'dbapi' };
      }
      if (b?.kind === 'redis') {
        const cmd = method.toUpperCase();
        return REDIS_NON_COMMANDS.has(method.toLowerCase()) ? undefined : { names: [cmd], system: 'redis', library: 'redis-py' };
      }
      if (b?.kind === 'mongo-collection') {
        const cmd = mongoCommandOf(method.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
        const database = b.database ?? db;
        return cmd && b.collection ? { names: [database ? `${database}.${b.collection}.${cmd}` : `${b.collection}.${cmd}`], system: 'mongodb', library: 'pymongo' } : undefined;
      }
      // `db.orders.find(...)` on a bound database.
      const chain = /(?:^|\.)([A-Za-z_]\w*)\.([A-Za-z_]\w*)$/.exec(receiverText);
      const dbb = chain ? ctx.binding(chain[1]!) : undefined;
      if (dbb?.kind === 'mongo-database' && chain) {
        const cmd = mongoCommandOf(method.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
        return cmd ? { names: [`${dbb.database ?? db ?? ''}.${chain[2]}.${cmd}`.replace(/^\./, '')], system: 'mongodb', library: 'pymongo' } : undefined;
      }
      return undefined;
    }
    case 'csharp': {
      if (b?.kind === 'redis') {
        const cmd = STACKEXCHANGE_COMMANDS.get(method.replace(/Async$/, ''));
        return cmd ? { names: [cmd], system: 'redis', library: 'StackExchange.Redis' } : undefined;
      }
      if (b?.kind === 'mongo-collection') {
        const cmd = mongoCommandOf(method);
        return cmd && b.collection ? { names: [`${b.collection}.${cmd}`], system: 'mongodb', library: 'MongoDB.Driver' } : undefined;
      }
      const isExecute = /^Execute(Reader|NonQuery|Scalar)(Async)?$/.test(method);
      // Dapper's extension methods on a connection take the SQL first.
      const isDapper = b?.kind === 'sql' && /^(Query|QueryFirst|QueryFirstOrDefault|QuerySingle|QuerySingleOrDefault|QueryMultiple|Execute|ExecuteScalar)(Async)?$/.test(method);
      if ((b?.kind === 'sql-command' && isExecute) || isDapper) {
        // Npgsql names the activity after the database; without one configured, after the statement.
        const stmt = isDapper ? sql : sqlParts(receiver ? sqlOf(receiver) : undefined);
        const name = db ?? (stmt.verb ? `${stmt.verb}${stmt.table ? ` ${stmt.table}` : ''}` : undefined);
        return name ? { names: [name], system: 'postgresql', library: 'Npgsql' } : undefined;
      }
      return undefined;
    }
    case 'java': {
      if (b?.kind === 'redis') {
        return REDIS_NON_COMMANDS.has(method.toLowerCase()) ? undefined : { names: [method.toUpperCase()], system: 'redis', library: 'jedis' };
      }
      if (b?.kind === 'mongo-collection') {
        const cmd = mongoCommandOf(method);
        return cmd && b.collection ? { names: [`${cmd} ${db ? `${db}.` : ''}${b.collection}`], system: 'mongodb', library: 'mongo' } : undefined;
      }
      const jdbc = (b?.kind === 'jdbc-template' && /^(query|queryForObject|queryForList|queryForMap|queryForRowSet|update|batchUpdate|execute)$/.test(method)) || (b?.kind === 'jdbc-statement' && /^(executeQuery|executeUpdate|execute)$/.test(method));
      if (jdbc && sql.verb) return { names: [`${sql.verb} ${db ? `${db}.` : ''}${sql.table ?? ''}`.trim()], system: 'postgresql', library: 'jdbc' };
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The database and cache CLIENT spans of one service's files. `facts` are the files' bindings (a
 * client exported by one file is used by the others); the service's database name is the first one
 * its files configure.
 */
export function mapDbSpans(files: readonly FileCscfg[], facts: readonly DbFileFacts[], sources?: ReadonlyMap<string, string>): DbSpan[] {
  const out: DbSpan[] = [];
  const serviceBindings = new Map<string, DbBinding>();
  for (const f of facts) for (const [k, v] of f.bindings) if (!serviceBindings.has(k)) serviceBindings.set(k, v);
  for (const [k, v] of injectedBindings(facts, serviceBindings)) if (!serviceBindings.has(k)) serviceBindings.set(k, v);
  if (serviceBindings.size === 0) return out;
  const database = facts.find((f) => f.databases.length > 0)?.databases[0];
  const byFile = new Map(facts.map((f) => [f.file, f]));
  for (const fc of files) {
    const own = byFile.get(fc.file);
    const ctx: Ctx = { language: fc.language, binding: (n) => own?.bindings.get(n) ?? serviceBindings.get(n), ...(database ? { database } : {}) };
    for (const fn of fc.functions) {
      const sites = callSites(fn);
      // C#: the statement a command was made with, `var cmd = new NpgsqlCommand("SELECT ...", conn)`.
      const commandSql = new Map<string, string>();
      if (fc.language === 'csharp') {
        const text = sources?.get(fc.file);
        for (const s of sites) {
          if (!s.construct || !/Command$/.test(s.callee) || s.firstArg === undefined || !text) continue;
          const lineText = text.split('\n')[s.line - 1] ?? '';
          const v = /\b([A-Za-z_]\w*)\s*=\s*new\b/.exec(lineText.slice(0, s.column + 4))?.[1];
          if (v) commandSql.set(v, s.firstArg);
        }
      }
      for (const site of sites) {
        const hit = dbCall(site, ctx, (r) => commandSql.get(r));
        if (!hit) continue;
        for (const name of hit.names) out.push({ spanName: name, functionName: fn.name, functionLine: fn.line, file: fc.file, line: site.line, target: site.callee, dbSystem: hit.system, library: hit.library });
      }
    }
  }
  return out;
}
