// LL-DASH on a channel across a crash: a paced fMP4 LL producer on channel "cd"
// (the publisher child, on Kubo and PostgreSQL) while a server (this process)
// serves /channels/cd/manifest.mpd and dash.js plays it in Chromium; the producer
// is SIGKILLed and started again on the same data dir. The channel's MPD then has
// a Period per run (the dead run's tail, then the new run), on one timeline,
// numbered as the channel's HLS playlists number the same segments and ending
// where they end; dash.js and Shaka Player, both watching across the restart, play
// on into the new run's Period (dash.js does so in the dead run's Period: docs/players.md).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRecord } from '../../src/registry/run-records.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { CliProcess, cliEnv, makeTempDir } from '../cli/cli-process.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { openHlsProbe, type HlsProbe, type HlsProbeState, type ProbePlayer } from '../support/hls-latency-probe.js';
import type { ChildLine } from '../support/killed-publisher-child.js';
import { PUBLISHER_CHILD } from '../support/killed-publisher-child.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { waitFor } from '../support/live-run.js';
import { checkMpd, SCHEMA_SKIP, validateMpdSchema, type CheckedMpd } from '../support/mpd-check.js';
import { gapPositions, parsePlaylist } from '../support/parse-playlist.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';
import { CHILD_RENDITIONS, type PublisherChildOptions } from '../support/publisher-child-options.js';

const CHANNEL = 'cd';
const WINDOW_S = 16;
const PLAYERS = ['dash.js', 'shaka'] as const satisfies readonly ProbePlayer[];
type MpdPlayer = (typeof PLAYERS)[number];

/** The UTC time (seconds) of the frame the player shows, on the MPD's clock. */
const playheadUtc = (probe: HlsProbe): Promise<number> => probe.page.evaluate(() => {
  const player = (window as unknown as { player: { timeAsUTC?(): number; getPlayheadTimeAsDate?(): Date } }).player;
  return player.timeAsUTC ? player.timeAsUTC() : player.getPlayheadTimeAsDate!().getTime() / 1000;
});

describe('LL-DASH on a channel across a SIGKILL of its producer and a restart', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let kubo: KuboHandle;
  let postgres: PostgresInstance;
  let registry: RunRegistry;
  let server: RunningServer;
  let browser: BrowserHandle;
  const probes = new Map<MpdPlayer, HlsProbe>();
  const children: CliProcess[] = [];
  let mpdUrl: string;
  let playlistUrl: string;
  let before1: CheckedMpd;
  let first: RunRecord;
  let second: RunRecord;
  let mpd: CheckedMpd;
  let mpdText: string;
  let playlistText: string;
  const playedAtKill = new Map<MpdPlayer, HlsProbeState>();

  const start = (options: PublisherChildOptions) => {
    const child = new CliProcess([JSON.stringify(options)], cliEnv(temp.path), PUBLISHER_CHILD);
    children.push(child);
    return child;
  };
  const startedRun = async (child: CliProcess) => (await child.waitForJson<ChildLine>((line) => line.event === 'started', 90_000)).runId!;
  /** Until the run's frames keep up with its clock (a DASH player computes the live edge from it). */
  const caughtUp = (runId: string) => waitFor(`run ${runId} on its PROGRAM-DATE-TIME timeline`, async () => {
    const run = (await registry.getRun(runId))!;
    const due = run.msnBase + Math.floor((Date.now() - run.startedAt!.getTime()) / 1000 / run.segmentDuration);
    const latest = Object.values(await registry.latestParts(runId));
    return latest.length === CHILD_RENDITIONS.length && latest.every((part) => part.segmentIndex >= due) ? run : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });

  before(async () => {
    temp = await makeTempDir('abrcast-channel-dash-');
    [kubo, postgres] = await Promise.all([startKubo(), startPostgres()]);
    registry = await openRegistry({ databaseUrl: postgres.url });
    server = await startServer({ registry, store: new KuboStore({ url: kubo.apiUrl }), port: 0 });
    browser = await launchBrowser({ width: 640, height: 360 });
    mpdUrl = `${server.url}/channels/${CHANNEL}/manifest.mpd`;
    playlistUrl = `${server.url}/channels/${CHANNEL}/quality/90p/playlist.m3u8`;
    const options: PublisherChildOptions = {
      dataDir: join(temp.path, 'data'), databaseUrl: postgres.url, kuboUrl: kubo.apiUrl, seconds: 120,
      channel: CHANNEL, windowSeconds: WINDOW_S, partDuration: 0.2, container: 'fmp4',
    };

    const producer = start(options);
    const firstId = await startedRun(producer);
    let answer = '';
    await waitFor('the channel MPD', async () => {
      const response = await fetch(mpdUrl);
      answer = `${response.status} ${await response.text()}`;
      return response.status === 200 || undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 }).catch((error: Error) => {
      error.message += `: the last answer ${answer.slice(0, 300)}; producer stderr ${producer.stderr.slice(-2000)}`;
      throw error;
    });
    await caughtUp(firstId);
    before1 = checkMpd(await (await fetch(mpdUrl)).text());
    for (const player of PLAYERS) {
      const probe = await openHlsProbe({ url: mpdUrl, player, lowLatencyMode: true, browser, startTimeoutMs: 60_000 });
      probes.set(player, probe);
      await probe.firstFrame();
    }
    for (const [player, probe] of probes) {
      playedAtKill.set(player, await waitFor(`${player}: 3 s played`, async () => {
        const state = await probe.read();
        return state.playedS >= 3 || state.fatalErrors.length > 0 ? state : undefined;
      }, { timeoutMs: 60_000, intervalMs: 200 }));
    }

    producer.child.kill('SIGKILL');
    await producer.exited;
    const restarted = start({ ...options, seconds: 90 });
    const secondId = await startedRun(restarted);
    // A few of the new run's own segments, well inside the window (the dead run's tail is still listed).
    second = await waitFor('the new run publishing', async () => {
      const run = (await registry.getRun(secondId))!;
      return CHILD_RENDITIONS.every(({ name }) => (run.segmentCounts[name]?.contiguous ?? 0) >= 3) ? run : undefined;
    }, { timeoutMs: 90_000, intervalMs: 200 });
    first = (await registry.getRun(firstId))!;
    const fetchedAt = new Date();
    [mpdText, playlistText] = await Promise.all([fetch(mpdUrl).then((r) => r.text()), fetch(playlistUrl).then((r) => r.text())]);
    mpd = checkMpd(mpdText, fetchedAt);
  });

  after(async () => {
    for (const probe of probes.values()) await probe.close();
    for (const child of children) {
      child.child.kill('SIGKILL');
      await child.exited;
    }
    await browser?.close();
    await server?.close();
    await registry?.close();
    await Promise.allSettled([kubo?.stop(), postgres?.stop()]);
    await temp?.remove();
  });

  test('the MPD has a Period per run: the dead run\'s tail, then the new run, on one timeline and numbered as the HLS playlists', () => {
    assert.deepEqual(before1.periods.map((p) => p.id), [first.id], 'one Period before the crash');
    assert.equal(mpd.type, 'dynamic');
    assert.equal(mpd.availabilityStartTime?.getTime(), before1.availabilityStartTime?.getTime(), 'availabilityStartTime never changes');
    assert.deepEqual(mpd.periods.map((p) => p.id), [first.id, second.id], mpdText);
    const [dead, current] = mpd.periods;
    // Period@start: each run's first frame on the channel's timeline; the same as before the crash for the first run.
    assert.equal(dead.start, before1.periods[0].start);
    assert.equal(Math.round(dead.start * 1000), first.startedAt!.getTime() - mpd.availabilityStartTime!.getTime());
    assert.equal(Math.round(current.start * 1000), second.startedAt!.getTime() - mpd.availabilityStartTime!.getTime());
    assert.ok(current.start > dead.start + dead.duration!, 'the restart is a gap between the Periods');
    assert.equal(current.duration, undefined, 'the live Period is open');
    // startNumber: each run's first MSN; the new run continues the channel's numbering.
    assert.equal(second.previousRunId, first.id);
    assert.ok(second.msnBase > 0);
    for (const [period, run] of [[dead, first], [current, second]] as const) {
      assert.deepEqual(period.representations.map((r) => r.id), CHILD_RENDITIONS.map((r) => r.name));
      for (const rep of period.representations) assert.equal(rep.template.startNumber, String(run.msnBase));
    }

    // Every segment the channel's media playlist lists is the URL its Period's template gives its MSN.
    const { manifest } = parsePlaylist(playlistText);
    const tail = second.msnBase - manifest.mediaSequence!;
    assert.ok(tail > 0 && manifest.segments[tail].discontinuity === true, `the playlist lists the dead run's tail:\n${playlistText}`);
    manifest.segments.forEach((segment, i) => {
      const msn = manifest.mediaSequence! + i;
      const period = msn < second.msnBase ? dead : current;
      const template = period.representations.find((r) => r.id === '90p')!.template;
      assert.equal(new URL(template.media.replace('$Number$', String(msn)), mpdUrl).href, new URL(segment.uri, playlistUrl).href, `MSN ${msn}`);
    });
    // The dead run's Period ends where its last listed segment ends (its date plus its duration), no later.
    const dated = (index: number) => {
      for (let at = index, offset = 0; at >= 0; at--) {
        const { programDateTime } = manifest.segments[at] as { programDateTime?: number };
        if (programDateTime !== undefined) return programDateTime + offset;
        offset += manifest.segments[at - 1] ? manifest.segments[at - 1].duration * 1000 : 0;
      }
      throw new Error(`no EXT-X-PROGRAM-DATE-TIME up to segment ${index}:\n${playlistText}`);
    };
    // An MSN the dead run never finished is listed as EXT-X-GAP: its media, and its Period, end before it.
    const gaps = gapPositions(playlistText);
    let lastMedia = tail - 1;
    while (gaps.has(lastMedia)) lastMedia -= 1;
    const tailEnd = dated(lastMedia) + manifest.segments[lastMedia].duration * 1000;
    assert.ok(Math.abs((dead.start + dead.duration!) * 1000 - tailEnd) <= 2, `Period end ${(dead.start + dead.duration!) * 1000}, last listed segment's end ${tailEnd}`);
    assert.ok(Math.abs(current.start * 1000 - dated(tail)) <= 2, 'the new Period starts at its first segment\'s PROGRAM-DATE-TIME');
    // As many segments as fit in the dead Period: up to its last one with media.
    const segmentS = Number(dead.representations[0].template.duration) / Number(dead.representations[0].template.timescale);
    assert.equal(Math.ceil(dead.duration! / segmentS - 1e-9), manifest.mediaSequence! + lastMedia + 1 - first.msnBase);
    assert.equal(mpd.root.getAttribute('timeShiftBufferDepth'), `PT${WINDOW_S}S`, 'the window');
  });

  test('the served two-Period MPD validates against DASH-MPD.xsd (ABRCAST_DASH_XSD)', { skip: SCHEMA_SKIP }, () => {
    validateMpdSchema(mpdText);
  });

  test('each Period\'s init segments are its run\'s, and its first and last segments answer through the channel', async () => {
    for (const [period, run] of [[mpd.periods[0], first], [mpd.periods[1], second]] as const) {
      const inits = await registry.getInitSegments(run.id);
      for (const rep of period.representations) {
        assert.equal(rep.template.initialization, `/ipfs/${inits[rep.id]}`);
        const init = await fetch(new URL(rep.template.initialization, mpdUrl));
        assert.equal(init.status, 200);
        await init.arrayBuffer();
      }
    }
    const template = (index: number) => mpd.periods[index].representations[0].template;
    for (const [index, msn] of [[0, first.msnBase], [0, second.msnBase - 1], [1, second.msnBase]] as const) {
      const response = await fetch(new URL(template(index).media.replace('$Number$', String(msn)), mpdUrl));
      assert.equal(response.status, 200, `segment ${msn}`);
      assert.ok((await response.arrayBuffer()).byteLength > 0);
    }
  });

  for (const player of PLAYERS) {
    test(`${player} plays the channel MPD live and on into the new run's Period`, { timeout: 120_000 }, async (t) => {
      const probe = probes.get(player)!;
      const atKill = playedAtKill.get(player)!;
      assert.deepEqual(atKill.fatalErrors, [], `no fatal ${player} error before the crash`);
      let state = await probe.read();
      await waitFor(`${player} playing the new run`, async () => {
        state = await probe.read();
        if (state.fatalErrors.length > 0) return true;
        return (await playheadUtc(probe)) * 1000 > second.startedAt!.getTime() + 2000 ? true : undefined;
      }, { timeoutMs: 90_000, intervalMs: 250 }).catch(async (error: Error) => {
        error.message += `; playing ${new Date((await playheadUtc(probe)) * 1000).toISOString()}, new run from ${second.startedAt!.toISOString()}, ` +
          `played ${state.playedS} s, stalls ${JSON.stringify(state.stalls)}, errors ${JSON.stringify(state.errors)}; the MPD:\n${await (await fetch(mpdUrl)).text()}`;
        throw error;
      });
      const [dead, current] = mpd.periods;
      const behind = async () => (Date.now() / 1000 - (await playheadUtc(probe))).toFixed(2);
      const then = await behind();
      await new Promise((resolve) => setTimeout(resolve, 5000));
      t.diagnostic(`${player}: gap between the Periods ${(current.start - dead.start - dead.duration!).toFixed(2)} s; then ${then} s behind, ` +
        `5 s later ${await behind()} s (it aims at ${state.targetLatencyS} s); played ${state.playedS} s (${atKill.playedS} at the kill), ` +
        `stalls ${JSON.stringify(state.stalls)}, errors ${JSON.stringify(state.errors)}`);
      assert.deepEqual(state.fatalErrors, [], `no fatal ${player} error`);
      assert.ok(state.playedS > atKill.playedS, 'played on');
    });
  }
});
