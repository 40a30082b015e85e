// Ctrl-C once asks the command to finish properly (finalize the run, close
// the server); Ctrl-C again stops at once with exit code 130. SIGTERM counts
// as a first Ctrl-C, so service managers get a clean stop too.
import { EXIT_CODES } from './errors.js';

export interface InterruptHandlers {
  /** The first SIGINT or SIGTERM. */
  first(signal: NodeJS.Signals): void;
  /** Said on stderr before exiting on the second one. */
  secondMessage?: () => string[];
}

export interface Interrupts {
  /** Aborted on the first signal, to cut waits short. */
  readonly signal: AbortSignal;
  readonly requested: NodeJS.Signals | undefined;
  dispose(): void;
}

/** What the second Ctrl-C says when it leaves a run live: how to end it later. */
export function unfinishedRunMessage(runId: string | undefined): string[] {
  return [
    'error: interrupted again: stopped without finalizing the run',
    ...(runId ? [`fix: its journal keeps every finished segment; complete it with \`abrcast resume ${runId}\``] : []),
  ];
}

export function handleInterrupts(handlers: InterruptHandlers): Interrupts {
  const controller = new AbortController();
  let requested: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested === undefined) {
      requested = signal;
      controller.abort();
      handlers.first(signal);
      return;
    }
    const lines = handlers.secondMessage?.() ?? ['error: interrupted again: stopped without finishing'];
    process.stderr.write(`\n${lines.join('\n')}\n`);
    process.exit(EXIT_CODES.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
