// What a run offers beyond its variant streams, as the publisher makes it, the registry keeps it
// (runs.tracks) and the server serves it: subtitle renditions, one I-frame playlist per
// rendition, the thumbnails' image playlist and WebVTT track. Each names the CID of its newest
// playlist version, as VariantStreamRecord does.

/** A WebVTT subtitle rendition (EXT-X-MEDIA TYPE=SUBTITLES). */
export interface SubtitleTrackRecord {
  cid: string;
  /** NAME. */
  name: string;
  /** LANGUAGE (RFC 5646). */
  language: string;
  default: boolean;
  /** Segments its playlist lists. */
  segmentCount: number;
}

/** A rendition's I-frame playlist (EXT-X-I-FRAME-STREAM-INF). */
export interface IframeTrackRecord {
  cid: string;
  bandwidth: number;
  averageBandwidth: number;
  /** The video codec. */
  codecs: string;
  width: number;
  height: number;
}

/** The thumbnails: an image playlist (EXT-X-IMAGE-STREAM-INF) and a WebVTT thumbnail track. */
export interface ImageTrackRecord {
  cid: string;
  /** CID of thumbnails.vtt: one cue per image, its text the image's URL. */
  vttCid: string;
  bandwidth: number;
  width: number;
  height: number;
  /** The image format (CODECS), e.g. jpeg. */
  codecs: string;
  count: number;
}

export interface RunTracks {
  /** By track name (also its key in the registry's segments and parts). */
  subtitles?: Record<string, SubtitleTrackRecord>;
  /** By rendition. */
  iframes?: Record<string, IframeTrackRecord>;
  images?: ImageTrackRecord;
  /** The EXT-X-DATERANGE lines every media playlist carries, as written there. */
  dateRanges?: string[];
}

/** The GROUP-ID every variant names in SUBTITLES=. */
export const SUBTITLE_GROUP_ID = 'subs';
