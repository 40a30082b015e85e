// The scaled-out setup on loopback, every part real and started the way the
// docs/deployment.md starts it: 2 Kubo peers connected to each other,
// one PostgreSQL, 2 `abrcast serve` instances (each reading from its own peer
// first) behind HAProxy, and 2 producers (`abrcast demo --low-latency`, separate data
// dirs and journals) writing 2 LL-HLS runs at once with replicas 2. hls.js in
// Chromium plays both runs through HAProxy while one serve instance is killed
// (and restarted) and then one Kubo peer (and brought back). Checked: playback
// goes on with no fatal hls.js error, most of each run plays from one page load
// (the live playlists grow in place), and every segment of both runs ends
// pinned on both peers and listed in order. LL latency and the stalls at the
// kills are measured and reported; their goals are the scale bench's
// (`npm run bench -- --case scale`).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { segmentFileName } from '../../src/hls/segment-url.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { CliProcess, cliEnv, makeTempDir } from '../cli/cli-process.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { measureHlsLatency } from '../support/hls-latency-probe.js';
import { freePort } from '../support/free-port.js';
import { startHaproxy, type HaproxyHandle } from '../support/haproxy.js';
import { startKuboPeers, type KuboPeers } from '../support/kubo-peers.js';
import { waitFor } from '../support/live-run.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

/** Seconds of video each producer makes: long enough for both kills and the recoveries. */
const RUN_SECONDS = 45;
/** 15 fps: --low-latency's 1/3 s parts are 5 frames. */
const FPS = 15;
const SEGMENT_S = 1;
const REPLICAS = 2;
/** Latency is taken from this many seconds of playback on (hls.js's start-up catch-up left out). */
const WARMUP_S = 6;
const PEER_DOWN_MS = 4000;

describe('2 producers, 2 Kubo peers, 2 serve instances behind HAProxy, one PostgreSQL', () => {
  let temp: { path: string; remove(): Promise<void> };
  let postgres: PostgresInstance;
  let peers: KuboPeers;
  let registry: RunRegistry;
  let haproxy: HaproxyHandle;
  let browser: BrowserHandle;
  const servePorts: number[] = [];
  const serves: CliProcess[] = [];
  const producers: CliProcess[] = [];
  const runIds: string[] = [];

  /** Each process reads from its own peer first, the other one after. */
  const storeArgs = (nearest: number) => {
    const urls = [peers.apiUrls[nearest], ...peers.apiUrls.filter((_, i) => i !== nearest)];
    return ['--store', 'kubo', '--kubo-url', urls.join(','), '--replicas', String(REPLICAS)];
  };
  const service = (i: number, role: string) => [
    '--json', '--database-url', postgres.url, '--data-dir', join(temp.path, `${role}${i}`), ...storeArgs(i),
  ];

  const startServe = async (i: number) => {
    const serve = new CliProcess(['serve', '--port', String(servePorts[i]), ...service(i, 'serve')], cliEnv(temp.path));
    serves[i] = serve;
    await serve.waitForJson<{ event: string }>((event) => event.event === 'start', 60_000);
  };

  before(async () => {
    temp = await makeTempDir('abrcast-scale-');
    [postgres, peers] = await Promise.all([startPostgres(), startKuboPeers(2)]);
    registry = await openRegistry({ databaseUrl: postgres.url });
    for (let i = 0; i < 2; i++) servePorts.push(await freePort());
    await Promise.all([0, 1].map(startServe));
    haproxy = await startHaproxy(servePorts.map((port) => `127.0.0.1:${port}`));
    await haproxy.waitForServers('UP');
    browser = await launchBrowser({ width: 640, height: 400 });
  });
  after(async () => {
    await browser?.close();
    for (const child of [...producers, ...serves]) await child?.stop();
    await haproxy?.stop();
    await registry?.close();
    await peers?.stop();
    await postgres?.stop();
    await temp?.remove();
  });

  test('both runs play through HAProxy while a serve instance and a Kubo peer go down and come back; nothing is lost', async (t) => {
    const note = (message: string) => t.diagnostic(message);
    // Two producers, each adding to its own peer first; a segment counts once pinned on both.
    for (let i = 0; i < 2; i++) {
      producers.push(new CliProcess(
        [
          'demo', '--size', '320x180', '--fps', String(FPS), '--segment', String(SEGMENT_S), '--low-latency',
          '--duration', String(RUN_SECONDS), '--encoder', 'x264', '--preset', 'ultrafast', '--port', '0', ...service(i, 'producer'),
        ],
        cliEnv(temp.path),
      ));
    }
    for (const producer of producers) {
      const start = await producer.waitForJson<{ event: string; runId?: string }>((event) => event.event === 'start', 60_000);
      runIds.push(String(start.runId));
    }

    // An independent hls.js page per run, through HAProxy only, watching to the end of the run.
    const probesStarted = Date.now();
    const probes = runIds.map((runId) =>
      measureHlsLatency({ url: `${haproxy.url}/runs/${runId}/master.m3u8`, seconds: RUN_SECONDS + 60, warmupS: WARMUP_S, browser, startTimeoutMs: 60_000 }),
    );
    // Read at the end; settled here so that a page failing early is not an unhandled rejection meanwhile.
    const settled = Promise.allSettled(probes);
    // The kills come once both runs are well past the pages' warm-up.
    await waitFor(`both runs past ${WARMUP_S + 4} recorded segments`, async () => {
      const statuses = await Promise.all(runIds.map(async (runId) => (await registry.getRun(runId))?.segmentCounts));
      return statuses.every((counts) => counts && Object.values(counts).some((count) => count.recorded >= WARMUP_S + 4));
    }, { timeoutMs: 90_000, intervalMs: 500 });

    // One serve instance dies mid-run (SIGKILL: no goodbye), and is restarted on its port.
    const serveKilledS = (Date.now() - probesStarted) / 1000;
    serves[0].child.kill('SIGKILL');
    await serves[0].exited;
    await haproxy.waitForServers('DOWN', ['serve1']);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await startServe(0);
    await haproxy.waitForServers('UP', ['serve1']);

    // One Kubo peer dies mid-run and comes back: the producer adding to it and the server reading from it go on.
    const peerKilledS = (Date.now() - probesStarted) / 1000;
    await peers.peers[1].stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, PEER_DOWN_MS));
    await peers.peers[1].restart();
    const peerBackS = (Date.now() - probesStarted) / 1000;

    // Both producers finish their runs (the journal carried what the dead peer could not take).
    for (const producer of producers) {
      const result = await producer.result(120_000);
      assert.equal(result.code, 0, `producer exit: ${result.stderr.slice(-2000)}`);
    }

    const reports = (await settled).map((result, i) => {
      if (result.status === 'rejected') throw new Error(`run ${i + 1}: ${(result.reason as Error).message}`);
      return result.value;
    });
    for (const [i, report] of reports.entries()) {
      assert.deepEqual(report.fatalErrors, [], `run ${i + 1}: no fatal hls.js error`);
      assert.ok(report.partsInPlaylist && report.requests.blockingReloads > 0 && report.requests.parts > 0, `run ${i + 1} played in LL-HLS mode`);
      // One page load, one playlist URL: what played past the first playlist came from its reloads growing in place.
      assert.ok(report.playedS > RUN_SECONDS / 2, `run ${i + 1}: ${report.playedS} s played`);
      assert.notEqual(report.medianLatencyS, null, `run ${i + 1}: LL latency measured`);
      // The page opened a moment before its first frame: stall times are relative to that frame, kill times to the opening.
      const near = (from: number, to: number) =>
        Math.max(0, ...report.stalls.filter((stall) => stall.atS + report.firstFrameS >= from - 1 && stall.atS + report.firstFrameS <= to).map((stall) => stall.durationS));
      note(
        `run ${i + 1}: LL latency behind PROGRAM-DATE-TIME through HAProxy median ${report.medianLatencyS} s, p95 ${report.p95LatencyS} s; ` +
          `longest stall after the serve kill ${near(serveKilledS, serveKilledS + 8).toFixed(2)} s, ` +
          `while a peer was down and after ${near(peerKilledS, peerBackS + 8).toFixed(2)} s; played ${report.playedS} s; ` +
          `non-fatal hls.js errors ${JSON.stringify(report.errors)}`,
      );
    }

    // Every segment of both runs: recorded, listed in order in the final playlist through HAProxy, pinned on both peers.
    for (const runId of runIds) {
      const run = await registry.getRun(runId);
      assert.equal(run?.status, 'ended', `run ${runId} ended`);
      assert.deepEqual(run!.missing, []);
      for (const [rendition, info] of Object.entries(run!.qualityPlaylists)) {
        const segments = await registry.listSegments(runId, rendition);
        assert.equal(segments.length, RUN_SECONDS / SEGMENT_S, `${runId} ${rendition}: segments recorded`);
        assert.deepEqual(segments.map((segment) => segment.index), segments.map((_, i) => i));
        // The final playlist on IPFS (through the HAProxy gateway route) lists every segment's CID, in order.
        const published = await fetch(`${haproxy.url}/ipfs/${info.cid}`);
        assert.equal(published.status, 200);
        assert.deepEqual(
          parsePlaylist(await published.text()).manifest.segments.map((segment) => segment.uri),
          segments.map((segment) => `/ipfs/${segment.cid}${segmentFileName('ts')}`),
          `${runId} ${rendition}: the final playlist lists every segment, in order`,
        );
        // The quality endpoint (LL run: segments by position) lists them all too, ended.
        const live = await fetch(`${haproxy.url}/runs/${runId}/quality/${rendition}/playlist.m3u8`);
        const text = await live.text();
        assert.match(text, /#EXT-X-ENDLIST\n$/);
        assert.equal(parsePlaylist(text).manifest.segments.length, segments.length);
        for (const peer of peers.peers) {
          const unpinned = [];
          for (const segment of segments) if (!(await peer.pinned(segment.cid))) unpinned.push(segment.index);
          assert.deepEqual(unpinned, [], `${runId} ${rendition}: segments not pinned on ${peer.apiUrl}`);
        }
      }
    }
  });
});
