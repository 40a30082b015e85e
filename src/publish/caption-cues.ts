// The captions of a live run, by subtitle track, and which of them each WebVTT file gets. A
// segment (or part) file holds every cue that overlaps its span, so a cue that crosses a boundary
// is in both (with the same identifier, which players use to keep one). A cue added after the
// span that holds it was made goes into the next one, with its own times: late, never lost.
// Files are made in two views, segments and parts, each moving forward on its own.
import { invalidParameterError } from '../errors.js';
import type { WebVttCue } from '../hls/webvtt.js';

/** What addCaption() takes: times in seconds on the stream's clock (a segment's startPts). */
export interface CaptionInput {
  start: number;
  end: number;
  text: string;
  /** The subtitle track's language (default: the first track's). */
  language?: string;
}

export type CaptionView = 'segments' | 'parts';

/** Longest caption text: a cue is a line or two on screen, not a document. */
export const MAX_CAPTION_CHARS = 1000;

interface TrackCues {
  cues: WebVttCue[];
  /** Per view: the end of the last span made, and cues that arrived after their span was made. */
  coveredUntil: Record<CaptionView, number>;
  late: Record<CaptionView, WebVttCue[]>;
}

export class CaptionCues {
  readonly #tracks = new Map<string, TrackCues>();
  readonly #languages: string[];
  readonly #views: readonly CaptionView[];
  #nextId = 0;

  /**
   * `languages`: of the run's subtitle tracks, the first is addCaption()'s default. `views`: the
   * files made, segments and (LL-HLS runs) parts.
   */
  constructor(languages: readonly string[], views: readonly CaptionView[] = ['segments']) {
    this.#languages = [...languages];
    this.#views = [...views];
    for (const language of languages) {
      this.#tracks.set(language, { cues: [], coveredUntil: { segments: 0, parts: 0 }, late: { segments: [], parts: [] } });
    }
  }

  /** Checks and keeps one caption; returns its language and cue. */
  add(caption: CaptionInput): { language: string; cue: WebVttCue } {
    if (typeof caption !== 'object' || caption === null) throw invalidParameterError('caption', 'object with start, end and text', caption);
    const { start, end, text } = caption;
    if (typeof start !== 'number' || !Number.isFinite(start) || start < 0) throw invalidParameterError('caption.start', 'seconds, 0 or more', start);
    if (typeof end !== 'number' || !Number.isFinite(end) || end <= start) throw invalidParameterError('caption.end', `seconds after start (${start})`, end);
    if (typeof text !== 'string' || text.trim().length === 0 || text.length > MAX_CAPTION_CHARS) {
      throw invalidParameterError('caption.text', `non-empty string of at most ${MAX_CAPTION_CHARS} characters`, text);
    }
    const language = caption.language ?? this.#languages[0];
    const track = language === undefined ? undefined : this.#tracks.get(language);
    if (!track) {
      throw invalidParameterError('caption.language', `one of the run's subtitle languages (${this.#languages.join(', ') || 'none: set the captions option'})`, caption.language);
    }
    const cue: WebVttCue = { id: `c${this.#nextId++}`, start, end, text };
    track.cues.push(cue);
    for (const view of this.#views) {
      if (end <= track.coveredUntil[view]) track.late[view].push(cue);
    }
    return { language: language!, cue };
  }

  /**
   * The cues of `language` for the span [start, end) of `view`, in start order: those that overlap
   * it and those that came too late for an earlier span. Moves the view to `end`.
   */
  take(language: string, view: CaptionView, start: number, end: number): WebVttCue[] {
    const track = this.#tracks.get(language);
    if (!track) return [];
    const taken = new Set(track.late[view].splice(0));
    for (const cue of track.cues) if (cue.start < end && cue.end > start) taken.add(cue);
    track.coveredUntil[view] = Math.max(track.coveredUntil[view], end);
    // What every view has passed can go: it belongs to spans already made.
    const passed = Math.min(...this.#views.map((v) => track.coveredUntil[v]));
    track.cues = track.cues.filter((cue) => cue.end > passed);
    return [...taken].sort((a, b) => a.start - b.start || a.end - b.end);
  }
}
