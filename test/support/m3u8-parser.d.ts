// The parts of m3u8-parser (which ships no types) that the HLS tests read.
declare module 'm3u8-parser' {
  export interface ParsedSegment {
    duration: number;
    uri: string;
    /** Milliseconds since the epoch, from EXT-X-PROGRAM-DATE-TIME. */
    programDateTime?: number;
    dateTimeString?: string;
    parts?: { duration: number; uri: string; independent?: boolean }[];
    map?: { uri: string; key?: ParsedKey };
    byterange?: { length: number; offset: number };
    key?: ParsedKey;
    /** Preceded by EXT-X-DISCONTINUITY. */
    discontinuity?: boolean;
    /** The segment's discontinuity sequence number (m3u8-parser's "timeline"). */
    timeline?: number;
  }

  /** EXT-X-KEY as m3u8-parser reads it: the IV as four 32-bit words. */
  export interface ParsedKey {
    method: string;
    uri: string;
    iv?: Uint32Array;
  }

  export interface ParsedVariant {
    uri: string;
    attributes: {
      BANDWIDTH?: number;
      'AVERAGE-BANDWIDTH'?: number | string;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      'FRAME-RATE'?: number;
      NAME?: string;
      [attribute: string]: unknown;
    };
  }

  export interface Manifest {
    version?: number;
    targetDuration?: number;
    mediaSequence?: number;
    discontinuitySequence?: number;
    playlistType?: string;
    independentSegments?: boolean;
    endList?: boolean;
    segments: ParsedSegment[];
    playlists?: ParsedVariant[];
    partTargetDuration?: number;
    serverControl?: { canBlockReload?: boolean; partHoldBack?: number; canSkipUntil?: number };
    preloadSegment?: { parts?: { duration: number; uri: string }[]; preloadHints?: { type: string; uri: string }[] };
    renditionReports?: { uri: string; lastMsn?: number; lastPart?: number }[];
    skip?: { SKIPPED_SEGMENTS?: number; 'SKIPPED-SEGMENTS'?: number };
    mediaGroups?: Record<string, Record<string, Record<string, { language?: string; default?: boolean; autoselect?: boolean; uri?: string }>>>;
    iFramePlaylists?: ParsedVariant[];
    dateRanges?: Array<{ id: string; class?: string; startDate: Date | string; duration?: number; [attribute: string]: unknown }>;
  }

  export class Parser {
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
    on(event: 'warn' | 'info', listener: (event: { message: string }) => void): void;
  }
}
