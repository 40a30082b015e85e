// The registry lane alone, on a real PGlite registry: segments, versions and
// the run's end recorded in the order given, older playlist versions released
// only once the registry names the newer one, a write lost for good reported
// (and the end then resolves false), and without a registry only the releases.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { RegistryLane } from '../../src/publish/registry-lane.js';
import type { PublishedVersion } from '../../src/publish/types.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/index.js';

function version(sequence: number): PublishedVersion {
  const quality = { width: 640, height: 360, bandwidth: 900_000, averageBandwidth: 800_000, codecs: 'avc1.64001e', frameRate: 30, bitrate: 800, cid: `bafymedia${sequence}` };
  return { sequence, final: false, masterCid: `bafymaster${sequence}`, masterText: '#EXTM3U\n', qualities: { '360p': quality }, media: {} };
}

describe('RegistryLane', () => {
  let dir: string;
  let registry: RunRegistry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-registry-lane-'));
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
  });
  after(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function laneFor(runId: string | undefined, withRegistry = true) {
    const failures: string[] = [];
    const lane = new RegistryLane({
      registry: withRegistry ? registry : undefined,
      runId: () => runId,
      onRetry: () => assert.fail('nothing here is transient'),
      onFailure: (message) => failures.push(message),
    });
    return { lane, failures };
  }

  test('segments, then versions (each release after the registry names it), then the end, in order', async () => {
    const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 1 });
    const { lane, failures } = laneFor(run.id);
    const sequencesAtRelease: number[] = [];
    const release = async () => {
      sequencesAtRelease.push((await registry.getRun(run.id))!.playlistSequence);
    };
    lane.recordSegment({ rendition: '360p', index: 0, cid: 'bafyseg0', duration: 1, bytes: 100 });
    lane.recordPublish(version(1), release);
    lane.recordSegment({ rendition: '360p', index: 1, cid: 'bafyseg1', duration: 1, bytes: 120 });
    lane.recordPublish(version(2), release);
    await lane.drain(Date.now() + 10_000);
    assert.deepEqual(sequencesAtRelease, [1, 2]);
    assert.deepEqual((await registry.listSegments(run.id)).map((s) => [s.index, s.cid]), [[0, 'bafyseg0'], [1, 'bafyseg1']]);
    assert.equal((await registry.getRun(run.id))!.masterCid, 'bafymaster2');

    assert.equal(await lane.recordEnd(undefined, []), true);
    assert.equal((await registry.getRun(run.id))!.status, 'ended');
    assert.deepEqual(failures, []);
  });

  test('a failed run is recorded with its error and missing segments', async () => {
    const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 1 });
    const { lane } = laneFor(run.id);
    assert.equal(await lane.recordEnd('2 upload(s) did not finish', [{ rendition: '360p', index: 3 }]), true);
    const stored = (await registry.getRun(run.id))!;
    assert.equal(stored.status, 'failed');
    assert.equal(stored.error, '2 upload(s) did not finish');
    assert.deepEqual(stored.missing, [{ rendition: '360p', index: 3 }]);
  });

  test('a write lost for good is reported; the next writes still run; a lost end resolves false', async () => {
    const { lane, failures } = laneFor('no-such-run');
    lane.recordSegment({ rendition: '360p', index: 5, cid: 'bafyseg5', duration: 1, bytes: 100 });
    let released = false;
    lane.recordPublish(version(1), async () => {
      released = true;
    });
    assert.equal(await lane.recordEnd(undefined, []), false);
    assert.equal(released, false, 'nothing released that the registry does not name');
    assert.equal(failures.length, 3);
    assert.match(failures[0], /^Cannot record segment 360p\/5: /);
    assert.match(failures[1], /^Cannot record playlists 1 of run no-such-run: /);
    assert.match(failures[2], /^Cannot record the end of run no-such-run: /);
  });

  test('without a registry: versions are released at once, the end needs no record', async () => {
    const { lane, failures } = laneFor(undefined, false);
    let released = 0;
    lane.recordSegment({ rendition: '360p', index: 0, cid: 'bafyseg0', duration: 1, bytes: 100 });
    lane.recordPublish(version(1), async () => {
      released += 1;
    });
    await lane.drain(Date.now() + 10_000);
    assert.equal(released, 1);
    assert.equal(await lane.recordEnd(undefined, []), true);
    assert.deepEqual(failures, []);
  });
});
