// The LL-HLS view of one rendition: the newest published playlist (complete
// segments, immutable on IPFS) extended with the parts the registry holds for
// the live edge. Pure: what the route read in, a playlist model out.
import { serverControlFor } from '../hls/low-latency-playlist.js';
import type { LowLatencyMediaPlaylist, LowLatencyMediaSegment, PartialSegment } from '../hls/low-latency-types.js';
import { targetDurationFor } from '../hls/media-playlist.js';
import type { MediaPlaylist, SegmentKey } from '../hls/types.js';
import type { PartPosition, PartRecord } from '../registry/run-records.js';

/** Parts are listed for the segments that end less than this many target durations before the end (RFC 8216bis 6.2.2: at least 3). */
export const PART_LISTED_TARGETS = 3;
/** Sums of written durations may differ from EXTINF by rounding; beyond this a part list is not the segment's. */
const PART_SUM_TOLERANCE_S = 1e-3;

export type PartContainer = 'ts' | 'm4s';

/** URIs relative to the media playlist (/runs/{id}/quality/{name}/playlist.m3u8); segmentUri names every segment of an LL run. */
export const partUri = (msn: number, part: number, ext: PartContainer) => `part/${msn}.${part}.${ext}`;
export const segmentUri = (msn: number, ext: PartContainer) => `segment/${msn}.${ext}`;
export const reportUri = (rendition: string) => `../${rendition}/playlist.m3u8`;

export interface LiveEdgeInput {
  run: { segmentDuration: number; fps: number; startedAt: Date | null; partTarget: number | null };
  /** The newest published media playlist of the rendition, if any. */
  published?: MediaPlaylist;
  /** The rendition's parts of its newest segments, ordered by (segment, part). */
  parts: readonly PartRecord[];
  container: PartContainer;
  /** EXT-X-MAP URI (fMP4), and its key in an encrypted run. */
  mapUri?: string;
  mapKey?: SegmentKey;
  /** An encrypted run's key URI of key `index`: the EXT-X-KEY of segments and parts known from their parts. */
  keyUri?: (index: number) => string;
  /** The other renditions' newest parts. */
  reports: Record<string, PartPosition>;
}

export interface LiveEdge {
  playlist: LowLatencyMediaPlaylist;
  /** The newest listed part: what a blocking reload waits to pass. */
  last: PartPosition | undefined;
  /** Media Sequence Number of the last complete segment (-1 when none). */
  lastCompleteMsn: number;
}

/** Parts grouped by segment, each group kept only while part indexes run 0, 1, 2 … without a gap. */
function groupParts(parts: readonly PartRecord[]): Map<number, PartRecord[]> {
  const groups = new Map<number, PartRecord[]>();
  for (const part of parts) {
    let group = groups.get(part.segmentIndex);
    if (!group) groups.set(part.segmentIndex, (group = []));
    if (part.partIndex === group.length) group.push(part);
  }
  return groups;
}

const toPartial = (part: PartRecord, ext: PartContainer): PartialSegment => ({
  duration: part.duration,
  uri: partUri(part.segmentIndex, part.partIndex, ext),
  independent: part.independent,
});

const sum = (parts: readonly { duration: number }[]) => parts.reduce((total, part) => total + part.duration, 0);

/**
 * The ended run's published playlist with the URIs its live LL views gave each
 * segment, so a player still polling sees only EXT-X-ENDLIST appended.
 */
export function endedLowLatencyPlaylist(published: MediaPlaylist, container: PartContainer): MediaPlaylist {
  return { ...published, segments: published.segments.map((segment, position) => ({ ...segment, uri: segmentUri(published.mediaSequence + position, container) })) };
}

/** The playlist with parts; undefined when the rendition has no parts (a run without LL-HLS). */
export function buildLiveEdge(input: LiveEdgeInput): LiveEdge | undefined {
  const { run, published, container: ext } = input;
  const groups = groupParts(input.parts);
  if (groups.size === 0) return undefined;
  const newest = Math.max(...groups.keys());
  const targetDuration = published?.targetDuration ?? targetDurationFor(run.segmentDuration);
  const mapUri = input.mapUri ?? published?.mapUri;
  const mapKey = input.mapUri !== undefined ? input.mapKey : published?.mapKey;
  // A segment known from its parts has their key (a part's key and IV are its segment's).
  const partsKey = (group: readonly PartRecord[] | undefined): { key?: SegmentKey } => {
    const key = group?.[0]?.key;
    if (!key) return {};
    if (!input.keyUri) throw new TypeError('An encrypted run\'s live edge needs its key URIs (keyUri)');
    return { key: { method: 'AES-128', uri: input.keyUri(key.index), iv: key.iv } };
  };
  const partTarget = run.partTarget ?? Math.max(...input.parts.map((part) => part.duration));

  // Published segments have MSN = position + mediaSequence (abrcast publishes from 0).
  const base = published?.segments ?? [];
  const mediaSequence = published?.mediaSequence ?? Math.min(...groups.keys());
  // Every segment by its position, published or not: one finished after the
  // publish is first listed from its parts, and its URI must not change when
  // the publish catches up (RFC 8216bis 6.2.1; hls.js stops on the change).
  const segments: LowLatencyMediaSegment[] = base.map((segment, position) => ({ ...segment, uri: segmentUri(mediaSequence + position, ext) }));
  // Segments finished since the publish: known from their parts (a later segment has begun).
  let next = mediaSequence + segments.length;
  while (next < newest && groups.get(next)?.[0]?.independent) {
    const group = groups.get(next)!;
    segments.push({ duration: sum(group), uri: segmentUri(next, ext), ...partsKey(group) });
    next += 1;
  }
  const pendingGroup = next === newest ? (groups.get(newest) ?? []) : [];
  const pendingParts = pendingGroup.map((part) => toPartial(part, ext));

  // Parts for the segments ending within PART_LISTED_TARGETS target durations of the end.
  let fromEnd = sum(pendingParts);
  // The tolerance keeps a segment ending exactly on the boundary listed, whatever the rounding of the sum.
  for (let position = segments.length - 1; position >= 0 && fromEnd < PART_LISTED_TARGETS * targetDuration + PART_SUM_TOLERANCE_S; position--) {
    const group = groups.get(mediaSequence + position);
    const segment = segments[position];
    if (!group || Math.abs(sum(group) - segment.duration) > PART_SUM_TOLERANCE_S) break;
    segment.parts = group.map((part) => toPartial(part, ext));
    fromEnd += segment.duration;
  }

  // A date on the first listed segment when the publish gave none (no publish yet).
  const origin = run.startedAt;
  let pendingProgramDateTime: Date | undefined;
  if (base.length === 0 && origin !== null) {
    const date = new Date(origin.getTime() + Math.round(mediaSequence * run.segmentDuration * 1000));
    if (segments.length > 0) segments[0].programDateTime = date;
    else pendingProgramDateTime = date;
  }

  const lastListed = pendingGroup.at(-1) ?? groups.get(next - 1)?.at(-1);
  const last = lastListed ? { segmentIndex: lastListed.segmentIndex, partIndex: lastListed.partIndex } : undefined;
  // The next part: the pending segment's next, or the first of the next segment once this one is full.
  const pendingMsn = mediaSequence + segments.length;
  const full = sum(pendingParts) >= run.segmentDuration - 0.5 / run.fps;
  const hinted = pendingParts.length === 0 || full ? { msn: pendingMsn + (pendingParts.length > 0 ? 1 : 0), part: 0 } : { msn: pendingMsn, part: pendingParts.length };

  return {
    playlist: {
      targetDuration,
      mediaSequence,
      ...(published?.playlistType ? { playlistType: published.playlistType } : { playlistType: 'EVENT' as const }),
      independentSegments: true,
      endList: false,
      serverControl: serverControlFor(targetDuration, partTarget),
      partTarget,
      ...(mapUri !== undefined ? { map: { uri: mapUri, ...(mapKey ? { key: mapKey } : {}) } } : {}),
      segments,
      pendingParts,
      ...(pendingParts.length > 0 && partsKey(pendingGroup).key ? { pendingKey: partsKey(pendingGroup).key } : {}),
      ...(pendingProgramDateTime ? { pendingProgramDateTime } : {}),
      // Encrypted: a hint for the first part of a segment not listed yet would be read under the key in effect
      // there, the previous segment's (Shaka preloads it so), while its IV is its own segment's: no hint
      // then; players ask for that part with a blocking reload instead (one round trip at each segment start).
      ...(input.keyUri && hinted.part === 0 ? {} : { preloadHint: { type: 'PART' as const, uri: partUri(hinted.msn, hinted.part, ext) } }),
      renditionReports: Object.entries(input.reports)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([rendition, position]) => ({ uri: reportUri(rendition), lastMsn: position.segmentIndex, lastPart: position.partIndex })),
    },
    last,
    lastCompleteMsn: mediaSequence + segments.length - 1,
  };
}
