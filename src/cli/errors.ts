// How the CLI reports a failure: the cause on one line, what to do about it on
// the next, and an exit code a script can branch on. Stacks only with --verbose.
import { errorCode } from '../errors.js';
import { RegistryUnavailableError, RunNotFoundError } from '../registry/registry-errors.js';
import { StoreUnavailableError } from '../store/content-store.js';

export const EXIT_CODES = {
  ok: 0,
  /** Something failed while running (encoding, publishing, a missing run). */
  failure: 1,
  /** Bad command line: unknown flag, bad flag value, missing argument, command not available. */
  usage: 2,
  /** A service could not be reached: Kubo, PostgreSQL, or the embedded stores' directories. */
  unreachable: 3,
  /** A second Ctrl-C stopped the command without finishing. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Text for `abrcast --help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0    ok (also after Ctrl-C once: the run is finalized first)
  1    runtime failure (encoding, publishing, unknown run)
  2    usage error (unknown flag, bad value, command not available yet)
  3    service unreachable (Kubo RPC, PostgreSQL, data directory)
  130  interrupted (second Ctrl-C: stopped without finalizing)`;

/** An error whose message and fix are written for the person at the terminal. */
export class CliError extends Error {
  readonly fix?: string;
  readonly exitCode: ExitCode;

  constructor(message: string, options: { fix?: string; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'CliError';
    this.fix = options.fix;
    this.exitCode = options.exitCode ?? EXIT_CODES.failure;
  }
}

export function usageError(message: string, fix: string): CliError {
  return new CliError(message, { fix, exitCode: EXIT_CODES.usage });
}

export interface DescribedError {
  cause: string;
  fix?: string;
  exitCode: ExitCode;
}

/** Library option checks (src/errors.ts) read "Expected ... for name but received ...". */
function isInvalidParameter(error: unknown): error is TypeError | RangeError {
  return (error instanceof TypeError || error instanceof RangeError) && error.message.startsWith('Expected ');
}

function oneLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).join('; ');
}

/** Maps any thrown value to its one-line cause, a fix when one is known, and an exit code. */
export function describeError(error: unknown, command = 'abrcast'): DescribedError {
  if (error instanceof CliError) return { cause: oneLine(error.message), fix: error.fix, exitCode: error.exitCode };
  if (error instanceof StoreUnavailableError) {
    const fix =
      error.store === 'kubo'
        ? 'Start `ipfs daemon`, pass the right --kubo-url (or KUBO_URL), or use --store embedded'
        : 'Make sure the directory can be created and written, or pass another --data-dir';
    return { cause: oneLine(error.message), fix, exitCode: EXIT_CODES.unreachable };
  }
  if (error instanceof RegistryUnavailableError) {
    const fix = error.message.startsWith('PostgreSQL')
      ? 'Start PostgreSQL or correct --database-url (or DATABASE_URL); leave both unset to use the embedded database'
      : 'Make sure the data directory is writable and no other abrcast process uses it, or pass another --data-dir';
    return { cause: oneLine(error.message), fix, exitCode: EXIT_CODES.unreachable };
  }
  if (error instanceof RunNotFoundError) {
    return { cause: error.message, fix: 'List the runs with `abrcast runs`', exitCode: EXIT_CODES.failure };
  }
  if (isInvalidParameter(error)) {
    return { cause: oneLine(error.message), fix: `See \`${command} --help\``, exitCode: EXIT_CODES.usage };
  }
  const code = errorCode(error);
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return {
      cause: oneLine((error as Error).message),
      fix: 'Pass another --port (0 picks a free one) or --host, or stop what uses it',
      exitCode: EXIT_CODES.failure,
    };
  }
  const message = error instanceof Error ? error.message || error.name : String(error);
  return { cause: oneLine(message), exitCode: EXIT_CODES.failure };
}

/** The lines to print on stderr: "error: cause", "fix: what to do", and with verbose the stack and causes. */
export function formatError(error: unknown, options: { verbose?: boolean; command?: string } = {}): string[] {
  const described = describeError(error, options.command);
  const lines = [`error: ${described.cause}`];
  if (described.fix) lines.push(`fix: ${described.fix}`);
  if (options.verbose) {
    for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
      lines.push(depth === 0 ? (current.stack ?? String(current)) : `caused by: ${current.stack ?? String(current)}`);
    }
  }
  return lines;
}
