// Low-Latency HLS Media Playlist serializer (RFC 8216bis 4.4.3.7-4.4.5.4,
// 6.2.5.1 delta updates). Pure: model in, text out. Segment lines are written
// by the same helpers as the plain Media Playlist, so both read alike.
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import {
  appendDiscontinuitySequenceLine, appendKeyLine, appendPlaylistTypeLines, appendSegmentHeadLines, appendSegmentLines, EXTINF_DECIMALS,
  formatExtinfDuration, mapLine, totalDuration,
} from './media-playlist.js';
import { checkUri, decimalInteger, quotedString } from './playlist-text.js';
import type { LowLatencyMediaPlaylist, PartialSegment, RenditionReport, ServerControl } from './low-latency-types.js';

/** RFC 8216bis 4.4.3.8: PART-HOLD-BACK at least twice PART-TARGET; three times is what it recommends. */
export const PART_HOLD_BACK_PARTS = 3;
/** RFC 8216bis 4.4.3.8: CAN-SKIP-UNTIL at least six times the target duration. */
export const SKIP_BOUNDARY_TARGETS = 6;

/**
 * EXT-X-VERSION: EXT-X-SKIP needs 9 (RFC 8216bis 8), and a playlist that offers
 * delta updates (CAN-SKIP-UNTIL) is written at 9 in every version, so the full
 * and delta forms differ only by the skipped lines. EXT-X-MAP needs 6.
 */
export function lowLatencyPlaylistVersion(playlist: Pick<LowLatencyMediaPlaylist, 'serverControl' | 'skippedSegments' | 'map' | 'segments' | 'pendingMap'>): number {
  if (playlist.serverControl.canSkipUntil !== undefined || (playlist.skippedSegments ?? 0) > 0) return 9;
  return playlist.map !== undefined || playlist.pendingMap !== undefined || playlist.segments.some((segment) => segment.mapUri !== undefined) ? 6 : 3;
}

/** Parts and PART-TARGET are written with EXTINF's decimals: 1e-5 s. */
const WRITTEN_TICKS_PER_SECOND = 10 ** EXTINF_DECIMALS;

/**
 * PART-TARGET as written: rounded up to EXTINF's decimals, so it bounds every part as written
 * (parts of 1/3 s are written 0.33333 or 0.33334, see partDurationsAsWritten).
 */
export function writtenPartTarget(partTarget: number): number {
  return Math.ceil(partTarget * WRITTEN_TICKS_PER_SECOND - 1e-6) / WRITTEN_TICKS_PER_SECOND;
}

/**
 * The DURATION each part of one segment is written with: rounded where the parts end (each end
 * rounded, each duration the difference), so a whole segment's parts add up to its EXTINF as
 * written. Each rounded alone (1/3 s: 0.33333 x 3 = 0.99999) they fall short of it, and hls.js's
 * subtitle controller then never counts the segment as loaded and stops loading WebVTT parts
 * (it compares the last part's end with the segment's to 1e-6 s; video-dev/hls.js#8051).
 */
export function partDurationsAsWritten(parts: readonly PartialSegment[]): string[] {
  let end = 0;
  let writtenEnd = 0;
  return parts.map((part) => {
    end += part.duration;
    const ticks = Math.round(end * WRITTEN_TICKS_PER_SECOND);
    const written = formatExtinfDuration((ticks - writtenEnd) / WRITTEN_TICKS_PER_SECOND);
    writtenEnd = ticks;
    return written;
  });
}

/** The EXT-X-SERVER-CONTROL a run with these durations gets: block reload, 3-part hold back, 6-target skip boundary. */
export function serverControlFor(targetDuration: number, partTarget: number): ServerControl {
  return {
    canBlockReload: true,
    // Three parts of PART-TARGET as written.
    partHoldBack: PART_HOLD_BACK_PARTS * writtenPartTarget(partTarget),
    canSkipUntil: SKIP_BOUNDARY_TARGETS * targetDuration,
  };
}

const partInfLine = (partTarget: number): string => `#EXT-X-PART-INF:PART-TARGET=${formatExtinfDuration(writtenPartTarget(partTarget))}`;

/**
 * The low-latency head of a playlist of an LL run that lists no parts of its own (I-frames,
 * images): the run's PART-HOLD-BACK and PART-TARGET, neither blocking reload nor delta updates.
 * A player may take the live edge from the first live playlist it reads (Shaka reads the image
 * playlist before any variant); without these it falls back to three target durations.
 */
export function partHoldBackLines(targetDuration: number, partTarget: number): string[] {
  if (!isPositiveFinite(partTarget)) throw invalidParameterError('partTarget', 'positive number of seconds', partTarget);
  const { partHoldBack } = serverControlFor(targetDuration, partTarget);
  return [serverControlLine({ canBlockReload: false, partHoldBack }, partTarget, targetDuration), partInfLine(partTarget)];
}

/**
 * How many leading segments a delta update may skip (RFC 8216bis 6.2.5.1): those
 * that start at least `canSkipUntil` seconds before the end of the playlist
 * (the pending parts count towards that end).
 */
export function skippableSegments(
  segments: readonly { duration: number }[],
  pendingParts: readonly { duration: number }[],
  canSkipUntil: number,
): number {
  let fromEnd = totalDuration(pendingParts);
  for (let position = segments.length - 1; position >= 0; position--) {
    fromEnd += segments[position].duration;
    // Segment `position` starts `fromEnd` seconds before the end; every earlier one starts further back.
    if (fromEnd >= canSkipUntil) return position;
  }
  return 0;
}

function serverControlLine(control: ServerControl, partTarget: number, targetDuration: number): string {
  if (!isPositiveFinite(control.partHoldBack) || control.partHoldBack < 2 * partTarget) {
    throw invalidParameterError('serverControl.partHoldBack', `seconds of at least 2 × PART-TARGET (${2 * partTarget})`, control.partHoldBack);
  }
  const attributes: string[] = [];
  if (control.canBlockReload) attributes.push('CAN-BLOCK-RELOAD=YES');
  attributes.push(`PART-HOLD-BACK=${formatExtinfDuration(control.partHoldBack)}`);
  if (control.canSkipUntil !== undefined) {
    if (!isPositiveFinite(control.canSkipUntil) || control.canSkipUntil < SKIP_BOUNDARY_TARGETS * targetDuration) {
      throw invalidParameterError(
        'serverControl.canSkipUntil',
        `seconds of at least ${SKIP_BOUNDARY_TARGETS} × target duration (${SKIP_BOUNDARY_TARGETS * targetDuration})`,
        control.canSkipUntil,
      );
    }
    attributes.push(`CAN-SKIP-UNTIL=${formatExtinfDuration(control.canSkipUntil)}`);
  }
  return `#EXT-X-SERVER-CONTROL:${attributes.join(',')}`;
}

/** The EXT-X-PART lines of one segment's parts (complete or pending), their durations written to add up (partDurationsAsWritten). */
function partLines(parts: readonly PartialSegment[], sequence: number, partTarget: number): string[] {
  parts.forEach((part, index) => {
    if (!isPositiveFinite(part.duration)) throw invalidParameterError(`duration of part ${sequence}.${index}`, 'positive number of seconds', part.duration);
  });
  const written = partDurationsAsWritten(parts);
  return parts.map((part, index) => partLine(part, written[index]!, `part ${sequence}.${index}`, partTarget));
}

function partLine(part: PartialSegment, written: string, name: string, partTarget: number): string {
  // RFC 8216bis 4.4.4.9: a part is never longer than PART-TARGET (compared as written).
  const target = formatExtinfDuration(writtenPartTarget(partTarget));
  if (Number(written) > Number(target)) {
    throw new RangeError(`${name} has DURATION=${written}, above PART-TARGET=${target} (RFC 8216bis 4.4.4.9)`);
  }
  const attributes = [`DURATION=${written}`, `URI=${quotedString(`uri of ${name}`, checkUri(`uri of ${name}`, part.uri))}`];
  if (part.independent) attributes.push('INDEPENDENT=YES');
  if (part.gap) attributes.push('GAP=YES');
  return `#EXT-X-PART:${attributes.join(',')}`;
}

function renditionReportLine(report: RenditionReport, position: number): string {
  const name = `rendition report ${position}`;
  const attributes = [
    `URI=${quotedString(`uri of ${name}`, checkUri(`uri of ${name}`, report.uri))}`,
    `LAST-MSN=${decimalInteger(`lastMsn of ${name}`, report.lastMsn)}`,
  ];
  if (report.lastPart !== undefined) attributes.push(`LAST-PART=${decimalInteger(`lastPart of ${name}`, report.lastPart)}`);
  return `#EXT-X-RENDITION-REPORT:${attributes.join(',')}`;
}

export function serializeLowLatencyPlaylist(playlist: LowLatencyMediaPlaylist): string {
  const targetDuration = decimalInteger('targetDuration', playlist.targetDuration, 1);
  if (!isPositiveFinite(playlist.partTarget)) throw invalidParameterError('partTarget', 'positive number of seconds', playlist.partTarget);
  const skipped = playlist.skippedSegments ?? 0;
  if (skipped !== 0) {
    decimalInteger('skippedSegments', skipped, 0);
    if (playlist.serverControl.canSkipUntil === undefined || skipped > playlist.segments.length) {
      throw invalidParameterError('skippedSegments', `at most ${playlist.segments.length}, with serverControl.canSkipUntil set`, skipped);
    }
  }
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${lowLatencyPlaylistVersion(playlist)}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    serverControlLine(playlist.serverControl, playlist.partTarget, playlist.targetDuration),
    partInfLine(playlist.partTarget),
    `#EXT-X-MEDIA-SEQUENCE:${decimalInteger('mediaSequence', playlist.mediaSequence)}`,
  ];
  appendDiscontinuitySequenceLine(lines, playlist);
  appendPlaylistTypeLines(lines, playlist);
  // RFC 8216bis 4.4.4.5: the key of an encrypted init segment comes before its EXT-X-MAP.
  let key = playlist.map?.key === undefined ? undefined : appendKeyLine(lines, playlist.map.key, undefined, 'map.key');
  if (playlist.map !== undefined) lines.push(mapLine(playlist.map.uri));
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  for (const [position, line] of (playlist.dateRangeLines ?? []).entries()) {
    if (!line.startsWith('#EXT-X-DATERANGE:') || /[\r\n]/.test(line)) {
      throw invalidParameterError(`dateRangeLines[${position}]`, 'a single #EXT-X-DATERANGE line', line);
    }
    lines.push(line);
  }

  playlist.segments.forEach((segment, position) => {
    const sequence = playlist.mediaSequence + position;
    if (position < skipped) {
      // Skipped lines are not written; the key they left in effect is tracked all the same.
      key = segment.key;
      return;
    }
    // A segment's EXT-X-KEY comes before its parts: it applies to them too.
    key = appendSegmentHeadLines(lines, segment, sequence, key, position === skipped && skipped > 0);
    if (segment.parts) lines.push(...partLines(segment.parts, sequence, playlist.partTarget));
    appendSegmentLines(lines, segment, sequence, playlist.targetDuration);
  });
  const pendingSequence = playlist.mediaSequence + playlist.segments.length;
  if (playlist.pendingParts.length > 0) {
    const pending = {
      discontinuity: playlist.pendingDiscontinuity,
      ...(playlist.pendingMap ? { mapUri: playlist.pendingMap.uri, mapKey: playlist.pendingMap.key } : {}),
      key: playlist.pendingKey,
      programDateTime: playlist.pendingProgramDateTime,
    };
    key = appendSegmentHeadLines(lines, pending, pendingSequence, key, skipped > 0 && skipped === playlist.segments.length);
  }
  lines.push(...partLines(playlist.pendingParts, pendingSequence, playlist.partTarget));
  if (playlist.preloadHint !== undefined) {
    const { type, uri } = playlist.preloadHint;
    if (type !== 'PART' && type !== 'MAP') throw invalidParameterError('preloadHint.type', 'PART or MAP', type);
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=${type},URI=${quotedString('preloadHint.uri', checkUri('preloadHint.uri', uri))}`);
  }
  playlist.renditionReports.forEach((report, position) => lines.push(renditionReportLine(report, position)));
  if (playlist.endList) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
