// The linux-arm64 prebuild, checked from an x86-64 machine: scripts/test-arm64-prebuild.sh reads its
// ELF (no shared libav*/x264/libyuv in DT_NEEDED, only Node-API exports), then loads it under qemu-user
// with Debian's arm64 Node, encodes a short clip that ffprobe decodes, and compares its YUV frames
// with the linux-x64 prebuild's. The hash check runs everywhere, like linux-x64's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const platformDir = join(root, 'prebuilds/linux-arm64');
const prebuild = join(platformDir, 'abrcast.glibc.node');
const arm64Node = join(root, '.tools/arm64-root/usr/bin/node');

async function hasCommand(name: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${name}`]).then(() => true, () => false);
}

const skip = process.platform !== 'linux'
  ? `the arm64 prebuild is checked from Linux, this is ${process.platform}`
  : existsSync(prebuild) ? false : 'prebuilds/linux-arm64/abrcast.glibc.node is absent (scripts/build-ffmpeg.sh --arch arm64, then scripts/prebuild.sh --arch arm64)';

const qemuSkip = !existsSync(arm64Node)
  ? 'no arm64 node at .tools/arm64-root (bash scripts/install-arm64-node.sh)'
  : !(await hasCommand('qemu-aarch64')) ? 'qemu-aarch64 is not installed (bash scripts/install-arm64-node.sh)'
  : !(await hasCommand('ffprobe')) ? 'ffprobe is not installed (apt-get install ffmpeg)' : false;

describe('linux-arm64 prebuild', { skip }, () => {
  test('BUILD-INFO.txt: built for arm64 from the native sources as they are now', async () => {
    const info = await readFile(join(platformDir, 'BUILD-INFO.txt'), 'utf8');
    assert.match(info, /prebuild for linux-arm64 \(glibc\)/);
    assert.match(info, /license: GPL-2\.0-or-later/);
    assert.match(info, /glibc floor: GLIBC_2\.\d+/);
    assert.match(info, /configure: .*--arch=aarch64/);
    const recorded = /native sources: ([0-9a-f]{64})/.exec(info)?.[1];
    const { stdout } = await run('bash', [join(root, 'scripts/native-sources-hash.sh')]);
    assert.equal(recorded, stdout.trim(), 'native/ or CMakeLists.txt changed since the arm64 prebuild: run `bash scripts/prebuild.sh --arch arm64` and commit it');
  });

  test('loads and encodes under qemu-user with the arm64 node; no shared FFmpeg/x264/libyuv needed', {
    skip: qemuSkip, timeout: 600_000,
  }, async (t) => {
    const { stdout } = await run('bash', [join(root, 'scripts/test-arm64-prebuild.sh')], {
      cwd: root, timeout: 540_000, maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
      assert.fail(`scripts/test-arm64-prebuild.sh exited ${error.code}:\n${error.stdout}\n${error.stderr}`);
    });
    assert.match(stdout, /^NEEDED: .*libc\.so\.6/m);
    assert.match(stdout, /"arch":"arm64"/);
    assert.match(stdout, /ffprobe: h264 96x64, 10 frames decoded/);
    // The frames are compared when an x86-64 build of the current sources exists (CI: build/Release).
    if (/x86-64 reference: none/.test(stdout)) {
      t.diagnostic('frames not compared with x86-64: no build of the current native sources (npm run build:native)');
    } else {
      assert.match(stdout, /rgb24-original-98x54\.yuv: arm64 = x64 within 0 /);
      assert.match(stdout, /rgba-small-64x36\.yuv: arm64 = x64 within [01] /);
    }
    assert.match(stdout, /^PASS: /m);
  });
});
