// A live run's registry writes, in the order of events (a segment, then the
// publish that lists it, then the run's end), off the publish chain: a slow or
// restarting database delays this lane, never the stream. Writes the registry
// calls transient are retried until the close deadline; one lost for good
// leaves the run incomplete (onFailure). Older playlist versions are released
// on this lane too, only once the registry names newer ones: a server reads
// playlists by the CIDs the registry names.
import { errorMessage } from '../errors.js';
import type { ArchiveInput, MissingSegment, SegmentInput } from '../model/run-inputs.js';
import type { RunRecorder } from '../model/run-recorder.js';
import { OrderedLane } from './ordered-lane.js';
import type { PublishedVersion } from './types.js';

export interface RegistryLaneOptions {
  /** Without one, the lane only releases older playlist versions. */
  registry?: RunRecorder;
  /** The run's id in the registry, once created. */
  runId: () => string | undefined;
  onRetry: (what: string, attempt: number, error: unknown) => void;
  /** A write lost for good: the run is incomplete. */
  onFailure: (message: string) => void;
}

export class RegistryLane {
  readonly #options: RegistryLaneOptions;
  readonly #lane: OrderedLane;

  constructor(options: RegistryLaneOptions) {
    this.#options = options;
    this.#lane = new OrderedLane({
      isTransient: (error) => options.registry?.isTransientError?.(error) ?? false,
      onRetry: options.onRetry,
      onFailed: (what, error) => options.onFailure(`Cannot ${what}: ${errorMessage(error)}`),
    });
  }

  /** An uploaded segment. */
  recordSegment(segment: SegmentInput): void {
    const recorder = this.#recorder();
    if (!recorder) return;
    const [registry, runId] = recorder;
    void this.#lane.push(`record segment ${segment.rendition}/${segment.index}`, () => registry.recordSegment(runId, segment));
  }

  /** A published version; `releaseOlder` runs once the registry names it (at once without a registry). */
  recordPublish(version: PublishedVersion, releaseOlder: () => Promise<void>): void {
    const recorder = this.#recorder();
    if (!recorder) {
      void this.#lane.push('release older playlist versions', releaseOlder);
      return;
    }
    const [registry, runId] = recorder;
    void this.#lane.push(`record playlists ${version.sequence} of run ${runId}`, async () => {
      await registry.publishPlaylists(runId, version.masterCid, version.qualities, {
        sequence: version.sequence, ...(version.tracks ? { tracks: version.tracks } : {}),
      });
      await releaseOlder();
    });
  }

  /** An archive chunk of a windowed run (a recorder without recordArchive keeps none). */
  recordArchive(chunk: ArchiveInput): void {
    const recorder = this.#recorder();
    if (!recorder || !recorder[0].recordArchive) return;
    const [registry, runId] = recorder;
    void this.#lane.push(`record archive chunk ${chunk.firstMsn} of run ${runId}`, () => registry.recordArchive!(runId, chunk));
  }

  /** Any other task that must come after the writes pushed before it (parts released once a version names their segments). */
  after(what: string, task: () => Promise<unknown>): void {
    void this.#lane.push(what, task);
  }

  /**
   * The run's end: ended, or failed with `error` and the segments missing. Resolves
   * false when the write was lost (onFailure said why); true when recorded or there is no registry.
   */
  recordEnd(error: string | undefined, missing: MissingSegment[]): Promise<boolean> {
    const recorder = this.#recorder();
    if (!recorder) return Promise.resolve(true);
    const [registry, runId] = recorder;
    return this.#lane.push(`record the end of run ${runId}`, () =>
      error === undefined ? registry.markEnded(runId) : registry.markFailed(runId, error, missing),
    );
  }

  /** From now on retries give up at `deadline` (ms since epoch); resolves when every task pushed so far finished. */
  drain(deadline: number): Promise<void> {
    this.#lane.setDeadline(deadline);
    return this.#lane.drain();
  }

  #recorder(): [RunRecorder, string] | undefined {
    const { registry } = this.#options;
    const runId = this.#options.runId();
    return registry && runId ? [registry, runId] : undefined;
  }
}
