// The frame every run command (`demo`, `encode`) works in: Ctrl-C handling,
// then the services, the optional local server and the run's output, closed
// in reverse order whatever happens, so a failed setup leaks nothing.
import { MultiResolutionHlsOutput, type MultiResolutionHlsOutputOptions } from '../publish/multi-resolution-hls-output.js';
import { createServerLogger, startServer, type RunningServer } from '../server/index.js';
import { serverListenOptions, type ServerConfig, type ServiceConfig } from './config.js';
import { EXIT_CODES, type ExitCode } from './errors.js';
import { handleInterrupts, unfinishedRunMessage, type Interrupts } from './interrupts.js';
import { openServices, type Services } from './open-services.js';
import type { Reporter } from './reporter.js';

export interface RunSession {
  readonly services: Services;
  /** The local server, when the command serves. */
  readonly server: RunningServer | undefined;
  /** Its URL without a trailing slash. */
  readonly serverUrl: string | undefined;
  readonly interrupts: Interrupts;
  /** Makes the run's output, attached to the server's metrics; closed on the way out (again, harmlessly, after the command closed it). */
  createOutput(options: MultiResolutionHlsOutputOptions): MultiResolutionHlsOutput;
  /** The run a second Ctrl-C names (how to resume it). */
  runId: string | undefined;
}

export interface RunSessionOptions {
  /** Start the local server (gateway, playlists, watch page). */
  serve: boolean;
  /** What the first Ctrl-C says, given its name ('Ctrl-C', or the signal's). */
  firstInterrupt(name: string): string;
}

/** Runs `body` inside a session; answers EXIT_CODES.interrupted when stopped while the services opened. */
export async function withRunSession(
  config: ServiceConfig & ServerConfig,
  reporter: Reporter,
  options: RunSessionOptions,
  body: (session: RunSession) => Promise<ExitCode>,
): Promise<ExitCode> {
  let session: RunSession | undefined;
  const interrupts = handleInterrupts({
    first: (signal) => {
      reporter.clearStatus();
      reporter.info(options.firstInterrupt(signal === 'SIGINT' ? 'Ctrl-C' : signal));
    },
    secondMessage: () => unfinishedRunMessage(session?.runId),
  });
  try {
    const services = await openServices(config);
    let server: RunningServer | undefined;
    let output: MultiResolutionHlsOutput | undefined;
    try {
      // Stopped while the services opened: there is no run to finish yet.
      if (interrupts.requested) return EXIT_CODES.interrupted;
      if (options.serve) {
        server = await startServer({
          registry: services.registry, store: services.store, ...serverListenOptions(config),
          logger: createServerLogger(reporter.logLevel),
        });
      }
      session = {
        services,
        server,
        serverUrl: server?.url.replace(/\/+$/, ''),
        interrupts,
        runId: undefined,
        createOutput(outputOptions) {
          output = new MultiResolutionHlsOutput(outputOptions);
          server?.metrics.attach(output);
          return output;
        },
      };
      return await body(session);
    } finally {
      if (output) await output.close().catch(() => {});
      await server?.close().catch(() => {});
      await services.close();
    }
  } finally {
    interrupts.dispose();
  }
}
