// Deterministic test frames with detail and motion: a fixed gradient with a
// bright box that moves every frame, so every encoder sees real change.
import { randomBytes } from 'node:crypto';
import type { PixelFormat } from '../../src/encoder/types.js';

export class FrameGenerator {
  readonly frameBytes: number;
  readonly #base: Buffer;
  readonly #frame: Buffer;
  readonly #bpp: number;

  readonly #grain: boolean;

  /** `grain`: fresh noise over every frame, which no encoder can predict (it spends its whole bitrate). */
  constructor(readonly width: number, readonly height: number, readonly pixelFormat: PixelFormat = 'rgb24', options: { grain?: boolean } = {}) {
    this.#grain = options.grain ?? false;
    this.#bpp = pixelFormat === 'rgb24' ? 3 : 4;
    this.frameBytes = width * height * this.#bpp;
    this.#base = Buffer.alloc(this.frameBytes);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * this.#bpp;
        // Gradient plus a fine checker so scalers and encoders have detail to keep.
        const checker = ((x >> 3) + (y >> 3)) & 1 ? 24 : 0;
        this.#base[o] = (x * 255) / width;
        this.#base[o + 1] = ((y * 255) / height + checker) & 255;
        this.#base[o + 2] = 128 + checker;
        if (this.#bpp === 4) this.#base[o + 3] = 255;
      }
    }
    this.#frame = Buffer.alloc(this.frameBytes);
  }

  /** Frame `index`; the returned buffer is reused by the next call. */
  frame(index: number): Buffer {
    this.#base.copy(this.#frame);
    if (this.#grain) {
      const noise = randomBytes(this.frameBytes);
      // ±16 around the picture: the gradient and the box stay visible.
      for (let i = 0; i < this.frameBytes; i++) this.#frame[i] = Math.min(255, Math.max(0, this.#frame[i] + (noise[i] & 31) - 16));
    }
    const box = Math.max(8, Math.floor(this.height / 6));
    const x0 = (index * 7) % Math.max(1, this.width - box);
    const y0 = (index * 3) % Math.max(1, this.height - box);
    const value = (index * 13) & 255;
    for (let y = y0; y < y0 + box; y++) {
      const row = (y * this.width + x0) * this.#bpp;
      this.#frame.fill(value, row, row + box * this.#bpp);
    }
    return this.#frame;
  }
}
