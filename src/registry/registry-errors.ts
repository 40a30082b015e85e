// Typed errors of the registry, so callers (server, CLI) can map them to
// exit codes or HTTP statuses without matching on message text.
import { AbrcastError, errorCode } from '../errors.js';
import { NETWORK_ERROR_CODES } from '../network-error-codes.js';

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

/** A status change that the run's current status does not allow (ended is final; failed may only end). */
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

/** createRun was given an id that is already taken. */
export class RunExistsError extends AbrcastError {
  readonly runId: string;
  constructor(runId: string) {
    super(`Run ${JSON.stringify(runId)} already exists`);
    this.name = 'RunExistsError';
    this.runId = runId;
  }
}

/** createRun on a channel whose newest run is not the one the caller expected: another producer started on it. */
export class ChannelChangedError extends AbrcastError {
  readonly channel: string;
  readonly newestRunId: string | null;
  constructor(channel: string, expected: string | null, newestRunId: string | null) {
    super(
      `Channel ${JSON.stringify(channel)} moved on: its newest run is ${newestRunId === null ? 'none' : JSON.stringify(newestRunId)}, ` +
        `not ${expected === null ? 'none' : JSON.stringify(expected)} (did another producer start on it?)`,
    );
    this.name = 'ChannelChangedError';
    this.channel = channel;
    this.newestRunId = newestRunId;
  }
}

/** recordSegment was given a CID for a (rendition, index) that is already stored with another. */
export class SegmentConflictError extends AbrcastError {
  readonly runId: string;
  constructor(runId: string, rendition: string, index: number, storedCid: string, cid: string) {
    super(`Run ${JSON.stringify(runId)} already has ${rendition} segment ${index} with CID ${storedCid}, not ${cid}`);
    this.name = 'SegmentConflictError';
    this.runId = runId;
  }
}

/** recordPart (or setInitSegment) was given a CID for a part that is already stored with another. */
export class PartConflictError extends AbrcastError {
  readonly runId: string;
  constructor(runId: string, what: string, storedCid: string, cid: string) {
    super(`Run ${JSON.stringify(runId)} already has ${what} with CID ${storedCid}, not ${cid}`);
    this.name = 'PartConflictError';
    this.runId = runId;
  }
}

// SQLSTATE classes that say "try again later": connection exception (08),
// insufficient resources (53), operator intervention such as a shutdown or
// statement timeout (57), transaction rollback such as a deadlock (40).
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57']);
const SHUTDOWN_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
]);
// pg reports its own timeouts and lost connections without a code.
const CONNECTION_MESSAGE = /timeout exceeded when trying to connect|Query read timeout|Connection terminated|Client has encountered a connection error/i;

/** The database could not be reached, went away, or did not answer in time. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some((inner: unknown) => isConnectionError(inner));
  const code = errorCode(error);
  if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || SHUTDOWN_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  return error instanceof Error && CONNECTION_MESSAGE.test(error.message);
}

/**
 * True when a registry call failed for a reason that may pass (the database
 * unreachable, restarting, overloaded, a timeout, a deadlock), so the write is
 * worth retrying. False for validation and state errors (AbrcastError
 * subclasses, TypeError/RangeError from option checks) and anything else.
 */
export function isTransientRegistryError(error: unknown): boolean {
  if (error instanceof RegistryUnavailableError) return true;
  if (error instanceof AbrcastError || error instanceof TypeError || error instanceof RangeError) return false;
  if (isConnectionError(error)) return true;
  const code = errorCode(error);
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
}
