// The demo end to end through the real CLI: a 4 s run at 640x360 exits 0, its
// --json output is one event per line, the registry in the data dir holds an
// ended run, and `abrcast serve` on that data dir serves final playlists whose
// every segment comes back through the local gateway, byte for byte.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import type { RunRecord, SegmentRecord } from '../../src/registry/run-records.js';
import { CliProcess, cliEnv, makeTempDir, playlistUris, readJsonRun, runCli, type CliResult } from './cli-process.js';

interface Event {
  event: string;
  [key: string]: unknown;
}

describe('abrcast demo --duration 4 --json', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let result: CliResult;
  let events: Event[];
  let run: RunRecord | undefined;
  let segments: SegmentRecord[];
  const children: CliProcess[] = [];

  before(async () => {
    temp = await makeTempDir('abrcast-cli-demo-');
    result = await runCli(
      ['demo', '--duration', '4', '--size', '640x360', '--port', '0', '--json', '--data-dir', join(temp.path, 'data')],
      cliEnv(temp.path),
      90_000,
    );
    ({ events, run, segments } = await readJsonRun<Event>(result.stdout, join(temp.path, 'data')));
  });

  after(async () => {
    for (const child of children) await child.stop();
    await temp?.remove();
  });

  test('exits 0; stderr holds only the server pino log, at the --json level (info), with no warning or error', () => {
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; name: string; msg: string });
    assert.ok(lines.every((line) => line.name === 'abrcast-server' && line.level < 40), result.stderr);
    assert.ok(lines.some((line) => line.level === 30 && line.msg === 'listening'), result.stderr);
  });

  test('prints one JSON event per line: start, segments, publishes, end', () => {
    const kinds = events.map((event) => event.event);
    assert.equal(kinds[0], 'start');
    assert.equal(kinds.at(-1), 'end');
    assert.ok(kinds.includes('segment') && kinds.includes('publish'), kinds.join(','));
    for (const event of events) assert.ok(!Number.isNaN(Date.parse(String(event.time))), 'each event has a time');
    const start = events[0];
    assert.match(String(start.watchUrl), /^http:\/\/127\.0\.0\.1:(\d+)\/runs\/[a-z0-9_-]+\/watch$/);
    assert.notEqual(String(start.watchUrl).match(/:(\d+)\//)![1], '0', 'port 0 is replaced by the real port');
    // auto picks NVENC only where it can open a session; otherwise the start event says why not.
    if (start.encoder === 'x264') assert.match(String(start.fallbackReason), /\S/);
    const end = events.at(-1)!;
    assert.equal(end.status, 'ended');
    assert.equal(end.frames, 120, '4 s at 30 fps');
    assert.equal(end.interrupted, false);
  });

  test('the registry holds the run, ended, with every uploaded segment', () => {
    assert.ok(run, `run recorded; exit ${result.code}, stderr: ${result.stderr}`);
    assert.equal(run.status, 'ended');
    assert.equal(run.width, 640);
    assert.equal(run.height, 360);
    assert.equal(run.masterCid, events.at(-1)!.masterCid);
    const segmentEvents = events.filter((event) => event.event === 'segment');
    // The demo captions its clock: its subtitle track's segments are rows of their own, one per video segment.
    const subtitleTracks = Object.keys(run.tracks.subtitles ?? {});
    assert.equal(subtitleTracks.length, 1, 'the clock captions');
    const media = segments.filter((s) => !subtitleTracks.includes(s.rendition));
    assert.equal(media.length, segmentEvents.length);
    assert.equal(segments.length - media.length, media.filter((s) => s.rendition === 'original').length);
    for (const event of segmentEvents) {
      const stored = segments.find((s) => s.rendition === event.rendition && s.index === event.index);
      assert.equal(stored?.cid, event.cid);
    }
    const seconds = segments.filter((s) => s.rendition === 'original').reduce((sum, s) => sum + s.duration, 0);
    assert.ok(Math.abs(seconds - 4) < 1e-6, `original rendition lasts 4 s, got ${seconds}`);
  });

  test('runs --json lists the run as ended', async () => {
    const listed = await runCli(['runs', '--json', '--data-dir', join(temp.path, 'data')], cliEnv(temp.path), 30_000);
    assert.equal(listed.code, 0, listed.stderr);
    const runs = JSON.parse(listed.stdout) as RunRecord[];
    assert.deepEqual(runs.map((r) => [r.id, r.status]), [[run!.id, 'ended']]);
  });

  test('serve on the same data dir: ENDLIST in every media playlist, every segment through the gateway', async () => {
    const serve = new CliProcess(['serve', '--port', '0', '--json', '--data-dir', join(temp.path, 'data')], cliEnv(temp.path));
    children.push(serve);
    const started = await serve.waitForJson<Event>((event) => event.event === 'start', 30_000);
    const base = String(started.serverUrl);
    assert.deepEqual((started.runs as Array<{ id: string }>).map((r) => r.id), [run!.id]);

    const masterUrl = `${base}/runs/${run!.id}/master.m3u8`;
    const master = await fetch(masterUrl);
    assert.equal(master.status, 200);
    const mediaUris = playlistUris(await master.text());
    assert.equal(mediaUris.length, Object.keys(run!.qualityPlaylists).length);

    let fetched = 0;
    for (const uri of mediaUris) {
      const mediaUrl = new URL(uri, masterUrl);
      const media = await fetch(mediaUrl);
      assert.equal(media.status, 200, mediaUrl.href);
      const text = await media.text();
      assert.match(text, /^#EXT-X-ENDLIST$/m, `${mediaUrl.href} is final`);
      const segmentUris = playlistUris(text);
      assert.ok(segmentUris.length >= 2, 'two 2 s segments');
      for (const segmentUri of segmentUris) {
        const response = await fetch(new URL(segmentUri, mediaUrl));
        assert.equal(response.status, 200, segmentUri);
        const bytes = new Uint8Array(await response.arrayBuffer());
        // /ipfs/{cid}?filename=segment.ts: the file name is for FFmpeg's HLS demuxer (src/hls/segment-url.ts).
        const url = new URL(segmentUri, mediaUrl);
        assert.equal(url.searchParams.get('filename'), 'segment.ts');
        const cid = url.pathname.split('/').pop();
        const recorded = segments.find((s) => s.cid === cid);
        assert.ok(recorded, `${segmentUri} is a recorded segment`);
        assert.equal(bytes.length, recorded.bytes);
        assert.equal(bytes[0], 0x47, 'MPEG-TS sync byte');
        fetched += 1;
      }
    }
    const subtitleTracks = Object.keys(run!.tracks.subtitles ?? {});
    assert.equal(fetched, segments.filter((s) => !subtitleTracks.includes(s.rendition)).length, 'the variants list every recorded video segment');

    serve.child.kill('SIGINT');
    const exit = await serve.result(20_000);
    assert.equal(exit.code, 0, serve.stderr);
  });
});
