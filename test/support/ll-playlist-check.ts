// Checks a Low-Latency HLS media playlist against the rules of RFC 8216bis, on
// the text a client reads (its own small parser, independent of the serializer).
// Throws an AssertionError naming the first broken rule; returns what it parsed.
import assert from 'node:assert/strict';
import { parsePlaylist } from './parse-playlist.js';

export interface CheckedPart {
  duration: number;
  uri: string;
  independent: boolean;
  /** GAP=YES: a lost part, listed so its segment keeps its parts. */
  gap: boolean;
}

export interface CheckedSegment {
  msn: number;
  duration: number;
  uri: string;
  parts: CheckedPart[];
  programDateTime?: string;
  /** Index in `lines` of the segment's first line (PROGRAM-DATE-TIME, first part or EXTINF). */
  startLine: number;
}

export interface CheckedPlaylist {
  version: number;
  targetDuration: number;
  partTarget: number;
  partHoldBack: number;
  canSkipUntil?: number;
  mediaSequence: number;
  skipped: number;
  segments: CheckedSegment[];
  /** Parts of the segment in progress (MSN = last segment's + 1). */
  pending: CheckedPart[];
  preloadHint?: { type: string; uri: string };
  reports: { uri: string; lastMsn: number; lastPart?: number }[];
  lines: string[];
}

export interface CheckOptions {
  /** Reads (msn, part) from a part URI, so numbering gaps are caught; omit to skip that rule. */
  partNumber?: (uri: string) => { msn: number; part: number };
  /** Every segment starts with an IDR frame: its first part must be INDEPENDENT=YES (default true). */
  idrSegments?: boolean;
}

/** RFC 8216bis gives no number; written durations have 5 decimals, so 1 ms plus rounding covers every sum. */
const SUM_TOLERANCE_S = 1e-3;

function attributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[match[1]] = match[2].replace(/^"|"$/g, '');
  return out;
}

export function parseLowLatencyPlaylist(text: string): CheckedPlaylist {
  assert.ok(text.endsWith('\n'), 'a playlist ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines[0], '#EXTM3U');
  const result: CheckedPlaylist = {
    version: 1, targetDuration: NaN, partTarget: NaN, partHoldBack: NaN, mediaSequence: 0, skipped: 0,
    segments: [], pending: [], reports: [], lines,
  };
  let parts: CheckedPart[] = [];
  let pdt: string | undefined;
  let extinf: number | undefined;
  let blockStart: number | undefined;
  for (const [lineIndex, line] of lines.entries()) {
    if (lineIndex === 0) continue;
    const [tag, value = ''] = line.startsWith('#') ? [line.split(':')[0], line.slice(line.indexOf(':') + 1)] : [undefined, line];
    if (tag === undefined) {
      assert.ok(extinf !== undefined, `URI ${line} without EXTINF`);
      const msn = result.mediaSequence + result.skipped + result.segments.length;
      result.segments.push({ msn, duration: extinf, uri: line, parts, startLine: blockStart!, ...(pdt ? { programDateTime: pdt } : {}) });
      blockStart = undefined;
      parts = [];
      pdt = undefined;
      extinf = undefined;
      continue;
    }
    const attrs = attributes(value);
    if (tag === '#EXT-X-PROGRAM-DATE-TIME' || tag === '#EXT-X-PART' || tag === '#EXTINF') blockStart ??= lineIndex;
    switch (tag) {
      case '#EXT-X-VERSION': result.version = Number(value); break;
      case '#EXT-X-TARGETDURATION': result.targetDuration = Number(value); break;
      case '#EXT-X-MEDIA-SEQUENCE': result.mediaSequence = Number(value); break;
      case '#EXT-X-SERVER-CONTROL':
        assert.equal(attrs['CAN-BLOCK-RELOAD'], 'YES', 'CAN-BLOCK-RELOAD=YES');
        result.partHoldBack = Number(attrs['PART-HOLD-BACK']);
        if (attrs['CAN-SKIP-UNTIL'] !== undefined) result.canSkipUntil = Number(attrs['CAN-SKIP-UNTIL']);
        break;
      case '#EXT-X-PART-INF': result.partTarget = Number(attrs['PART-TARGET']); break;
      case '#EXT-X-SKIP':
        assert.equal(result.segments.length, 0, 'EXT-X-SKIP comes before the first segment');
        result.skipped = Number(attrs['SKIPPED-SEGMENTS']);
        break;
      case '#EXT-X-PROGRAM-DATE-TIME': pdt = value; break;
      case '#EXT-X-PART':
        assert.equal(extinf, undefined, 'EXT-X-PART lines come before their segment\'s EXTINF');
        parts.push({ duration: Number(attrs.DURATION), uri: attrs.URI, independent: attrs.INDEPENDENT === 'YES', gap: attrs.GAP === 'YES' });
        break;
      case '#EXTINF': extinf = Number(value.split(',')[0]); break;
      case '#EXT-X-PRELOAD-HINT': result.preloadHint = { type: attrs.TYPE, uri: attrs.URI }; break;
      case '#EXT-X-RENDITION-REPORT':
        result.reports.push({
          uri: attrs.URI,
          lastMsn: Number(attrs['LAST-MSN']),
          ...(attrs['LAST-PART'] !== undefined ? { lastPart: Number(attrs['LAST-PART']) } : {}),
        });
        break;
      default: break;
    }
  }
  assert.equal(extinf, undefined, 'an EXTINF without URI at the end');
  result.pending = parts;
  return result;
}

/** Checks the rules of RFC 8216bis on one playlist version (full or delta). */
export function checkLowLatencyPlaylist(text: string, options: CheckOptions = {}): CheckedPlaylist {
  const { warnings } = parsePlaylist(text);
  assert.deepEqual(warnings, [], 'm3u8-parser reads it without warnings');
  const playlist = parseLowLatencyPlaylist(text);
  const { targetDuration: td, partTarget } = playlist;
  assert.ok(td >= 1 && partTarget > 0, 'TARGETDURATION and PART-TARGET present');
  // 4.4.3.8: PART-HOLD-BACK at least 2 × PART-TARGET (abrcast writes the recommended 3 ×).
  assert.ok(playlist.partHoldBack >= 3 * partTarget - 1e-5, `PART-HOLD-BACK ${playlist.partHoldBack} < 3 × ${partTarget}`);
  if (playlist.canSkipUntil !== undefined) assert.ok(playlist.canSkipUntil >= 6 * td, 'CAN-SKIP-UNTIL ≥ 6 × target duration');
  if (playlist.skipped > 0) assert.ok(playlist.version >= 9, 'EXT-X-SKIP needs version 9');
  const idr = options.idrSegments ?? true;
  const all = [...playlist.segments.map((s) => ({ msn: s.msn, parts: s.parts, complete: s })),
    { msn: playlist.mediaSequence + playlist.skipped + playlist.segments.length, parts: playlist.pending, complete: undefined }];
  for (const { msn, parts, complete } of all) {
    for (const [index, part] of parts.entries()) {
      assert.ok(part.duration <= partTarget, `part ${msn}.${index}: DURATION ${part.duration} > PART-TARGET ${partTarget}`);
      if (options.partNumber) assert.deepEqual(options.partNumber(part.uri), { msn, part: index }, `part numbering at ${part.uri}`);
    }
    if (idr && parts.length > 0) assert.ok(parts[0].independent, `first part of segment ${msn} is INDEPENDENT=YES`);
    if (complete !== undefined) {
      assert.ok(Math.round(complete.duration) <= td, `EXTINF of ${msn} rounds above TARGETDURATION`);
      if (parts.length > 0) {
        const sum = parts.reduce((total, part) => total + part.duration, 0);
        assert.ok(Math.abs(sum - complete.duration) <= SUM_TOLERANCE_S, `parts of ${msn} add up to ${sum}, EXTINF ${complete.duration}`);
        // 4.4.4.9: every part but a segment's last lasts at least 85% of PART-TARGET.
        for (const part of parts.slice(0, -1)) assert.ok(part.duration >= 0.85 * partTarget, `short part in ${msn}`);
      }
    } else {
      for (const part of parts.slice(0, -1)) assert.ok(part.duration >= 0.85 * partTarget, `short pending part in ${msn}`);
    }
  }
  // Parts form a suffix of the playlist and cover at least its last 3 target durations (4.4.4.9, 6.2.2);
  // segments further back carry none (the server drops them after that).
  let fromEnd = playlist.pending.reduce((total, part) => total + part.duration, 0);
  let partsEnded = false;
  for (const segment of [...playlist.segments].reverse()) {
    if (segment.parts.length === 0) partsEnded = true;
    else assert.ok(!partsEnded, `segment ${segment.msn} lists parts after a segment that lists none`);
    if (fromEnd < 3 * td) assert.ok(segment.parts.length > 0, `segment ${segment.msn} ends ${fromEnd.toFixed(3)} s from the end: parts required`);
    if (fromEnd > 4 * td) assert.equal(segment.parts.length, 0, `segment ${segment.msn} ends ${fromEnd.toFixed(3)} s from the end: parts no longer listed`);
    fromEnd += segment.duration;
  }
  if (playlist.preloadHint !== undefined && options.partNumber) {
    assert.equal(playlist.preloadHint.type, 'PART');
    const last = playlist.pending.length > 0 ? options.partNumber(playlist.pending.at(-1)!.uri) : undefined;
    const hinted = options.partNumber(playlist.preloadHint.uri);
    const pendingMsn = all.at(-1)!.msn;
    // The hint names the part after the last listed one: the next in this segment, or the first of the next.
    const expected = last ? [{ msn: last.msn, part: last.part + 1 }, { msn: last.msn + 1, part: 0 }] : [{ msn: pendingMsn, part: 0 }];
    assert.ok(expected.some((e) => e.msn === hinted.msn && e.part === hinted.part), `preload hint ${playlist.preloadHint.uri}`);
  }
  return playlist;
}

/**
 * A delta update equals the full playlist of the same moment with the skipped
 * segments' lines put back in place of EXT-X-SKIP (RFC 8216bis 6.2.5.1).
 */
export function checkDeltaUpdate(fullText: string, deltaText: string, options: CheckOptions = {}): void {
  const full = checkLowLatencyPlaylist(fullText, options);
  const delta = checkLowLatencyPlaylist(deltaText, options);
  assert.equal(full.skipped, 0, 'the full playlist skips nothing');
  assert.ok(delta.skipped > 0, 'the delta update skips segments');
  assert.ok(delta.canSkipUntil !== undefined, 'CAN-SKIP-UNTIL advertised');
  // Only segments starting at least CAN-SKIP-UNTIL before the end may go.
  let fromEnd = full.pending.reduce((total, part) => total + part.duration, 0);
  for (const segment of [...full.segments].reverse()) {
    fromEnd += segment.duration;
    if (segment.msn < full.mediaSequence + delta.skipped) assert.ok(fromEnd >= delta.canSkipUntil!, `segment ${segment.msn} skipped too close to the end`);
  }
  const skipAt = delta.lines.findIndex((line) => line.startsWith('#EXT-X-SKIP:'));
  assert.deepEqual(delta.lines.slice(0, skipAt), full.lines.slice(0, full.segments[0].startLine), 'same header');
  const restored = [
    ...delta.lines.slice(0, skipAt),
    ...full.lines.slice(full.segments[0].startLine, full.segments[delta.skipped].startLine),
    ...delta.lines.slice(skipAt + 1),
  ];
  assert.deepEqual(restored, full.lines, 'the delta update with its skipped lines restored is the full playlist');
}
