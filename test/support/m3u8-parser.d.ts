// The parts of m3u8-parser (which ships no types) that the HLS tests read.
declare module 'm3u8-parser' {
  export interface ParsedSegment {
    duration: number;
    uri: string;
    /** Milliseconds since the epoch, from EXT-X-PROGRAM-DATE-TIME. */
    programDateTime?: number;
    dateTimeString?: string;
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
    playlistType?: string;
    independentSegments?: boolean;
    endList?: boolean;
    segments: ParsedSegment[];
    playlists?: ParsedVariant[];
  }

  export class Parser {
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
    on(event: 'warn' | 'info', listener: (event: { message: string }) => void): void;
  }
}
