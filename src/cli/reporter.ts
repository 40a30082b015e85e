// Where a command's output goes, by mode: people get lines (and a status line
// on a terminal), scripts get one JSON object per line with --json, and
// --quiet leaves only what is needed (the URL to open) and errors.
import type { ServerLogLevel } from '../server/logger.js';
import { formatError, describeError, type ExitCode } from './errors.js';
import { StatusLine, type StatusStream } from './status-line.js';

export type OutputMode = 'human' | 'quiet' | 'json';

export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export interface ReporterStreams {
  stdout: StatusStream;
  stderr: { write(text: string): boolean };
}

export class Reporter {
  readonly mode: OutputMode;
  readonly verbose: boolean;
  readonly #streams: ReporterStreams;
  readonly #status: StatusLine;

  constructor(flags: GlobalFlags, streams: ReporterStreams = { stdout: process.stdout, stderr: process.stderr }) {
    this.mode = flags.json ? 'json' : flags.quiet ? 'quiet' : 'human';
    this.verbose = flags.verbose === true;
    this.#streams = streams;
    this.#status = new StatusLine(streams.stdout, this.mode === 'human');
  }

  get json(): boolean {
    return this.mode === 'json';
  }

  /**
   * The level of the pino log (stderr) of the server a command runs, whichever
   * command: --verbose logs every request, --json adds start-up, --quiet only errors.
   */
  get logLevel(): ServerLogLevel {
    if (this.verbose) return 'debug';
    return this.json ? 'info' : this.mode === 'quiet' ? 'error' : 'warn';
  }

  /** Progress and details: human mode only. */
  info(line: string): void {
    if (this.mode === 'human') this.#status.print(line);
  }

  /** What the user needs even with --quiet (e.g. the watch URL). */
  essential(line: string): void {
    if (this.mode !== 'json') this.#status.print(line);
  }

  /** Only with --verbose (human or quiet), on stderr. */
  debug(line: string): void {
    if (this.verbose && this.mode !== 'json') this.#streams.stderr.write(`${line}\n`);
  }

  /** One JSON line, --json only. */
  event(event: string, fields: Record<string, unknown> = {}): void {
    if (this.mode === 'json') this.#streams.stdout.write(`${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`);
  }

  /** A command's result as one JSON line, --json only (e.g. the list of runs). */
  data(value: unknown): void {
    if (this.mode === 'json') this.#streams.stdout.write(`${JSON.stringify(value)}\n`);
  }

  warn(message: string): void {
    if (this.mode === 'json') {
      this.event('warning', { message });
      return;
    }
    this.#status.clear();
    this.#streams.stderr.write(`warning: ${message}\n`);
  }

  status(text: string): void {
    if (this.mode === 'human') this.#status.update(text);
  }

  clearStatus(): void {
    this.#status.clear();
  }

  /** Prints the cause and fix on stderr (and an error event with --json); returns the exit code. */
  error(error: unknown, command?: string): ExitCode {
    this.#status.clear();
    const described = describeError(error, command);
    if (this.mode === 'json') this.event('error', { message: described.cause, fix: described.fix, exitCode: described.exitCode });
    this.#streams.stderr.write(`${formatError(error, { verbose: this.verbose, command }).join('\n')}\n`);
    return described.exitCode;
  }
}
