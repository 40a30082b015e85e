// Tells whoever follows a run (the server's in-memory live edge) what changed in
// the registry: a part recorded, an init segment set, the run record updated
// (a publish, a status change, the part target). The registry feeds it from
// PostgreSQL LISTEN/NOTIFY (any process may write) or, on PGlite, straight
// from the writing call (one process owns the database).

/**
 * Channel of the NOTIFYs the registry sends on PostgreSQL. Payloads:
 * `<runId>:<rendition>:<msn>:<part>` a part, `<runId>:<rendition>:<cid>` an
 * init segment, `<runId>` the run record. (Run ids, rendition names and CIDs
 * hold no ':'.)
 */
export const PARTS_CHANNEL = 'abrcast_parts';

/** A part was recorded: its position (read the record with getPart). */
export interface PartRecorded {
  kind: 'part';
  runId: string;
  rendition: string;
  segmentIndex: number;
  partIndex: number;
}

/** A rendition's init segment (EXT-X-MAP) was set; set once, so its CID travels with the change. */
export interface InitRecorded {
  kind: 'init';
  runId: string;
  rendition: string;
  cid: string;
}

/** The run record changed: new playlist CIDs (a publish), its status, its part target. */
export interface RunUpdated {
  kind: 'run';
  runId: string;
}

/**
 * Changes may have been missed (the notification connection was re-established):
 * whoever keeps a copy of the run reads it again.
 */
export interface RunResync {
  kind: 'resync';
  runId: string;
}

export type RunChange = PartRecorded | InitRecorded | RunUpdated | RunResync;
export type RunChangeListener = (change: RunChange) => void;

/** The NOTIFY payload of a change (resync is local: never sent). */
export function runChangePayload(change: Exclude<RunChange, RunResync>): string {
  switch (change.kind) {
    case 'part': return `${change.runId}:${change.rendition}:${change.segmentIndex}:${change.partIndex}`;
    case 'init': return `${change.runId}:${change.rendition}:${change.cid}`;
    case 'run': return change.runId;
  }
}

/** Undefined for a payload another writer (or version) sent in a shape this one does not know. */
export function parseRunChangePayload(payload: string): RunChange | undefined {
  const fields = payload.split(':');
  if (fields.some((field) => field.length === 0)) return undefined;
  if (fields.length === 1) return { kind: 'run', runId: fields[0] };
  if (fields.length === 3) return { kind: 'init', runId: fields[0], rendition: fields[1], cid: fields[2] };
  if (fields.length !== 4) return undefined;
  const [runId, rendition, msn, part] = fields;
  const segmentIndex = Number(msn);
  const partIndex = Number(part);
  if (!Number.isSafeInteger(segmentIndex) || !Number.isSafeInteger(partIndex)) return undefined;
  return { kind: 'part', runId, rendition, segmentIndex, partIndex };
}

/** Listeners by run id; dispatch is synchronous and isolates listeners from each other's throws. */
export class ChangeFeed {
  readonly #listeners = new Map<string, Set<RunChangeListener>>();

  get listenerCount(): number {
    let count = 0;
    for (const set of this.#listeners.values()) count += set.size;
    return count;
  }

  subscribe(runId: string, listener: RunChangeListener): () => void {
    let set = this.#listeners.get(runId);
    if (!set) this.#listeners.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(runId) === set) this.#listeners.delete(runId);
    };
  }

  dispatch(change: RunChange): void {
    for (const listener of [...(this.#listeners.get(change.runId) ?? [])]) {
      try {
        listener(change);
      } catch {
        // a waiter's bug must not stop the others from waking
      }
    }
  }

  /** Every run's listeners read again (after a reconnect). */
  dispatchResync(): void {
    for (const runId of [...this.#listeners.keys()]) this.dispatch({ kind: 'resync', runId });
  }
}
