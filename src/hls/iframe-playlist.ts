// I-frame playlist serializer (RFC 8216bis 4.4.3.6, EXT-X-I-FRAMES-ONLY): each entry is one
// I-frame, an EXT-X-BYTERANGE into a media segment listed by the rendition's own playlist, with
// an EXTINF that spans until the next I-frame. Pure: model in, text out.
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import { appendPlaylistTypeLines, formatExtinfDuration, mapLine, programDateTimeLine } from './media-playlist.js';
import { partHoldBackLines } from './low-latency-playlist.js';
import { checkUri, decimalInteger } from './playlist-text.js';
import type { MediaPlaylist } from './types.js';

export interface IframeEntry {
  /** Seconds until the next I-frame (or the end of the presentation). */
  duration: number;
  /** URI of the media segment that holds the I-frame. */
  uri: string;
  offset: number;
  length: number;
  programDateTime?: Date;
}

export interface IframePlaylist extends Pick<MediaPlaylist, 'targetDuration' | 'mediaSequence' | 'playlistType' | 'independentSegments' | 'mapUri' | 'endList'> {
  iframes: readonly IframeEntry[];
  /** The run's PART-TARGET when it is low-latency: the playlist then declares the run's hold-back (partHoldBackLines). */
  partTarget?: number;
}

/** EXT-X-BYTERANGE needs 4, EXT-X-MAP in an I-frames-only playlist 5 (RFC 8216bis 7). */
export function iframePlaylistVersion(playlist: Pick<IframePlaylist, 'mapUri'>): number {
  return playlist.mapUri !== undefined ? 5 : 4;
}

export function serializeIframePlaylist(playlist: IframePlaylist): string {
  const targetDuration = decimalInteger('targetDuration', playlist.targetDuration, 1);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${iframePlaylistVersion(playlist)}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    ...(playlist.partTarget !== undefined ? partHoldBackLines(playlist.targetDuration, playlist.partTarget) : []),
    `#EXT-X-MEDIA-SEQUENCE:${decimalInteger('mediaSequence', playlist.mediaSequence)}`,
  ];
  appendPlaylistTypeLines(lines, playlist);
  lines.push('#EXT-X-I-FRAMES-ONLY');
  if (playlist.mapUri !== undefined) lines.push(mapLine(playlist.mapUri));
  playlist.iframes.forEach((iframe, position) => {
    const at = `I-frame ${playlist.mediaSequence + position}`;
    if (!isPositiveFinite(iframe.duration)) throw invalidParameterError(`duration of ${at}`, 'positive number of seconds', iframe.duration);
    const written = formatExtinfDuration(iframe.duration);
    if (Math.round(Number(written)) > Number(targetDuration)) {
      throw new RangeError(`${at} has #EXTINF:${written}, which rounds above #EXT-X-TARGETDURATION:${targetDuration} (RFC 8216 4.3.3.1)`);
    }
    if (iframe.programDateTime !== undefined) lines.push(programDateTimeLine(`programDateTime of ${at}`, iframe.programDateTime));
    lines.push(
      `#EXTINF:${written},`,
      `#EXT-X-BYTERANGE:${decimalInteger(`length of ${at}`, iframe.length, 1)}@${decimalInteger(`offset of ${at}`, iframe.offset)}`,
      checkUri(`uri of ${at}`, iframe.uri),
    );
  });
  if (playlist.endList) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
