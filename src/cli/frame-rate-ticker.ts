// The status line's clock: every tick, the frame rate over the last second
// (a window of ticks), steadier than the rate from one tick to the next.

export interface FrameRateTickerOptions {
  /** performance.now() when frame 0 was due. */
  startedAt: number;
  /** Frames done so far. */
  frames: () => number;
  intervalMs: number;
  /** Called each tick with the frames done, their rate (frames/s) and performance.now(). */
  tick(frames: number, rate: number, now: number): void;
}

/** Starts ticking (unref'd: it never keeps the process alive); returns the function that stops it. */
export function startFrameRateTicker(options: FrameRateTickerOptions): () => void {
  const { intervalMs } = options;
  const windowTicks = Math.max(1, Math.round(1000 / intervalMs));
  const samples = [{ at: options.startedAt, frames: 0 }];
  const timer = setInterval(() => {
    const now = performance.now();
    const frames = options.frames();
    samples.push({ at: now, frames });
    if (samples.length > windowTicks + 1) samples.shift();
    const oldest = samples[0];
    options.tick(frames, ((frames - oldest.frames) * 1000) / Math.max(1, now - oldest.at), now);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
