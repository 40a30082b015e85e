// Typed errors of the registry, so callers (server, CLI) can map them to
// exit codes or HTTP statuses without matching on message text.
import { AbrcastError } from '../errors.js';

/** The database cannot be reached or opened; the message names where, never a password. */
export class RegistryUnavailableError extends AbrcastError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailableError';
  }
}

/** A write named a run that does not exist. */
export class RunNotFoundError extends AbrcastError {
  readonly runId: string;
  constructor(runId: string) {
    super(`Run ${JSON.stringify(runId)} does not exist`);
    this.name = 'RunNotFoundError';
    this.runId = runId;
  }
}

/** A status change that the run's current status does not allow (ended and failed are final). */
export class RunStatusError extends AbrcastError {
  readonly runId: string;
  readonly status: string;
  constructor(runId: string, status: string, wanted: string) {
    super(`Run ${JSON.stringify(runId)} is ${status} and cannot be marked ${wanted}`);
    this.name = 'RunStatusError';
    this.runId = runId;
    this.status = status;
  }
}

/** Message of an error, looking inside AggregateError (Node's happy-eyeballs connect gives an empty message). */
export function errorDetail(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    const first = error.errors[0] as unknown;
    if (first !== undefined) return errorDetail(first);
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.message || (typeof code === 'string' ? code : error.name);
  }
  return String(error);
}

/** createRun was given an id that is already taken. */
export class RunExistsError extends AbrcastError {
  readonly runId: string;
  constructor(runId: string) {
    super(`Run ${JSON.stringify(runId)} already exists`);
    this.name = 'RunExistsError';
    this.runId = runId;
  }
}

/** SQLSTATE classes that say "try again": connection (08), operator intervention (57, e.g. a restart or statement_timeout), insufficient resources (53), transaction rollback (40). */
const TRANSIENT_SQLSTATE = /^(08|57|53|40)/;

/**
 * Whether a registry call may succeed if repeated: the database was unreachable,
 * restarting, overloaded or timed out. Validation and state errors (AbrcastErrors,
 * other SQLSTATEs such as a constraint violation) never will.
 */
export function isTransientRegistryError(error: unknown): boolean {
  if (error instanceof RegistryUnavailableError) return true;
  if (error instanceof AbrcastError) return false;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE.test(code);
  return true;
}
