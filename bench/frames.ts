// Deterministic RGB24 source frames, made before any timing starts: a ring of
// precomputed frames that every pipeline reads in the same order, so each one
// encodes exactly the same bytes. The content has fine detail (texture, edges,
// grain) and motion (a pan plus moving discs), and the ring loops smoothly: the
// motion follows closed paths, so wrapping around is no artificial scene cut.

export interface FrameRing {
  readonly width: number;
  readonly height: number;
  readonly frameBytes: number;
  readonly frames: readonly Buffer[];
  /** Frame `index` of the stream (the ring repeats). */
  frame(index: number): Buffer;
}

/** xorshift32: fast and the same on every machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** A static scene twice as wide as the frame, so a horizontal pan never shows a seam. */
function makeTexture(width: number, height: number, random: () => number): Buffer {
  const texWidth = width * 2;
  const tex = Buffer.alloc(texWidth * height * 3);
  for (let y = 0; y < height; y++) {
    const wave = 40 * Math.sin(y / 37);
    for (let x = 0; x < texWidth; x++) {
      const o = (y * texWidth + x) * 3;
      // Mirror the pattern about the middle so the texture tiles without an edge.
      const u = x < width ? x : texWidth - 1 - x;
      const cell = Math.max(2, 2 + ((u >> 6) % 6)); // checker cells of several sizes
      const checker = ((u / cell) ^ (y / cell)) & 1 ? 28 : 0;
      tex[o] = Math.max(0, Math.min(255, (u * 200) / width + wave));
      tex[o + 1] = ((y * 220) / height + checker) & 255;
      tex[o + 2] = (96 + checker + ((u * y) >> 10)) & 255;
    }
  }
  // Hard-edged blocks with stripes: text-like detail that scalers and encoders must keep.
  const blocks = Math.max(40, Math.round((width * height) / 20000));
  for (let i = 0; i < blocks; i++) {
    const bw = 8 + (random() % Math.max(8, width >> 4));
    const bh = 6 + (random() % Math.max(6, height >> 5));
    const bx = random() % Math.max(1, width - bw);
    const by = random() % Math.max(1, height - bh);
    const color = [random() & 255, random() & 255, random() & 255];
    for (let y = by; y < by + bh; y++) {
      const stripe = (y - by) % 4 < 2;
      for (const mirrorX of [bx, texWidth - bx - bw]) {
        for (let x = mirrorX; x < mirrorX + bw; x++) {
          const o = (y * texWidth + x) * 3;
          tex[o] = stripe ? color[0]! : 255 - color[0]!;
          tex[o + 1] = stripe ? color[1]! : 255 - color[1]!;
          tex[o + 2] = color[2]!;
        }
      }
    }
  }
  return tex;
}

function drawDisc(frame: Buffer, width: number, height: number, cx: number, cy: number, r: number, shade: number): void {
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(height - 1, Math.ceil(cy + r));
  const r2 = r * r;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
      if (d2 > r2) continue;
      const o = (y * width + x) * 3;
      const light = 255 - Math.floor((d2 / r2) * 160);
      frame[o] = (light + shade) & 255;
      frame[o + 1] = (light * 3 + shade) >> 2;
      frame[o + 2] = (shade * 2 + (x & 15) * 4) & 255;
    }
  }
}

/**
 * Precomputes `count` frames of width x height RGB24. Memory is
 * count * width * height * 3 bytes (about 6.2 MB per 1080p frame).
 */
export function makeFrameRing(width: number, height: number, count: number, seed = 20240601): FrameRing {
  const random = prng(seed);
  const texture = makeTexture(width, height, random);
  const texRow = width * 2 * 3;
  const rowBytes = width * 3;
  const frameBytes = rowBytes * height;
  // Grain: one table of small offsets, read from a different place in each frame.
  const grainSpan = 65536;
  const grain = new Int8Array(frameBytes + grainSpan);
  const noise = prng(seed ^ 0x5bd1e995);
  for (let i = 0; i < grain.length; i++) grain[i] = (noise() & 7) - 4;
  const discs = Array.from({ length: 3 }, (_, i) => ({
    radius: Math.max(6, Math.round(height / (6 + i * 3))),
    phase: (i * 2 * Math.PI) / 3,
  }));
  const frames: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    const t = (2 * Math.PI * index) / count;
    const frame = Buffer.allocUnsafe(frameBytes);
    // A camera-like pan along a closed path: up to width/4 sideways, a little up and down.
    const panX = Math.round((width / 8) * (1 - Math.cos(t)));
    const panY = Math.round((height / 16) * (1 - Math.cos(2 * t)));
    for (let y = 0; y < height; y++) {
      const sourceY = (y + panY) % height;
      texture.copy(frame, y * rowBytes, sourceY * texRow + panX * 3, sourceY * texRow + panX * 3 + rowBytes);
    }
    // Discs on figure-of-eight paths, one loop per ring.
    for (const disc of discs) {
      const a = t + disc.phase;
      const cx = width / 2 + (width / 4) * Math.cos(a);
      const cy = height / 2 + (height / 4) * Math.sin(2 * a);
      drawDisc(frame, width, height, cx, cy, disc.radius, (index * 5 + disc.radius) & 255);
    }
    // Light grain on every byte, new each frame, as a camera or a renderer's dithering gives.
    const offset = (index * 40503) % grainSpan;
    for (let o = 0; o < frameBytes; o++) {
      const v = frame[o]! + grain[o + offset]!;
      frame[o] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    frames.push(frame);
  }
  return { width, height, frameBytes, frames, frame: (i) => frames[i % count]! };
}
