// One self-rewriting line at the bottom of a terminal. It only draws on a TTY,
// so piped or redirected output never holds carriage returns or ANSI codes.

export interface StatusStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

const CLEAR_LINE = '\r\x1b[2K';

export class StatusLine {
  readonly enabled: boolean;
  readonly #stream: StatusStream;
  #text = '';

  constructor(stream: StatusStream, enabled = true) {
    this.#stream = stream;
    this.enabled = enabled && stream.isTTY === true;
  }

  /** Replaces the line (cut to the terminal width so it never wraps). */
  update(text: string): void {
    if (!this.enabled) return;
    const width = Math.max(20, (this.#stream.columns ?? 80) - 1);
    this.#text = text.length > width ? text.slice(0, width) : text;
    this.#stream.write(`${CLEAR_LINE}${this.#text}`);
  }

  /** Prints a normal line above the status line. */
  print(line: string): void {
    if (this.enabled && this.#text) {
      this.#stream.write(`${CLEAR_LINE}${line}\n${this.#text}`);
    } else {
      this.#stream.write(`${line}\n`);
    }
  }

  /** Removes the line, leaving the cursor at the start of an empty line. */
  clear(): void {
    if (this.enabled && this.#text) this.#stream.write(CLEAR_LINE);
    this.#text = '';
  }
}

export interface DemoProgress {
  frames: number;
  /** Frames per second over the last interval. */
  fps: number;
  /** Segments uploaded, all renditions together. */
  segments: number;
  /** Uploads waiting or running. */
  queue: number;
  /** How far rendering is behind the wall clock, seconds. */
  lagSeconds: number;
}

export function formatDemoProgress(progress: DemoProgress): string {
  const parts = [
    `frames ${progress.frames}`,
    `${progress.fps.toFixed(1)} fps`,
    `segments ${progress.segments}`,
    `upload queue ${progress.queue}`,
  ];
  if (progress.lagSeconds >= 0.5) parts.push(`behind ${progress.lagSeconds.toFixed(1)} s`);
  return parts.join(' | ');
}
