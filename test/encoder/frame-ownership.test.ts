// Who owns a written frame: write() keeps the caller's buffer and the encoder's
// threads convert it in place (no copy), so the buffer is the encoder's until
// write() resolves and the caller's again from then on (issue 28). Checked with
// buffers scribbled over as soon as their write() resolves, then left that way
// while the encoder goes on (a late read would encode the scribble), with one
// buffer awaited frame by frame and with several frames in flight at once.
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

/** Lets the encoder's threads run while the buffer holds the scribble: time for any late read to see it. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function encodeColours(pixelFormat: PixelFormat, dir: string, writeAll: (encoder: LadderEncoder, frameBytes: number) => Promise<number>): Promise<void> {
  const encoder = new LadderEncoder({
    width: WIDTH, height: HEIGHT, fps: FPS, pixelFormat, segmentDuration: 1, x264Preset: 'ultrafast', outputDir: dir,
    renditions: [{ name: 'full', width: WIDTH, height: HEIGHT, bitrate: 4000 }],
  });
  const frames = await writeAll(encoder, WIDTH * HEIGHT * (pixelFormat === 'rgb24' ? 3 : 4));
  await encoder.close();
  const means = await decodedMeans(dir);
  assert.equal(means.length, frames);
  for (const [i, mean] of means.entries()) {
    const expected = COLOURS[Math.floor(i / 5)]!;
    const off = Math.max(...mean.map((m, c) => Math.abs(m - expected[c]!)));
    assert.ok(off < 12, `frame ${i}: mean ${mean.map((m) => m.toFixed(0)).join(',')}, written as ${expected.join(',')}`);
  }
}

describe('frame ownership: the caller may reuse its buffer once write() resolves', () => {
  for (const pixelFormat of ['rgb24', 'bgra'] as const) {
    test(`${pixelFormat}, one buffer: every frame is encoded as written, none as the scribble that followed its write()`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'abrcast-ownership-'));
      try {
        await encodeColours(pixelFormat, dir, async (encoder, frameBytes) => {
          const buffer = Buffer.alloc(frameBytes);
          const frames = COLOURS.length * 5;
          for (let i = 0; i < frames; i++) {
            fill(buffer, COLOURS[Math.floor(i / 5)]!, pixelFormat);
            await encoder.write(buffer);
            fill(buffer, SCRIBBLE, pixelFormat); // the caller's next drawing, as soon as write() resolved
            if (i % 3 === 0) await sleep(15);
          }
          return frames;
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('rgb24, three buffers in turn with several writes in flight: each buffer is reused only once its write() resolved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'abrcast-ownership-'));
    try {
      await encodeColours('rgb24', dir, async (encoder, frameBytes) => {
        const buffers = [0, 1, 2].map(() => Buffer.alloc(frameBytes));
        const pending: Array<Promise<void> | undefined> = [];
        const frames = COLOURS.length * 5;
        for (let i = 0; i < frames; i++) {
          const slot = i % buffers.length;
          const buffer = buffers[slot]!;
          // The write three frames back used this buffer: it is ours again once that resolves.
          await pending[slot];
          fill(buffer, COLOURS[Math.floor(i / 5)]!, 'rgb24');
          pending[slot] = encoder.write(buffer).then(() => fill(buffer, SCRIBBLE, 'rgb24'));
        }
        await Promise.all(pending);
        return frames;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
