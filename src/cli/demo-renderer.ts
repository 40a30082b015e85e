// The demo's generative animation, drawn straight into one reused RGBA buffer.
// Full-frame canvas readback (getImageData) costs ~9 ms at 1280x720 on the
// 2-core target, so only the small text panel goes through @napi-rs/canvas;
// the background and shapes are typed-array fills, well under 1 ms.
// @napi-rs/canvas is an optionalDependency (only the demo draws), loaded by
// DemoRenderer.create(), so a missing one is one clear message, not a crash.
import type { SKRSContext2D, createCanvas as CreateCanvas } from '@napi-rs/canvas';
import { invalidParameterError, isInteger } from '../errors.js';
import { CliError, EXIT_CODES } from './errors.js';

const CANVAS_PACKAGE = '@napi-rs/canvas';

/** Loads @napi-rs/canvas, or says how to get it (it is left out by `npm install --omit=optional`, or has no binary for this platform). */
export async function loadCanvas(): Promise<typeof CreateCanvas> {
  try {
    return (await import('@napi-rs/canvas')).createCanvas;
  } catch (error) {
    throw new CliError(`abrcast demo needs the optional package ${CANVAS_PACKAGE}, which could not be loaded: ${(error as Error).message.split('\n')[0]}`, {
      fix: `Install it next to abrcast: npm install ${CANVAS_PACKAGE} (npm leaves it out with --omit=optional; it has prebuilt binaries for Linux, macOS and Windows on x64 and arm64)`,
      exitCode: EXIT_CODES.usage,
      cause: error,
    });
  }
}

interface Ball {
  color: number;
  radius: number;
  // Lissajous path: x = cx + ax*sin(fx*t + px), y = cy + ay*sin(fy*t + py)
  fx: number;
  fy: number;
  px: number;
  py: number;
}

/** 0xAABBGGRR on little-endian hosts writes the bytes R, G, B, A. */
function rgba32(r: number, g: number, b: number): number {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function hsl(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

export class DemoRenderer {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly pixelFormat = 'rgba' as const;
  readonly frameBytes: number;
  readonly #frame: Uint8Array;
  readonly #pixels: Uint32Array;
  readonly #background: Uint32Array;
  readonly #balls: Ball[];
  readonly #panel: { x: number; y: number; width: number; height: number; font: number; ctx: SKRSContext2D };

  /** Loads the canvas package first (see loadCanvas). */
  static async create(width: number, height: number, fps: number): Promise<DemoRenderer> {
    return new DemoRenderer(width, height, fps, await loadCanvas());
  }

  constructor(width: number, height: number, fps: number, createCanvas: typeof CreateCanvas) {
    if (!LITTLE_ENDIAN) throw new Error('The demo renderer needs a little-endian host');
    if (!isInteger(width) || width < 64) throw invalidParameterError('width', 'integer of at least 64', width);
    if (!isInteger(height) || height < 64) throw invalidParameterError('height', 'integer of at least 64', height);
    this.width = width;
    this.height = height;
    this.fps = fps;
    this.frameBytes = width * height * 4;
    this.#frame = new Uint8Array(this.frameBytes);
    this.#pixels = new Uint32Array(this.#frame.buffer);
    this.#background = this.#makeBackground();
    this.#balls = Array.from({ length: 9 }, (_, i) => {
      const [r, g, b] = hsl(i * 40, 0.75, 0.6);
      return {
        color: rgba32(r, g, b),
        radius: Math.max(4, Math.round(height * (0.035 + 0.01 * (i % 3)))),
        fx: 0.45 + 0.13 * i,
        fy: 0.6 + 0.07 * ((i * 5) % 9),
        px: i * 1.3,
        py: i * 0.7,
      };
    });
    const font = Math.max(12, Math.round(height / 14));
    const panelWidth = Math.min(width, Math.round(font * 8));
    const panelHeight = Math.min(height, Math.round(font * 2.9));
    const ctx = createCanvas(panelWidth, panelHeight).getContext('2d');
    this.#panel = { x: Math.round(font / 2), y: Math.round(font / 2), width: panelWidth, height: panelHeight, font, ctx };
  }

  /**
   * Draws frame `index` showing wall time `now`; returns the shared buffer,
   * which the next call overwrites (the encoder copies it on write()).
   */
  render(index: number, now: Date = new Date()): Uint8Array {
    const { width, height } = this;
    const t = index / this.fps;
    // Background scrolls down two rows per frame; it tiles vertically.
    const shift = ((index * 2) % height) * width;
    const total = width * height;
    this.#pixels.set(this.#background.subarray(total - shift), 0);
    this.#pixels.set(this.#background.subarray(0, total - shift), shift);

    const ax = width / 2 - width * 0.08;
    const ay = height / 2 - height * 0.1;
    for (const ball of this.#balls) {
      const cx = width / 2 + ax * Math.sin(ball.fx * t + ball.px);
      const cy = height / 2 + ay * Math.sin(ball.fy * t + ball.py);
      this.#fillCircle(cx, cy, ball.radius, ball.color);
    }

    // A bar sweeping once per second makes dropped or repeated frames visible.
    const barHeight = Math.max(4, Math.round(height / 60));
    const within = index % Math.max(1, Math.round(this.fps));
    const barWidth = Math.round(((within + 1) / Math.max(1, Math.round(this.fps))) * width);
    for (let y = height - barHeight; y < height; y++) {
      this.#pixels.fill(rgba32(255, 255, 255), y * width, y * width + barWidth);
    }

    this.#drawPanel(index, now);
    return this.#frame;
  }

  #makeBackground(): Uint32Array {
    const { width, height } = this;
    const pixels = new Uint32Array(width * height);
    const grid = Math.max(8, Math.round(height / 12));
    for (let y = 0; y < height; y++) {
      // Triangle wave in y so the scrolled image has no seam.
      const v = 1 - Math.abs((2 * y) / height - 1);
      for (let x = 0; x < width; x++) {
        const u = x / width;
        const line = x % grid === 0 || y % grid === 0;
        const r = line ? 70 : Math.round(20 + 40 * u);
        const g = line ? 80 : Math.round(25 + 35 * v);
        const b = line ? 110 : Math.round(60 + 50 * (1 - u));
        pixels[y * width + x] = rgba32(r, g, b);
      }
    }
    return pixels;
  }

  #fillCircle(cx: number, cy: number, radius: number, color: number): void {
    const { width, height } = this;
    const y0 = Math.max(0, Math.ceil(cy - radius));
    const y1 = Math.min(height - 1, Math.floor(cy + radius));
    for (let y = y0; y <= y1; y++) {
      const dy = y - cy;
      const half = Math.sqrt(radius * radius - dy * dy);
      const x0 = Math.max(0, Math.ceil(cx - half));
      const x1 = Math.min(width, Math.floor(cx + half) + 1);
      if (x1 > x0) this.#pixels.fill(color, y * width + x0, y * width + x1);
    }
  }

  #drawPanel(index: number, now: Date): void {
    const { ctx, font, width: pw, height: ph, x: px, y: py } = this.#panel;
    ctx.fillStyle = '#101418';
    ctx.fillRect(0, 0, pw, ph);
    ctx.fillStyle = '#ffffff';
    ctx.textBaseline = 'top';
    ctx.font = `bold ${font}px monospace`;
    ctx.fillText(clockText(now), Math.round(font / 3), Math.round(font / 4));
    ctx.fillStyle = '#9fd3ff';
    ctx.font = `${Math.round(font * 0.8)}px monospace`;
    ctx.fillText(`frame ${String(index).padStart(7, '0')}`, Math.round(font / 3), Math.round(font * 1.55));
    const panel = ctx.getImageData(0, 0, pw, ph).data;
    const rowBytes = pw * 4;
    const visibleRows = Math.min(ph, this.height - py);
    const visibleBytes = Math.min(pw, this.width - px) * 4;
    for (let row = 0; row < visibleRows; row++) {
      const from = row * rowBytes;
      this.#frame.set(panel.subarray(from, from + visibleBytes), ((py + row) * this.width + px) * 4);
    }
  }
}

/** Local wall time with milliseconds, e.g. 14:03:27.512. */
export function clockText(now: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${pad(now.getMilliseconds(), 3)}`;
}
