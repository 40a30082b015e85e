// MultiResolutionHlsOutput's companions (issue 25) on the embedded store and PGlite: captions
// become a WebVTT subtitle rendition cut on the video's segments, addMetadata() an
// EXT-X-DATERANGE in every media playlist (updates by ID merged, changes refused), each
// rendition an I-frame playlist of byte ranges into its own segments, and the thumbnails an image
// playlist and a WebVTT thumbnail track; the registry records them all (runs.tracks). Playlists
// are read back with m3u8-parser, an implementation independent of ours.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  HeliaStore, MultiResolutionHlsOutput, openRegistry, type HlsOutputSummary, type RunRegistry, type SegmentEvent, type ThumbnailEvent,
} from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const FPS = 30;
const SEGMENTS = 4;
const ladder = [
  { name: 'high', width: 640, height: 360, bitrate: 900 },
  { name: 'low', width: 320, height: 180, bitrate: 300 },
];
const GATEWAY = 'https://gw.example/ipfs/';
const SCTE_OUT = Uint8Array.from([0xfc, 0x30, 0x11, 0x00]);

describe('captions, date ranges, I-frame and image playlists', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  let output: MultiResolutionHlsOutput;
  let summary: HlsOutputSummary;
  const segments: SegmentEvent[] = [];
  const thumbnails: ThumbnailEvent[] = [];
  const warnings: string[] = [];
  const errors: Record<string, Error> = {};
  const text = async (cid: string) => new TextDecoder().decode(await store.cat(cid));
  const cidOf = (uri: string) => uri.replace(GATEWAY, '').replace(/\?.*$/, '');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-beyond-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    await store.open();
    registry = await openRegistry({ dataDir: join(dir, 'db'), databaseUrl: '' });
    output = new MultiResolutionHlsOutput({
      sourceSize: [640, 360], fps: FPS, segmentDuration: 1, renditions: ladder, x264Preset: 'ultrafast', encoder: 'x264',
      store, registry, gateway: 'https://gw.example', journalDir: join(dir, 'journal'),
      captions: [{ language: 'en', name: 'English' }, { language: 'fr', name: 'Français', default: false }],
      thumbnails: { width: 160 },
    });
    output.on('segment', (s) => segments.push(s));
    output.encoder.on('thumbnail', (t) => thumbnails.push(t));
    output.on('warning', (w) => warnings.push(w));
    try {
      output.addMetadata({ id: 'early', start: 0 });
    } catch (error) {
      errors.beforeStart = error as Error;
    }
    await output.start();
    output.addMetadata({ id: 'ad-1', start: 1.5, class: 'com.example.ad', plannedDuration: 2, attributes: { 'X-AD-ID': 'abc', 'X-COUNT': 3 }, scte35Out: SCTE_OUT });
    const frames = new FrameGenerator(640, 360);
    for (let i = 0; i < SEGMENTS * FPS; i++) {
      if (i % FPS === 0) {
        const second = i / FPS;
        output.addCaption({ start: second, end: second + 1, text: `second ${second} <b>&</b>` });
        output.addCaption({ start: second + 0.5, end: second + 0.9, text: `deuxième ${second}`, language: 'fr' });
      }
      if (i === 70) {
        // The same ID again: it may add an attribute (DURATION once known), not change one.
        output.addMetadata({ id: 'ad-1', start: 1.5, duration: 2, class: 'com.example.ad' });
        try {
          output.addMetadata({ id: 'ad-1', start: 1.5, class: 'com.example.other' });
        } catch (error) {
          errors.changed = error as Error;
        }
      }
      await output.write(frames.frame(i));
    }
    summary = await output.close();
  });
  after(async () => {
    await store.close();
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('bad calls are refused with what was expected', () => {
    assert.match(errors.beforeStart!.message, /needs the run started first/);
    assert.match(errors.changed!.message, /Date range ad-1: CLASS is "com\.example\.ad" and cannot change to "com\.example\.other"/);
    assert.throws(() => output.addCaption({ start: 2, end: 1, text: 'x' }), /Expected seconds after start \(2\) for caption\.end but received 1/);
    assert.throws(() => output.addCaption({ start: 0, end: 1, text: 'x', language: 'de' }), /one of the run's subtitle languages \(en, fr\) for caption\.language/);
    assert.throws(() => output.addMetadata({ id: 'x', start: 0, attributes: { TITLE: 'no X- prefix' } }), /names X- followed by A-Z, 0-9 or -/);
    assert.throws(() => new MultiResolutionHlsOutput({ sourceSize: [640, 360], fps: 30, captions: [{ language: 'not a tag' }] }), /RFC 5646 language tag/);
    const noCaptions = new MultiResolutionHlsOutput({ sourceSize: [64, 36], fps: 30, renditions: [{ name: 'a', width: 64, height: 36, bitrate: 100 }], store });
    assert.throws(() => noCaptions.addCaption({ start: 0, end: 1, text: 'x' }), /needs the option captions/);
    noCaptions.encoder.abort();
  });

  test('the master lists the subtitle renditions, SUBTITLES on every variant, an I-frame stream per rendition and the image stream', async () => {
    assert.deepEqual(warnings, []);
    const master = await text(summary.masterCid!);
    const parsed = parsePlaylist(master);
    assert.deepEqual(parsed.warnings, []);
    const subtitles = parsed.manifest.mediaGroups?.SUBTITLES?.subs ?? {};
    assert.deepEqual(Object.keys(subtitles), ['English', 'Français']);
    assert.equal(subtitles.English!.language, 'en');
    assert.equal(subtitles.English!.default, true);
    assert.equal(subtitles['Français']!.default, false);
    for (const variant of parsed.manifest.playlists ?? []) assert.equal(variant.attributes.SUBTITLES, 'subs');
    const iframes = parsed.manifest.iFramePlaylists ?? [];
    assert.deepEqual(iframes.map((p) => p.attributes.RESOLUTION), [{ width: 640, height: 360 }, { width: 320, height: 180 }]);
    for (const stream of iframes) {
      assert.match(String(stream.attributes.CODECS), /^avc1\.[0-9a-f]{6}$/, 'the video codec alone');
      assert.ok(Number(stream.attributes.BANDWIDTH) > 0);
    }
    assert.match(master, /^#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=\d+,RESOLUTION=160x90,CODECS="jpeg",URI="https:\/\/gw\.example\/ipfs\/[^"]+"$/m);
  });

  test('each subtitle segment is cut on its video segment, with X-TIMESTAMP-MAP and the cues that overlap it', async () => {
    const master = parsePlaylist(await text(summary.masterCid!)).manifest;
    const english = parsePlaylist(await text(cidOf(master.mediaGroups!.SUBTITLES!.subs!.English!.uri!))).manifest;
    const high = segments.filter((s) => s.rendition === 'high').sort((a, b) => a.index - b.index);
    assert.equal(english.segments.length, SEGMENTS);
    assert.equal(english.endList, true);
    for (const [index, entry] of english.segments.entries()) {
      assert.ok(Math.abs(entry.duration - high[index]!.duration) < 1e-5);
      assert.ok(entry.uri.endsWith('?filename=subtitles.vtt'), `a gateway types ${entry.uri} as WebVTT by its name`);
      const vtt = await text(cidOf(entry.uri));
      assert.match(vtt, /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00\.000\n/);
      assert.match(vtt, new RegExp(`00:00:0${index}\\.000 --> 00:00:0${index + 1}\\.000\\nsecond ${index} &lt;b&gt;&amp;&lt;/b&gt;\\n`));
      assert.doesNotMatch(vtt, /deuxième/);
    }
    const french = parsePlaylist(await text(cidOf(master.mediaGroups!.SUBTITLES!.subs!['Français']!.uri!))).manifest;
    assert.match(await text(cidOf(french.segments[2]!.uri)), /00:00:02\.500 --> 00:00:02\.900\ndeuxième 2\n/);
  });

  test('every media playlist carries the date range, updates merged into one tag', async () => {
    const master = parsePlaylist(await text(summary.masterCid!)).manifest;
    for (const variant of master.playlists ?? []) {
      const playlist = await text(cidOf(variant.uri));
      const parsed = parsePlaylist(playlist);
      assert.deepEqual(parsed.warnings, []);
      const ranges = parsed.manifest.dateRanges ?? [];
      assert.equal(ranges.length, 1);
      const [range] = ranges;
      const pdt = playlist.match(/#EXT-X-PROGRAM-DATE-TIME:(.*)/)![1]!;
      assert.equal(new Date(range!.startDate as unknown as string).getTime(), new Date(pdt).getTime() + 1500, 'START-DATE on the PROGRAM-DATE-TIME clock');
      assert.match(playlist, /^#EXT-X-DATERANGE:ID="ad-1",CLASS="com\.example\.ad",START-DATE="[^"]+",DURATION=2,PLANNED-DURATION=2,X-AD-ID="abc",X-COUNT=3,SCTE35-OUT=0xFC301100$/m);
    }
  });

  test('each I-frame playlist lists byte ranges into the very segments its rendition lists', async () => {
    const master = parsePlaylist(await text(summary.masterCid!)).manifest;
    for (const [position, stream] of (master.iFramePlaylists ?? []).entries()) {
      const name = ladder[position]!.name;
      const playlist = await text(cidOf(stream.uri));
      assert.match(playlist, /^#EXT-X-I-FRAMES-ONLY$/m);
      assert.match(playlist, /^#EXT-X-VERSION:4$/m);
      const parsed = parsePlaylist(playlist);
      assert.deepEqual(parsed.warnings, []);
      assert.equal(parsed.manifest.segments.length, SEGMENTS);
      for (const [index, entry] of parsed.manifest.segments.entries()) {
        const segment = segments.find((s) => s.rendition === name && s.index === index)!;
        assert.equal(entry.uri, `${GATEWAY}${summary.segmentCids[name]![index]}?filename=segment.ts`, 'the media segment URL');
        assert.deepEqual(entry.byterange, { offset: segment.iframes[0]!.offset, length: segment.iframes[0]!.length });
        assert.ok(Math.abs(entry.duration - segment.duration) < 1e-5);
      }
    }
  });

  test('the thumbnails are an image playlist and a WebVTT track, one JPEG per segment', async () => {
    const run = (await registry.getRun(summary.runId!))!;
    const images = run.tracks.images!;
    assert.equal(images.count, SEGMENTS);
    const playlist = await text(images.cid);
    assert.match(playlist, /^#EXT-X-IMAGES-ONLY$/m);
    const uris = playlist.split('\n').filter((line) => line.startsWith(GATEWAY));
    assert.equal(uris.length, SEGMENTS);
    assert.ok(uris.every((uri) => uri.endsWith('?filename=thumbnail.jpg')), 'a gateway types each thumbnail by its name');
    assert.equal(playlist.match(/^#EXT-X-TILES:RESOLUTION=160x90,LAYOUT=1x1,DURATION=1\.00000$/gm)?.length, SEGMENTS);
    for (const [index, uri] of uris.entries()) {
      const jpeg = Buffer.from(await store.cat(cidOf(uri)));
      assert.ok(jpeg.equals(thumbnails.find((t) => t.segmentIndex === index)!.data));
    }
    const vtt = await text(images.vttCid);
    assert.match(vtt, new RegExp(`thumbnail-2\\n00:00:02\\.000 --> 00:00:03\\.000\\n${uris[2]!.replace(/[.?]/g, '\\$&')}\\n`));
  });

  test('the registry records the tracks, and subtitle segments as rows of their track', async () => {
    const run = (await registry.getRun(summary.runId!))!;
    assert.deepEqual(Object.keys(run.tracks.subtitles ?? {}).sort(), ['subtitles-en', 'subtitles-fr']);
    assert.deepEqual(Object.keys(run.tracks.iframes ?? {}).sort(), ['high', 'low']);
    assert.equal(run.tracks.dateRanges?.length, 1);
    assert.match(run.tracks.dateRanges![0]!, /^#EXT-X-DATERANGE:ID="ad-1"/);
    const rows = await registry.listSegments(summary.runId!, 'subtitles-en');
    assert.deepEqual(rows.map((r) => r.index), [0, 1, 2, 3]);
  });
});
