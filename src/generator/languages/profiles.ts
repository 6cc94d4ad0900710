// What each service language looks like from the outside, in one table per language: the names
// of its handler class and methods (as an analyzer names functions: Go `Type.Method`, Python, Java
// and C# `Class.method`), its runtime's resource attributes, and its exceptions' type, message and
// stack trace. The source printers and the traffic compiler both read these, so the traffic's
// `code.function` and stack frames name the functions the emitted source defines.
import { identifier, type InternalStep, type Language, type ServiceDef } from '../topology.js';

/** `shop.cart.CartService` -> `CartService`. */
export const grpcShortName = (grpcService: string): string => grpcService.slice(grpcService.lastIndexOf('.') + 1);

/** `shop.cart.CartService` -> `cart`: the proto file's name and the per-language module prefix. */
export const protoName = (grpcService: string): string => {
  const pkg = grpcService.slice(0, grpcService.lastIndexOf('.'));
  return pkg.slice(pkg.lastIndexOf('.') + 1);
};

export const pascal = (s: string): string => (s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1));
export const lowerFirst = (s: string): string => (s.length === 0 ? s : s[0]!.toLowerCase() + s.slice(1));
export const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();

/** The gRPC service a (non-TypeScript) service serves; validation allows exactly one. */
export function servedGrpcService(svc: ServiceDef): string {
  for (const op of svc.operations) if (op.entry.protocol === 'grpc') return op.entry.service;
  throw new Error(`${svc.name} serves no gRPC service`);
}

/** The type that implements the service's gRPC methods: Go struct, Python/Java/C# class. */
export function serverTypeName(language: Language, svc: ServiceDef): string {
  const short = grpcShortName(servedGrpcService(svc));
  switch (language) {
    case 'go':
      return `${lowerFirst(short.replace(/Service$/, ''))}Server`;
    case 'python':
      return short;
    case 'java':
    case 'csharp':
      return `${short}Impl`;
    case 'typescript':
      return '';
  }
}

/** A gRPC method's name in the implementing class: Java lowerCamel, PascalCase elsewhere. */
export function methodName(language: Language, grpcMethod: string): string {
  return language === 'java' ? lowerFirst(grpcMethod) : grpcMethod;
}

/** A helper's name in the source: Python snake_case, C# PascalCase, Go and Java lowerCamel. */
export function helperMethodName(language: Language, step: InternalStep): string {
  const base = step.function ?? identifier(step.name);
  if (language === 'python') return snake(base);
  if (language === 'csharp') return pascal(base);
  return base;
}

/** `Type.method`: the function name the code model and an analyzer use. */
export function qualifiedFunction(language: Language, svc: ServiceDef, method: string): string {
  return language === 'typescript' ? method : `${serverTypeName(language, svc)}.${method}`;
}

export interface RuntimeProfile {
  executable: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeDescription: string;
  /** telemetry.sdk.language */
  sdkLanguage: string;
  sdkVersion: string;
}

/** Resource values of a 2025 deployment of each language's SDK (TypeScript: the project's own pins). */
export const RUNTIMES: Record<Exclude<Language, 'typescript'>, RuntimeProfile> = {
  go: { executable: 'server', runtimeName: 'go', runtimeVersion: 'go1.23.4', runtimeDescription: 'go version go1.23.4 linux/amd64', sdkLanguage: 'go', sdkVersion: '1.33.0' },
  python: {
    executable: 'python3',
    runtimeName: 'cpython',
    runtimeVersion: '3.12.8',
    runtimeDescription: '3.12.8 (main, Dec  4 2024, 20:38:17) [GCC 12.2.0]',
    sdkLanguage: 'python',
    sdkVersion: '1.29.0',
  },
  java: {
    executable: 'java',
    runtimeName: 'OpenJDK Runtime Environment',
    runtimeVersion: '21.0.5+11-LTS',
    runtimeDescription: 'Eclipse Adoptium OpenJDK 64-Bit Server VM 21.0.5+11-LTS',
    sdkLanguage: 'java',
    sdkVersion: '1.45.0',
  },
  csharp: { executable: 'dotnet', runtimeName: '.NET', runtimeVersion: '8.0.11', runtimeDescription: '.NET 8.0.11', sdkLanguage: 'dotnet', sdkVersion: '1.10.0' },
};

/** Where an exception was thrown: the handler as the code model records it. */
export interface ThrowSite {
  /** Qualified function (`Type.method`). */
  function: string;
  /** The gRPC service the handler implements (Java and C# stack frames name its package). */
  grpcService: string;
  /** A background failure comes from the service's SQL database when it has one, else from a connection. */
  sql: boolean;
  /** Path of the file inside the container. */
  file: string;
  line: number;
}

export interface ExceptionText {
  type: string;
  message: string;
  stacktrace: string;
}

/** A background failure (`natural`) or an injected code fault (`fault`) as each runtime reports it. */
export function exceptionOf(language: Exclude<Language, 'typescript'>, cause: 'natural' | 'fault', at: ThrowSite): ExceptionText {
  const [type, method] = at.function.split('.') as [string, string];
  const base = at.file.slice(at.file.lastIndexOf('/') + 1);
  switch (language) {
    case 'go': {
      const e =
        cause === 'fault'
          ? { type: '*errors.errorString', message: 'invalid memory address or nil pointer dereference' }
          : at.sql
            ? { type: '*pq.Error', message: 'pq: terminating connection due to administrator command' }
            : { type: '*net.OpError', message: 'dial tcp 10.43.0.12:6379: connect: connection refused' };
      const stack = `goroutine 187 [running]:\nmain.(*${type}).${method}(0xc0001a2000, {0x1b2e4c0, 0xc0003d8120}, 0xc0002f4000)\n\t${at.file}:${at.line + 1} +0x1d4\ngoogle.golang.org/grpc.(*Server).processUnaryRPC(0xc000198c00, {0x1b2e4c0, 0xc0003d8090}, 0xc00031e000)\n\t/go/pkg/mod/google.golang.org/grpc@v1.69.2/server.go:1394 +0xe2b`;
      return { ...e, stacktrace: stack };
    }
    case 'python': {
      const e =
        cause === 'fault'
          ? { type: 'AttributeError', message: "'NoneType' object has no attribute 'price'" }
          : at.sql
            ? { type: 'psycopg.OperationalError', message: 'consuming input failed: server closed the connection unexpectedly' }
            : { type: 'redis.exceptions.ConnectionError', message: 'Error 111 connecting to cache:6379. Connection refused.' };
      const stack = `Traceback (most recent call last):\n  File "/usr/local/lib/python3.12/site-packages/grpc/_server.py", line 610, in _call_behavior\n    response_or_iterator = behavior(argument, context)\n  File "${at.file}", line ${at.line + 1}, in ${method}\n    ${e.type === 'AttributeError' ? 'price = product.price' : at.sql ? 'row = self.cursor.execute(query).fetchone()' : 'cached = self.redis.get(key)'}\n${e.type}: ${e.message}`;
      return { ...e, stacktrace: stack };
    }
    case 'java': {
      const e =
        cause === 'fault'
          ? { type: 'java.lang.NullPointerException', message: 'Cannot invoke "String.length()" because "sku" is null' }
          : at.sql
            ? { type: 'org.postgresql.util.PSQLException', message: 'An I/O error occurred while sending to the backend.' }
            : { type: 'io.grpc.StatusRuntimeException', message: 'UNAVAILABLE: io exception' };
      const pkg = at.grpcService.slice(0, at.grpcService.lastIndexOf('.'));
      const stack = `${e.type}: ${e.message}\n\tat ${pkg}.${type}.${method}(${base}:${at.line + 1})\n\tat io.grpc.stub.ServerCalls$UnaryServerCallHandler$UnaryServerCallListener.onHalfClose(ServerCalls.java:182)\n\tat io.grpc.internal.ServerImpl$JumpToApplicationThreadServerStreamListener$1HalfClosed.runInContext(ServerImpl.java:356)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)`;
      return { ...e, stacktrace: stack };
    }
    case 'csharp': {
      const e =
        cause === 'fault'
          ? { type: 'System.NullReferenceException', message: 'Object reference not set to an instance of an object.' }
          : at.sql
            ? { type: 'Npgsql.NpgsqlException', message: 'Exception while reading from stream' }
            : { type: 'StackExchange.Redis.RedisConnectionException', message: 'No connection is active/available to service this operation' };
      const ns = at.grpcService.slice(0, at.grpcService.lastIndexOf('.')).split('.').map(pascal).join('.');
      const stack = `${e.type}: ${e.message}\n   at ${ns}.Services.${type}.${method}(${method}Request request, ServerCallContext context) in ${at.file}:line ${at.line + 1}\n   at Grpc.Shared.Server.UnaryServerMethodInvoker\`3.ResolvedInterceptorInvoker(TRequest resolvedRequest, ServerCallContext resolvedContext)\n   at Grpc.AspNetCore.Server.Internal.CallHandlers.UnaryServerCallHandler\`3.HandleCallAsyncCore(HttpContext httpContext, HttpContextServerCallContext serverCallContext)`;
      return { ...e, stacktrace: stack };
    }
  }
}
