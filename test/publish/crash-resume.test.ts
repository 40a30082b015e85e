// The crash test: a paced live run is SIGKILLed mid-stream while its store is
// slower than the stream (so finished segments wait in the journal), then
// `abrcast resume <run>` completes it. Every segment whose `segment` event fired
// before the kill is uploaded and listed, in order, byte for byte; and no playlist
// version viewers could have seen (every publish, then the resumed final) is
// shorter than an earlier one.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { PublishedVersion } from '../../src/publish/types.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRecord } from '../../src/registry/run-records.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { cliEnv, makeTempDir, playlistUris, runCli, type CliResult } from '../cli/cli-process.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { assertAppendOnly } from '../support/playlist-history.js';
import { killPublisherChildAfter, type ChildLine } from '../support/killed-publisher-child.js';
import { CHILD_RENDITIONS, type PublisherChildOptions } from '../support/publisher-child-options.js';

/** Kill once every rendition has produced this many segments. */
const SEGMENTS_BEFORE_KILL = 6;


describe('SIGKILL mid-run, then abrcast resume', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let dataDir: string;
  let runId: string;
  let lines: ChildLine[];
  let resumed: CliResult;
  let run: RunRecord;
  let store: HeliaStore;

  before(async () => {
    temp = await makeTempDir('abrcast-crash-');
    dataDir = join(temp.path, 'data');
    const options: PublisherChildOptions = { dataDir, seconds: 60, uploadDelayMs: 700 };
    lines = await killPublisherChildAfter(options, temp.path, SEGMENTS_BEFORE_KILL);
    runId = lines.find((line) => line.event === 'segment')!.runId!;

    resumed = await runCli(['resume', runId, '--data-dir', dataDir, '--json'], cliEnv(temp.path), 120_000);
    const registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
    run = (await registry.getRun(runId))!;
    await registry.close();
    store = new HeliaStore({ dir: join(dataDir, 'ipfs') });
  });

  after(async () => {
    await store?.close();
    await temp?.remove();
  });

  test('the kill left segments that only the journal held', () => {
    assert.equal(resumed.code, 0, resumed.stderr);
    const end = resumed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; uploaded?: number }).find((e) => e.event === 'end');
    assert.ok(end, resumed.stdout);
    assert.ok(end.uploaded! > 0, `resume uploaded ${end.uploaded} segment(s) from the journal`);
    assert.ok(!lines.some((line) => line.event === 'closed' || line.event === 'failed'), 'the child was killed, not closed');
  });

  test('every segment announced before the kill is listed, in order, with its exact bytes', async () => {
    assert.equal(run.status, 'ended');
    for (const { name } of CHILD_RENDITIONS) {
      const announced = lines.filter((line) => line.event === 'segment' && line.rendition === name);
      assert.ok(announced.length >= SEGMENTS_BEFORE_KILL);
      assert.deepEqual(announced.map((line) => line.index), announced.map((_, i) => i), `${name} announced in order`);
      const text = new TextDecoder().decode(await store.cat(run.qualityPlaylists[name].cid));
      assert.match(text, /#EXT-X-ENDLIST\n$/);
      const uris = playlistUris(text);
      assert.ok(uris.length >= announced.length, `${name} lists ${uris.length} of ${announced.length} announced segments`);
      for (const line of announced) {
        const bytes = await store.cat(uris[line.index!].slice('/ipfs/'.length));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), line.sha256, `${name}/${line.index} listed at its place`);
      }
    }
  });

  test('no version viewers could have seen was ever shorter than an earlier one', async () => {
    const published = lines.filter((line) => line.event === 'publish').map((line) => line.version!);
    assert.ok(published.length >= 1, 'the run published before the kill');
    const final: PublishedVersion = {
      sequence: published.length + 1, final: true, masterCid: run.masterCid!, masterText: '', qualities: run.qualityPlaylists,
      media: {},
    };
    for (const { name } of CHILD_RENDITIONS) {
      const text = new TextDecoder().decode(await store.cat(run.qualityPlaylists[name].cid));
      final.media[name] = { cid: run.qualityPlaylists[name].cid, text, segmentCount: parsePlaylist(text).manifest.segments.length };
    }
    assertAppendOnly([...published, final]);
  });

  test('the journal is gone once the run is final and uploaded', () => {
    assert.equal(existsSync(join(dataDir, 'journal', runId)), false);
  });
});
