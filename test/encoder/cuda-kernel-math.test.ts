// The CUDA kernel's RGB -> YUV 4:2:0 arithmetic (native/cuda/rgb-to-yuv420.h), compiled for the
// host and compared with swscale set up as the CPU ladder's RGB -> YUV step. Needs no GPU, but
// does need a C++17 compiler, pkg-config and the libswscale/libavutil dev packages.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const kernelIncludeDir = join(repoRoot, 'native/cuda');
const checkSource = join(repoRoot, 'test/native/rgb-to-yuv420-check.cc');

interface CheckCase {
  format: 'rgb24' | 'rgba' | 'bgra';
  width: number;
  height: number;
  picture: 'smooth' | 'edges' | 'black' | 'white' | 'grey';
  psnrY: number;
  psnrU: number;
  psnrV: number;
  maxDiffY: number;
  maxDiffU: number;
  maxDiffV: number;
  meanDiffY: number;
  meanDiffU: number;
  meanDiffV: number;
  kernelFirst: [number, number, number];
  swscaleFirst: [number, number, number];
  paddingUntouched: boolean;
}

function run(tool: string, args: string[]): string {
  const result = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`${tool} not found: this test builds ${checkSource} and needs ${tool} on PATH`);
  }
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

function ffmpegFlags(): string[] {
  try {
    return execFileSync('pkg-config', ['--cflags', '--libs', 'libswscale', 'libavutil'], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing
      ? 'pkg-config not found: it locates libswscale/libavutil for the kernel check'
      : 'pkg-config cannot find libswscale/libavutil: install the FFmpeg dev packages (libswscale-dev, libavutil-dev)');
  }
}

const name = (c: CheckCase) => `${c.format} ${c.width}x${c.height} ${c.picture}`;

describe('CUDA RGB -> YUV 4:2:0 kernel math against swscale', () => {
  let workDir = '';
  let cases: CheckCase[] = [];

  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'abrcast-kernel-math-'));
    const binary = join(workDir, 'rgb-to-yuv420-check');
    run('c++', ['-std=c++17', '-O2', '-I', kernelIncludeDir, checkSource, '-o', binary, ...ffmpegFlags()]);
    cases = run(binary, []).trim().split('\n').map((line) => JSON.parse(line) as CheckCase);
    for (const c of cases) {
      console.log(`# ${name(c)}: Y ${c.psnrY.toFixed(2)} dB (max ${c.maxDiffY}), U ${c.psnrU.toFixed(2)} dB (max ${c.maxDiffU}), V ${c.psnrV.toFixed(2)} dB (max ${c.maxDiffV})`);
    }
  });

  after(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const patterns = () => cases.filter((c) => c.picture === 'smooth' || c.picture === 'edges');

  test('covers every input format, both sizes and both pictures', () => {
    const expected = ['rgb24', 'rgba', 'bgra'].flatMap((format) => [
      ...['1920x1080', '642x362'].flatMap((size) => [`${format} ${size} smooth`, `${format} ${size} edges`]),
      ...['black', 'white', 'grey'].map((colour) => `${format} 64x36 ${colour}`),
    ]);
    assert.deepEqual(cases.map(name), expected);
  });

  // Measured with FFmpeg 5.1: max 1, 69.2-70.3 dB. swscale goes through 15-bit intermediates, so
  // an occasional 1 apart is rounding; a wrong coefficient or channel order shows as 2 or more.
  test('luma matches swscale to within 1 on every picture', () => {
    for (const c of patterns()) {
      assert.ok(c.maxDiffY <= 1, `${name(c)}: luma max diff ${c.maxDiffY}`);
      assert.ok(c.psnrY > 65, `${name(c)}: luma ${c.psnrY} dB`);
    }
  });

  // Both take each chroma sample as the mean of its 2x2 block (the CPU path's RGB -> YUV step
  // scales with flags=area for that), at hard colour edges too. Measured: max 1, 60.3-61.0 dB.
  test('chroma matches swscale to within 1 on every picture, hard colour edges included', () => {
    for (const c of patterns()) {
      assert.ok(c.maxDiffU <= 1 && c.maxDiffV <= 1, `${name(c)}: chroma max diff U ${c.maxDiffU} V ${c.maxDiffV}`);
      assert.ok(c.psnrU > 58 && c.psnrV > 58, `${name(c)}: chroma U ${c.psnrU} dB V ${c.psnrV} dB`);
    }
  });

  // A rounding or offset slip moves every sample the same way, which PSNR barely sees. Measured:
  // |mean| <= 0.008 for luma and 0.06 for chroma.
  test('no plane is biased against swscale', () => {
    for (const c of patterns()) {
      for (const [plane, mean] of [['Y', c.meanDiffY], ['U', c.meanDiffU], ['V', c.meanDiffV]] as const) {
        assert.ok(Math.abs(mean) < 0.2, `${name(c)}: ${plane} is ${mean} off on average`);
      }
    }
  });

  test('black, white and grey come out at their exact BT.709 limited-range values', () => {
    const expected = { black: [16, 128, 128], white: [235, 128, 128], grey: [126, 128, 128] };
    for (const c of cases) {
      if (!(c.picture in expected)) continue;
      const values = expected[c.picture as keyof typeof expected];
      assert.deepEqual(c.kernelFirst, values, `${name(c)}: kernel`);
      assert.deepEqual(c.swscaleFirst, values, `${name(c)}: swscale`);
      assert.deepEqual([c.maxDiffY, c.maxDiffU, c.maxDiffV], [0, 0, 0], `${name(c)}: not uniform like swscale`);
    }
  });

  test('writes only the visible part of each plane, whatever the pitches', () => {
    for (const c of cases) assert.equal(c.paddingUntouched, true, `${name(c)}: wrote into a plane's row padding`);
  });
});
