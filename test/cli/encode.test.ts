// `abrcast encode` end to end through the real CLI: a 3 s clip with sound is
// decoded in the addon, encoded into 360p and 180p, published to the embedded
// store and recorded; --json gives one event per line, the registry holds the
// ended run, and `abrcast serve` returns its playlists (with audio in CODECS)
// and every segment. A bad input path fails with a cause, a fix and exit 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { RunRecord, SegmentRecord } from '../../src/registry/run-records.js';
import { CliProcess, cliEnv, makeTempDir, playlistUris, readJsonRun, runCli, type CliResult } from './cli-process.js';

const run = promisify(execFile);

interface Event {
  event: string;
  [key: string]: unknown;
}

describe('abrcast encode clip.mp4 --ladder 360,180 --segment 1 --json', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let clip: string;
  let result: CliResult;
  let events: Event[];
  let run_: RunRecord | undefined;
  let segments: SegmentRecord[] = [];
  const children: CliProcess[] = [];

  before(async () => {
    temp = await makeTempDir('abrcast-cli-encode-');
    clip = join(temp.path, 'clip.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i',
      'sine=frequency=440', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clip]);
    result = await runCli(
      ['encode', clip, '--ladder', '360,180', '--segment', '1', '--encoder', 'x264', '--json', '--data-dir', join(temp.path, 'data')],
      cliEnv(temp.path),
      90_000,
    );
    ({ events, run: run_, segments } = await readJsonRun<Event>(result.stdout, join(temp.path, 'data')));
  });

  after(async () => {
    for (const child of children) await child.stop();
    await temp?.remove();
  });

  test('exits 0 with nothing on stderr', () => {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  test('prints start, segments, publishes and end as JSON lines', () => {
    const kinds = events.map((event) => event.event);
    assert.equal(kinds[0], 'start');
    assert.equal(kinds.at(-1), 'end');
    assert.ok(kinds.includes('segment') && kinds.includes('publish'), kinds.join(','));
    const start = events[0];
    assert.equal(start.fps, 30);
    assert.equal(start.totalFrames, 90);
    assert.equal(start.audio, clip, "the input's own audio track");
    assert.deepEqual((start.renditions as Array<{ name: string; height: number }>).map((r) => [r.name, r.height]), [['360p', 360], ['180p', 180]]);
    const end = events.at(-1)!;
    assert.equal(end.status, 'ended');
    assert.equal(end.frames, 90);
    assert.equal(end.segments, 6, '3 one-second segments in 2 renditions');
    assert.match(String(end.masterCid), /^baf/);
    assert.equal(end.gatewayUrl, `https://ipfs.io/ipfs/${end.masterCid}`);
    for (const event of events.filter((e) => e.event === 'segment')) assert.equal(event.runId, start.runId);
  });

  test('the registry holds the run, ended, with every segment', () => {
    assert.ok(run_, `run recorded; stderr: ${result.stderr}`);
    assert.equal(run_.status, 'ended');
    assert.deepEqual([run_.width, run_.height, run_.fps], [640, 360, 30]);
    assert.equal(run_.masterCid, events.at(-1)!.masterCid);
    assert.equal(segments.length, 6);
    for (const rendition of ['360p', '180p']) {
      const seconds = segments.filter((s) => s.rendition === rendition).reduce((sum, s) => sum + s.duration, 0);
      assert.ok(Math.abs(seconds - 3) < 1e-6, `${rendition} lasts 3 s, got ${seconds}`);
    }
  });

  test('serve returns the master playlist with audio in CODECS, and every segment', async () => {
    const serve = new CliProcess(['serve', '--port', '0', '--json', '--data-dir', join(temp.path, 'data')], cliEnv(temp.path));
    children.push(serve);
    const started = await serve.waitForJson<Event>((event) => event.event === 'start', 30_000);
    const masterUrl = `${String(started.serverUrl)}/runs/${run_!.id}/master.m3u8`;
    const master = await fetch(masterUrl);
    assert.equal(master.status, 200);
    const text = await master.text();
    assert.match(text, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    let fetched = 0;
    for (const uri of playlistUris(text)) {
      const mediaUrl = new URL(uri, masterUrl);
      const media = await (await fetch(mediaUrl)).text();
      assert.match(media, /^#EXT-X-ENDLIST$/m);
      for (const segmentUri of playlistUris(media)) {
        const response = await fetch(new URL(segmentUri, mediaUrl));
        assert.equal(response.status, 200, segmentUri);
        assert.equal(new Uint8Array(await response.arrayBuffer())[0], 0x47, 'MPEG-TS sync byte');
        fetched += 1;
      }
    }
    assert.equal(fetched, segments.length);
    serve.child.kill('SIGINT');
    assert.equal((await serve.result(20_000)).code, 0, serve.stderr);
  });

  test('--low-latency --container fmp4: a part target, the init segment of every rendition and its parts recorded', async () => {
    const dataDir = join(temp.path, 'data-ll');
    const ll = await runCli(
      ['encode', clip, '--ladder', '360,180', '--segment', '1', '--encoder', 'x264', '--low-latency', '--container', 'fmp4', '--json', '--data-dir', dataDir],
      cliEnv(temp.path),
      90_000,
    );
    assert.equal(ll.code, 0, ll.stderr);
    const { run: llRun, segments: llSegments } = await readJsonRun<Event>(ll.stdout, dataDir);
    assert.ok(llRun);
    assert.equal(llRun.status, 'ended');
    assert.equal(llRun.partTarget, 10 / 30, '1/3 s in whole frames at 30 fps');
    const { openRegistry } = await import('../../src/registry/open-registry.js');
    const registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
    try {
      const inits = await registry.getInitSegments(llRun.id);
      assert.deepEqual(Object.keys(inits).sort(), ['180p', '360p']);
      // Every segment's parts were stored (3 parts a segment, 3 segments, 2 renditions), and released by the end: no part outlives the run.
      const end = (ll.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event?: string; parts?: { stored: number; released: number } })).find((event) => event.event === 'end')!;
      assert.ok(end.parts!.stored >= 2 * 3 * 3, `parts stored (${end.parts!.stored})`);
      assert.equal(end.parts!.released, end.parts!.stored);
      assert.deepEqual(await registry.listRecentParts(llRun.id, '360p', 0), [], 'no part record outlives the run');
      assert.equal(llSegments.filter((s) => s.rendition === '360p').length, 3);
    } finally {
      await registry.close();
    }
  });
});

describe('abrcast encode with bad input', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  before(async () => {
    temp = await makeTempDir('abrcast-cli-encode-bad-');
  });
  after(() => temp?.remove());

  test('a missing file: the cause and a fix, exit 2, no run started', async () => {
    const missing = join(temp.path, 'missing.mp4');
    const result = await runCli(['encode', missing, '--data-dir', join(temp.path, 'data')], cliEnv(temp.path), 30_000);
    assert.equal(result.code, 2);
    const lines = result.stderr.trim().split('\n');
    assert.deepEqual(lines[0], `error: Cannot open input ${missing}: No such file or directory`);
    assert.match(lines[1], /^fix: Check the input path or URL/);
    assert.equal(lines.length, 2);
  });

  test('--ladder taller than the input is a usage error naming the input size', async () => {
    const clip = join(temp.path, 'small.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '1', '-c:v', 'libx264',
      '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
    const result = await runCli(['encode', clip, '--ladder', '720,180', '--data-dir', join(temp.path, 'data')], cliEnv(temp.path), 30_000);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: --ladder: Expected even integer between 2 and 180 for heights\[0\] but received 720\nfix: The input is 320x180/);
  });
});
