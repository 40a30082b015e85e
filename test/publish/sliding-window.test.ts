// PlaylistPublisher with a sliding window, on the embedded store: live media
// playlists list only the window (the media sequence advances, no
// PLAYLIST-TYPE), what leaves it is published as immutable hourly (here: short)
// archive playlists, the final playlists list every segment (VOD), and a
// channel's next run lists the previous run's tail and continues its numbers
// after EXT-X-DISCONTINUITY. Playlists are read back with m3u8-parser.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { averageBandwidth, peakBandwidth } from '../../src/hls/bandwidth.js';
import { cidUrlResolver } from '../../src/hls/segment-url.js';
import { CompanionPlaylists } from '../../src/publish/companion-playlists.js';
import { PlaylistPublisher, type ChannelContinuation, type PlaylistPublisherOptions } from '../../src/publish/playlist-publisher.js';
import type { ArchivedChunk, PublishedVersion } from '../../src/publish/types.js';
import type { ResourceKey } from '../../src/hls/types.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { assertSlidingOnly } from '../support/playlist-history.js';

const RENDITIONS = [
  { name: 'high', width: 320, height: 180, bitrate: 400 },
  { name: 'low', width: 160, height: 90, bitrate: 150 },
];
const url = cidUrlResolver({ template: '/ipfs/{cid}', optionName: 'segmentUrl' });
const STARTED = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 600));

interface Published {
  versions: PublishedVersion[];
  chunks: ArchivedChunk[];
  /** Bytes of every playlist stored, in order. */
  stored: number[];
  segmentCids: Map<string, string[]>;
}

/** An encrypted run's keys: each segment's (by index), and the init segment's of every rendition (fMP4). */
interface RunKeysFor {
  key: (index: number) => ResourceKey;
  init?: { cid: string; key: ResourceKey };
}

/** Runs `segments` 1-s segments per rendition through a publisher and ends it. */
async function publishRun(store: HeliaStore, segments: number, options: Partial<PlaylistPublisherOptions>, tag: string, keys?: RunKeysFor): Promise<Published> {
  const result: Published = { versions: [], chunks: [], stored: [], segmentCids: new Map() };
  const counting = {
    add: (bytes: Uint8Array) => { result.stored.push(bytes.byteLength); return store.add(bytes); },
    addVersion: (bytes: Uint8Array) => { result.stored.push(bytes.byteLength); return store.addVersion(bytes); },
    releaseVersion: (cid: string) => store.releaseVersion(cid),
    cat: (cid: string) => store.cat(cid),
  };
  const publisher = new PlaylistPublisher({
    store: counting, renditions: RENDITIONS, fps: 10, segmentDuration: 1, segmentUrl: url, playlistUrl: url,
    onPublished: (version) => { result.versions.push(version); },
    onArchived: (chunk) => { result.chunks.push(chunk); },
    ...options,
  });
  publisher.setStartTime(STARTED);
  for (const { name } of RENDITIONS) publisher.setCodecs(name, 'avc1.42c00d');
  if (keys?.init) for (const { name } of RENDITIONS) publisher.setInitSegment(name, keys.init.cid, keys.init.key);
  if (options.continues) await publisher.publishFirst();
  for (let index = 0; index < segments; index += 1) {
    for (const { name } of RENDITIONS) {
      const cid = await store.add(new TextEncoder().encode(`${tag} ${name} segment ${index}`));
      const cids = result.segmentCids.get(name) ?? [];
      cids.push(cid);
      result.segmentCids.set(name, cids);
      await publisher.segmentUploaded(name, {
        index, cid, duration: index === segments - 1 ? 0.5 : 1, bytes: 1000 + index, ...(keys ? { key: keys.key(index) } : {}),
      });
    }
  }
  await publisher.publish(true);
  return result;
}

describe('a sliding window and its archive', () => {
  let dir: string;
  let store: HeliaStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-window-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('live playlists list the window only, slide, and stay O(window) in size', async () => {
    const run = await publishRun(store, 60, { windowSeconds: 6, archiveSeconds: 10 }, 'window');
    const live = run.versions.filter((v) => !v.final);
    assert.equal(live.length, 60, 'one version per segment index, then the final one');
    for (const { name } of RENDITIONS) {
      const texts = live.map((v) => v.media[name].text);
      assertSlidingOnly(texts, name);
      texts.forEach((text, position) => {
        const { manifest } = parsePlaylist(text);
        const listed = Math.min(position + 1, 6);
        assert.equal(manifest.segments.length, listed, `version ${position + 1} lists the newest ${listed}`);
        assert.equal(manifest.mediaSequence, position + 1 - listed);
        assert.equal(manifest.playlistType, undefined, 'a sliding playlist has no PLAYLIST-TYPE');
        assert.ok(!manifest.endList);
        if (manifest.mediaSequence! > 0) {
          assert.ok(manifest.segments.reduce((sum, s) => sum + s.duration, 0) >= 3 * manifest.targetDuration!, 'never under 3 target durations once sliding');
        }
        // The date of the first listed segment is counted from the run's start.
        assert.equal(manifest.segments[0].programDateTime, STARTED.getTime() + manifest.mediaSequence! * 1000);
        assert.deepEqual(manifest.segments.map((s) => s.uri), run.segmentCids.get(name)!.slice(manifest.mediaSequence!, manifest.mediaSequence! + listed).map((cid) => `/ipfs/${cid}`));
      });
    }
    // Every stored live playlist stays small: no version carries the whole run.
    const livePlaylistBytes = live.flatMap((v) => Object.values(v.media).map((m) => Buffer.byteLength(m.text)));
    assert.ok(Math.max(...livePlaylistBytes) < 1200, `largest live playlist ${Math.max(...livePlaylistBytes)} bytes`);
  });

  test('what leaves the window is archived in aligned chunks, and the final playlists list every segment (VOD)', async () => {
    const run = await publishRun(store, 47, { windowSeconds: 5, archiveSeconds: 10 }, 'archive');
    // Chunks of 10 are archived once they left every window; the end archives the rest (40..46).
    assert.deepEqual(run.chunks.map((c) => [c.firstMsn, c.segmentCount]), [[0, 10], [10, 10], [20, 10], [30, 10], [40, 7]]);
    for (const chunk of run.chunks) {
      assert.equal(chunk.startedAt.getTime(), STARTED.getTime() + chunk.firstMsn * 1000);
      const master = parsePlaylist(new TextDecoder().decode(await store.cat(chunk.masterCid))).manifest;
      assert.deepEqual(master.playlists!.map((p) => p.uri), RENDITIONS.map(({ name }) => `/ipfs/${chunk.media[name].cid}`));
      for (const { name } of RENDITIONS) {
        const { manifest } = parsePlaylist(new TextDecoder().decode(await store.cat(chunk.media[name].cid)));
        assert.equal(manifest.playlistType, 'VOD');
        assert.ok(manifest.endList);
        assert.equal(manifest.mediaSequence, chunk.firstMsn);
        assert.deepEqual(manifest.segments.map((s) => s.uri),
          run.segmentCids.get(name)!.slice(chunk.firstMsn, chunk.firstMsn + chunk.segmentCount).map((cid) => `/ipfs/${cid}`));
      }
    }
    // Archiving happened while live: the first chunk before the run was half done.
    const firstChunkAfter = run.versions.findIndex((v) => v.media.high.segmentCount >= 16);
    assert.ok(firstChunkAfter > 0 && firstChunkAfter < 20);
    const final = run.versions.at(-1)!;
    assert.ok(final.final);
    for (const { name } of RENDITIONS) {
      const { manifest } = parsePlaylist(final.media[name].text);
      assert.equal(manifest.playlistType, 'VOD');
      assert.ok(manifest.endList);
      assert.equal(manifest.mediaSequence, 0);
      assert.deepEqual(manifest.segments.map((s) => s.uri), run.segmentCids.get(name)!.map((cid) => `/ipfs/${cid}`));
      assert.equal(manifest.segments.at(-1)!.duration, 0.5);
      assert.equal(manifest.segments[0].programDateTime, STARTED.getTime());
    }
    // The final master's BANDWIDTH is measured over the whole run (counted as it went, not re-walked).
    const sizes = Array.from({ length: 47 }, (_, index) => ({ bytes: 1000 + index, duration: index === 46 ? 0.5 : 1 }));
    assert.equal(final.qualities.high.bandwidth, peakBandwidth(sizes, 1));
    assert.equal(final.qualities.high.averageBandwidth, averageBandwidth(sizes));
  });

  test('a channel run lists the previous run\'s tail, then its own after a discontinuity; numbers never go back', async () => {
    const first = await publishRun(store, 12, { windowSeconds: 5, archiveSeconds: 3600 }, 'run A');
    const lastLive = first.versions.filter((v) => !v.final).at(-1)!;
    // The tail the next run starts from: what A's last live playlists listed (MSN 7..11).
    const tail: ChannelContinuation['tail'] = {};
    for (const { name } of RENDITIONS) {
      const { manifest } = parsePlaylist(lastLive.media[name].text);
      tail[name] = manifest.segments.map((segment, position) => ({
        msn: manifest.mediaSequence! + position, duration: segment.duration, uri: segment.uri,
        startedAt: new Date(STARTED.getTime() + (manifest.mediaSequence! + position) * 1000), discontinuity: false, discontinuitySequence: 0,
      }));
    }
    const continues: ChannelContinuation = { discontinuitySequence: 1, tail, codecs: { high: 'avc1.42c00d', low: 'avc1.42c00d' } };
    const second = await publishRun(store, 10, { windowSeconds: 5, archiveSeconds: 3600, mediaSequenceBase: 12, continues }, 'run B');
    const firstVersion = second.versions[0];
    assert.equal(firstVersion.media.high.segmentCount, 0, 'the first version is published before any own segment');
    const texts = [lastLive.media.high.text, ...second.versions.filter((v) => !v.final).map((v) => v.media.high.text)];
    assertSlidingOnly(texts, 'high across the restart');
    const handOver = parsePlaylist(firstVersion.media.high.text).manifest;
    assert.equal(handOver.mediaSequence, 7);
    assert.equal(handOver.segments.length, 5);
    const third = parsePlaylist(second.versions[3].media.high.text).manifest;
    assert.equal(third.mediaSequence, 10);
    assert.equal(third.discontinuitySequence, 0);
    assert.deepEqual(third.segments.map((s) => s.discontinuity ?? false), [false, false, true, false, false]);
    assert.deepEqual(third.segments.map((s) => s.timeline), [0, 0, 1, 1, 1]);
    // The discontinuity slid out: EXT-X-DISCONTINUITY-SEQUENCE counts it.
    const later = parsePlaylist(second.versions[8].media.high.text).manifest;
    assert.equal(later.mediaSequence, 15);
    assert.equal(later.discontinuitySequence, 1);
    assert.ok(later.segments.every((s) => !s.discontinuity && s.timeline === 1));
    // B's own final playlist: its own segments only, numbered after A's.
    const final = parsePlaylist(second.versions.at(-1)!.media.high.text).manifest;
    assert.equal(final.mediaSequence, 12);
    assert.equal(final.discontinuitySequence, 1);
    assert.equal(final.segments.length, 10);
  });

  test('an encrypted run: its window, archive chunks and final playlists name every segment\'s key, and the init segment\'s before EXT-X-MAP', async () => {
    // Keys rotate every 4 segments; each segment has its own IV (as ResourceCipher gives them).
    const iv = (n: number) => n.toString(16).padStart(32, '0');
    const keys: RunKeysFor = { key: (index) => ({ index: Math.floor(index / 4), iv: iv(index + 1) }), init: { cid: 'bafkqaaa', key: { index: 0, iv: iv(0xabc) } } };
    const keyUri = (index: number) => `/runs/rsecret/keys/${index}`;
    const run = await publishRun(store, 23, { windowSeconds: 5, archiveSeconds: 10, keyUri }, 'encrypted', keys);
    /** Every listed segment's key (URI and IV, read back by m3u8-parser) is its own. */
    const assertKeys = (text: string, what: string) => {
      const { manifest } = parsePlaylist(text);
      assert.ok(manifest.segments.length > 0, what);
      manifest.segments.forEach((segment, position) => {
        const index = manifest.mediaSequence! + position;
        const expected = keys.key(index);
        assert.equal(segment.key?.method, 'AES-128', `${what}: segment ${index} is encrypted`);
        assert.equal(segment.key?.uri, keyUri(expected.index), `${what}: segment ${index}'s key`);
        // m3u8-parser reads the IV as four 32-bit words.
        assert.equal(Array.from(segment.key!.iv!, (word) => word.toString(16).padStart(8, '0')).join(''), expected.iv, `${what}: segment ${index}'s IV`);
        assert.equal(segment.map?.uri, '/ipfs/bafkqaaa', `${what}: the init segment`);
        assert.equal(segment.map?.key?.uri, keyUri(0), `${what}: the init segment is read under its own key`);
      });
      // The serializer writes EXT-X-KEY only where the key changes, and the init's before EXT-X-MAP.
      const lines = text.split('\n');
      assert.ok(lines.findIndex((line) => line.startsWith('#EXT-X-KEY')) < lines.findIndex((line) => line.startsWith('#EXT-X-MAP')), `${what}: the init's key first`);
    };
    for (const version of run.versions.filter((v) => !v.final).slice(-3)) assertKeys(version.media.high.text, `live version ${version.sequence}`);
    assert.deepEqual(run.chunks.map((c) => [c.firstMsn, c.segmentCount]), [[0, 10], [10, 10], [20, 3]]);
    for (const chunk of run.chunks) {
      for (const { name } of RENDITIONS) assertKeys(new TextDecoder().decode(await store.cat(chunk.media[name].cid)), `archive chunk ${chunk.firstMsn} of ${name}`);
    }
    const final = run.versions.at(-1)!;
    assert.ok(final.final);
    for (const { name } of RENDITIONS) {
      assertKeys(final.media[name].text, `final ${name}`);
      assert.equal(parsePlaylist(final.media[name].text).manifest.segments.length, 23);
    }
  });

  test('date ranges (addMetadata) ride on the window, leave it once they ended before it, and are all in the final playlists', async () => {
    const companions = new CompanionPlaylists({ subtitles: [], segmentUrl: url, subtitleUrl: url, thumbnailUrl: url, playlistUrl: url });
    // "early" ends 5 s into the run; "open" has no end.
    companions.setDateRange({ id: 'early', startDate: new Date(STARTED.getTime() + 2000), duration: 3 });
    companions.setDateRange({ id: 'open', startDate: new Date(STARTED.getTime() + 1000) });
    const run = await publishRun(store, 20, { windowSeconds: 6, archiveSeconds: 10, companions }, 'ranges');
    const has = (text: string, id: string) => text.includes(`#EXT-X-DATERANGE:ID="${id}"`);
    for (const version of run.versions.filter((v) => !v.final)) {
      const text = version.media.high.text;
      const { manifest } = parsePlaylist(text);
      const windowStart = STARTED.getTime() + manifest.mediaSequence! * 1000;
      assert.equal(has(text, 'early'), windowStart <= STARTED.getTime() + 5000, `version ${version.sequence} (window from MSN ${manifest.mediaSequence})`);
      assert.ok(has(text, 'open'), `version ${version.sequence} keeps the range without an end`);
    }
    const final = run.versions.at(-1)!;
    assert.ok(final.final);
    for (const { name } of RENDITIONS) {
      assert.ok(has(final.media[name].text, 'early') && has(final.media[name].text, 'open'), `the final ${name} playlist lists every range`);
      assert.equal(parsePlaylist(final.media[name].text).manifest.segments.length, 20);
    }
  });

  test('a window under three target durations is refused by name (RFC 8216 6.2.2)', () => {
    const options = { store, renditions: RENDITIONS, fps: 10, segmentDuration: 2, segmentUrl: url, playlistUrl: url, onPublished: () => {} };
    assert.throws(() => new PlaylistPublisher({ ...options, windowSeconds: 5 }), /Expected number of seconds of at least 3 target durations \(6; RFC 8216 6\.2\.2\) for windowSeconds but received 5/);
    assert.throws(() => new PlaylistPublisher({ ...options, windowSeconds: Number.NaN }), /windowSeconds/);
    assert.doesNotThrow(() => new PlaylistPublisher({ ...options, windowSeconds: 6 }));
  });
});
