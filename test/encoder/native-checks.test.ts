// The addon as a public surface: it checks its own input, refuses what would
// grow memory without bound, fails loudly where output would silently go wrong
// (an option nothing took, a missing IDR at a cut), and does not flood JS with
// FFmpeg's log. Each test failed before its fix (issue 14, findings 4, 7, 8, 10, 11).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { LadderEncoder } from '../../src/index.js';
import { loadNativeAddon, type NativeEncoderConfig, type NativeEvent } from '../../src/native/binding.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function nativeConfig(patch: Partial<NativeEncoderConfig> & Record<string, unknown> = {}): NativeEncoderConfig {
  return {
    width: 160, height: 90, fpsNum: 30, fpsDen: 1, pixelFormat: 'rgb24', framesPerSegment: 10, encoder: 'x264',
    x264Preset: 'veryfast', nvencPreset: 'p4', nvencTune: 'hq', scaleFlags: 'bicubic', maxFramesInFlight: 4,
    outputDir: '', renditions: [{ name: '90p', width: 160, height: 90, bitrate: 100 }], cudaFrames: false, lowLatency: false, ...patch,
  };
}

/** Runs `frames` frames through the binding itself; resolves with every event once it finished, or rejects as it threw. */
async function encodeNative(config: NativeEncoderConfig, frames: number): Promise<NativeEvent[]> {
  const events: NativeEvent[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const native = new (loadNativeAddon().NativeLadderEncoder)(config, (event) => {
    events.push(event);
    if (event.type === 'finished') finished();
  });
  native.ref();
  const frame = Buffer.alloc(config.width * config.height * 3);
  for (let i = 0; i < frames; i++) {
    frame.fill((i * 37) & 255);
    if (native.write(frame, i) < 0) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  native.end();
  await done;
  native.dispose();
  return events;
}

function firstError(events: NativeEvent[]): string | undefined {
  return events.find((e): e is Extract<NativeEvent, { type: 'error' }> => e.type === 'error')?.message;
}

describe('the addon checks its own options', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['framesPerSegment 0', { framesPerSegment: 0 }, /between 1 and \d+ for native option framesPerSegment but received 0$/],
    ['framesPerPart 0', { framesPerPart: 0 }, /between 1 and 10 for native option framesPerPart but received 0$/],
    ['framesPerPart past the segment', { framesPerPart: 11 }, /between 1 and 10 for native option framesPerPart but received 11$/],
    ['width 0', { width: 0 }, /for native option width but received 0$/],
    ['fpsDen 0', { fpsDen: 0 }, /for native option fpsDen but received 0$/],
    ['maxFramesInFlight 0', { maxFramesInFlight: 0 }, /for native option maxFramesInFlight but received 0$/],
    ['no renditions', { renditions: [] }, /Expected 1 to 32 entries for native option renditions but received 0$/],
    ['a rendition 0 wide', { renditions: [{ name: 'x', width: 0, height: 90, bitrate: 100 }] }, /native option renditions\[0\]\.width but received 0$/],
    ['pcm channels 0', { audio: { kind: 'pcm', sampleRate: 48000, channels: 0, maxQueuedSamples: 24000, bitrate: 128, shortest: true } },
      /native option audio\.channels but received 0$/],
  ];
  for (const [name, patch, message] of cases) {
    test(`refuses ${name}`, () => {
      assert.throws(() => new (loadNativeAddon().NativeLadderEncoder)(nativeConfig(patch), () => {}), (error: Error) => {
        assert.ok(error instanceof RangeError, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('refuses an unknown container', () => {
    assert.throws(() => new (loadNativeAddon().NativeLadderEncoder)(nativeConfig({ container: 'mkv' as never }), () => {}),
      /^TypeError: Expected one of ts, fmp4 for native option container but received mkv$/);
  });

  test('a second start() is an error, not a terminated process', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'abrcast-start-twice-'));
    try {
      const clip = join(dir, 'clip.mp4');
      await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30', '-t', '1', '-c:v', 'libx264',
        '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
      const script = `
        import { loadNativeAddon } from './src/native/binding.ts';
        const config = ${JSON.stringify(nativeConfig({ input: { file: clip, live: false } }))};
        let done; const finished = new Promise((r) => (done = r));
        let opened; const ready = new Promise((r) => (opened = r));
        const native = new (loadNativeAddon().NativeLadderEncoder)(config, (e) => { if (e.type === 'ready') opened(); if (e.type === 'finished') done(e); });
        native.ref();
        await ready;
        native.start();
        try { native.start(); console.log('no error'); } catch (error) { console.log('second start: ' + error.message); }
        const summary = await finished;
        native.dispose();
        console.log('frames ' + summary.frames);`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 50_000 });
      assert.equal(child.signal, null, `the child died of ${child.signal}: ${child.stderr}`);
      assert.equal(child.status, 0, child.stderr);
      assert.match(child.stdout, new RegExp(`second start: start\\(\\) was already called for ${clip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(child.stdout, /frames 30/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('encoder options and IDRs', () => {
  test('an encoder option that nothing takes is an error naming it', async () => {
    const attempt = encodeNative(nativeConfig({ encoderOptions: { 'no-such-option': '1', 'rc-lookahed': '5' } }), 3);
    const message = await attempt.then(firstError, (error: Error) => error.message);
    assert.match(message ?? '', /^x264 encoder for rendition 90p does not take the option\(s\) no-such-option, rc-lookahed \(FFmpeg .+\)$/);
  });

  test('options the encoder takes still work', async () => {
    const events = await encodeNative(nativeConfig({ encoderOptions: { 'rc-lookahead': '5' } }), 25);
    assert.equal(firstError(events), undefined);
    assert.equal(events.filter((e) => e.type === 'segment').length, 3);
  });

  test('a cut where the encoder made no IDR fails, naming the rendition and frame', async () => {
    // Not forced to IDR, x264's open-GOP keyframe is a plain I frame: the segment would not start on an IDR.
    const events = await encodeNative(nativeConfig({ encoderOptions: { 'forced-idr': '0', 'x264-params': 'scenecut=0:open-gop=1' } }), 40);
    assert.equal(firstError(events), 'Rendition 90p: frame 10 should be an IDR frame (the start of segment 1), but the encoder did not make one where it was forced');
    const finished = events.at(-1);
    assert.ok(finished?.type === 'finished' && finished.failed);
  });
});

describe('memory stays bounded whatever the caller does', () => {
  test('writes that are never awaited are refused past 4 x maxFramesInFlight + 8, with a clear error', { timeout: 60_000 }, async () => {
    const encoder = new LadderEncoder({ width: 1280, height: 720, fps: 30, segmentDuration: 1, x264Preset: 'veryfast', encoder: 'x264', maxFramesInFlight: 2 });
    const frame = Buffer.alloc(1280 * 720 * 3);
    const outcomes = await Promise.allSettled(Array.from({ length: 60 }, () => encoder.write(frame)));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.ok(refused.length > 0, 'some of 60 unawaited writes are refused');
    assert.ok(refused.length <= 60 - 16, `at least 16 are taken (refused ${refused.length})`);
    assert.match(String(refused[0]!.reason), /^RangeError: Refused a frame: 16 frames already wait to be encoded \(4 x maxFramesInFlight \+ 8\); await write\(\) before writing more$/);
    const summary = await encoder.close();
    assert.equal(summary.frames, 60 - refused.length);
  });

  test('audio that is never awaited is refused past 4 x maxQueuedSamples', { timeout: 60_000 }, async () => {
    const encoder = new LadderEncoder({
      width: 160, height: 90, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264',
      renditions: [{ name: '90p', width: 160, height: 90, bitrate: 100 }], audio: { pcm: { sampleRate: 48_000, channels: 2 } },
    });
    const chunk = new Float32Array(48_000 * 2); // one second
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, () => encoder.writeAudio(chunk)));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.ok(refused.length > 0, 'some of 30 s of unawaited audio is refused');
    assert.match(String(refused[0]!.reason), /^RangeError: Refused audio: \d+ sample frames already wait to be encoded \(4 x maxQueuedSamples\); await writeAudio\(\) before writing more$/);
    encoder.abort();
    await encoder.close().catch(() => {});
  });

  test('video that runs more than 20 s ahead of the audio fails instead of piling up', { timeout: 120_000 }, async () => {
    const encoder = new LadderEncoder({
      width: 160, height: 90, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264',
      renditions: [{ name: '90p', width: 160, height: 90, bitrate: 100 }],
      audio: { pcm: { sampleRate: 48_000, channels: 2 }, shortest: false },
    });
    const frame = Buffer.alloc(160 * 90 * 3);
    let failure: Error | undefined;
    for (let i = 0; i < 30 * 30 && !failure; i++) await encoder.write(frame).catch((error: Error) => (failure = error));
    const closed = await encoder.close().then(() => undefined, (error: Error) => error);
    const message = (failure ?? closed)?.message ?? '';
    assert.match(message, /^Rendition 90p: the video is \d+ frames ahead of the audio, more than 20 s; write audio alongside the video \(writeAudio\(\)\)$/);
  });
});

describe("FFmpeg's log", () => {
  let dir: string;
  let damaged: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-log-flood-'));
    const clean = join(dir, 'clean.ts');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '40', '-c:v', 'libx264',
      '-preset', 'ultrafast', '-g', '30', '-f', 'mpegts', clean]);
    // Flip a byte in a third of the TS packets (deterministically): the decoder complains on most frames.
    const bytes = await readFile(clean);
    let seed = 1;
    for (let offset = 188 * 20; offset + 188 <= bytes.length; offset += 188) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      if (seed % 3 === 0) bytes[offset + 10 + (seed % 170)]! ^= 0xff;
    }
    damaged = join(dir, 'damaged.ts');
    await writeFile(damaged, bytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a warning on every frame reaches JS at most 10 times a second, with a count of the rest', { timeout: 120_000 }, async () => {
    const encoder = await LadderEncoder.fromFile(damaged, { encoder: 'x264', x264Preset: 'ultrafast', renditions: [{ name: '90p', width: 160, height: 90, bitrate: 100 }] });
    const warnings: string[] = [];
    encoder.on('warning', (message) => warnings.push(message));
    const started = Date.now();
    encoder.start();
    await encoder.close().catch(() => {});
    const seconds = (Date.now() - started) / 1000;
    // Per thread (input, filter graph, rendition): 10 lines a second, plus the count lines.
    const bound = 3 * 10 * Math.ceil(seconds + 1) + 12;
    assert.ok(warnings.length <= bound, `${warnings.length} warnings in ${seconds.toFixed(1)} s (at most ${bound})`);
    assert.ok(warnings.some((w) => /\((last message repeated \d+ times|\d+ more FFmpeg messages in one second were not reported)\)$/.test(w)),
      `a count of what was held back: ${warnings.slice(0, 20).join(' | ')}`);
  });
});
