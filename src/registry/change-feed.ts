// Wakes whoever waits on a run (a blocking playlist reload, a preload-hinted
// part) when a part is recorded. The registry feeds it from PostgreSQL
// LISTEN/NOTIFY (any process may record) or, on PGlite, straight from
// recordPart (one process owns the database).

/** Channel of the NOTIFY that recordPart sends on PostgreSQL; payload `<runId>:<rendition>:<msn>:<part>`. */
export const PARTS_CHANNEL = 'abrcast_parts';

/**
 * A new part, or (rendition undefined) "something may have changed, look again":
 * sent after the notification connection was re-established, when
 * notifications may have been missed.
 */
export interface PartChange {
  runId: string;
  rendition?: string;
  segmentIndex?: number;
  partIndex?: number;
}

export type PartChangeListener = (change: PartChange) => void;

export function partChangePayload(change: Required<PartChange>): string {
  return `${change.runId}:${change.rendition}:${change.segmentIndex}:${change.partIndex}`;
}

/** Undefined for a payload another writer (or version) sent in a shape this one does not know. */
export function parsePartChangePayload(payload: string): PartChange | undefined {
  const fields = payload.split(':');
  if (fields.length === 1 && fields[0].length > 0) return { runId: fields[0] };
  if (fields.length !== 4) return undefined;
  const [runId, rendition, msn, part] = fields;
  const segmentIndex = Number(msn);
  const partIndex = Number(part);
  if (!Number.isSafeInteger(segmentIndex) || !Number.isSafeInteger(partIndex)) return undefined;
  return { runId, rendition, segmentIndex, partIndex };
}

/** Listeners by run id; dispatch is synchronous and isolates listeners from each other's throws. */
export class ChangeFeed {
  readonly #listeners = new Map<string, Set<PartChangeListener>>();

  get listenerCount(): number {
    let count = 0;
    for (const set of this.#listeners.values()) count += set.size;
    return count;
  }

  subscribe(runId: string, listener: PartChangeListener): () => void {
    let set = this.#listeners.get(runId);
    if (!set) this.#listeners.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(runId) === set) this.#listeners.delete(runId);
    };
  }

  dispatch(change: PartChange): void {
    for (const listener of [...(this.#listeners.get(change.runId) ?? [])]) {
      try {
        listener(change);
      } catch {
        // a waiter's bug must not stop the others from waking
      }
    }
  }

  /** Every run's listeners look again (after a reconnect). */
  dispatchAll(): void {
    for (const runId of [...this.#listeners.keys()]) this.dispatch({ runId });
  }
}
