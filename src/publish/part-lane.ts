// The LL-HLS side of a live run: each part stored and recorded as the encoder
// emits it (a server lists it from the registry at once), and each rendition's
// fMP4 init segment stored once and named in later playlists (EXT-X-MAP). In
// encoder order, on a lane apart from the segments, so a slow publish never
// holds the live edge. A lost part costs only the live edge (its segment
// carries the bytes again): a warning, not a failed run.
import type { InitEvent, PartEvent } from '../encoder/types.js';
import { errorMessage } from '../errors.js';
import type { RunRecorder } from '../model/run-recorder.js';
import { OrderedLane } from './ordered-lane.js';
import type { PlaylistPublisher } from './playlist-publisher.js';
import type { ResourceStore } from './resource-store.js';

export interface PartLaneOptions {
  resources: Pick<ResourceStore, 'add' | 'keyOf'>;
  publisher: Pick<PlaylistPublisher, 'setCodecs' | 'setInitSegment' | 'publishFirst'>;
  /** Records parts and init segments; a recorder without the methods records neither. */
  registry?: Pick<RunRecorder, 'recordPart' | 'setInitSegment'>;
  /** The run's id in the registry, once created (read as each event arrives). */
  runId: () => string | undefined;
  onWarning: (message: string) => void;
}

export class PartLane {
  readonly #options: PartLaneOptions;
  readonly #lane: OrderedLane;
  /** Init segment uploads by rendition: a segment is queued only after its rendition's init is stored and named. */
  readonly #initUploads = new Map<string, Promise<boolean>>();

  constructor(options: PartLaneOptions) {
    this.#options = options;
    this.#lane = new OrderedLane({
      onFailed: (what, error) => options.onWarning(`Cannot ${what}: ${errorMessage(error)}`),
    });
  }

  /** A rendition's init segment: stored once (later ones are ignored), then named by the publisher and the registry. */
  init(init: InitEvent): void {
    if (this.#initUploads.has(init.rendition)) return;
    const { resources, publisher, registry } = this.#options;
    const runId = this.#options.runId();
    this.#initUploads.set(
      init.rendition,
      this.#lane.push(`upload the init segment of ${init.rendition}`, async () => {
        const resource = { kind: 'init', rendition: init.rendition } as const;
        const cid = await resources.add(resource, init.data);
        const key = await resources.keyOf(resource);
        publisher.setInitSegment(init.rendition, cid, key);
        if (registry?.setInitSegment && runId) await registry.setInitSegment(runId, init.rendition, cid, key);
      }),
    );
  }

  /** Resolves once the rendition's init segment is stored and named (at once when it has none). Never rejects. */
  async initStored(rendition: string): Promise<void> {
    await this.#initUploads.get(rendition);
  }

  /** One part, as soon as it is muxed: stored, then recorded. */
  part(part: PartEvent): void {
    const { resources, publisher, registry } = this.#options;
    const runId = this.#options.runId();
    if (part.codecs) publisher.setCodecs(part.rendition, part.codecs);
    const { rendition, segmentIndex, partIndex } = part;
    void this.#lane.push(`upload part ${rendition}/${segmentIndex}.${partIndex}`, async () => {
      const resource = { kind: 'part', rendition, segmentIndex, partIndex } as const;
      const cid = await resources.add(resource, part.data);
      if (!registry?.recordPart || !runId) return;
      const key = await resources.keyOf(resource);
      await registry.recordPart(runId, {
        rendition, segmentIndex, partIndex, cid, duration: part.duration, independent: part.independent, bytes: part.data.byteLength,
        ...(key ? { key } : {}),
      });
      // Fast start: with a first part recorded in every rendition the master can answer (the parts are the live edge).
      if (segmentIndex === 0 && partIndex === 0) {
        publisher.publishFirst().catch((error: unknown) => this.#options.onWarning(`Cannot publish the first playlists: ${errorMessage(error)}`));
      }
    });
  }

  /** From now on retries give up at `deadline` (ms since epoch); resolves when every task pushed so far finished. */
  drain(deadline: number): Promise<void> {
    this.#lane.setDeadline(deadline);
    return this.#lane.drain();
  }
}
