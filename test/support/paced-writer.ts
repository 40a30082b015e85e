// Feeds a live output frames at wall-clock pace, so segments keep finishing while
// something is broken (a store killed mid-run), as they would from a renderer.
import { setTimeout as sleep } from 'node:timers/promises';

import { FrameGenerator } from './frames.js';

export interface PacedWriteOptions {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** Started (not awaited) once `atS` seconds of frames are written; awaited before returning. */
  during?: { atS: number; run: () => Promise<void> };
}

export async function writePaced(
  output: { write(frame: Uint8Array): Promise<unknown> },
  { width, height, fps, seconds, during }: PacedWriteOptions,
): Promise<void> {
  const frames = new FrameGenerator(width, height);
  const start = Date.now();
  let running: Promise<void> | undefined;
  for (let i = 0; i < seconds * fps; i++) {
    const due = start + (i * 1000) / fps;
    if (due > Date.now()) await sleep(due - Date.now());
    if (during && i === Math.round(during.atS * fps)) running = during.run();
    await output.write(frames.frame(i));
  }
  await running;
}
