// Device-frame input ({ cudaDevicePtr, pitch } with cudaFrames) as far as it can be checked
// without a GPU: every bad value is named, a machine without CUDA refuses with the probe's
// reason, and the committed PTX is the kernel's current source. test/gpu runs the rest.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { normalizeCudaFrame } from '../../src/encoder/cuda-frame.js';
import { LadderEncoder, previewLadderFrame, probeHardware } from '../../src/index.js';

const base = { width: 640, height: 360, fps: 30, x264Preset: 'ultrafast' } as const;
const rgba = { width: 640, pixelFormat: 'rgba' } as const;

describe('device frame validation', () => {
  const cases: Array<[string, unknown, RegExp, 'TypeError' | 'RangeError']> = [
    ['a Buffer', Buffer.alloc(16), /^Expected \{ cudaDevicePtr, pitch \} for frame \(cudaFrames: true\) but received Buffer of 16 bytes$/, 'TypeError'],
    ['null', null, /^Expected \{ cudaDevicePtr, pitch \} for frame \(cudaFrames: true\) but received null$/, 'TypeError'],
    ['a string pointer', { cudaDevicePtr: '0x7f00', pitch: 2560 }, /^Expected bigint or safe integer device address for frame\.cudaDevicePtr but received "0x7f00"$/, 'TypeError'],
    ['a fractional pointer', { cudaDevicePtr: 1.5, pitch: 2560 }, /^Expected bigint or safe integer device address for frame\.cudaDevicePtr but received 1\.5$/, 'RangeError'],
    ['an unsafe number pointer', { cudaDevicePtr: 2 ** 60, pitch: 2560 }, /for frame\.cudaDevicePtr but received 1152921504606847000$/, 'RangeError'],
    ['a zero pointer', { cudaDevicePtr: 0n, pitch: 2560 }, /^Expected non-zero 64-bit device address for frame\.cudaDevicePtr but received 0n$/, 'RangeError'],
    ['a negative pointer', { cudaDevicePtr: -4096n, pitch: 2560 }, /but received -4096n$/, 'RangeError'],
    ['a pointer past 64 bits', { cudaDevicePtr: 1n << 64n, pitch: 2560 }, /but received 18446744073709551616n$/, 'RangeError'],
    ['a pitch shorter than a row', { cudaDevicePtr: 4096n, pitch: 2559 }, /^Expected integer between 2560 \(640 px of rgba\) and 2147483647 bytes per row for frame\.pitch but received 2559$/, 'RangeError'],
    ['a missing pitch', { cudaDevicePtr: 4096n }, /for frame\.pitch but received undefined$/, 'TypeError'],
  ];
  for (const [name, frame, message, kind] of cases) {
    test(`rejects ${name}`, () => {
      assert.throws(() => normalizeCudaFrame(frame, rgba), (error: Error) => {
        assert.equal(error.name, kind);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('passes numbers on as bigints and keeps a padded pitch', () => {
    assert.deepEqual(normalizeCudaFrame({ cudaDevicePtr: 0x7f00_0000_0000, pitch: 4096 }, rgba), {
      cudaDevicePtr: 0x7f00_0000_0000n,
      pitch: 4096,
    });
    assert.deepEqual(normalizeCudaFrame({ cudaDevicePtr: 0xffff_ffff_ffff_f000n, pitch: 1920 }, { width: 640, pixelFormat: 'rgb24' }), {
      cudaDevicePtr: 0xffff_ffff_ffff_f000n,
      pitch: 1920,
    });
  });
});

describe('cudaFrames option', () => {
  test('must be a boolean', () => {
    assert.throws(() => new LadderEncoder({ ...base, cudaFrames: 'yes' as never }), /^TypeError: Expected boolean for cudaFrames but received "yes"$/);
  });

  test('cannot go with file input', () => {
    assert.throws(
      () => new LadderEncoder({ ...base, cudaFrames: true, input: { file: 'clip.mp4' } }),
      /^TypeError: Expected no cudaFrames with input \(its frames are decoded from clip\.mp4\) but received cudaFrames: true$/,
    );
  });

  test('a device frame written without cudaFrames says how to enable it, and the encoder goes on', async () => {
    const encoder = new LadderEncoder(base);
    await assert.rejects(encoder.write({ cudaDevicePtr: 4096n, pitch: 1920 }), (error: Error) => {
      assert.equal(error.name, 'TypeError');
      assert.match(error.message, /^Expected Buffer or Uint8Array for frame but received \{"cudaDevicePtr":"4096n","pitch":1920\} \(to write CUDA device frames, create the encoder with cudaFrames: true\)$/);
      assert.match(error.stack ?? '', /cuda-frames\.test\.ts/);
      return true;
    });
    await encoder.write(Buffer.alloc(640 * 360 * 3));
    assert.equal((await encoder.close()).frames, 1);
  });
});

describe('without CUDA', async () => {
  const report = await probeHardware();
  const skip = report.cuda && 'this machine has CUDA (test/gpu covers it)';

  test('cudaFrames is refused with the probe\'s reason, whatever the encoder', { skip }, () => {
    for (const encoder of ['auto', 'x264', 'nvenc'] as const) {
      assert.throws(() => new LadderEncoder({ ...base, encoder, cudaFrames: true }), (error: Error) => {
        assert.equal(error.name, 'AbrcastError');
        // nvenc is refused first, for the same missing device.
        const what = encoder === 'nvenc' ? 'encoder nvenc' : 'cudaFrames';
        assert.equal(error.message, `Cannot use ${what}: ${report.reason}`);
        return true;
      });
    }
  });

  test('a device frame preview is refused with the same reason', { skip }, async () => {
    for (const device of ['cpu', 'cuda'] as const) {
      await assert.rejects(
        previewLadderFrame({ ...base, pixelFormat: 'rgba' }, { cudaDevicePtr: 0x7f00_0000_0000n, pitch: 2560 }, { device }),
        { name: 'AbrcastError', message: `Cannot take CUDA device frames: ${report.reason}` },
      );
    }
  });
});

describe('the RGB-to-YUV kernel', () => {
  test('the committed PTX is compiled from the current kernel source', (t) => {
    const hasClang = spawnSync('clang', ['--version']).status === 0;
    if (!hasClang) {
      // CI installs clang (scripts/bootstrap.sh --test); elsewhere say what is missing.
      t.skip('clang is not installed');
      return;
    }
    const check = spawnSync('bash', ['scripts/build-cuda-kernels.sh', '--check'], { encoding: 'utf8' });
    if (check.status === 3) {
      t.skip(check.stderr.trim());
      return;
    }
    assert.equal(check.status, 0, check.stderr);
    assert.match(execFileSync('grep', ['-c', 'abrcast_rgb_to_yuv420p', 'native/cuda/rgb-to-yuv420-ptx.h'], { encoding: 'utf8' }), /^[1-9]/);
  });
});

describe('the PTX the addon embeds', () => {
  // NVIDIA's own assembler, the back end of the driver's JIT: what it refuses, a GPU would too.
  const ptxas = [process.env.ABRCAST_PTXAS, '.tools/bin/ptxas'].find((p): p is string => !!p && existsSync(p));
  const generations = ['sm_52', 'sm_61', 'sm_75', 'sm_86', 'sm_89', 'sm_90'];

  test(`assembles for every GPU generation from Maxwell to Hopper (${generations.join(', ')})`, { skip: !ptxas && 'ptxas not installed (bash scripts/install-ptxas.sh)' }, () => {
    const header = readFileSync('native/cuda/rgb-to-yuv420-ptx.h', 'utf8');
    const ptx = header.slice(header.indexOf('R"ptx(') + 6, header.lastIndexOf(')ptx"'));
    assert.match(ptx, /\.visible \.entry abrcast_rgb_to_yuv420p\(/);
    const dir = mkdtempSync(join(tmpdir(), 'abrcast-ptx-'));
    try {
      writeFileSync(join(dir, 'kernel.ptx'), ptx);
      for (const gpu of generations) {
        const result = spawnSync(ptxas!, ['--gpu-name', gpu, '--verbose', join(dir, 'kernel.ptx'), '-o', join(dir, `${gpu}.cubin`)], { encoding: 'utf8' });
        assert.equal(result.status, 0, `${gpu}: ${result.stderr}`);
        assert.match(result.stderr, /Compiling entry function 'abrcast_rgb_to_yuv420p' for '/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('declares the parameters cuLaunchKernel passes: 8-byte pointers and pitches, 4-byte ints', () => {
    const header = readFileSync('native/cuda/rgb-to-yuv420-ptx.h', 'utf8');
    const params = [...header.matchAll(/\.param \.(u64|u32) abrcast_rgb_to_yuv420p_param_(\d+)/g)].map((m) => m[1]);
    // rgb, rgbPitch, bytesPerPixel, red, green, blue, width, height, y, yPitch, u, uPitch, v, vPitch
    assert.deepEqual(params, ['u64', 'u64', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u64', 'u64', 'u64', 'u64', 'u64', 'u64']);
  });
});
