// The OpenTelemetry semantic-convention keys slimtrace reads or writes, in one place.
import { getAttribute } from './build.js';
import type { Resource } from './types.js';

export const ATTR = {
  SERVICE_NAME: 'service.name',
  K8S_POD_NAME: 'k8s.pod.name',
  HTTP_REQUEST_METHOD: 'http.request.method',
  HTTP_ROUTE: 'http.route',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  URL_FULL: 'url.full',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  DB_SYSTEM: 'db.system',
  DB_STATEMENT: 'db.statement',
  DB_OPERATION: 'db.operation',
  DB_NAME: 'db.name',
  CODE_FUNCTION: 'code.function',
  CODE_NAMESPACE: 'code.namespace',
  CODE_LINENO: 'code.lineno',
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_DESTINATION: 'messaging.destination.name',
  EXCEPTION_TYPE: 'exception.type',
  EXCEPTION_MESSAGE: 'exception.message',
  EXCEPTION_STACKTRACE: 'exception.stacktrace',
  LOG_RECORD_BODY: 'log.record.body',
  LOG_SEVERITY_TEXT: 'log.severity_text',
  ERROR_TYPE: 'error.type',
} as const;

/** The resource's service.name, or 'unknown_service' as the SDKs default it. */
export function serviceName(resource: Resource | undefined): string {
  const v = resource ? getAttribute(resource.attributes, ATTR.SERVICE_NAME) : undefined;
  return typeof v === 'string' ? v : 'unknown_service';
}
