// /metrics on a listener of its own (`metricsPort`), so the Prometheus scrape
// can be bound to a private address while the playlists face the load
// balancer. It answers GET /metrics and nothing else.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerLogger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import { sendError } from './responses.js';
import { sendMetrics } from './routes/health.js';

export interface MetricsListener {
  /** http://host:port, without a trailing slash. */
  url: string;
  close(): Promise<void>;
}

export async function startMetricsListener(metrics: ServerMetrics, logger: ServerLogger, host: string, port: number): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.url?.split('?')[0] !== '/metrics') {
      sendError(res, 404, 'Only GET /metrics here');
      return;
    }
    sendMetrics(res, metrics).catch((error: unknown) => {
      logger.error({ err: error }, 'metrics failed');
      sendError(res, 500, 'internal server error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port }, 'metrics listening');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
