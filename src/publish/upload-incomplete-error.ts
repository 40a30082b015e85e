// What close() reports when uploads did not finish by its deadline.
import { AbrcastError, errorMessage } from '../errors.js';

/** One job that close() gave up on. */
export interface UploadFailure<M = unknown> {
  key: string;
  meta: M;
  /** The last attempt's error, or why there was none. */
  error: unknown;
  attempts: number;
  byteLength: number;
  /** True when an attempt was still running at the deadline (its outcome is ignored). */
  inFlight: boolean;
}

/** close() reached its deadline with uploads unfinished; every one is listed. */
export class UploadIncompleteError extends AbrcastError {
  readonly failures: readonly UploadFailure[];

  constructor(failures: readonly UploadFailure[]) {
    const lines = failures.map(
      (failure) => `  ${failure.key}: ${errorMessage(failure.error)} after ${failure.attempts} attempt(s)`,
    );
    super(`${failures.length} upload(s) did not finish before the close deadline:\n${lines.join('\n')}`);
    this.name = 'UploadIncompleteError';
    this.failures = failures;
  }
}
