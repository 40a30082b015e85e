// MultiResolutionHlsOutput end to end on the embedded store: what a renderer
// gets after close() is a master CID whose playlists and segments all resolve,
// and every live version on the way was a valid, append-only playlist.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { HeliaStore, MultiResolutionHlsOutput, openRegistry, probeHardware, type HlsOutputSummary, type PublishedVersion, type VariantStreamRecords, type RunRegistry, type SegmentEvent } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { probeBytes } from '../support/media.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { assertAppendOnly } from '../support/playlist-history.js';

const FPS = 30;
const FRAMES = 100; // 3 full 1-second segments and a 10-frame tail
const ladder = [
  { name: 'high', width: 640, height: 360, bitrate: 900 },
  { name: 'low', width: 320, height: 180, bitrate: 300 },
];
const PROFILE_IDC: Record<string, number> = { 'Constrained Baseline': 0x42, Baseline: 0x42, Main: 0x4d, High: 0x64 };

describe('MultiResolutionHlsOutput on the embedded store', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  let summary: HlsOutputSummary;
  const versions: PublishedVersion[] = [];
  const segments: SegmentEvent[] = [];
  const updates: Array<[string, VariantStreamRecords]> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-output-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    // The store loads its UnixFS code on first use; done here, so that load does not delay
    // the first uploads and merge the first publishes (the versions test counts them).
    await store.open();
    registry = await openRegistry({ dataDir: join(dir, 'db'), databaseUrl: '' });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [640, 360], fps: FPS, segmentDuration: 1, renditions: ladder, x264Preset: 'veryfast', encoder: 'x264',
      store, registry, gateway: 'https://gw.example', journalDir: join(dir, 'journal'),
      onPlaylistUpdate: (masterCid, qualities) => { updates.push([masterCid, qualities]); },
    });
    output.on('publish', (v) => versions.push(v));
    output.on('segment', (s) => segments.push(s));
    const frames = new FrameGenerator(640, 360);
    for (let i = 0; i < FRAMES; i++) await output.write(frames.frame(i));
    summary = await output.close();
  });
  after(async () => {
    await store.close();
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the final master resolves, and so does every playlist and segment it names', async () => {
    assert.ok(summary.masterCid);
    assert.equal(summary.playlistUrl, `https://gw.example/ipfs/${summary.masterCid}`);
    const master = parsePlaylist(new TextDecoder().decode(await store.cat(summary.masterCid)));
    assert.deepEqual(master.warnings, []);
    const variants = master.manifest.playlists ?? [];
    assert.deepEqual(variants.map((v) => v.attributes.NAME), ['high', 'low']);
    for (const variant of variants) {
      const cid = variant.uri.replace('https://gw.example/ipfs/', '');
      const media = parsePlaylist(new TextDecoder().decode(await store.cat(cid)));
      assert.deepEqual(media.warnings, []);
      assert.equal(media.manifest.endList, true);
      assert.equal(media.manifest.playlistType, 'EVENT');
      assert.equal(media.manifest.segments.length, 4);
      const name = variant.attributes.NAME!;
      for (const [index, entry] of media.manifest.segments.entries()) {
        assert.equal(entry.uri, `https://gw.example/ipfs/${summary.segmentCids[name]![index]}?filename=segment.ts`);
        const produced = segments.find((s) => s.rendition === name && s.index === index)!;
        assert.ok((await store.cat(summary.segmentCids[name]![index]!)).length === produced.bytes);
      }
    }
  });

  test('every EXTINF is within one frame of the segment as decoded', async () => {
    const final = versions.at(-1)!;
    for (const [name, media] of Object.entries(final.media)) {
      const parsed = parsePlaylist(media.text).manifest;
      for (const [index, entry] of parsed.segments.entries()) {
        const data = await store.cat(summary.segmentCids[name]![index]!);
        const decodedFrames = (await probeBytes(data)).frames.length;
        assert.ok(Math.abs(entry.duration - decodedFrames / FPS) <= 1 / FPS + 1e-9, `${name}/${index}: EXTINF ${entry.duration}, ${decodedFrames} frames`);
      }
      assert.ok(parsed.targetDuration! >= Math.max(...parsed.segments.map((s) => Math.round(s.duration))));
    }
  });

  test('CODECS matches the profile and level ffprobe reads from the stream', async () => {
    const final = versions.at(-1)!;
    for (const [name, quality] of Object.entries(final.qualities)) {
      const probe = await probeBytes(await store.cat(summary.segmentCids[name]![0]!), { frames: false });
      const video = probe.streams.find((s) => s.codec_type === 'video')!;
      const match = /^avc1\.([0-9a-f]{2})[0-9a-f]{2}([0-9a-f]{2})$/.exec(quality.codecs);
      assert.ok(match, quality.codecs);
      assert.equal(parseInt(match[1]!, 16), PROFILE_IDC[video.profile!], `profile ${video.profile} vs ${quality.codecs}`);
      assert.equal(parseInt(match[2]!, 16), video.level, `level ${video.level} vs ${quality.codecs}`);
    }
  });

  test('live versions were published once per segment index, valid and append-only', () => {
    assert.ok(versions.length >= 4, `${versions.length} versions`);
    assert.deepEqual(versions.map((v) => v.sequence), versions.map((_, i) => i + 1));
    assert.equal(versions.filter((v) => v.final).length, 1);
    assert.equal(versions.at(-1)!.final, true);
    assertAppendOnly(versions);
    for (const v of versions.slice(0, -1)) {
      for (const media of Object.values(v.media)) assert.equal(parsePlaylist(media.text).manifest.endList, undefined);
    }
    const first = parsePlaylist(versions[0]!.media.high!.text).manifest;
    assert.ok(first.segments[0]!.programDateTime, 'EXT-X-PROGRAM-DATE-TIME on the first segment');
  });

  test('onPlaylistUpdate gets the master CID and per-quality info, as the Python original did', () => {
    assert.equal(updates.length, versions.length);
    const [masterCid, qualities] = updates.at(-1)!;
    assert.equal(masterCid, summary.masterCid);
    assert.deepEqual(Object.keys(qualities), ['high', 'low']);
    const high = qualities.high!;
    assert.equal(high.width, 640);
    assert.equal(high.bitrate, 900);
    assert.equal(high.frameRate, FPS);
    assert.ok(high.bandwidth >= high.averageBandwidth && high.averageBandwidth > 0);
  });

  test('the registry holds the run, its segments and the newest playlists', async () => {
    const run = await registry.getRun(summary.runId!);
    assert.ok(run);
    assert.equal(run.status, 'ended');
    assert.equal(run.masterCid, summary.masterCid);
    assert.equal(run.qualityPlaylists.low!.cid, versions.at(-1)!.media.low!.cid);
    const stored = await registry.listSegments(summary.runId!, 'high');
    assert.deepEqual(stored.map((s) => s.cid), [0, 1, 2, 3].map((i) => summary.segmentCids.high![i]));
  });
});

describe('MultiResolutionHlsOutput option errors', () => {
  test('bad URL templates and sizes are refused before any work', () => {
    assert.throws(
      () => new MultiResolutionHlsOutput({ sourceSize: [640, 360], fps: 30, segmentUrl: 'https://gw/{hash}' }),
      /for segmentUrl but received "https:\/\/gw\/\{hash\}"/,
    );
    assert.throws(() => new MultiResolutionHlsOutput({ sourceSize: [641, 360], fps: 30 }), /for width but received 641/);
    assert.throws(() => new MultiResolutionHlsOutput({ sourceSize: '640x360' as never, fps: 30 }), /Expected \[width, height\] array for sourceSize/);
  });

  test('cudaFrames reaches the encoder: refused where there is no CUDA device, with the reason', async (t) => {
    const report = await probeHardware();
    if (report.cuda) {
      t.skip('this machine has CUDA (test/gpu covers device frames)');
      return;
    }
    assert.throws(
      () => new MultiResolutionHlsOutput({ sourceSize: [640, 360], fps: 30, encoder: 'x264', cudaFrames: true }),
      { name: 'AbrcastError', message: `Cannot use cudaFrames: ${report.reason}` },
    );
  });
});
