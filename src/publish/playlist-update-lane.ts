// The user's onPlaylistUpdate, called once per published version in publish
// order, off the publish chain: a slow callback delays only its own later
// calls, and one that throws is a warning, never a failed run.
import { errorMessage } from '../errors.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import { OrderedLane } from './ordered-lane.js';
import type { PublishedVersion } from './types.js';

/** Called after every publish with the master CID and the per-quality info, as in the Python original. */
export type PlaylistUpdateCallback = (masterCid: string, qualities: VariantStreamRecords) => void | Promise<void>;

export class PlaylistUpdateLane {
  readonly #callback?: PlaylistUpdateCallback;
  readonly #lane: OrderedLane;

  constructor(options: { onPlaylistUpdate?: PlaylistUpdateCallback; onWarning: (message: string) => void }) {
    this.#callback = options.onPlaylistUpdate;
    this.#lane = new OrderedLane({
      onFailed: (what, error) => options.onWarning(`${what} threw: ${errorMessage(error)}`),
    });
  }

  /** Queues the callback for a published version (nothing without a callback). */
  published(version: PublishedVersion): void {
    const callback = this.#callback;
    if (callback) void this.#lane.push('onPlaylistUpdate', () => callback(version.masterCid, version.qualities));
  }

  /** From now on retries give up at `deadline` (ms since epoch); resolves when every call queued so far finished. */
  drain(deadline: number): Promise<void> {
    this.#lane.setDeadline(deadline);
    return this.#lane.drain();
  }
}
