// The status line of `abrcast encode`: how far, how fast, what is uploading.

export interface EncodeProgressState {
  frames: number;
  /** Frames the input holds, when known (from its frame count or duration). */
  totalFrames?: number;
  /** Frames per second over the last interval. */
  fps: number;
  /** Media seconds encoded per wall-clock second. */
  speed: number;
  /** Segments uploaded, all renditions together. */
  segments: number;
  /** Uploads waiting or running. */
  queue: number;
}

function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** "[##########..........] 50% frames 45/90 | 58.2 fps | 1.9x | segments 6 | upload queue 2 | ETA 0:03" */
export function formatEncodeProgress(progress: EncodeProgressState, width = 20): string {
  const parts: string[] = [];
  const total = progress.totalFrames;
  if (total !== undefined && total > 0) {
    const fraction = Math.min(1, progress.frames / total);
    const filled = Math.round(fraction * width);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% frames ${progress.frames}/${total}`);
  } else {
    parts.push(`frames ${progress.frames}`);
  }
  parts.push(`${progress.fps.toFixed(1)} fps`, `${progress.speed.toFixed(2)}x`, `segments ${progress.segments}`, `upload queue ${progress.queue}`);
  if (total !== undefined && total > 0 && progress.fps > 0 && progress.frames < total) {
    parts.push(`ETA ${clock((total - progress.frames) / progress.fps)}`);
  }
  return parts.join(' | ');
}
