// The prebuilt addon (prebuilds/linux-x64) carries its own static FFmpeg: it must link no
// shared libav*/x264, ship in the npm tarball, and encode after `npm install --ignore-scripts`
// in a fresh project, where no build/ exists and nothing can be compiled.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { probeFile } from '../support/media.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const prebuildRelative = 'prebuilds/linux-x64/abrcast.glibc.node';
const prebuild = join(root, prebuildRelative);
const NODE_API_ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];
const SHARED_FFMPEG = /lib(avcodec|avformat|avfilter|avutil|swscale|swresample|x264|yuv)\b/;

const skip = process.platform !== 'linux' || process.arch !== 'x64'
  ? `the prebuild is for linux-x64, this is ${process.platform}-${process.arch}`
  : existsSync(prebuild) ? false : `${prebuildRelative} is absent (build it with scripts/build-ffmpeg.sh and scripts/prebuild.sh)`;

describe('prebuilt addon with static FFmpeg', { skip }, () => {
  test('ldd shows no shared FFmpeg or x264, and every dependency resolves', async () => {
    const { stdout } = await run('ldd', [prebuild]);
    const lines = stdout.trim().split('\n');
    assert.ok(lines.some((line) => /libc\.so\.6/.test(line)), `ldd output looks wrong:\n${stdout}`);
    for (const line of lines) {
      assert.doesNotMatch(line, SHARED_FFMPEG);
      assert.doesNotMatch(line, /not found/);
    }
  });

  test('exports only the N-API entry point; FFmpeg and x264 symbols stay hidden', async () => {
    const { stdout } = await run('nm', ['-D', '--defined-only', prebuild]);
    const exported = stdout.trim().split('\n').map((line) => line.split(' ').pop());
    assert.ok(exported.includes('napi_register_module_v1'));
    assert.deepEqual(exported.filter((name) => !NODE_API_ENTRY_POINTS.includes(name!)), []);
  });

  test('BUILD-INFO.txt records license, glibc floor and both configure lines', async () => {
    const info = await readFile(join(root, 'prebuilds/linux-x64/BUILD-INFO.txt'), 'utf8');
    assert.match(info, /license: GPL-2\.0-or-later/);
    assert.match(info, /glibc floor: GLIBC_2\.\d+/);
    assert.match(info, /configure: .*--enable-libx264/);
    assert.match(info, /configure: .*--enable-static --enable-pic/);
    const size = Number(/size: (\d+) bytes/.exec(info)?.[1]);
    assert.ok(size > 0 && size < 30 * 1024 * 1024, `size ${size}`);
  });

  test('the committed prebuild was built from the native sources as they are now', async () => {
    const info = await readFile(join(root, 'prebuilds/linux-x64/BUILD-INFO.txt'), 'utf8');
    const recorded = /native sources: ([0-9a-f]{64})/.exec(info)?.[1];
    const { stdout } = await run('bash', [join(root, 'scripts/native-sources-hash.sh')]);
    assert.equal(recorded, stdout.trim(), 'native/ or CMakeLists.txt changed since the prebuild: run `npm run prebuild:linux-x64` and commit it');
  });

  describe('npm pack, then npm install --ignore-scripts into an empty project', () => {
    let work: string;
    let installed: string;
    let packedFiles: string[];

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'abrcast-install-'));
      if (!existsSync(join(root, 'dist', 'index.js'))) {
        await run('npm', ['run', 'build:ts'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
      }
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
      const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
      packedFiles = packed!.files.map((f) => f.path);
      const project = join(work, 'consumer');
      await run('mkdir', ['-p', project]);
      await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
      // --ignore-scripts: no install script, so no compiler and no cmake-js run; only the prebuild can load.
      await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed!.filename)], {
        cwd: project, maxBuffer: 64 * 1024 * 1024, timeout: 300_000,
      });
      installed = join(project, 'node_modules', 'abrcast');
    });
    after(() => rm(work, { recursive: true, force: true }));

    test('the tarball holds the prebuild and no build/ output', () => {
      assert.ok(packedFiles.includes(prebuildRelative), 'prebuild is packed');
      assert.ok(packedFiles.includes('prebuilds/linux-x64/BUILD-INFO.txt'));
      assert.ok(packedFiles.includes('prebuilds/linux-arm64/abrcast.glibc.node'), 'the linux-arm64 prebuild ships beside it');
      assert.ok(packedFiles.includes('prebuilds/win32-x64/abrcast.node'), 'and the win32-x64 one');
      assert.deepEqual(packedFiles.filter((f) => f.startsWith('build/')), []);
      assert.ok(packedFiles.includes('CMakeLists.txt') && packedFiles.some((f) => f.startsWith('native/src/')), 'source build stays possible');
      for (const seed of ['dist/pglite-seed/data.tar.gz', 'dist/pglite-seed/manifest.json']) {
        assert.ok(packedFiles.includes(seed), `${seed} is packed: a new embedded registry starts from it`);
      }
    });

    test("the install script's first step (node-gyp-build-test) accepts the prebuild", async () => {
      assert.equal(existsSync(join(installed, 'build')), false);
      // `npm install` runs "node-gyp-build-test || cmake-js compile"; exit 0 here means cmake-js never runs.
      await run(process.execPath, [join(installed, '..', 'node-gyp-build', 'build-test.js')], { cwd: installed });
    });

    test("the installed package's `abrcast demo` runs to the end on the prebuild", { timeout: 180_000 }, async () => {
      const { ABRCAST_NATIVE_PATH: _override, ...env } = process.env;
      const bin = join(installed, 'bin', 'abrcast.js');
      const { stdout } = await run(
        process.execPath,
        [bin, 'demo', '--duration', '3', '--size', '640x360', '--segment', '1', '--port', '0', '--json', '--data-dir', join(work, 'demo-data')],
        { cwd: join(installed, '..', '..'), timeout: 150_000, env: { ...env, HOME: work }, maxBuffer: 16 * 1024 * 1024 },
      );
      const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as { event?: string; type?: string; frames?: number });
      const kinds = events.map((e) => e.event ?? e.type);
      assert.ok(kinds.includes('segment'), `segments published: ${kinds.join(',')}`);
      const end = events.find((e) => (e.event ?? e.type) === 'end');
      assert.ok(end, 'an end event');
      assert.equal(end.frames, 90);
    });

    test('encodes 30 frames of 320x180 with the prebuild, with no libav* mapped in the process', async () => {
      const outputDir = join(work, 'segments');
      const script = join(installed, '..', '..', 'encode.mjs');
      await writeFile(script, `
        import { createRequire } from 'node:module';
        import { readFileSync } from 'node:fs';
        import { LadderEncoder } from 'abrcast';
        const require = createRequire(import.meta.url);
        const addonPath = require('node-gyp-build').path(${JSON.stringify(installed)});
        const width = 320, height = 180;
        const encoder = new LadderEncoder({ width, height, fps: 30, segmentDuration: 1, encoder: 'x264',
          x264Preset: 'ultrafast', outputDir: ${JSON.stringify(outputDir)} });
        const segments = [];
        encoder.on('segment', (s) => segments.push({ rendition: s.rendition, index: s.index, bytes: s.bytes, path: s.path }));
        for (let i = 0; i < 30; i++) {
          const frame = Buffer.alloc(width * height * 3);
          for (let p = 0; p < frame.length; p += 3) { frame[p] = (p / 3 + i * 4) & 255; frame[p + 1] = i * 8; frame[p + 2] = 128; }
          await encoder.write(frame);
        }
        const summary = await encoder.close();
        const mapped = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n')
          .map((line) => line.split(/\\s+/)[5]).filter((p) => p && p.startsWith('/')))];
        console.log(JSON.stringify({ addonPath, segments, frames: summary.frames, mapped }));
      `);
      // Without ABRCAST_NATIVE_PATH, so the installed package finds its addon the way users' do.
      const { ABRCAST_NATIVE_PATH: _override, ...env } = process.env;
      const { stdout } = await run(process.execPath, [script], { cwd: dirname(script), timeout: 120_000, env });
      const result = JSON.parse(stdout) as {
        addonPath: string; frames: number; mapped: string[];
        segments: Array<{ rendition: string; index: number; bytes: number; path: string }>;
      };
      assert.equal(result.addonPath, join(installed, prebuildRelative));
      assert.ok(result.mapped.includes(result.addonPath), 'the prebuild is the module mapped in the child');
      assert.deepEqual(result.mapped.filter((p) => SHARED_FFMPEG.test(p)), [], 'no shared FFmpeg/x264 loaded');
      assert.equal(result.frames, 30);
      assert.deepEqual(result.segments.map((s) => [s.rendition, s.index]), [['original', 0]]);
      assert.deepEqual(await readdir(join(outputDir, 'original')), [result.segments[0]!.path.split('/').pop()]);
      // Debian's ffprobe judges the bytes the bundled x264 wrote.
      const probe = await probeFile(result.segments[0]!.path);
      const video = probe.streams.find((s) => s.codec_type === 'video');
      assert.equal(video?.codec_name, 'h264');
      assert.equal(video?.width, 320);
      assert.equal(video?.height, 180);
      assert.equal(probe.frames.length, 30);
      assert.equal(probe.frames[0]!.key_frame, 1);
    });
  });
});
