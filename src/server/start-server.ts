// startServer as the package entry exports it: the server's modules (pino,
// prom-client, the routes) load when a server starts, so `import('abrcast')`
// for the encoder alone does not load them.
import type { RunningServer, ServerOptions } from './http-server.js';

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const server = await import('./http-server.js');
  return server.startServer(options);
}
