/**
 * Attribute names of the OpenTelemetry semantic conventions for HTTP spans (semconv 1.26+,
 * "HTTP spans", stable): server spans carry `http.request.method`, `url.path`, `url.scheme`,
 * `http.route`, `server.address`, `server.port`, `client.address`, `network.protocol.version`,
 * `user_agent.original`, `http.response.status_code` and, on failure, `error.type`; client spans
 * carry `http.request.method`, `url.full`, `server.address`, `server.port`,
 * `http.response.status_code` and `error.type`. Span names are `{method} {route}` (server) and
 * `{method}` (client).
 */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_URL_FULL = 'url.full';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_URL_QUERY = 'url.query';
export const ATTR_URL_SCHEME = 'url.scheme';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_CLIENT_ADDRESS = 'client.address';
export const ATTR_NETWORK_PROTOCOL_VERSION = 'network.protocol.version';
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original';
export const ATTR_ERROR_TYPE = 'error.type';
