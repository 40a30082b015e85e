// Media Playlist serializer (RFC 8216 4.3.3). Pure: model in, text out.
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import { dateRangeLine } from './date-range.js';
import { checkUri, decimalInteger, quotedString } from './playlist-text.js';
import type { MediaPlaylist, MediaSegment, SegmentKey } from './types.js';

/** RFC 8216 6.2.2: a live playlist (without ENDLIST) must not become shorter than three target durations. */
export const MIN_WINDOW_TARGETS = 3;

/** EXTINF durations are written with this many decimals (decimal-floating-point). */
export const EXTINF_DECIMALS = 5;

/**
 * Slack for timestamp arithmetic: a segment measured from PTS may come out a hair
 * longer than the configured duration. Far below one frame at any real frame rate.
 */
const DURATION_TOLERANCE_S = 1e-3;

/**
 * The EXT-X-TARGETDURATION for a run whose segments are at most `segmentDuration`
 * seconds (plus floating error). The same for every rendition, and never below any
 * segment's EXTINF rounded to the nearest integer (RFC 8216 4.3.3.1).
 */
export function targetDurationFor(segmentDuration: number): number {
  if (!isPositiveFinite(segmentDuration)) {
    throw invalidParameterError('segmentDuration', 'positive number of seconds', segmentDuration);
  }
  // Rounding is monotonic, so the longest possible segment bounds every rounded EXTINF.
  return Math.max(1, Math.round(segmentDuration + DURATION_TOLERANCE_S));
}

/**
 * Lowest EXT-X-VERSION covering what the playlist uses (RFC 8216 7): decimal
 * EXTINF durations need 3; the other tags written here need no particular version.
 */
export function mediaPlaylistVersion(playlist: Pick<MediaPlaylist, 'segments' | 'mapUri'>): number {
  // EXT-X-MAP outside an I-frames-only playlist needs 6 (RFC 8216 7).
  if (playlist.mapUri !== undefined || playlist.segments.some((segment) => segment.mapUri !== undefined)) return 6;
  return playlist.segments.length > 0 ? 3 : 1;
}

/** Seconds of segments or parts end to end: the one sum every EXTINF, hold-back and skip rule uses. */
export function totalDuration(items: readonly { duration: number }[]): number {
  let total = 0;
  for (const item of items) total += item.duration;
  return total;
}

export function formatExtinfDuration(duration: number): string {
  return duration.toFixed(EXTINF_DECIMALS);
}

/** EXT-X-MAP (RFC 8216 4.3.2.5) for the init segment at `uri`. */
export function mapLine(uri: string): string {
  return `#EXT-X-MAP:URI=${quotedString('mapUri', checkUri('mapUri', uri))}`;
}

const IV_HEX = /^[0-9a-f]{32}$/;

/** EXT-X-KEY (RFC 8216bis 4.4.4.4) with METHOD=AES-128, its key URI and explicit IV. */
export function keyLine(key: SegmentKey, name: string): string {
  if (key.method !== 'AES-128') throw invalidParameterError(`method of ${name}`, "'AES-128'", key.method);
  if (typeof key.iv !== 'string' || !IV_HEX.test(key.iv)) throw invalidParameterError(`iv of ${name}`, '32 lowercase hex digits', key.iv);
  return `#EXT-X-KEY:METHOD=AES-128,URI=${quotedString(`uri of ${name}`, checkUri(`uri of ${name}`, key.uri))},IV=0x${key.iv}`;
}

const sameKey = (a: SegmentKey | undefined, b: SegmentKey | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.method === b.method && a.uri === b.uri && a.iv === b.iv);

/**
 * Writes what `key` needs given the key in effect (the last one written): nothing
 * when it is the same, an EXT-X-KEY when it changes, METHOD=NONE when a clear
 * segment follows an encrypted one. `force` writes a defined key even when it is
 * the same (after EXT-X-SKIP, whose skipped lines the client does not re-read).
 * Returns the key now in effect.
 */
export function appendKeyLine(lines: string[], key: SegmentKey | undefined, inEffect: SegmentKey | undefined, name: string, force = false): SegmentKey | undefined {
  if (sameKey(key, inEffect) && !(force && key !== undefined)) return inEffect;
  lines.push(key === undefined ? '#EXT-X-KEY:METHOD=NONE' : keyLine(key, name));
  return key;
}

export function programDateTimeLine(name: string, time: unknown): string {
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw invalidParameterError(name, 'valid Date', time);
  return `#EXT-X-PROGRAM-DATE-TIME:${time.toISOString()}`;
}

/** EXT-X-PLAYLIST-TYPE and EXT-X-INDEPENDENT-SEGMENTS, shared by the plain and the LL serializer. */
export function appendPlaylistTypeLines(lines: string[], playlist: Pick<MediaPlaylist, 'playlistType' | 'independentSegments'>): void {
  if (playlist.playlistType !== undefined) {
    if (playlist.playlistType !== 'EVENT' && playlist.playlistType !== 'VOD') {
      throw invalidParameterError('playlistType', 'one of EVENT, VOD', playlist.playlistType);
    }
    lines.push(`#EXT-X-PLAYLIST-TYPE:${playlist.playlistType}`);
  }
  if (playlist.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
}

/** EXT-X-DISCONTINUITY-SEQUENCE (after EXT-X-MEDIA-SEQUENCE), when the playlist sets one. */
export function appendDiscontinuitySequenceLine(lines: string[], playlist: Pick<MediaPlaylist, 'discontinuitySequence'>): void {
  if (playlist.discontinuitySequence === undefined) return;
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${decimalInteger('discontinuitySequence', playlist.discontinuitySequence)}`);
}

/**
 * The tags that open segment `sequence`, before its parts (LL-HLS) and its EXTINF:
 * EXT-X-DISCONTINUITY, EXT-X-MAP (after the EXT-X-KEY its init segment needs), EXT-X-KEY
 * when its key differs from the one in effect (in LL-HLS it applies to the parts too;
 * `forceKey` as for appendKeyLine), then EXT-X-PROGRAM-DATE-TIME. Returns the key now in effect.
 */
export function appendSegmentHeadLines(
  lines: string[],
  segment: Pick<MediaSegment, 'discontinuity' | 'programDateTime' | 'mapUri' | 'mapKey' | 'key'>,
  sequence: number,
  keyInEffect: SegmentKey | undefined,
  forceKey = false,
): SegmentKey | undefined {
  if (segment.discontinuity !== undefined && typeof segment.discontinuity !== 'boolean') {
    throw invalidParameterError(`discontinuity of segment ${sequence}`, 'boolean', segment.discontinuity);
  }
  if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
  let inEffect = keyInEffect;
  if (segment.mapUri !== undefined) {
    // An EXT-X-KEY applies to the EXT-X-MAP after it (RFC 8216bis 4.4.4.4): the init segment's own key, or
    // METHOD=NONE before a clear one that follows encrypted media.
    inEffect = appendKeyLine(lines, segment.mapKey, inEffect, `mapKey of segment ${sequence}`);
    lines.push(mapLine(segment.mapUri));
  }
  const key = appendKeyLine(lines, segment.key, inEffect, `key of segment ${sequence}`, forceKey);
  if (segment.programDateTime !== undefined) lines.push(programDateTimeLine(`programDateTime of segment ${sequence}`, segment.programDateTime));
  return key;
}

/**
 * The EXTINF and URI lines of segment `sequence` (its head lines, and in LL-HLS
 * its parts, come before them and are the caller's). Throws a RangeError when the
 * written duration, rounded to the nearest integer, exceeds the target duration.
 */
/**
 * The EXT-X-DATERANGE lines of a playlist. RFC 8216bis 4.4.5.1: a playlist with date ranges has
 * at least one EXT-X-PROGRAM-DATE-TIME, which maps START-DATE onto its segments.
 */
export function appendDateRangeLines(lines: string[], playlist: Pick<MediaPlaylist, 'dateRanges' | 'segments'>): void {
  const ranges = playlist.dateRanges ?? [];
  if (ranges.length === 0) return;
  if (!playlist.segments.some((segment) => segment.programDateTime !== undefined)) {
    throw new RangeError('A playlist with EXT-X-DATERANGE needs an EXT-X-PROGRAM-DATE-TIME (RFC 8216bis 4.4.5.1)');
  }
  const ids = new Set<string>();
  for (const range of ranges) {
    if (ids.has(range.id)) throw new RangeError(`Date range ${range.id} is listed twice: merge updates first (mergeDateRange)`);
    ids.add(range.id);
    lines.push(dateRangeLine(range));
  }
}

export function appendSegmentLines(lines: string[], segment: MediaSegment, sequence: number, targetDuration: number): void {
  if (!isPositiveFinite(segment.duration)) {
    throw invalidParameterError(`duration of segment ${sequence}`, 'positive number of seconds', segment.duration);
  }
  const written = formatExtinfDuration(segment.duration);
  // Check what a client will read, not the unrounded double.
  if (Math.round(Number(written)) > targetDuration) {
    throw new RangeError(
      `Segment ${sequence} has #EXTINF:${written}, which rounds above #EXT-X-TARGETDURATION:${targetDuration} (RFC 8216 4.3.3.1)`,
    );
  }
  if (segment.gap) lines.push('#EXT-X-GAP');
  lines.push(`#EXTINF:${written},`, checkUri(`uri of segment ${sequence}`, segment.uri));
}

/**
 * Writes the playlist. Throws a RangeError when a segment's written duration,
 * rounded to the nearest integer, exceeds the target duration.
 */
export function serializeMediaPlaylist(playlist: MediaPlaylist): string {
  const targetDuration = decimalInteger('targetDuration', playlist.targetDuration, 1);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${mediaPlaylistVersion(playlist)}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${decimalInteger('mediaSequence', playlist.mediaSequence)}`,
  ];
  appendDiscontinuitySequenceLine(lines, playlist);
  appendPlaylistTypeLines(lines, playlist);
  // RFC 8216bis 4.4.4.5: the key of an encrypted init segment comes before its EXT-X-MAP.
  let key = playlist.mapKey === undefined ? undefined : appendKeyLine(lines, playlist.mapKey, undefined, 'mapKey');
  if (playlist.mapUri !== undefined) lines.push(mapLine(playlist.mapUri));
  appendDateRangeLines(lines, playlist);

  playlist.segments.forEach((segment, position) => {
    const sequence = playlist.mediaSequence + position;
    key = appendSegmentHeadLines(lines, segment, sequence, key);
    appendSegmentLines(lines, segment, sequence, playlist.targetDuration);
  });

  if (playlist.endList) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
