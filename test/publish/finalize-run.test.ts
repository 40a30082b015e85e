// finalizeRun on a run whose publisher really died: a child process publishes a
// few segments into an embedded registry and store and is SIGKILLed mid-run; the
// parent then rebuilds ENDLIST playlists from what the registry recorded.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { finalizeRun, type FinalizeRunResult } from '../../src/publish/finalize-run.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import type { RunRecord } from '../../src/registry/run-records.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { probeBytes } from '../support/media.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const PUBLISHES_BEFORE_KILL = 3;

// The dying publisher: writes frames as fast as it can, reports each publish, never closes.
const CHILD = `
import { MultiResolutionHlsOutput } from './src/publish/multi-resolution-hls-output.ts';
import { openRegistry } from './src/registry/open-registry.ts';
import { HeliaStore } from './src/store/helia-store.ts';
import { FrameGenerator } from './test/support/frames.ts';
const [dir] = process.argv.slice(1);
const registry = await openRegistry({ databaseUrl: '', dataDir: dir + '/db' });
const store = new HeliaStore({ dir: dir + '/ipfs' });
const output = new MultiResolutionHlsOutput({
  sourceSize: [320, 180], fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', store, registry, journalDir: dir + '/journal',
  renditions: [{ name: 'high', width: 320, height: 180, bitrate: 500 }, { name: 'low', width: 160, height: 90, bitrate: 200 }],
});
output.on('publish', (version) => console.log(JSON.stringify({ runId: output.runId, sequence: version.sequence })));
const frames = new FrameGenerator(320, 180);
for (let i = 0; i < 100000; i++) {
  await output.write(frames.frame(i));
  if (i % 30 === 29) await new Promise((resolve) => setTimeout(resolve, 50));
}
`;

describe('finalizeRun after the publisher was killed', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let registry: RunRegistry;
  let store: HeliaStore;
  let runId: string;
  let beforeFinalize: RunRecord;
  let result: FinalizeRunResult;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-finalize-'));
    child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir], {
      cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    runId = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child did not publish in time')), 30_000);
      child!.once('exit', (code) => reject(new Error(`the child exited early (${code})`)));
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        const { runId: id, sequence } = JSON.parse(line) as { runId: string; sequence: number };
        if (sequence >= PUBLISHES_BEFORE_KILL) {
          clearTimeout(timer);
          child!.kill('SIGKILL');
          resolve(id);
        }
      });
    });
    await exited;
    child = undefined;

    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    beforeFinalize = (await registry.getRun(runId))!;
    // A segment behind a gap (as a late upload would leave it) must not be listed.
    const segments = await registry.listSegments(runId, 'low');
    const last = segments[segments.length - 1];
    await registry.recordSegment(runId, { ...last, rendition: 'low', index: last.index + 2 });
    result = await finalizeRun({ registry, store, runId, segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}' });
  });

  after(async () => {
    child?.kill('SIGKILL');
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the killed run was left live, without ENDLIST', async () => {
    assert.equal(beforeFinalize.status, 'live');
    // The registry is written off the publish chain, so it may lag the publishes the child reported.
    assert.ok(beforeFinalize.playlistSequence >= 1 && beforeFinalize.playlistSequence <= PUBLISHES_BEFORE_KILL + 1);
    for (const info of Object.values(beforeFinalize.qualityPlaylists)) {
      assert.doesNotMatch(new TextDecoder().decode(await store.cat(info.cid)), /#EXT-X-ENDLIST/);
    }
  });

  test('the run is ended and the registry points at the new playlists', async () => {
    const run = (await registry.getRun(runId))!;
    assert.equal(run.status, 'ended');
    assert.equal(run.masterCid, result.masterCid);
    assert.equal(run.playlistSequence, beforeFinalize.playlistSequence + 1);
    assert.deepEqual(run.qualityPlaylists, result.qualities);
  });

  test('each media playlist lists the contiguous recorded prefix with measured durations and ENDLIST', async () => {
    for (const name of ['high', 'low']) {
      const recorded = (await registry.listSegments(runId, name)).filter((s, i) => s.index === i);
      const text = new TextDecoder().decode(await store.cat(result.qualities[name].cid));
      assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT\n/);
      assert.match(text, /#EXT-X-ENDLIST\n$/);
      const { manifest, warnings } = parsePlaylist(text);
      assert.deepEqual(warnings, []);
      assert.deepEqual(manifest.segments.map((s) => s.uri), recorded.map((s) => `/ipfs/${s.cid}`));
      assert.deepEqual(manifest.segments.map((s) => s.duration), recorded.map((s) => Number(s.duration.toFixed(5))));
      // At least what the last live playlist had.
      const lastLive = parsePlaylist(new TextDecoder().decode(await store.cat(beforeFinalize.qualityPlaylists[name].cid)));
      assert.ok(manifest.segments.length >= lastLive.manifest.segments.length);
      for (const segment of manifest.segments) {
        const probe = await probeBytes(await store.cat(segment.uri.slice('/ipfs/'.length)), { frames: false });
        assert.equal(probe.streams[0]?.codec_name, 'h264');
      }
    }
    const low = await registry.listSegments(runId, 'low');
    assert.ok(low.length > low.filter((s, i) => s.index === i).length, 'the gapped segment is recorded but not listed');
  });

  test('the master names both qualities with their stored attributes', async () => {
    const { manifest } = parsePlaylist(new TextDecoder().decode(await store.cat(result.masterCid)));
    const variants = manifest.playlists ?? [];
    assert.deepEqual(variants.map((v) => v.attributes.NAME), ['high', 'low']);
    for (const variant of variants) {
      const quality = result.qualities[variant.attributes.NAME as string];
      assert.equal(variant.uri, `/ipfs/${quality.cid}`);
      assert.equal(variant.attributes.CODECS, beforeFinalize.qualityPlaylists[variant.attributes.NAME as string].codecs);
      assert.equal(variant.attributes.BANDWIDTH, quality.bandwidth);
    }
  });

  test('a run that is not live cannot be finalized again', async () => {
    await assert.rejects(finalizeRun({ registry, store, runId }), /is ended; only a live or failed run can be finalized/);
    await assert.rejects(finalizeRun({ registry, store, runId: 'nosuchrun' }), /does not exist/);
  });
});
