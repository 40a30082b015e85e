// A channel's next run is numbered past every MSN a viewer may have seen of the
// previous run: each rendition's whole segments and the LL-HLS parts of a
// segment the previous producer never finished. Reused, such an MSN would name
// a segment of another discontinuity sequence than what a player kept (hls.js
// stops with "discontinuity sequence mismatch"); the tail lists each MSN a
// rendition lacks as EXT-X-GAP (RFC 8216bis 4.4.4.7) in the previous run's
// discontinuity sequence, and the playlist reads back the same.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { serializeMediaPlaylist } from '../../src/hls/media-playlist.js';
import { parseMediaPlaylist } from '../../src/hls/parse-media-playlist.js';
import { cidUrlResolver } from '../../src/hls/segment-url.js';
import { startOnChannel } from '../../src/publish/channel-start.js';
import { timelineMediaPlaylist } from '../../src/publish/playlist-entries.js';
import { migrate, openPgliteClient, RunRegistry } from '../../src/registry/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';

const RUN = { width: 320, height: 180, fps: 10, segmentDuration: 1, windowSeconds: 6 };

describe('a channel after a producer that left an unfinished segment', () => {
  let dir: string;
  let registry: RunRegistry;
  let store: HeliaStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-channel-gap-'));
    const client = await openPgliteClient(join(dir, 'db'));
    await migrate(client);
    registry = new RunRegistry(client);
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
  });

  after(async () => {
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the next run starts past its parts; each MSN a rendition lacks is a gap in the tail and the playlist', async () => {
    const first = await registry.createRun({ ...RUN, channel: 'gap', follows: null, startedAt: new Date('2026-12-06T10:00:00.000Z'), segmentUrl: '/ipfs/{cid}' });
    await registry.setPartTarget(first.id, 0.2);
    for (let msn = 0; msn < 5; msn++) await registry.recordSegment(first.id, { rendition: 'high', index: msn, cid: `bafyhigh${msn}`, duration: 1, bytes: 100 });
    for (let msn = 0; msn < 4; msn++) await registry.recordSegment(first.id, { rendition: 'low', index: msn, cid: `bafylow0${msn}`, duration: 1, bytes: 100 });
    // LL viewers of high saw part 5.0 of a segment the producer never finished.
    await registry.recordPart(first.id, { rendition: 'high', segmentIndex: 5, partIndex: 0, cid: 'bafyhighpart50', duration: 0.2, independent: true, bytes: 10 });
    await registry.markEnded(first.id);

    const start = await startOnChannel({
      registry, store, channel: 'gap', run: RUN, journalDir: join(dir, 'journal'), renditions: [{ name: 'high' }, { name: 'low' }],
      partTarget: 0.2, container: 'ts', windowSegments: 4, segmentUrl: cidUrlResolver({ template: '/ipfs/{cid}', optionName: 'segmentUrl' }),
    });
    assert.equal(start.run.msnBase, 6, 'past high\'s segments 0..4 and its part of 5');
    assert.equal(start.run.discontinuitySequence, 1);
    const tail = start.continues!.tail;
    const shape = (name: string) => tail[name].map((s) => [s.msn, s.gap ?? false, s.discontinuitySequence]);
    assert.deepEqual(shape('high'), [[2, false, 0], [3, false, 0], [4, false, 0], [5, true, 0]]);
    assert.deepEqual(shape('low'), [[2, false, 0], [3, false, 0], [4, true, 0], [5, true, 0]]);
    assert.deepEqual(tail.low[2].startedAt, new Date('2026-12-06T10:00:04.000Z'), 'a gap is dated after the segment before it');

    // As the publisher lists the low tail: EXT-X-GAP before each gap's EXTINF, read back by the server's parser.
    const playlist = timelineMediaPlaylist({
      targetDuration: 1, type: 'live', endList: false,
      segments: tail.low.map((s) => ({ ...s, startMs: s.startedAt.getTime() })),
    });
    const text = serializeMediaPlaylist(playlist);
    assert.match(text, /#EXT-X-MEDIA-SEQUENCE:2\n/);
    assert.equal(text.match(/#EXT-X-GAP\n#EXTINF:1\.00000,\ngap\/\d\n/g)?.length, 2, text);
    assert.deepEqual(parseMediaPlaylist(text).segments.map((s) => s.gap ?? false), [false, false, true, true]);
  });
});
