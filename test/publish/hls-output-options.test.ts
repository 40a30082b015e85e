// A MultiResolutionHlsOutput's options, checked in one place: the first bad
// one named with what was expected, defaults filled in, the encoder's options
// passed only when set; and the run's URLs: relative for the embedded store
// without a gateway, on the gateway otherwise.
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { DEFAULT_JOURNAL_LIMIT_BYTES, outputSettings, runUrls } from '../../src/publish/hls-output-options.js';

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

describe('outputSettings', () => {
  test('defaults, and the encoder options as given', () => {
    const settings = outputSettings({ sourceSize: [640, 360], fps: 30 });
    assert.deepEqual(settings, {
      closeDeadlineMs: 60_000, journalLimitBytes: DEFAULT_JOURNAL_LIMIT_BYTES, journalDir: join(homedir(), '.abrcast', 'journal'),
      segmentDuration: 4, partDuration: undefined,
      encoder: {
        width: 640, height: 360, fps: 30, segmentDuration: 4, renditions: undefined, encoder: undefined, pixelFormat: undefined,
        x264Preset: undefined, outputDir: undefined, thumbnails: true, timedMetadata: true,
      },
      subtitles: [], iframePlaylists: true,
    });
    const tracks = outputSettings({ sourceSize: [640, 360], fps: 30, captions: [{ language: 'en' }, { language: 'pt-BR', name: 'Português' }], thumbnails: false });
    assert.deepEqual(tracks.subtitles, [
      { name: 'subtitles-en', label: 'en', language: 'en', default: true },
      { name: 'subtitles-pt-br', label: 'Português', language: 'pt-BR', default: false },
    ]);
    assert.equal(tracks.encoder.thumbnails, false);
    // An encrypted run makes no clear thumbnails or subtitles, nor I-frame playlists without keys.
    const secret = 'a'.repeat(32);
    const registry = { putRunKey: async () => undefined } as never;
    const encrypted = outputSettings({ sourceSize: [640, 360], fps: 30, encryption: 'aes-128', keySecret: secret, registry });
    assert.deepEqual([encrypted.encoder.thumbnails, encrypted.iframePlaylists, encrypted.subtitles], [false, false, []]);
    for (const refused of [{ thumbnails: true }, { captions: true }, { iframePlaylists: true }]) {
      assert.throws(() => outputSettings({ sourceSize: [640, 360], fps: 30, encryption: 'aes-128', keySecret: secret, registry, ...refused }),
        /Expected false \(an encrypted run has no thumbnails, subtitles or I-frame playlists\) for (thumbnails|captions|iframePlaylists) but received true/);
    }
    const ll = outputSettings({ sourceSize: [640, 360], fps: 30, partDuration: 0.5, container: 'fmp4', latency: 'low', audioSource: 'a.wav' });
    assert.equal(ll.partDuration, 0.5);
    assert.deepEqual(
      { partDuration: ll.encoder.partDuration, container: ll.encoder.container, latency: ll.encoder.latency, audio: ll.encoder.audio },
      { partDuration: 0.5, container: 'fmp4', latency: 'low', audio: { source: 'a.wav' } },
    );
  });

  test('the first bad option is named with what was expected', () => {
    const base = { sourceSize: [640, 360] as [number, number], fps: 30 };
    assert.throws(() => outputSettings(null as never), /Expected object for options but received null/);
    assert.throws(() => outputSettings({ ...base, sourceSize: [640] as never }), /\[width, height\] array for sourceSize/);
    assert.throws(() => outputSettings({ ...base, closeDeadlineMs: -1 }), /number of at least 0 for closeDeadlineMs but received -1/);
    assert.throws(() => outputSettings({ ...base, journalLimitBytes: 0 }), /positive number of bytes for journalLimitBytes but received 0/);
    assert.throws(() => outputSettings({ ...base, journalDir: '' }), /non-empty string path for journalDir/);
    assert.throws(() => outputSettings({ ...base, partDuration: Number.NaN }), /positive number of seconds for partDuration/);
    assert.throws(() => outputSettings({ ...base, container: 'mkv' as 'ts' }), /'ts' or 'fmp4' for container but received "?mkv/);
  });

  test('a window; a channel slides by default; a private run may slide, on a channel too', () => {
    const base = { sourceSize: [640, 360] as [number, number], fps: 30, segmentDuration: 2 };
    const registry = { createRun: async () => ({ id: 'r1' }), putRunKey: async (_run: string, _index: number, wrapped: string) => wrapped } as never;
    assert.equal(outputSettings({ ...base, windowSeconds: 60 }).windowSeconds, 60);
    assert.equal(outputSettings({ ...base }).windowSeconds, undefined);
    assert.equal(outputSettings({ ...base, channel: 'news', registry }).windowSeconds, 120);
    const secret = 'a server secret of at least thirty-two characters';
    // A windowed private run is fine: its window and archive name every key.
    assert.ok(outputSettings({ ...base, windowSeconds: 60, encryption: 'aes-128', keySecret: secret, registry }).encryption);
    // So is a private channel: its next run lists the tail behind that run's keys (test/publish/encrypted-channel.test.ts).
    const privateChannel = outputSettings({ ...base, channel: 'news', encryption: 'aes-128', keySecret: secret, registry });
    assert.ok(privateChannel.encryption);
    assert.equal(privateChannel.windowSeconds, 120);
    // A sliding run makes no thumbnails, subtitles or I-frame playlists yet (they list the whole run): off, and refused if asked.
    const sliding = outputSettings({ ...base, windowSeconds: 60 });
    assert.deepEqual([sliding.iframePlaylists, sliding.encoder.thumbnails, sliding.subtitles], [false, false, []]);
    for (const asked of [{ thumbnails: true }, { captions: true }, { iframePlaylists: true }] as const) {
      assert.throws(() => outputSettings({ ...base, channel: 'news', registry, ...asked }), /false with windowSeconds or channel \(a sliding run has no thumbnails, subtitles or I-frame playlists yet\)/);
    }
    assert.deepEqual([outputSettings({ ...base }).iframePlaylists, outputSettings({ ...base }).encoder.thumbnails], [true, true], 'on by default without a window');
    assert.throws(() => outputSettings({ ...base, channel: 'News!', registry }), /channel/);
    assert.throws(() => outputSettings({ ...base, channel: 'news' }), /RunRegistry with channel/);
  });
});

describe('runUrls', () => {
  test('the embedded store without a gateway: server-relative URLs; segments name a file of their type', () => {
    const urls = runUrls('helia', {});
    assert.equal(urls.segmentUrl(CID), `/ipfs/${CID}?filename=segment.ts`);
    assert.equal(urls.playlistUrl(CID), `/ipfs/${CID}`);
    assert.deepEqual(urls.templates, { segmentUrl: '/ipfs/{cid}?filename=segment.ts', playlistUrl: '/ipfs/{cid}' });
    // FFmpeg's mp4 demuxer lists .mp4, not .m4s (init and media segments alike).
    assert.equal(runUrls('helia', { container: 'fmp4' }).segmentUrl(CID), `/ipfs/${CID}?filename=segment.mp4`);
    // Subtitle segments and thumbnails name files of their own type (a gateway types them by name).
    assert.equal(urls.fileUrl('subtitles.vtt')(CID), `/ipfs/${CID}?filename=subtitles.vtt`);
    assert.equal(runUrls('kubo', {}).fileUrl('thumbnail.jpg')(CID), `https://ipfs.io/ipfs/${CID}?filename=thumbnail.jpg`);
  });

  test('Kubo, or a gateway: on the gateway; a template given is used as it is; a function template is not recorded', () => {
    assert.deepEqual(runUrls('kubo', {}).templates, { segmentUrl: 'https://ipfs.io/ipfs/{cid}?filename=segment.ts', playlistUrl: 'https://ipfs.io/ipfs/{cid}' });
    const urls = runUrls('helia', { gateway: 'https://gw.example/', playlistUrl: (cid) => `https://cdn.example/${cid}.m3u8` });
    assert.equal(urls.segmentUrl(CID), `https://gw.example/ipfs/${CID}?filename=segment.ts`);
    assert.equal(urls.playlistUrl(CID), `https://cdn.example/${CID}.m3u8`);
    assert.deepEqual(urls.templates, { segmentUrl: 'https://gw.example/ipfs/{cid}?filename=segment.ts', playlistUrl: undefined });
    assert.equal(runUrls('helia', { segmentUrl: '/ipfs/{cid}' }).segmentUrl(CID), `/ipfs/${CID}`);
    assert.equal(runUrls('helia', { segmentUrl: '/ipfs/{cid}' }).fileUrl('subtitles.vtt')(CID), `/ipfs/${CID}`, 'a given template is used for every file');
    // abrcast demo's template names the segments' file, so the others name theirs.
    assert.equal(runUrls('kubo', { segmentUrl: '/ipfs/{cid}?filename=segment.mp4' }).fileUrl('thumbnail.jpg')(CID), `/ipfs/${CID}?filename=thumbnail.jpg`);
  });
});
