// The reliability test: a live encode publishing to a real Kubo whose daemon
// is killed for longer than two segments and then restarted. Nothing is lost,
// nothing is listed out of order, and no live playlist ever shrinks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { KuboStore, MultiResolutionHlsOutput, type HlsOutputSummary, type PublishedVersion } from '../../src/index.js';
import { writePaced } from '../support/paced-writer.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { assertAppendOnly } from '../support/playlist-history.js';

const FPS = 30;
const SECONDS = 8;

describe('publishing to Kubo through a daemon outage', () => {
  let kubo: KuboHandle;
  let store: KuboStore;
  let summary: HlsOutputSummary;
  const versions: PublishedVersion[] = [];
  const produced: string[] = [];
  let retries = 0;
  let listedWhileDown = 0;

  before(async () => {
    kubo = await startKubo();
    store = new KuboStore({ url: kubo.apiUrl, timeoutMs: 5_000 });
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
    output.on('retry', () => { retries += 1; });

    await writePaced(output, {
      width: 640, height: 360, fps: FPS, seconds: SECONDS,
      during: {
        atS: 2,
        run: async () => {
          await kubo.stopDaemon('SIGKILL');
          const versionsBefore = versions.length;
          await sleep(3_200); // longer than two segments
          listedWhileDown = versions.length - versionsBefore;
          await kubo.startDaemon();
        },
      },
    });
    summary = await output.close();
  });
  after(async () => {
    await store?.close();
    await kubo?.stop();
  });

  test('the outage really happened: uploads failed and were retried, nothing was published meanwhile', () => {
    assert.ok(retries > 0, 'retries were needed');
    assert.equal(listedWhileDown, 0, 'no publish can succeed while the daemon is down');
  });

  test('every produced segment ends up uploaded and listed, in order, with no gap', async () => {
    const final = versions.at(-1)!;
    assert.equal(final.final, true);
    for (const name of ['high', 'low']) {
      const count = produced.filter((key) => key.startsWith(`${name}/`)).length;
      assert.equal(count, SECONDS, `${name} produced one segment per second`);
      const manifest = parsePlaylist(final.media[name]!.text).manifest;
      assert.equal(manifest.endList, true);
      const expected = Array.from({ length: count }, (_, i) => `https://ipfs.io/ipfs/${summary.segmentCids[name]![i]}?filename=segment.ts`);
      assert.deepEqual(manifest.segments.map((s) => s.uri), expected);
      for (let i = 0; i < count; i++) assert.ok(await store.has(summary.segmentCids[name]![i]!), `${name}/${i} is in Kubo`);
    }
  });

  test('no live playlist version ever removed or reordered an entry', () => {
    assert.ok(versions.length >= 3);
    assertAppendOnly(versions);
  });
});
