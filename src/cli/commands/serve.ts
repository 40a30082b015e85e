// `abrcast serve`: the watch pages, playlists and local gateway for every run in the registry.
import { createServerLogger, startServer } from '../../server/index.js';
import { serverListenOptions, type ServerConfig, type ServiceConfig } from '../config.js';
import { EXIT_CODES, type ExitCode } from '../errors.js';
import { handleInterrupts } from '../interrupts.js';
import { openServices } from '../open-services.js';
import type { Reporter } from '../reporter.js';

/** How many of the newest runs to list at startup. */
const LISTED_RUNS = 10;

export async function runServe(service: ServiceConfig, listen: ServerConfig, reporter: Reporter): Promise<ExitCode> {
  const interrupts = handleInterrupts({
    first: () => reporter.info('Stopping the server (press Ctrl-C again to force)'),
    secondMessage: () => ['error: interrupted again: stopped without closing the server'],
  });
  try {
    const services = await openServices(service);
    try {
      if (interrupts.requested) return EXIT_CODES.ok;
      const server = await startServer({
        registry: services.registry, store: services.store, ...serverListenOptions(listen),
        logger: createServerLogger(reporter.logLevel),
      });
      try {
        const url = server.url.replace(/\/+$/, '');
        const runs = await services.registry.listRuns({ limit: LISTED_RUNS });
        reporter.essential(`Serving at ${url}`);
        if (runs.length === 0) reporter.info('No runs yet: start one with `abrcast demo`.');
        for (const run of runs) reporter.info(`  ${run.id}  ${run.status.padEnd(6)}  ${url}/runs/${run.id}/watch`);
        reporter.info('Ctrl-C stops the server.');
        if (server.adminUrl) reporter.info(`Admin routes at ${server.adminUrl} (/runs, /metrics)`);
        reporter.event('start', {
          serverUrl: url,
          ...(server.adminUrl ? { adminUrl: server.adminUrl } : {}),
          runs: runs.map((run) => ({ id: run.id, status: run.status, watchUrl: `${url}/runs/${run.id}/watch` })),
        });
        if (!interrupts.requested) {
          await new Promise<void>((resolve) => interrupts.signal.addEventListener('abort', () => resolve(), { once: true }));
        }
      } finally {
        await server.close();
      }
      reporter.event('end', {});
      return EXIT_CODES.ok;
    } finally {
      await services.close();
    }
  } finally {
    interrupts.dispose();
  }
}
