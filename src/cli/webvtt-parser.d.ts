// The part of webvtt-parser (W3C's reference WebVTT parser, which ships no types) the CLI reads.
declare module 'webvtt-parser' {
  export interface WebVttNode {
    type: 'object' | 'text' | 'timestamp';
    name?: string;
    value?: string | number;
    children?: WebVttNode[];
  }
  export interface WebVttParsedCue {
    id: string;
    startTime: number;
    endTime: number;
    text: string;
    tree: WebVttNode;
  }
  export class WebVTTParser {
    parse(input: string, mode?: 'subtitles' | 'metadata'): { cues: WebVttParsedCue[]; errors: { message: string; line: number; col?: number }[] };
  }
}
