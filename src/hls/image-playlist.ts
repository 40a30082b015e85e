// Image media playlist serializer: thumbnails as the HLS Image Media Playlist convention writes
// them (Roku, and the players that follow it; outside RFC 8216bis): EXT-X-IMAGES-ONLY, then per
// image its EXTINF and an EXT-X-TILES that says what the image holds (one tile here, LAYOUT=1x1).
// Pure: model in, text out.
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import { appendPlaylistTypeLines, formatExtinfDuration } from './media-playlist.js';
import { partHoldBackLines } from './low-latency-playlist.js';
import { checkUri, decimalInteger } from './playlist-text.js';
import type { MediaPlaylist, Resolution } from './types.js';

export interface ImageEntry {
  /** Seconds of the stream the image stands for. */
  duration: number;
  uri: string;
}

export interface ImagePlaylist extends Pick<MediaPlaylist, 'targetDuration' | 'mediaSequence' | 'playlistType' | 'endList'> {
  /** Size of each image (one tile per image). */
  resolution: Resolution;
  images: readonly ImageEntry[];
  /** The run's PART-TARGET when it is low-latency: the playlist then declares the run's hold-back (partHoldBackLines). */
  partTarget?: number;
}

/** The convention's examples declare version 7. */
export const IMAGE_PLAYLIST_VERSION = 7;

export function serializeImagePlaylist(playlist: ImagePlaylist): string {
  const targetDuration = decimalInteger('targetDuration', playlist.targetDuration, 1);
  const width = decimalInteger('resolution.width', playlist.resolution?.width, 1);
  const height = decimalInteger('resolution.height', playlist.resolution?.height, 1);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${IMAGE_PLAYLIST_VERSION}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    ...(playlist.partTarget !== undefined ? partHoldBackLines(playlist.targetDuration, playlist.partTarget) : []),
    `#EXT-X-MEDIA-SEQUENCE:${decimalInteger('mediaSequence', playlist.mediaSequence)}`,
  ];
  appendPlaylistTypeLines(lines, { ...playlist, independentSegments: false });
  lines.push('#EXT-X-IMAGES-ONLY');
  playlist.images.forEach((image, position) => {
    const at = `image ${playlist.mediaSequence + position}`;
    if (!isPositiveFinite(image.duration)) throw invalidParameterError(`duration of ${at}`, 'positive number of seconds', image.duration);
    const written = formatExtinfDuration(image.duration);
    lines.push(`#EXTINF:${written},`, `#EXT-X-TILES:RESOLUTION=${width}x${height},LAYOUT=1x1,DURATION=${written}`, checkUri(`uri of ${at}`, image.uri));
  });
  if (playlist.endList) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
