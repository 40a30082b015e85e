// Reads back a Media Playlist that serializeMediaPlaylist wrote (a published
// snapshot), so the server can extend it with the live edge's parts. Only the
// tags abrcast writes are understood; anything else is an error, not a guess.
import { AbrcastError } from '../errors.js';
import type { MediaPlaylist, MediaSegment, SegmentKey } from './types.js';

/** EXT-X-KEY as abrcast writes it: METHOD=NONE, or AES-128 with URI and IV. */
function parseKey(value: string, number: number): SegmentKey | undefined {
  if (value === 'METHOD=NONE') return undefined;
  const match = /^METHOD=AES-128,URI="([^"]*)",IV=0x([0-9a-fA-F]{32})$/.exec(value);
  if (!match) throw new AbrcastError(`Playlist line ${number + 1}: an EXT-X-KEY abrcast does not write`);
  return { method: 'AES-128', uri: match[1], iv: match[2].toLowerCase() };
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split('\n');
  if (lines[0] !== '#EXTM3U') throw new AbrcastError('Not a playlist: the first line is not #EXTM3U');
  const playlist: MediaPlaylist & { segments: MediaSegment[] } = {
    targetDuration: NaN,
    mediaSequence: 0,
    independentSegments: false,
    segments: [],
    endList: false,
  };
  let duration: number | undefined;
  let programDateTime: Date | undefined;
  let discontinuity = false;
  let gap = false;
  let mapUri: string | undefined;
  let mapKey: SegmentKey | undefined;
  let key: SegmentKey | undefined;
  for (const [number, line] of lines.entries()) {
    if (number === 0 || line === '') continue;
    const colon = line.indexOf(':');
    const tag = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1);
    if (!line.startsWith('#')) {
      if (duration === undefined) throw new AbrcastError(`Playlist line ${number + 1}: URI without #EXTINF`);
      playlist.segments.push({
        duration, uri: line, ...(programDateTime ? { programDateTime } : {}), ...(discontinuity ? { discontinuity } : {}),
        ...(mapUri !== undefined ? { mapUri, ...(mapKey ? { mapKey } : {}) } : {}), ...(key ? { key } : {}), ...(gap ? { gap } : {}),
      });
      duration = undefined;
      programDateTime = undefined;
      discontinuity = false;
      gap = false;
      mapUri = undefined;
      continue;
    }
    switch (tag) {
      case '#EXT-X-VERSION': break;
      case '#EXT-X-TARGETDURATION': playlist.targetDuration = Number(value); break;
      case '#EXT-X-MEDIA-SEQUENCE': playlist.mediaSequence = Number(value); break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE': playlist.discontinuitySequence = Number(value); break;
      case '#EXT-X-DISCONTINUITY': discontinuity = true; break;
      case '#EXT-X-GAP': gap = true; break;
      case '#EXT-X-PLAYLIST-TYPE': playlist.playlistType = value as 'EVENT' | 'VOD'; break;
      case '#EXT-X-INDEPENDENT-SEGMENTS': playlist.independentSegments = true; break;
      case '#EXT-X-PROGRAM-DATE-TIME': programDateTime = new Date(value); break;
      case '#EXT-X-MAP': {
        const uri = /URI="([^"]*)"/.exec(value)?.[1];
        // Before the first segment it is the playlist's (under the key in effect); later, the segment's that follows.
        if (playlist.segments.length === 0 && !discontinuity) {
          playlist.mapUri = uri;
          if (key) playlist.mapKey = key;
        } else {
          mapUri = uri;
          mapKey = key;
        }
        break;
      }
      case '#EXT-X-KEY': key = parseKey(value, number); break;
      case '#EXTINF': duration = Number(value.split(',')[0]); break;
      case '#EXT-X-ENDLIST': playlist.endList = true; break;
      // A run's date ranges: the server's LL view takes them from the registry (runs.tracks.dateRanges).
      case '#EXT-X-DATERANGE': break;
      default: throw new AbrcastError(`Playlist line ${number + 1}: ${tag} is not a tag abrcast writes`);
    }
  }
  if (!(playlist.targetDuration >= 1)) throw new AbrcastError('Playlist has no #EXT-X-TARGETDURATION');
  return playlist;
}
