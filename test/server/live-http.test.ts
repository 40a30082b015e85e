// A live run at wall-clock pace, watched over HTTP the way a player does: the
// master's variant URIs never change, each variant URL keeps answering a longer
// playlist, and after the end it carries ENDLIST and every segment it lists
// resolves through the server's /ipfs/ gateway and decodes. Once on the embedded
// backends (PGlite + Helia), once on PostgreSQL + Kubo.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startKubo, type KuboHandle } from '../support/kubo.js';
import { LIVE_LADDER, startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';
import { probeBytes } from '../support/media.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

const POLLS = 8;
const POLL_INTERVAL_MS = 600;

function segmentUris(text: string): string[] {
  const { manifest, warnings } = parsePlaylist(text);
  assert.deepEqual(warnings, []);
  return manifest.segments.map((segment) => segment.uri);
}

function liveHttpSuite(backend: string, setup: () => Promise<{ databaseUrl?: string; kuboUrl?: string; stop(): Promise<void> }>) {
  describe(`live run over HTTP on ${backend}`, () => {
    let services: Awaited<ReturnType<typeof setup>> | undefined;
    let live: LiveRun;
    const url = (path: string) => live.server.url + path;
    const text = async (path: string) => {
      const response = await fetch(url(path), { redirect: 'manual' });
      assert.equal(response.status, 200, path);
      return response.text();
    };

    before(async () => {
      services = await setup();
      live = await startLiveRun({ databaseUrl: services.databaseUrl, kuboUrl: services.kuboUrl, maxSeconds: 30 });
    });
    after(async () => {
      await live?.cleanup();
      await services?.stop();
    });

    test('the variant playlist grows between polls; the master keeps its variant URIs', async () => {
      const masterPath = `/runs/${live.runId}/master.m3u8`;
      await waitFor('the first publish', async () => (await fetch(url(masterPath))).status === 200, { timeoutMs: 10_000 });
      const expectedVariants = LIVE_LADDER.map((r) => `/runs/${live.runId}/quality/${r.name}/playlist.m3u8`);
      const counts: number[] = [];
      let previous: string[] = [];
      for (let poll = 0; poll < POLLS; poll++) {
        const master = parsePlaylist(await text(masterPath));
        assert.deepEqual((master.manifest.playlists ?? []).map((v) => v.uri), expectedVariants, `master at poll ${poll}`);
        const playlist = await text(expectedVariants[0]);
        assert.doesNotMatch(playlist, /#EXT-X-ENDLIST/, 'no ENDLIST while live');
        const uris = segmentUris(playlist);
        assert.deepEqual(uris.slice(0, previous.length), previous, 'the playlist only appends');
        previous = uris;
        counts.push(uris.length);
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
      // ~4.8 s of polling at 1 s segments: several new segments seen, without reloading the master.
      assert.ok(counts[counts.length - 1] - counts[0] >= 3, `segment counts per poll: ${counts.join(', ')}`);
      const status = await (await fetch(url(`/runs/${live.runId}`))).json();
      assert.equal(status.status, 'live');
    });

    test('after stop, every variant has ENDLIST and each segment resolves through /ipfs/ and decodes', async () => {
      const summary = await live.stop();
      const frames = live.framesWritten();
      const expectedSegments = Math.ceil(frames / live.fps);
      for (const rendition of LIVE_LADDER) {
        const playlist = await text(`/runs/${live.runId}/quality/${rendition.name}/playlist.m3u8`);
        assert.match(playlist, /#EXT-X-ENDLIST\n$/);
        const uris = segmentUris(playlist);
        assert.equal(uris.length, expectedSegments, `${rendition.name} lists every segment of ${frames} frames`);
        for (const [index, uri] of uris.entries()) {
          assert.match(uri, /^\/ipfs\/[a-z0-9]+\?filename=segment\.ts$/);
          assert.equal(uri, `/ipfs/${summary.segmentCids[rendition.name][index]}?filename=segment.ts`);
          const response = await fetch(url(uri));
          assert.equal(response.status, 200, uri);
          assert.equal(response.headers.get('content-type'), 'video/mp2t');
          const probe = await probeBytes(new Uint8Array(await response.arrayBuffer()), { frames: false });
          const video = probe.streams.find((stream) => stream.codec_type === 'video');
          assert.equal(video?.codec_name, 'h264', uri);
          assert.equal(video?.width, rendition.width);
          assert.equal(video?.height, rendition.height);
        }
      }
      const status = await (await fetch(url(`/runs/${live.runId}`))).json();
      assert.equal(status.status, 'ended');
      assert.equal(status.segments.total, expectedSegments * LIVE_LADDER.length);
    });
  });
}

liveHttpSuite('PGlite + Helia', async () => ({ stop: async () => {} }));

liveHttpSuite('PostgreSQL + Kubo', async () => {
  let postgres: PostgresInstance | undefined;
  let kubo: KuboHandle | undefined;
  try {
    [postgres, kubo] = await Promise.all([startPostgres(), startKubo()]);
  } catch (error) {
    await Promise.all([postgres?.stop(), kubo?.stop()]);
    throw error;
  }
  return {
    databaseUrl: postgres.url,
    kuboUrl: kubo.apiUrl,
    stop: async () => {
      await Promise.all([postgres!.stop(), kubo!.stop()]);
    },
  };
});
