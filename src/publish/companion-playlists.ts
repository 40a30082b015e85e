// Everything a publish carries beside the variants' media playlists, kept as one model the
// PlaylistPublisher asks at each publish: the subtitle renditions (WebVTT segments, uploaded by
// the CaptionLane), each rendition's I-frame playlist (byte ranges into the segments it lists),
// the thumbnails' image playlist and WebVTT track, and the date ranges every media playlist
// carries. It stores the playlists it makes through the publisher's versioned add, so they are
// released like the others.
import type { IframeRange, Rendition } from '../encoder/types.js';
import { AbrcastError } from '../errors.js';
import { ContiguousSegments, type UploadedSegment } from '../hls/contiguous-segments.js';
import { dateRangeLine, mergeDateRange } from '../hls/date-range.js';
import { serializeIframePlaylist, type IframeEntry } from '../hls/iframe-playlist.js';
import { serializeImagePlaylist } from '../hls/image-playlist.js';
import { serializeMediaPlaylist } from '../hls/media-playlist.js';
import { programDateTimes } from '../hls/program-date-time.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { DateRange, IframeStream, ImageStream, MediaRendition } from '../hls/types.js';
import { serializeWebVtt } from '../hls/webvtt.js';
import { SUBTITLE_GROUP_ID, type IframeTrackRecord, type RunTracks, type SubtitleTrackRecord } from '../model/run-tracks.js';
import { eventMediaPlaylist } from './playlist-entries.js';

/** A segment as the publisher lists it, with where its I-frames are. */
export interface ListedSegment extends UploadedSegment {
  iframes?: readonly IframeRange[];
}

/** A subtitle rendition of the run. */
export interface SubtitleTrack {
  /** Its key: in the registry's segments and parts, and in server URLs ([a-z0-9_-]). */
  name: string;
  /** NAME in the master. */
  label: string;
  language: string;
  default: boolean;
}

export interface StoredThumbnail {
  index: number;
  cid: string;
  bytes: number;
  width: number;
  height: number;
}

/** What a publish hands over about each rendition. */
export interface RenditionListing {
  rendition: Rendition;
  listed: readonly ListedSegment[];
  codecs: string;
  mapUri?: string;
}

export interface CompanionPublishInput {
  final: boolean;
  targetDuration: number;
  startedAt: Date;
  renditions: readonly RenditionListing[];
  /** Stores one playlist version under `slot` (released like the media playlists). */
  addVersion: (slot: string, text: string, what: string) => Promise<string>;
}

export interface CompanionPublish {
  media: MediaRendition[];
  /** SUBTITLES= for every variant, when there are subtitle renditions. */
  subtitlesGroup?: string;
  iframeStreams: IframeStream[];
  imageStreams: ImageStream[];
  tracks: RunTracks;
}

export interface CompanionPlaylistsOptions {
  subtitles: readonly SubtitleTrack[];
  /** Media segments (the I-frame playlists' byte ranges point into them). */
  segmentUrl: CidUrl;
  /** WebVTT subtitle segments. */
  subtitleUrl: CidUrl;
  /** JPEG thumbnails. */
  thumbnailUrl: CidUrl;
  playlistUrl: CidUrl;
  /** The run's PART-TARGET when it is low-latency: the I-frame and image playlists declare its hold-back too. */
  partTarget?: number;
}

interface Published {
  key: string;
  cid: string;
}

/** The video codec of a CODECS string (an I-frame playlist has no audio). */
function videoCodecs(codecs: string): string {
  return codecs.split(',').filter((codec) => !codec.startsWith('mp4a.')).join(',');
}

export class CompanionPlaylists {
  readonly #options: CompanionPlaylistsOptions;
  readonly #subtitles = new Map<string, { track: SubtitleTrack; segments: ContiguousSegments }>();
  readonly #thumbnails = new Map<number, StoredThumbnail>();
  readonly #dateRanges = new Map<string, DateRange>();
  #dateRangeVersion = 0;
  /** The newest stored version of each playlist, by slot, and what it was made from. */
  readonly #published = new Map<string, Published>();
  /** The I-frame and image playlists' PART-TARGET field: the run's, when it is low-latency. */
  readonly #lowLatency: { partTarget?: number };

  constructor(options: CompanionPlaylistsOptions) {
    this.#options = options;
    this.#lowLatency = options.partTarget !== undefined ? { partTarget: options.partTarget } : {};
    for (const track of options.subtitles) this.#subtitles.set(track.name, { track, segments: new ContiguousSegments() });
  }

  get subtitleTracks(): SubtitleTrack[] {
    return [...this.#subtitles.values()].map(({ track }) => track);
  }

  /** An uploaded WebVTT segment of a subtitle track. */
  subtitleUploaded(track: string, segment: UploadedSegment): void {
    const state = this.#subtitles.get(track);
    if (!state) throw new AbrcastError(`Unknown subtitle track ${track}`);
    state.segments.add(segment);
  }

  /** An uploaded thumbnail of segment `index`. */
  thumbnailUploaded(thumbnail: StoredThumbnail): void {
    this.#thumbnails.set(thumbnail.index, thumbnail);
  }

  /**
   * Adds a date range, or updates the one with its ID (RFC 8216bis 4.4.5.1: attributes may be
   * added, not changed; throws naming one that changed). Returns the range as it now stands.
   */
  setDateRange(range: DateRange): DateRange {
    const existing = this.#dateRanges.get(range.id);
    const merged = existing ? mergeDateRange(existing, range) : mergeDateRange(range, range);
    this.#dateRanges.set(range.id, merged);
    this.#dateRangeVersion += 1;
    return merged;
  }

  /** The date ranges, in the order first added. */
  get dateRanges(): readonly DateRange[] {
    return [...this.#dateRanges.values()];
  }

  /** Changes whenever a date range does: a media playlist made before is out of date. */
  get dateRangeVersion(): number {
    return this.#dateRangeVersion;
  }

  async publish(input: CompanionPublishInput): Promise<CompanionPublish> {
    const out: CompanionPublish = { media: [], iframeStreams: [], imageStreams: [], tracks: {} };
    await this.#publishSubtitles(input, out);
    await this.#publishIframes(input, out);
    await this.#publishImages(input, out);
    if (this.#dateRanges.size > 0) out.tracks.dateRanges = this.dateRanges.map(dateRangeLine);
    return out;
  }

  /** Stores `text` under `slot` unless the newest version there was made from the same `key`. */
  async #store(input: CompanionPublishInput, slot: string, key: string, text: () => string, what: string): Promise<string> {
    const known = this.#published.get(slot);
    if (known && known.key === key) return known.cid;
    const cid = await input.addVersion(slot, text(), what);
    this.#published.set(slot, { key, cid });
    return cid;
  }

  async #publishSubtitles(input: CompanionPublishInput, out: CompanionPublish): Promise<void> {
    if (this.#subtitles.size === 0) return;
    const subtitles: Record<string, SubtitleTrackRecord> = {};
    for (const { track, segments } of this.#subtitles.values()) {
      const listed = segments.listed();
      const cid = await this.#store(input, `subtitles:${track.name}`, `${listed.length}:${input.final}`, () =>
        serializeMediaPlaylist(eventMediaPlaylist({
          targetDuration: input.targetDuration, segments: listed, segmentUrl: this.#options.subtitleUrl, endList: input.final, startedAt: input.startedAt,
        })), `${track.name} subtitle playlist`);
      out.media.push({
        type: 'SUBTITLES', groupId: SUBTITLE_GROUP_ID, name: track.label, language: track.language,
        default: track.default, autoselect: true, uri: this.#options.playlistUrl(cid),
      });
      subtitles[track.name] = { cid, name: track.label, language: track.language, default: track.default, segmentCount: listed.length };
    }
    out.subtitlesGroup = SUBTITLE_GROUP_ID;
    out.tracks.subtitles = subtitles;
  }

  async #publishIframes(input: CompanionPublishInput, out: CompanionPublish): Promise<void> {
    const iframes: Record<string, IframeTrackRecord> = {};
    for (const { rendition, listed, codecs, mapUri } of input.renditions) {
      const entries = this.#iframeEntries(listed, input.startedAt, input.targetDuration);
      if (entries.length === 0 || !codecs) continue;
      const cid = await this.#store(input, `iframes:${rendition.name}`, `${listed.length}:${input.final}:${mapUri ?? ''}`, () =>
        serializeIframePlaylist({
          targetDuration: input.targetDuration, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true,
          ...(mapUri !== undefined ? { mapUri } : {}), iframes: entries, endList: input.final, ...this.#lowLatency,
        }), `${rendition.name} I-frame playlist`);
      // BANDWIDTH of an I-frame playlist: the I-frames' own bytes over the time each spans.
      let peak = 0;
      let bits = 0;
      let seconds = 0;
      for (const entry of entries) {
        peak = Math.max(peak, (entry.length * 8) / entry.duration);
        bits += entry.length * 8;
        seconds += entry.duration;
      }
      const record: IframeTrackRecord = {
        cid, bandwidth: Math.max(1, Math.ceil(peak)), averageBandwidth: Math.max(1, Math.ceil(bits / seconds)),
        codecs: videoCodecs(codecs), width: rendition.width, height: rendition.height,
      };
      iframes[rendition.name] = record;
      out.iframeStreams.push({
        uri: this.#options.playlistUrl(cid), bandwidth: record.bandwidth, averageBandwidth: record.averageBandwidth,
        codecs: record.codecs, resolution: { width: rendition.width, height: rendition.height },
      });
    }
    if (Object.keys(iframes).length > 0) out.tracks.iframes = iframes;
  }

  /** One entry per I-frame of the listed segments; each spans until the next I-frame (or its segment's end). */
  #iframeEntries(listed: readonly ListedSegment[], startedAt: Date, nominalDuration: number): IframeEntry[] {
    const entries: IframeEntry[] = [];
    const dates = programDateTimes(listed, startedAt, nominalDuration);
    for (const [position, segment] of listed.entries()) {
      const ranges = segment.iframes ?? [];
      if (ranges.length === 0) break; // an I-frame playlist, like a media playlist, only grows from its start
      const uri = this.#options.segmentUrl(segment.cid);
      const start = ranges[0]!.pts;
      ranges.forEach((range, i) => {
        const next = i + 1 < ranges.length ? ranges[i + 1]!.pts : start + segment.duration;
        const date = i === 0 ? dates[position] : undefined;
        entries.push({ duration: next - range.pts, uri, offset: range.offset, length: range.length, ...(date ? { programDateTime: date } : {}) });
      });
    }
    return entries;
  }

  async #publishImages(input: CompanionPublishInput, out: CompanionPublish): Promise<void> {
    const reference = input.renditions[0];
    if (!reference || this.#thumbnails.size === 0) return;
    // One image per listed segment, as long as each has its thumbnail: a playlist only grows.
    const images: { segment: ListedSegment; thumbnail: StoredThumbnail }[] = [];
    for (const segment of reference.listed) {
      const thumbnail = this.#thumbnails.get(segment.index);
      if (!thumbnail) break;
      images.push({ segment, thumbnail });
    }
    if (images.length === 0) return;
    const { width, height } = images[0]!.thumbnail;
    const key = `${images.length}:${input.final}`;
    const cid = await this.#store(input, 'images', key, () =>
      serializeImagePlaylist({
        targetDuration: input.targetDuration, mediaSequence: 0, playlistType: 'EVENT', endList: input.final,
        resolution: { width, height }, images: images.map(({ segment, thumbnail }) => ({ duration: segment.duration, uri: this.#options.thumbnailUrl(thumbnail.cid) })),
        ...this.#lowLatency,
      }), 'image playlist');
    let start = 0;
    const vttCid = await this.#store(input, 'thumbnails-vtt', key, () =>
      serializeWebVtt({
        cues: images.map(({ segment, thumbnail }) => {
          const cue = { id: `thumbnail-${segment.index}`, start, end: start + segment.duration, text: this.#options.thumbnailUrl(thumbnail.cid) };
          start += segment.duration;
          return cue;
        }),
      }), 'thumbnail track');
    const peak = Math.max(...images.map(({ segment, thumbnail }) => (thumbnail.bytes * 8) / segment.duration));
    const bandwidth = Math.max(1, Math.ceil(peak));
    out.imageStreams.push({ uri: this.#options.playlistUrl(cid), bandwidth, resolution: { width, height }, codecs: 'jpeg' });
    out.tracks.images = { cid, vttCid, bandwidth, width, height, codecs: 'jpeg', count: images.length };
  }
}
