// WebVTT files (W3C WebVTT, and RFC 8216bis 3.1.4 for HLS): a subtitle segment's cues with the
// X-TIMESTAMP-MAP header that ties its clock to the media's, and the thumbnail track (a cue per
// image, its text the image's URL). Pure: cues in, text out.
import { invalidParameterError } from '../errors.js';

export interface WebVttCue {
  /** Cue identifier: the same cue repeated in several segments keeps it, so players can tell. */
  id?: string;
  /** Seconds on the file's LOCAL clock. */
  start: number;
  end: number;
  text: string;
}

export interface WebVttFile {
  /** X-TIMESTAMP-MAP (RFC 8216bis 3.1.4): LOCAL 00:00:00.000 is the media's MPEG-TS time `mpegts` (90 kHz). */
  mpegts?: number;
  cues: readonly WebVttCue[];
}

/** hh:mm:ss.ttt, as WebVTT timestamps are written. */
export function webVttTimestamp(seconds: number): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw invalidParameterError('cue time', 'seconds, 0 or more', seconds);
  }
  const ms = Math.round(seconds * 1000);
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000), 2)}:${pad(Math.floor(ms / 60_000) % 60, 2)}:${pad(Math.floor(ms / 1000) % 60, 2)}.${pad(ms % 1000, 3)}`;
}

/**
 * Cue text as WebVTT reads it back: `&` and `<` escaped (they start entities and tags), `>` too,
 * line breaks kept but no empty line (an empty line ends the cue), no "-->".
 */
export function webVttCueText(text: string): string {
  if (typeof text !== 'string') throw invalidParameterError('cue text', 'string', text);
  return text
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\r\n?/g, '\n').replace(/\n{2,}/g, '\n').replace(/^\n+|\n+$/g, '');
}

export function serializeWebVtt(file: WebVttFile): string {
  const lines = ['WEBVTT'];
  if (file.mpegts !== undefined) {
    if (!Number.isInteger(file.mpegts) || file.mpegts < 0) throw invalidParameterError('mpegts', 'integer of at least 0 (90 kHz ticks)', file.mpegts);
    lines.push(`X-TIMESTAMP-MAP=MPEGTS:${file.mpegts},LOCAL:00:00:00.000`);
  }
  for (const cue of file.cues) {
    if (!(cue.end > cue.start)) throw invalidParameterError('cue end', `a time after its start (${cue.start})`, cue.end);
    lines.push('');
    if (cue.id !== undefined) {
      if (/[\r\n]|-->/.test(cue.id) || cue.id.length === 0) throw invalidParameterError('cue id', 'one line without -->', cue.id);
      lines.push(cue.id);
    }
    lines.push(`${webVttTimestamp(cue.start)} --> ${webVttTimestamp(cue.end)}`, webVttCueText(cue.text) || ' ');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One WebVTT file from several (a segment from its LL-HLS parts): the first file's header
 * (WEBVTT, X-TIMESTAMP-MAP), then every cue block of all of them, a cue repeated in several
 * (same identifier and timing) once.
 */
export function joinWebVtt(files: readonly string[]): string {
  if (files.length === 0) return 'WEBVTT\n';
  const blocksOf = (file: string) => file.replace(/\r\n?/g, '\n').split(/\n{2,}/).map((block) => block.trim()).filter((block) => block.length > 0);
  const [header, ...firstCues] = blocksOf(files[0]!);
  const seen = new Set<string>();
  const cues: string[] = [];
  for (const block of [...firstCues, ...files.slice(1).flatMap((file) => blocksOf(file).slice(1))]) {
    if (seen.has(block)) continue;
    seen.add(block);
    cues.push(block);
  }
  return `${[header, ...cues].join('\n\n')}\n`;
}
