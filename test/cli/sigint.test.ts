// Ctrl-C during a live demo (no --duration) finishes the run properly: exit 0,
// the run ended in the registry, and the final playlists in the store carry
// EXT-X-ENDLIST and list every recorded segment.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRecord, SegmentRecord } from '../../src/registry/run-records.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { CliProcess, cliEnv, makeTempDir, playlistUris, type CliResult } from './cli-process.js';

interface Event {
  event: string;
  [key: string]: unknown;
}

describe('SIGINT during abrcast demo', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let demo: CliProcess;
  let result: CliResult;
  let run: RunRecord | undefined;
  let segments: SegmentRecord[] = [];

  before(async () => {
    temp = await makeTempDir('abrcast-cli-sigint-');
    const dataDir = join(temp.path, 'data');
    demo = new CliProcess(['demo', '--size', '640x360', '--segment', '1', '--port', '0', '--json', '--data-dir', dataDir], cliEnv(temp.path));
    // Live and published: at least one playlist version is out.
    await demo.waitForJson<Event>((event) => event.event === 'publish', 60_000);
    demo.child.kill('SIGINT');
    result = await demo.result(60_000);
    const start = JSON.parse(demo.lines[0]) as Event;
    const registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
    try {
      run = await registry.getRun(String(start.runId));
      segments = run ? await registry.listSegments(run.id) : [];
    } finally {
      await registry.close();
    }
  });

  after(async () => {
    await demo?.stop();
    await temp?.remove();
  });

  test('exits 0 and reports an interrupted, ended run', () => {
    assert.equal(result.code, 0, result.stderr);
    const end = JSON.parse(demo.lines.at(-1)!) as Event;
    assert.equal(end.event, 'end');
    assert.equal(end.status, 'ended');
    assert.equal(end.interrupted, true);
    assert.ok(Number(end.frames) >= 30, 'at least one 1 s segment was rendered');
  });

  test('the run is ended in the registry and its final playlists have ENDLIST', async () => {
    assert.ok(run, `run recorded; stderr: ${result.stderr}`);
    assert.equal(run.status, 'ended');
    assert.ok(run.masterCid);
    const store = new HeliaStore({ dir: join(temp.path, 'data', 'ipfs') });
    try {
      const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
      const master = decode(await store.cat(run.masterCid));
      const mediaUris = playlistUris(master);
      assert.ok(mediaUris.length >= 1);
      // The demo's clock captions: a subtitle rendition (EXT-X-MEDIA) whose WebVTT segments are recorded too.
      const subtitleUris = [...master.matchAll(/^#EXT-X-MEDIA:TYPE=SUBTITLES,.*URI="([^"]+)"/gm)].map((m) => m[1]!);
      assert.equal(subtitleUris.length, 1, 'the clock caption track');
      const listed: string[] = [];
      for (const uri of [...mediaUris, ...subtitleUris]) {
        assert.match(uri, /^\/ipfs\/[a-z0-9]+$/, 'local gateway paths');
        const media = decode(await store.cat(uri.slice('/ipfs/'.length)));
        assert.match(media, /^#EXT-X-ENDLIST$/m);
        const file = subtitleUris.includes(uri) ? 'subtitles\\.vtt' : 'segment\\.ts';
        for (const segmentUri of playlistUris(media)) assert.match(segmentUri, new RegExp(`^/ipfs/[a-z0-9]+\\?filename=${file}$`), 'local gateway paths, with a file name of their type');
        listed.push(...playlistUris(media).map((segmentUri) => segmentUri.slice('/ipfs/'.length).split('?')[0]!));
      }
      assert.deepEqual(listed.sort(), segments.map((s) => s.cid).sort(), 'every recorded segment is listed');
    } finally {
      await store.close();
    }
  });
});
