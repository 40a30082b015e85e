// Audio option and writeAudio() misuse: clear errors in the sharp style, before any native work.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { LadderEncoder, type LadderEncoderOptions } from '../../src/index.js';
import { normalizeEncoderOptions } from '../../src/encoder/options.js';

const base = { width: 320, height: 180, fps: 30, encoder: 'x264', x264Preset: 'ultrafast' } as const;
const withAudio = (audio: unknown): LadderEncoderOptions => ({ ...base, audio: audio as LadderEncoderOptions['audio'] });

describe('audio options', () => {
  test('defaults: 128 kbit/s, shortest', () => {
    assert.deepEqual(normalizeEncoderOptions(withAudio({ source: '/a.mp3' })).audio, {
      kind: 'file', source: '/a.mp3', bitrate: 128, shortest: true,
    });
    const pcm = normalizeEncoderOptions(withAudio({ pcm: { sampleRate: 44_100, channels: 2 }, bitrate: 96, shortest: false })).audio;
    assert.deepEqual(pcm, { kind: 'pcm', sampleRate: 44_100, channels: 2, maxQueuedSamples: 22_050, bitrate: 96, shortest: false });
    assert.equal('audio' in normalizeEncoderOptions(base), false);
  });

  const cases: Array<[string, unknown, RegExp, ErrorConstructor]> = [
    ['a string', '/a.mp3', /^Expected object with source or pcm for audio but received "\/a\.mp3"$/, TypeError],
    ['neither source nor pcm', {}, /^Expected object with either source or pcm for audio/, TypeError],
    ['both source and pcm', { source: '/a', pcm: { sampleRate: 48_000, channels: 2 } }, /either source or pcm/, TypeError],
    ['an empty source', { source: '' }, /^Expected non-empty string path or URL for audio\.source but received ""$/, RangeError],
    ['a numeric source', { source: 3 }, /for audio\.source but received 3$/, TypeError],
    ['a tiny sample rate', { pcm: { sampleRate: 100, channels: 2 } }, /^Expected integer between 8000 and 192000 for audio\.pcm\.sampleRate but received 100$/, RangeError],
    ['zero channels', { pcm: { sampleRate: 48_000, channels: 0 } }, /^Expected integer between 1 and 8 for audio\.pcm\.channels but received 0$/, RangeError],
    ['a string bitrate', { source: '/a', bitrate: '128k' }, /for audio\.bitrate but received "128k"$/, TypeError],
    ['a non-boolean shortest', { source: '/a', shortest: 1 }, /^Expected boolean for audio\.shortest but received 1$/, TypeError],
  ];
  for (const [name, audio, message, kind] of cases) {
    test(`rejects ${name}`, () => {
      assert.throws(() => new LadderEncoder(withAudio(audio)), (error: Error) => {
        assert.ok(error instanceof kind, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('writeAudio() misuse', () => {
  test('wrong types and lengths are refused with the caller stack; good writes still work', async () => {
    const encoder = new LadderEncoder(withAudio({ pcm: { sampleRate: 48_000, channels: 2 } }));
    try {
      await assert.rejects(encoder.writeAudio(new Float64Array(4) as unknown as Float32Array), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.equal(error.message, 'Expected Float32Array of interleaved samples for samples but received Float64Array of 32 bytes');
        assert.match(error.stack ?? '', /audio-options\.test\.ts/);
        return true;
      });
      await assert.rejects(encoder.writeAudio(new Float32Array(3)), {
        name: 'RangeError',
        message: 'Expected integer multiple of 2 (interleaved channels) for samples.length but received 3',
      });
      await encoder.writeAudio(new Float32Array(4));
      assert.equal(encoder.audioSamplesWritten, 2);
    } finally {
      encoder.abort();
    }
  });

  test('writeAudio() without pcm audio, and after close(), say why', async () => {
    const video = new LadderEncoder(base);
    await assert.rejects(video.writeAudio(new Float32Array(2)), /writeAudio\(\) needs the option audio: \{ pcm: \{ sampleRate, channels \} \}/);
    await video.close();
    const pcm = new LadderEncoder(withAudio({ pcm: { sampleRate: 48_000, channels: 1 } }));
    const closing = pcm.close();
    await assert.rejects(pcm.writeAudio(new Float32Array(2)), /Cannot write audio after close\(\) was called/);
    await closing;
  });
});
