// A live encode publishing to two real Kubo peers with replicas 2, while peer B is
// killed for longer than two segments and then restarted: publishing pauses while
// B is away, then every segment and the final playlists end up pinned on both
// peers and listed in order; nothing is lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { KuboPeersStore, MultiResolutionHlsOutput, type HlsOutputSummary, type PublishedVersion } from '../../src/index.js';
import { startKuboPeers, type KuboPeers } from '../support/kubo-peers.js';
import { writePaced } from '../support/paced-writer.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { assertAppendOnly } from '../support/playlist-history.js';

const FPS = 30;
const SECONDS = 6;
const RENDITIONS = ['high', 'low'];

describe('publishing to two Kubo peers with replicas 2 through an outage of one', () => {
  let set: KuboPeers;
  let store: KuboPeersStore;
  let summary: HlsOutputSummary;
  const versions: PublishedVersion[] = [];
  const produced: string[] = [];
  const retryMessages: string[] = [];
  let listedWhileDown = 0;

  before(async () => {
    set = await startKuboPeers(2);
    store = new KuboPeersStore({ peers: set.apiUrls, replicas: 2, timeoutMs: 5_000 });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [640, 360], fps: FPS, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264',
      renditions: [
        { name: 'high', width: 640, height: 360, bitrate: 900 },
        { name: 'low', width: 320, height: 180, bitrate: 300 },
      ],
      store, uploadRetry: { initialDelayMs: 100, maxDelayMs: 800 },
    });
    output.on('publish', (v) => versions.push(v));
    output.on('segment', (s) => produced.push(`${s.rendition}/${s.index}`));
    output.on('retry', (info: { error?: unknown }) => {
      retryMessages.push(info.error instanceof Error ? info.error.message : String(info.error));
    });

    const [, b] = set.peers;
    await writePaced(output, {
      width: 640, height: 360, fps: FPS, seconds: SECONDS,
      during: {
        atS: 2,
        run: async () => {
          await b.stop('SIGKILL');
          const versionsBefore = versions.length;
          await sleep(2_500); // longer than two segments
          listedWhileDown = versions.length - versionsBefore;
          await b.restart();
        },
      },
    });
    summary = await output.close();
  });

  after(async () => {
    await store?.close();
    await set?.stop();
  });

  test('the outage held publishing back, and the retries named the missing peer', () => {
    assert.ok(retryMessages.length > 0, 'uploads were retried');
    assert.ok(retryMessages.some((message) => message.includes(set.peers[1].apiUrl)), `a retry names ${set.peers[1].apiUrl}: ${retryMessages[0]}`);
    assert.equal(listedWhileDown, 0, 'nothing counts as published while only one of two peers holds it');
  });

  test('every segment is listed in order and pinned on both peers, and so are the final playlists', async () => {
    const final = versions.at(-1)!;
    assert.equal(final.final, true);
    for (const name of RENDITIONS) {
      assert.equal(produced.filter((key) => key.startsWith(`${name}/`)).length, SECONDS, `${name} produced one segment per second`);
      const cids = Array.from({ length: SECONDS }, (_, i) => summary.segmentCids[name]![i]!);
      const manifest = parsePlaylist(final.media[name]!.text).manifest;
      assert.equal(manifest.endList, true);
      assert.deepEqual(manifest.segments.map((s) => s.uri), cids.map((cid) => `https://ipfs.io/ipfs/${cid}?filename=segment.ts`));
      for (const [i, cid] of cids.entries()) {
        for (const peer of set.peers) assert.equal(await peer.pinned(cid), true, `${name}/${i} pinned on ${peer.apiUrl}`);
      }
      for (const peer of set.peers) assert.equal(await peer.pinned(final.media[name]!.cid), true, `${name} playlist pinned on ${peer.apiUrl}`);
    }
    for (const peer of set.peers) assert.equal(await peer.pinned(final.masterCid), true, `master pinned on ${peer.apiUrl}`);
  });

  test('no live playlist version ever removed or reordered an entry', () => {
    assert.ok(versions.length >= 3);
    assertAppendOnly(versions);
  });
});
