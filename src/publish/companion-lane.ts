// The small files a live run makes beside its media: a WebVTT file per subtitle track for each
// segment (and, in LL-HLS runs, each part) of the video, cut on the video's boundaries, and a
// JPEG thumbnail per segment. Each is stored as a resource and handed to the CompanionPlaylists
// (segments, thumbnails) or recorded as a part for the server's live edge (parts), in encoder
// order on a lane of its own. The store is retried until the close deadline; a file lost for
// good is a warning (the stream plays without it), never a failed run.
import { PTS_OFFSET_SECONDS } from '../encoder/ladder-encoder.js';
import type { PartEvent, SegmentEvent, ThumbnailEvent } from '../encoder/types.js';
import { errorMessage } from '../errors.js';
import { serializeWebVtt } from '../hls/webvtt.js';
import type { RunRecorder } from '../model/run-recorder.js';
import type { CaptionCues } from './caption-cues.js';
import type { CompanionPlaylists, SubtitleTrack } from './companion-playlists.js';
import { OrderedLane } from './ordered-lane.js';
import type { ResourceStore } from './resource-store.js';

/** MPEG-TS timestamps are 90 kHz: X-TIMESTAMP-MAP's MPEGTS value is in these. */
const MPEGTS_HZ = 90_000;

export interface CompanionLaneOptions {
  resources: Pick<ResourceStore, 'addCompanion'>;
  companions: CompanionPlaylists;
  cues: CaptionCues;
  /** The rendition whose segment and part events set the subtitle files' spans (all renditions cut alike). */
  reference: string;
  registry?: Pick<RunRecorder, 'recordPart' | 'recordSegment'>;
  runId: () => string | undefined;
  onRetry: (what: string, attempt: number, error: unknown) => void;
  onWarning: (message: string) => void;
}

export class CompanionLane {
  readonly #options: CompanionLaneOptions;
  readonly #lane: OrderedLane;

  constructor(options: CompanionLaneOptions) {
    this.#options = options;
    this.#lane = new OrderedLane({
      isTransient: () => true,
      onRetry: options.onRetry,
      onFailed: (what, error) => options.onWarning(`Cannot ${what}: ${errorMessage(error)}`),
    });
  }

  /** A finished segment: of the reference rendition, each subtitle track's WebVTT for its span. */
  segment(segment: SegmentEvent): void {
    if (segment.rendition !== this.#options.reference) return;
    for (const track of this.#options.companions.subtitleTracks) {
      const text = this.#vtt(track, 'segments', segment.startPts, segment.duration, segment.ptsOffset);
      const bytes = new TextEncoder().encode(text);
      const { index, duration } = segment;
      void this.#lane.push(`upload the ${track.name} subtitles of segment ${index}`, async () => {
        const cid = await this.#options.resources.addCompanion({ kind: 'subtitle', track: track.name, index }, bytes);
        this.#options.companions.subtitleUploaded(track.name, { index, cid, duration, bytes: bytes.length });
        const runId = this.#options.runId();
        // The server's live edge and status read subtitle segments like a rendition's.
        if (this.#options.registry && runId) {
          await this.#options.registry.recordSegment(runId, { rendition: track.name, index, cid, duration, bytes: bytes.length });
        }
      });
    }
  }

  /** A part of the reference rendition (LL-HLS): each subtitle track's WebVTT part, recorded for the live edge. */
  part(part: PartEvent): void {
    if (part.rendition !== this.#options.reference) return;
    const { registry } = this.#options;
    for (const track of this.#options.companions.subtitleTracks) {
      const bytes = new TextEncoder().encode(this.#vtt(track, 'parts', part.startPts, part.duration, PTS_OFFSET_SECONDS));
      const { segmentIndex, partIndex, duration } = part;
      void this.#lane.push(`upload the ${track.name} subtitles of part ${segmentIndex}.${partIndex}`, async () => {
        const cid = await this.#options.resources.addCompanion({ kind: 'subtitle-part', track: track.name, segmentIndex, partIndex }, bytes);
        const runId = this.#options.runId();
        if (registry?.recordPart && runId) {
          // Every WebVTT file stands alone: each part is independent.
          await registry.recordPart(runId, { rendition: track.name, segmentIndex, partIndex, cid, duration, independent: true, bytes: bytes.length });
        }
      });
    }
  }

  /** A segment's thumbnail: stored, then listed by the image playlist and the thumbnail track. */
  thumbnail(thumbnail: ThumbnailEvent): void {
    const { segmentIndex: index, width, height, data } = thumbnail;
    void this.#lane.push(`upload the thumbnail of segment ${index}`, async () => {
      const cid = await this.#options.resources.addCompanion({ kind: 'thumbnail', index }, data);
      this.#options.companions.thumbnailUploaded({ index, cid, bytes: data.length, width, height });
    });
  }

  /** From now on retries give up at `deadline` (ms since epoch); resolves when every task pushed so far finished. */
  drain(deadline: number): Promise<void> {
    this.#lane.setDeadline(deadline);
    return this.#lane.drain();
  }

  #vtt(track: SubtitleTrack, view: 'segments' | 'parts', start: number, duration: number, ptsOffset: number): string {
    // LOCAL 00:00:00.000 is the run's time 0, which the media carries at ptsOffset: cue times are the stream's clock.
    return serializeWebVtt({
      mpegts: Math.round(ptsOffset * MPEGTS_HZ),
      cues: this.#options.cues.take(track.language, view, start, start + duration),
    });
  }
}
