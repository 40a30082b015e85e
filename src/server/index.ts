// The HTTP server: live playlists by run, a local gateway, status, metrics and a watch page.
export { DEFAULT_HOST, DEFAULT_PORT, startServer, type RunningServer, type ServerOptions } from './http-server.js';
export { ServerMetrics } from './metrics.js';
export { createServerLogger, type ServerLogger, type ServerLogLevel } from './logger.js';
export { defaultMaxHeldRequests } from './held-requests.js';
