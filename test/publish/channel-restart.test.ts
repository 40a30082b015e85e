// A channel across a crash: a paced producer on channel "cx" (a child process:
// PGlite, the embedded store and its journal under one data dir, as the CLI
// lays them out) is SIGKILLed mid-run; a new producer on the same data dir and
// channel first records the dead run's journal, then continues the channel:
// numbered after it, one discontinuity later, its first playlists listing the
// dead run's tail. What a player on the channel URL sees never goes back; the
// dead run is completed (ended, every journaled segment listed) once the
// channel moved on. A second producer while one is live is refused. Both runs
// have LL-HLS parts: the channel's LL playlists (the server's live edge) cross
// the restart the same way, and every segment and part URI they list answers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { handoverGraceMs } from '../../src/model/channel-handover.js';
import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import type { PublishedVersion } from '../../src/publish/types.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { makeTempDir } from '../cli/cli-process.js';
import { writePaced } from '../support/paced-writer.js';
import { gapPositions, parsePlaylist } from '../support/parse-playlist.js';
import { assertSlidingOnly } from '../support/playlist-history.js';
import { killPublisherChildAfter, type ChildLine } from '../support/killed-publisher-child.js';
import { CHILD_RENDITIONS, type PublisherChildOptions } from '../support/publisher-child-options.js';

const WINDOW = 4;
const PART = 0.2;
/** Kill once every rendition produced this many segments. */
const SEGMENTS_BEFORE_KILL = 7;


describe('a channel across a SIGKILL and a restart', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let dataDir: string;
  let lines: ChildLine[];
  let firstRunId: string;
  let registry: RunRegistry;
  let store: HeliaStore;
  let server: RunningServer;
  const versions: PublishedVersion[] = [];
  let secondRunId: string;
  let refusal: unknown;
  /** performance.now() of the new run's first version (the hand-over), and of the dead run's final playlists. */
  let handOverAt: number | undefined;
  let firstEndedAt: number | undefined;
  const llTexts: string[] = [];
  const partAnswers: string[] = [];

  before(async () => {
    temp = await makeTempDir('abrcast-channel-');
    dataDir = join(temp.path, 'data');
    const options: PublisherChildOptions = { dataDir, seconds: 60, channel: 'cx', windowSeconds: WINDOW, partDuration: PART };
    lines = await killPublisherChildAfter(options, temp.path, SEGMENTS_BEFORE_KILL);
    firstRunId = lines.find((line) => line.event === 'started')!.runId!;

    // The restart, on the same data dir (the dead run's journal is there).
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
    store = new HeliaStore({ dir: join(dataDir, 'ipfs') });
    server = await startServer({ registry, store, port: 0 });
    // An immediate restart: the dead producer's last heartbeat is still fresh; its stale journal lock says it is gone.
    await registry.heartbeat(firstRunId);
    const output = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
      store, registry, journalDir: join(dataDir, 'journal'), segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
      channel: 'cx', windowSeconds: WINDOW, partDuration: PART, latency: 'low',
    });
    output.on('publish', (version) => {
      handOverAt ??= performance.now();
      versions.push(version);
    });
    // When the dead run gets its final playlists (its ENDLIST): only well after the hand-over.
    const sequenceBefore = (await registry.getRun(firstRunId))!.playlistSequence;
    const watchEnd = (async () => {
      for (const deadline = performance.now() + 120_000; performance.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
        if ((await registry.getRun(firstRunId))!.playlistSequence > sequenceBefore) return performance.now();
      }
      return undefined;
    })();
    // What an LL player on the channel reloads while the new run is live.
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const response = await fetch(`${server.url}/channels/cx/quality/90p/playlist.m3u8`).catch(() => undefined);
        if (response?.status === 200) {
          const text = await response.text();
          llTexts.push(text);
          // The newest listed part answers while it is listed (parts are released well behind the edge).
          const newest = parsePlaylist(text).manifest.segments.flatMap((segment) => segment.parts ?? []).at(-1);
          if (newest) {
            const part = await fetch(new URL(newest.uri, `${server.url}/channels/cx/quality/90p/`));
            partAnswers.push(`${newest.uri} ${part.status}`);
            await part.arrayBuffer();
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    await output.start();
    secondRunId = output.runId!;
    // While it is live, another producer on the channel is refused.
    const rival = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
      store, registry, journalDir: join(dataDir, 'journal'), channel: 'cx', windowSeconds: WINDOW, partDuration: PART, latency: 'low',
    });
    refusal = await rival.start().then(() => undefined, (error: unknown) => error);
    await rival.close().catch(() => undefined);
    // At the stream's pace (10 fps), as a renderer feeds it: the LL playlists are polled along the way.
    await writePaced(output, { width: 160, height: 90, fps: 10, seconds: 6 });
    polling = false;
    await poll;
    await output.close();
    firstEndedAt = await watchEnd;
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await registry?.close();
    await temp?.remove();
  });

  test('the dead run\'s journal was recorded first: it ended with every segment its producer finished, and the new run follows all of them', async () => {
    const first = (await registry.getRun(firstRunId))!;
    assert.equal(first.status, 'ended', first.error ?? '');
    assert.equal(first.channel, 'cx');
    const produced = new Map<string, number>();
    for (const line of lines) if (line.event === 'segment') produced.set(line.rendition!, Math.max(produced.get(line.rendition!) ?? 0, line.index! + 1));
    for (const { name } of CHILD_RENDITIONS) {
      const { manifest } = parsePlaylist(new TextDecoder().decode(await store.cat(first.qualityPlaylists[name].cid)));
      assert.ok(manifest.endList);
      assert.equal(manifest.playlistType, 'VOD');
      assert.equal(manifest.segments.length, produced.get(name), `${name}: every segment whose event fired is listed`);
    }
    const second = (await registry.getRun(secondRunId))!;
    assert.equal(second.previousRunId, firstRunId);
    assert.equal(second.discontinuitySequence, 1);
    // Past every segment of any rendition (and any part of an unfinished one, when the kill left one recorded).
    assert.ok(second.msnBase >= Math.max(...produced.values()), `msn_base ${second.msnBase}`);
    assert.ok(second.msnBase <= Math.max(...produced.values()) + 1, `msn_base ${second.msnBase}`);
  });

  test('the dead run gets its ENDLIST only once every server serves the new run (no channel player is told the channel ended)', () => {
    // A server resolves the channel to a run at most every CHANNEL_LOOKUP_TTL_MS and holds a playlist request on it
    // up to 3 target durations: one that still served (or held a request on) the dead run would hand its ENDLIST
    // to the channel's players, and hls.js stops reloading for good.
    assert.ok(handOverAt !== undefined && firstEndedAt !== undefined, 'both happened');
    assert.ok(firstEndedAt - handOverAt >= handoverGraceMs(1), `ended ${Math.round(firstEndedAt - handOverAt)} ms after the hand-over`);
    assert.deepEqual(llTexts.filter((text) => text.includes('#EXT-X-ENDLIST')), [], 'no playlist served through the channel had ENDLIST');
  });

  test('a player on the channel sees one sliding playlist: the dead run\'s tail, a discontinuity, then the new run; nothing goes back', async () => {
    const firstLive = lines.filter((line) => line.event === 'publish').map((line) => line.version!);
    const second = (await registry.getRun(secondRunId))!;
    for (const { name } of CHILD_RENDITIONS) {
      const seen = [...firstLive, ...versions.filter((v) => !v.final)].map((v) => v.media[name].text);
      assertSlidingOnly(seen, `${name} across the restart`);
    }
    const handOver = parsePlaylist(versions[0].media['90p'].text).manifest;
    assert.equal(versions[0].media['90p'].segmentCount, 0, 'the hand-over version comes before any own segment');
    assert.equal(handOver.mediaSequence! + handOver.segments.length, second.msnBase, 'the tail ends right before the new run');
    assert.ok(handOver.segments.length > 0);
    const withOwn = versions.find((v) => v.media['90p'].segmentCount === 2)!;
    const { manifest } = parsePlaylist(withOwn.media['90p'].text);
    const firstOwn = second.msnBase - manifest.mediaSequence!;
    assert.equal(manifest.segments[firstOwn].discontinuity, true);
    assert.equal(manifest.segments[firstOwn].timeline, 1);
    assert.equal(manifest.segments[firstOwn - 1].timeline, 0);
  });

  test('the channel URLs serve the newest run: master variants under /channels/cx, its media playlist, its status and watch page', async () => {
    const master = await (await fetch(`${server.url}/channels/cx/master.m3u8`)).text();
    const uris = parsePlaylist(master).manifest.playlists!.map((p) => p.uri);
    assert.deepEqual(uris.sort(), CHILD_RENDITIONS.map(({ name }) => `/channels/cx/quality/${name}/playlist.m3u8`).sort());
    const second = (await registry.getRun(secondRunId))!;
    const media = await fetch(`${server.url}/channels/cx/quality/90p/playlist.m3u8`);
    assert.equal(media.status, 200);
    // The new run's final playlist, in its LL form (segment URIs by MSN, as while live).
    const served = parsePlaylist(await media.text()).manifest;
    const stored = parsePlaylist(new TextDecoder().decode(await store.cat(second.qualityPlaylists['90p'].cid))).manifest;
    assert.deepEqual([served.mediaSequence, served.discontinuitySequence, served.endList], [stored.mediaSequence, stored.discontinuitySequence, true]);
    assert.deepEqual(served.segments.map((segment) => segment.duration), stored.segments.map((segment) => segment.duration));
    assert.deepEqual(served.segments.map((segment) => segment.uri), stored.segments.map((_, position) => `segment/${second.msnBase + position}.ts`));
    const status = await (await fetch(`${server.url}/channels/cx`)).json() as { current: { id: string }; runs: { id: string }[]; stalled: boolean };
    assert.equal(status.current.id, secondRunId);
    assert.deepEqual(status.runs.map((r) => r.id), [secondRunId, firstRunId]);
    assert.equal(status.stalled, false);
    const page = await fetch(`${server.url}/channels/cx/watch`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /const base = "\/channels\/cx";/);
    for (const [path, code] of [['/channels/Bad_Name/master.m3u8', 400], ['/channels/nope/master.m3u8', 404], ['/channels/nope', 404], [`/channels/${'x'.repeat(300)}/watch`, 400]] as const) {
      const response = await fetch(server.url + path);
      assert.equal(response.status, code, path);
      assert.ok((await response.text()).length < 200, 'a short error, no echo of the input');
    }
  });

  test('the LL playlists of the channel cross the restart: they never go back, show the discontinuity, and every URI they list answers', async () => {
    const second = (await registry.getRun(secondRunId))!;
    assert.ok(llTexts.length > 5, `${llTexts.length} LL playlists polled`);
    assertSlidingOnly(llTexts, 'the LL playlist');
    assert.ok(llTexts.every((text) => /#EXT-X-PART-INF/.test(text)), 'LL playlists');
    const crossingText = llTexts.find((text) => {
      const m = parsePlaylist(text).manifest;
      return m.mediaSequence! < second.msnBase && m.mediaSequence! + m.segments.length > second.msnBase;
    });
    assert.ok(crossingText, 'a playlist listing both runs');
    const crossing = parsePlaylist(crossingText).manifest;
    const position = second.msnBase - crossing.mediaSequence!;
    assert.equal(crossing.segments[position].discontinuity, true, 'EXT-X-DISCONTINUITY before the new run');
    assert.deepEqual([crossing.segments[position - 1].timeline, crossing.segments[position].timeline], [0, 1]);
    // The tail's segments (numbered by the dead run) answer through the channel and through the new run's own URL.
    const base = `${server.url}/channels/cx/quality/90p/`;
    // An MSN the dead run never finished (its parts seen, no segment) is listed as EXT-X-GAP: not fetched.
    const gaps = gapPositions(crossingText);
    for (const position of gaps) assert.equal(crossing.segments[position].timeline, 0, 'a gap is in the dead run\'s discontinuity sequence');
    for (const [position, segment] of crossing.segments.entries()) {
      if (gaps.has(position)) continue;
      const response = await fetch(new URL(segment.uri, base));
      assert.equal(response.status, 200, segment.uri);
      await response.arrayBuffer();
    }
    const tailUri = crossing.segments[0].uri;
    const viaRun = await fetch(new URL(tailUri, `${server.url}/runs/${secondRunId}/quality/90p/`));
    assert.equal(viaRun.status, 200, `${tailUri} through the new run's own URL`);
    await viaRun.arrayBuffer();
    const last = parsePlaylist(llTexts.at(-1)!).manifest;
    assert.ok((last.discontinuitySequence ?? 0) <= 1);
    assert.ok(partAnswers.length >= 2, `${partAnswers.length} parts fetched`);
    assert.deepEqual(partAnswers.filter((answer) => !answer.endsWith(' 200')), [], 'every listed part answered');
  });

  test('the new run ends as VOD of its own segments, numbered after the dead run\'s', async () => {
    const final = versions.at(-1)!;
    assert.ok(final.final);
    const second = (await registry.getRun(secondRunId))!;
    const { manifest } = parsePlaylist(final.media['90p'].text);
    assert.equal(manifest.mediaSequence, second.msnBase);
    assert.equal(manifest.discontinuitySequence, 1);
    assert.equal(manifest.playlistType, 'VOD');
    assert.equal(manifest.segments.length, 6);
  });

  test('a second producer on a live channel is refused, naming the channel and the run', () => {
    assert.ok(refusal instanceof Error, 'the rival did not start');
    assert.match((refusal as Error).message, new RegExp(`Channel "cx" is live with run ${secondRunId}: Journal .* is held by the producer of this run, process ${process.pid}`));
  });
});
