// What the span CSVs leave out (kind, scope, a few attributes) inferred from the operation name,
// the way the OpenTelemetry Java agent would have recorded it. The mapping is the one in
// research/anchors.md ("Method"), so sizes measured on these spans compare with that study.
import { SpanKind, type SpanKindValue } from '../model/index.js';

/** Instrumentation scopes of the Java agent that produced each operation family. */
export const JAVA_AGENT_SCOPES = {
  SPRING_WEBMVC: 'io.opentelemetry.spring-webmvc-6.0',
  SPRING_WEB: 'io.opentelemetry.spring-web-6.0',
  JDBC: 'io.opentelemetry.jdbc',
  HIBERNATE: 'io.opentelemetry.hibernate-6.0',
  SPRING_DATA: 'io.opentelemetry.spring-data-1.8',
  METHODS: 'io.opentelemetry.methods',
} as const;

export type OperationFamily =
  | 'http-server'
  | 'http-client'
  | 'sql'
  | 'hibernate-session'
  | 'hibernate-other'
  | 'repository'
  | 'controller'
  | 'other';

export interface FamilyInfo {
  family: OperationFamily;
  kind: SpanKindValue;
  scope: string;
}

/** Indexed by FamilyIndex; the order is fixed so readers can keep one slot per family. */
export const FAMILIES: readonly FamilyInfo[] = [
  { family: 'http-server', kind: SpanKind.SERVER, scope: JAVA_AGENT_SCOPES.SPRING_WEBMVC },
  { family: 'http-client', kind: SpanKind.CLIENT, scope: JAVA_AGENT_SCOPES.SPRING_WEB },
  { family: 'sql', kind: SpanKind.CLIENT, scope: JAVA_AGENT_SCOPES.JDBC },
  { family: 'hibernate-session', kind: SpanKind.CLIENT, scope: JAVA_AGENT_SCOPES.HIBERNATE },
  { family: 'hibernate-other', kind: SpanKind.INTERNAL, scope: JAVA_AGENT_SCOPES.HIBERNATE },
  { family: 'repository', kind: SpanKind.INTERNAL, scope: JAVA_AGENT_SCOPES.SPRING_DATA },
  { family: 'controller', kind: SpanKind.INTERNAL, scope: JAVA_AGENT_SCOPES.SPRING_WEBMVC },
  { family: 'other', kind: SpanKind.INTERNAL, scope: JAVA_AGENT_SCOPES.METHODS },
];

export const FAMILY = {
  HTTP_SERVER: 0,
  HTTP_CLIENT: 1,
  SQL: 2,
  HIBERNATE_SESSION: 3,
  HIBERNATE_OTHER: 4,
  REPOSITORY: 5,
  CONTROLLER: 6,
  OTHER: 7,
} as const;

const SQL_VERB = /^(?:SELECT|INSERT|UPDATE|DELETE)(?:\s|$)/;
const HTTP_VERB = /^HTTP [A-Z]+$/;
// The traced code has a class misspelt `ExecuteControlller`; the agent instruments it as the
// controller it is (spring-webmvc does not look at the name), so the rule allows the extra l.
const CONTROLLER = /Control+er\./;

/**
 * The operation family of a span, by precedence: roots and HTTP route templates are server spans
 * (the gateway's root is named `/*`), then client HTTP, SQL, Hibernate, Spring Data repositories,
 * controllers, and everything else is a traced method.
 */
export function classifyOperation(name: string, isRoot: boolean): number {
  if (isRoot) return FAMILY.HTTP_SERVER;
  const c = name.charCodeAt(0);
  if (c === 47 /* / */ || name.includes('{')) return FAMILY.HTTP_SERVER;
  if (c === 72 /* H */ && HTTP_VERB.test(name)) return FAMILY.HTTP_CLIENT;
  if (SQL_VERB.test(name)) return FAMILY.SQL;
  if (name.startsWith('Session.')) return FAMILY.HIBERNATE_SESSION;
  if (name.startsWith('Transaction.')) return FAMILY.HIBERNATE_OTHER;
  if (name.includes('Repository.')) return FAMILY.REPOSITORY;
  if (CONTROLLER.test(name)) return FAMILY.CONTROLLER;
  return FAMILY.OTHER;
}

/**
 * `service.name` of a Kubernetes pod: the pod name without its last two dash-separated parts
 * (the ReplicaSet hash and the pod suffix). A name with fewer than three parts is kept whole.
 */
export function serviceOfPod(pod: string): string {
  const last = pod.lastIndexOf('-');
  if (last <= 0) return pod;
  const before = pod.lastIndexOf('-', last - 1);
  return before <= 0 ? pod : pod.slice(0, before);
}
