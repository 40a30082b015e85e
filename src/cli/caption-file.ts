// `abrcast encode --captions file.vtt`: a WebVTT file's cues as captions on the stream's clock (the
// file's timestamps are the input's presentation times, the stream's clock from its first frame).
// Parsed by webvtt-parser, the W3C's reference parser of the WebVTT spec, for the cue timings;
// each cue's text is its plain text (tags such as <b> dropped, character references decoded), as
// addCaption() takes it. The text is read from the raw cue, not the parser's tree: 2.2.0 leaves a
// ';' after each named reference it decodes (w3c/webvtt.js#36, fix open in #47).
import { createRequire } from 'node:module';
import type { WebVTTParser as Parser } from 'webvtt-parser';

import type { CaptionInput } from '../publish/caption-cues.js';
import { usageError } from './errors.js';

/** The named references cue text uses in practice, and numeric ones. */
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: '\u00a0', lrm: '\u200e', rlm: '\u200f', quot: '"', apos: "'" };

function plainText(cueText: string): string {
  return cueText
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return NAMED[name.toLowerCase()] ?? whole;
    });
}

/** The cues of a WebVTT file, or a usage error naming the file and the first line the parser refused. */
export function parseCaptionFile(path: string, text: string, language?: string): CaptionInput[] {
  const { WebVTTParser } = createRequire(import.meta.url)('webvtt-parser') as { WebVTTParser: new () => Parser };
  const { cues, errors } = new WebVTTParser().parse(text, 'subtitles');
  // A cue the parser could not place is dropped with an error; anything else (a style block) is fine.
  const fatal = errors.find((error) => /signature|timestamp|cue/i.test(error.message));
  if (fatal || (cues.length === 0 && errors.length > 0)) {
    const first = fatal ?? errors[0]!;
    throw usageError(`--captions ${path} is not valid WebVTT: line ${first.line}: ${first.message}`, 'Pass a WebVTT file (WEBVTT header, then cues such as "00:00:01.000 --> 00:00:02.500")');
  }
  return cues
    .map((cue) => ({ start: cue.startTime, end: cue.endTime, text: plainText(cue.text).trim(), ...(language ? { language } : {}) }))
    .filter((cue) => cue.text.length > 0);
}
