// The LL-HLS view of one rendition at one moment: the newest published
// playlist (complete segments, immutable on IPFS) extended with the parts the
// live model holds. Pure: what the model knows in, a playlist model and the
// positions a blocking request is judged against out. The rules that keep the
// view valid over time (RFC 8216bis 6.2.1, 6.2.5.2) are here, in one place;
// docs/low-latency.md tells why each is what it is.
import { serverControlFor, writtenPartTarget } from '../hls/low-latency-playlist.js';
import type { LowLatencyMediaPlaylist, LowLatencyMediaSegment, PartialSegment } from '../hls/low-latency-types.js';
import { targetDurationFor, totalDuration } from '../hls/media-playlist.js';
import type { MediaPlaylist, SegmentKey } from '../hls/types.js';
import type { PartPosition, PartRecord } from '../registry/run-records.js';

/** Parts are listed for the segments that end less than this many target durations before the end (RFC 8216bis 6.2.2: at least 3). */
export const PART_LISTED_TARGETS = 3;
/** Sums of written durations may differ from EXTINF by rounding; beyond this a part list is not the segment's. */
const PART_SUM_TOLERANCE_S = 1e-3;
/** RFC 8216bis 6.2.5.2: an _HLS_msn more than this past the last segment gets 400. */
export const MSN_AHEAD_LIMIT = 2;

/** The file type of a rendition's parts and segments: MPEG-TS, fMP4, or WebVTT (a subtitle track). */
export type PartContainer = 'ts' | 'm4s' | 'vtt';

/** URIs relative to the media playlist (/runs/{id}/quality/{name}/playlist.m3u8); segmentUri names every segment of an LL run. */
export const partUri = (msn: number, part: number, ext: PartContainer) => `part/${msn}.${part}.${ext}`;
/** `$Number$` makes the DASH SegmentTemplate@media of the same URIs. */
export const segmentUri = (msn: number | '$Number$', ext: PartContainer) => `segment/${msn}.${ext}`;
export const reportUri = (rendition: string) => `../${rendition}/playlist.m3u8`;

/** A rendition's parts by segment (MSN), each array indexed by part index; holes are parts not (yet) known. */
export type PartsBySegment = ReadonlyMap<number, readonly (PartRecord | undefined)[]>;

export interface LiveEdgeInput {
  run: {
    segmentDuration: number; fps: number; startedAt: Date | null; partTarget: number;
    /** A channel's run: MSN of its first segment, which follows a discontinuity when discontinuitySequence > 0. */
    msnBase?: number; discontinuitySequence?: number;
  };
  /** The newest published media playlist of the rendition, if any. */
  published?: MediaPlaylist;
  parts: PartsBySegment;
  container: PartContainer;
  /** EXT-X-MAP URI (fMP4), and its key in an encrypted run. */
  mapUri?: string;
  mapKey?: SegmentKey;
  /** An encrypted run's key URI of key `index`: the EXT-X-KEY of what is known from its parts. */
  keyUri?: (index: number) => string;
  /** The other renditions' newest parts. */
  reports: Record<string, PartPosition>;
  /** The run's EXT-X-DATERANGE lines (runs.tracks.dateRanges): every media playlist carries them. */
  dateRanges?: readonly string[];
}

export interface LiveEdge {
  playlist: LowLatencyMediaPlaylist;
  /** The newest listed part: what a blocking reload waits to pass. */
  last: PartPosition | undefined;
  /** The preload-hinted part (the next one); undefined once ended. */
  hinted: PartPosition | undefined;
  /** Media Sequence Number of the last complete segment (mediaSequence - 1 when none). */
  lastCompleteMsn: number;
  /** The run has ended: the playlist has EXT-X-ENDLIST and answers every request at once. */
  ended: boolean;
  /** Parts of segment `msn` as listed, when known (for a Part Index past a segment's last part). */
  partCount(msn: number): number | undefined;
  /** Parts a whole segment has (segment duration ÷ part target, rounded): counts "parts ahead". */
  partsPerSegment: number;
}

/** The parts of a segment from part 0 up to the first hole. */
export function contiguousParts(parts: readonly (PartRecord | undefined)[] | undefined): PartRecord[] {
  const run: PartRecord[] = [];
  for (const part of parts ?? []) {
    if (part === undefined) break;
    run.push(part);
  }
  return run;
}

/**
 * Whether `parts` (contiguous from 0) are a whole segment: it starts with an
 * independent part and lasts a segment (every segment but a run's last has
 * framesPerSegment frames). A segment with a lost part is not whole, so it is
 * never listed with a short EXTINF that would change when it is published.
 */
export function isWholeSegment(parts: readonly PartRecord[], run: { segmentDuration: number; fps: number }): boolean {
  return parts.length > 0 && parts[0].independent && totalDuration(parts) >= run.segmentDuration - 0.5 / run.fps;
}

/**
 * The parts a listed segment (its EXTINF known) lists: those stored, and each
 * lost one (the part lane gave it up, or the segment was stored first) as a
 * GAP=YES part (RFC 8216bis 4.4.4.9) sharing what the known parts leave of the
 * EXTINF, so the segment and those before it keep their parts listed (6.2.2).
 * Undefined when no part is known or the lost ones cannot fill the rest with
 * parts of at most PART-TARGET.
 */
export function partsWithGaps(
  parts: readonly (PartRecord | undefined)[] | undefined, msn: number, extinf: number, partTarget: number, ext: PartContainer,
): PartialSegment[] | undefined {
  const known = (parts ?? []).filter((part): part is PartRecord => part !== undefined);
  if (known.length === 0) return undefined;
  const left = extinf - totalDuration(known);
  // As many parts as the known ones span, and as PART-TARGET fits in the segment.
  const count = Math.max(parts!.length, Math.round(extinf / partTarget));
  const lost = count - known.length;
  if (lost === 0) return Math.abs(left) <= PART_SUM_TOLERANCE_S ? known.map((part) => toPartial(part, ext)) : undefined;
  const duration = left / lost;
  if (!(duration > 0) || duration > writtenPartTarget(partTarget)) return undefined;
  return Array.from({ length: count }, (_, index) => {
    const part = parts![index];
    return part ? toPartial(part, ext) : { duration, uri: partUri(msn, index, ext), independent: false, gap: true };
  });
}

const toPartial = (part: PartRecord, ext: PartContainer): PartialSegment => ({
  duration: part.duration,
  uri: partUri(part.segmentIndex, part.partIndex, ext),
  independent: part.independent,
});

const sortedReports = (reports: Record<string, PartPosition>) =>
  Object.entries(reports)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([rendition, position]) => ({ uri: reportUri(rendition), lastMsn: position.segmentIndex, lastPart: position.partIndex }));

/** A published playlist with its segments named by number (segmentUri), as every LL view names them. */
export function numberedSegments(published: MediaPlaylist, ext: PartContainer): MediaPlaylist {
  return { ...published, segments: published.segments.map((segment, position) => ({ ...segment, uri: segmentUri(published.mediaSequence + position, ext) })) };
}

/** The playlist with parts; undefined when there is nothing to list yet (no publish, no part). */
export function buildLiveEdge(input: LiveEdgeInput): LiveEdge | undefined {
  const { run, published, parts } = input;
  if (!published && parts.size === 0) return undefined;
  // A published window with an init segment is fMP4, even while this run's own init segment is not known here yet
  // (a channel's next run lists the previous run's tail first).
  const ext: PartContainer = input.container === 'ts' && published?.mapUri !== undefined ? 'm4s' : input.container;
  // Until then (and, encrypted, its key), nothing past the published playlist is listed: this run's parts would play
  // under the previous run's init segment.
  const initUnknown = published?.mapUri !== undefined && (input.mapUri === undefined || (input.keyUri !== undefined && input.mapKey === undefined));
  const targetDuration = published?.targetDuration ?? targetDurationFor(run.segmentDuration);
  // A channel's published window may open with the previous run's segments and their init segment.
  const mapUri = published?.mapUri ?? input.mapUri;
  const mapKey = published?.mapUri !== undefined ? published.mapKey : input.mapKey;
  const msnBase = run.msnBase ?? 0;
  /** The run's own first segment after the channel's previous run: EXT-X-DISCONTINUITY, its own date and init segment. */
  const opensRun = (msn: number, position: number) => msn === msnBase && (run.discontinuitySequence ?? 0) > 0 && position > 0;
  // A segment known from its parts has their key (a part's key and IV are its segment's).
  const keyOf = (group: readonly PartRecord[]): { key?: SegmentKey } => {
    const key = group[0]?.key;
    if (!key) return {};
    if (!input.keyUri) throw new TypeError('An encrypted run\'s live edge needs its key URIs (keyUri)');
    return { key: { method: 'AES-128', uri: input.keyUri(key.index), iv: key.iv } };
  };
  // The run's own init segment where it opens after the channel's previous run (fMP4), with its key when encrypted.
  const newInit: Pick<LowLatencyMediaSegment, 'mapUri' | 'mapKey'> =
    input.mapUri !== undefined && input.mapUri !== mapUri ? { mapUri: input.mapUri, ...(input.mapKey ? { mapKey: input.mapKey } : {}) } : {};
  const partsPerSegment = Math.max(1, Math.round(run.segmentDuration / run.partTarget));
  // The published playlist's numbering (a sliding window or a continued channel starts past 0); before any publish, the first part's segment.
  const mediaSequence = published?.mediaSequence ?? Math.min(...parts.keys());
  // Every segment by its position, published or not: one finished after the
  // publish is first listed from its parts, and its URI must not change when
  // the publish catches up (RFC 8216bis 6.2.1; hls.js stops on the change).
  const segments: LowLatencyMediaSegment[] = published ? [...numberedSegments(published, ext).segments] : [];
  const listedParts = new Map<number, number>();
  const common = {
    targetDuration,
    mediaSequence,
    ...(published?.discontinuitySequence !== undefined ? { discontinuitySequence: published.discontinuitySequence } : {}),
    ...(published?.playlistType ? { playlistType: published.playlistType } : published ? {} : { playlistType: 'EVENT' as const }),
    independentSegments: true,
    serverControl: serverControlFor(targetDuration, run.partTarget),
    partTarget: run.partTarget,
    ...(mapUri !== undefined ? { map: { uri: mapUri, ...(mapKey ? { key: mapKey } : {}) } } : {}),
  };
  const partCount = (msn: number) => listedParts.get(msn) ?? (contiguousParts(parts.get(msn)).length || undefined);

  if (published?.endList) {
    // RFC 8216bis 6.2.1: the ended playlist keeps every tag it had while live; only parts and the hint go.
    const lastMsn = mediaSequence + segments.length - 1;
    const dateRangeLines = datedForRanges(segments, input.dateRanges);
    return {
      playlist: { ...common, endList: true, segments, pendingParts: [], renditionReports: sortedReports(input.reports), ...(dateRangeLines ? { dateRangeLines } : {}) },
      last: undefined,
      hinted: undefined,
      lastCompleteMsn: lastMsn,
      ended: true,
      partCount,
      partsPerSegment,
    };
  }

  // Segments finished since the publish: listed from their parts once all of them are stored.
  let next = mediaSequence + segments.length;
  const partsOf = (msn: number) => (initUnknown ? [] : contiguousParts(parts.get(msn)));
  for (;;) {
    const group = partsOf(next);
    if (!isWholeSegment(group, run)) break;
    segments.push({
      duration: totalDuration(group), uri: segmentUri(next, ext), ...keyOf(group),
      ...(opensRun(next, segments.length) ? {
        discontinuity: true,
        ...(run.startedAt ? { programDateTime: run.startedAt } : {}),
        ...newInit,
      } : {}),
    });
    next += 1;
  }
  const pendingGroup = partsOf(next);
  const pendingParts = pendingGroup.map((part) => toPartial(part, ext));

  // Parts for the segments ending within PART_LISTED_TARGETS target durations of the end.
  let fromEnd = totalDuration(pendingParts);
  // The tolerance keeps a segment ending exactly on the boundary listed, whatever the rounding of the sum.
  for (let position = segments.length - 1; position >= 0 && fromEnd < PART_LISTED_TARGETS * targetDuration + PART_SUM_TOLERANCE_S; position--) {
    const msn = mediaSequence + position;
    const segment = segments[position];
    const listed = partsWithGaps(parts.get(msn), msn, segment.duration, run.partTarget, ext);
    if (!listed) break;
    segment.parts = listed;
    listedParts.set(msn, listed.length);
    fromEnd += segment.duration;
  }

  // A date on the first listed segment when the publish gave none (no publish yet).
  let pendingProgramDateTime: Date | undefined;
  if (!published && run.startedAt !== null) {
    const date = new Date(run.startedAt.getTime() + Math.round((mediaSequence - msnBase) * run.segmentDuration * 1000));
    if (segments.length > 0) segments[0].programDateTime = date;
    else pendingProgramDateTime = date;
  }
  const pendingOpensRun = opensRun(next, segments.length) && pendingParts.length > 0;

  const dateRangeLines = datedForRanges(segments, input.dateRanges);
  // The newest listed part: the pending segment's, else the last part (a GAP part included) of the last segment.
  const lastCount = listedParts.get(next - 1);
  const last = pendingGroup.length > 0
    ? { segmentIndex: next, partIndex: pendingGroup.length - 1 }
    : lastCount !== undefined ? { segmentIndex: next - 1, partIndex: lastCount - 1 } : undefined;
  return {
    playlist: {
      ...common,
      endList: false,
      segments,
      pendingParts,
      ...(pendingProgramDateTime ? { pendingProgramDateTime } : {}),
      ...(pendingOpensRun ? {
        pendingDiscontinuity: true,
        ...(run.startedAt && !pendingProgramDateTime ? { pendingProgramDateTime: run.startedAt } : {}),
        ...(newInit.mapUri !== undefined ? { pendingMap: { uri: newInit.mapUri, ...(newInit.mapKey ? { key: newInit.mapKey } : {}) } } : {}),
      } : {}),
      ...(pendingGroup.length > 0 && keyOf(pendingGroup).key ? { pendingKey: keyOf(pendingGroup).key } : {}),
      // The next part: the pending segment's next (a whole segment moved to `segments` above). Encrypted:
      // not the first part of a segment not listed yet, which a player would read under the key in effect
      // at the hint, the previous segment's IV (Shaka preloads it so); players ask for that part with a
      // blocking reload instead (one round trip at each segment start).
      ...(input.keyUri && pendingParts.length === 0 ? {} : { preloadHint: { type: 'PART' as const, uri: partUri(next, pendingParts.length, ext) } }),
      renditionReports: sortedReports(input.reports),
      ...(dateRangeLines ? { dateRangeLines } : {}),
    },
    last,
    hinted: { segmentIndex: next, partIndex: pendingParts.length },
    lastCompleteMsn: next - 1,
    ended: false,
    partCount,
    partsPerSegment,
  };
}

/**
 * The date-range lines to write, once every listed segment has a PROGRAM-DATE-TIME: RFC 8216bis
 * 4.4.5.1 wants one in a playlist with date ranges, and a delta update (EXT-X-SKIP) may skip the
 * first segment, the only one a published playlist dates. Dates follow from the first dated
 * segment and the durations. Undefined (nothing written) without ranges or without a date to start from.
 */
function datedForRanges(segments: LowLatencyMediaSegment[], ranges: readonly string[] | undefined): readonly string[] | undefined {
  if (!ranges || ranges.length === 0) return undefined;
  const first = segments.findIndex((segment) => segment.programDateTime !== undefined);
  if (first < 0) return undefined;
  for (let position = first + 1; position < segments.length; position++) {
    const previous = segments[position - 1];
    segments[position].programDateTime ??= new Date(previous.programDateTime!.getTime() + Math.round(previous.duration * 1000));
  }
  for (let position = first - 1; position >= 0; position--) {
    segments[position].programDateTime = new Date(segments[position + 1].programDateTime!.getTime() - Math.round(segments[position].duration * 1000));
  }
  return ranges;
}

/**
 * The part a blocking request waits for, as RFC 8216bis 6.2.5.2 reads it: a
 * Part Index past the last part of a complete segment is part 0 of the next.
 */
export function blockingTarget(edge: LiveEdge, msn: number, part: number | undefined): { msn: number; part: number | undefined } {
  if (part === undefined || msn > edge.lastCompleteMsn) return { msn, part };
  const count = edge.partCount(msn);
  return count !== undefined && part >= count ? { msn: msn + 1, part: 0 } : { msn, part };
}

/** Whether the edge holds segment `msn` complete or, with `part`, that part (RFC 8216bis 6.2.5.2). */
export function satisfies(edge: LiveEdge, msn: number, part: number | undefined): boolean {
  if (edge.ended) return true;
  const target = blockingTarget(edge, msn, part);
  if (target.msn <= edge.lastCompleteMsn) return true;
  const last = edge.last;
  if (!last || target.part === undefined) return false;
  return last.segmentIndex > target.msn || (last.segmentIndex === target.msn && last.partIndex >= target.part);
}

/**
 * Why a blocking request is refused at once (400), or undefined: an _HLS_msn
 * more than MSN_AHEAD_LIMIT past the last segment, or an _HLS_part further
 * ahead of the newest part than the Advance Part Limit (RFC 8216bis 6.2.5.2:
 * 3 ÷ PART-TARGET parts when PART-TARGET is under a second, else 3).
 */
export function refusal(edge: LiveEdge, msn: number, part: number | undefined): string | undefined {
  if (edge.ended) return undefined;
  if (msn > edge.lastCompleteMsn + MSN_AHEAD_LIMIT) {
    return `_HLS_msn ${msn} is more than ${MSN_AHEAD_LIMIT} past the last segment (${edge.lastCompleteMsn})`;
  }
  if (part === undefined) return undefined;
  const target = blockingTarget(edge, msn, part);
  const last = edge.last ?? { segmentIndex: edge.lastCompleteMsn + 1, partIndex: -1 };
  const ahead = (target.msn - last.segmentIndex) * edge.partsPerSegment + (target.part ?? 0) - last.partIndex;
  const partTarget = edge.playlist.partTarget;
  const limit = partTarget < 1 ? 3 / partTarget : 3;
  if (ahead > limit) return `_HLS_part ${part} of segment ${msn} is ${ahead} parts past the newest part, more than the Advance Part Limit (${Math.floor(limit)})`;
  return undefined;
}
