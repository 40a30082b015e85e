// Ends runs whose producer vanished: a live run outside a channel that sent no
// heartbeat for far longer than a stall (sweepAfterMs, minutes) is ended as
// failed on its contiguous prefix (finalizeRun with a failure: its playlists get
// EXT-X-ENDLIST, so players stop waiting). Any server runs this on a timer; the
// run's lease keeps two servers (or a resume) from doing it twice. A resume can
// still complete such a run later from its journal, and never shortens it.
// Channel runs are left live: the channel's next producer continues them.
import { hostname } from 'node:os';
import { AbrcastError, errorMessage } from '../errors.js';
import type { FinalizeStore } from './finalize-run.js';
import { finalizeRun } from './finalize-run.js';
import { withRunLease, RunLockedError, type ResumableRegistry } from './resume-run.js';

export interface SweepRegistry extends ResumableRegistry {
  listSilentRuns(silentForMs: number, limit?: number): Promise<Array<{ id: string; heartbeatAt: Date | null; updatedAt: Date }>>;
  markFailed(runId: string, error: string, missing?: { rendition: string; index: number }[]): Promise<void>;
}

export interface SweepResult {
  /** Runs ended as failed. */
  ended: string[];
  /** Runs that could not be ended now, with why (another holder's lease, a store error). */
  skipped: { runId: string; reason: string }[];
}

/** Ends every live run outside a channel silent for at least `silentForMs`. */
export async function sweepSilentRuns(options: { registry: SweepRegistry; store: FinalizeStore; silentForMs: number }): Promise<SweepResult> {
  const { registry, store, silentForMs } = options;
  const holder = `sweeper ${process.pid}@${hostname()}`;
  const result: SweepResult = { ended: [], skipped: [] };
  for (const run of await registry.listSilentRuns(silentForMs)) {
    const since = (run.heartbeatAt ?? run.updatedAt).toISOString();
    const error = `The producer went silent (no heartbeat since ${since}); the run was ended on the segments it had listed`;
    try {
      await withRunLease(registry, run.id, holder, async () => {
        try {
          await finalizeRun({ registry, store, runId: run.id, failure: { error, missing: [] } });
        } catch (cause) {
          // Nothing to list (it never published a segment): it still ends, without playlists.
          if (!(cause instanceof AbrcastError) || !/never published playlists|has no segment/.test(cause.message)) throw cause;
          await registry.markFailed(run.id, error, []);
        }
      });
      result.ended.push(run.id);
    } catch (cause) {
      result.skipped.push({ runId: run.id, reason: cause instanceof RunLockedError ? 'another process holds its lease' : errorMessage(cause) });
    }
  }
  return result;
}
