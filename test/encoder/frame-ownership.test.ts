// Who owns a written frame: write() reads the caller's buffer while it runs (on
// the CPU path it converts the pixels straight into the ladder's YUV), so a
// renderer may draw the next frame into the same buffer as soon as write()
// returns. One buffer, reused for every frame and scribbled over right after
// each write(): every decoded frame must still be the colour it had when it
// was written, never the scribble.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { LadderEncoder } from '../../src/index.js';
import type { PixelFormat } from '../../src/encoder/types.js';

const run = promisify(execFile);
const WIDTH = 192;
const HEIGHT = 108;
const FPS = 30;
/** Far from every colour below: a frame that shows it was read after the caller reused the buffer. */
const SCRIBBLE = [255, 0, 255];
const COLOURS = [[200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40], [40, 220, 220], [128, 128, 128]];

function fill(buffer: Buffer, rgb: number[], format: PixelFormat): void {
  const size = format === 'rgb24' ? 3 : 4;
  const [r, g, b] = rgb as [number, number, number];
  const pixel = format === 'bgra' ? [b, g, r, 255] : format === 'rgba' ? [r, g, b, 255] : [r, g, b];
  for (let o = 0; o < buffer.length; o += size) buffer.set(pixel, o);
}

/** Mean R, G, B of each decoded frame of the segments, in order. */
async function decodedMeans(dir: string): Promise<number[][]> {
  const files = (await readdir(dir, { recursive: true })).filter((name) => name.endsWith('.ts')).sort();
  const means: number[][] = [];
  for (const file of files) {
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', join(dir, file), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
      encoding: 'buffer', maxBuffer: 64 * 1024 * 1024,
    });
    const frameBytes = WIDTH * HEIGHT * 3;
    for (let f = 0; f + frameBytes <= stdout.length; f += frameBytes) {
      const sum = [0, 0, 0];
      for (let o = f; o < f + frameBytes; o += 3) for (let c = 0; c < 3; c++) sum[c]! += stdout[o + c]!;
      means.push(sum.map((s) => s / (WIDTH * HEIGHT)));
    }
  }
  return means;
}

describe('frame ownership: the caller may reuse its buffer once write() returns', () => {
  for (const pixelFormat of ['rgb24', 'bgra'] as const) {
    test(`${pixelFormat}: every frame is encoded as written, none as the scribble that followed`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'abrcast-ownership-'));
      try {
        const encoder = new LadderEncoder({
          width: WIDTH, height: HEIGHT, fps: FPS, pixelFormat, segmentDuration: 1, x264Preset: 'ultrafast', outputDir: dir,
          renditions: [{ name: 'full', width: WIDTH, height: HEIGHT, bitrate: 4000 }],
        });
        const buffer = Buffer.alloc(WIDTH * HEIGHT * (pixelFormat === 'rgb24' ? 3 : 4));
        const frames = COLOURS.length * 5;
        for (let i = 0; i < frames; i++) {
          fill(buffer, COLOURS[Math.floor(i / 5)]!, pixelFormat);
          const written = encoder.write(buffer);
          fill(buffer, SCRIBBLE, pixelFormat); // the caller's next drawing, before write() even resolved
          await written;
        }
        await encoder.close();

        const means = await decodedMeans(dir);
        assert.equal(means.length, frames);
        for (const [i, mean] of means.entries()) {
          const expected = COLOURS[Math.floor(i / 5)]!;
          const off = Math.max(...mean.map((m, c) => Math.abs(m - expected[c]!)));
          assert.ok(off < 12, `frame ${i}: mean ${mean.map((m) => m.toFixed(0)).join(',')}, written as ${expected.join(',')}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
