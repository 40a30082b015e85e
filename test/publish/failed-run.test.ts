// The failed-run test: Kubo is killed mid-run and stays down past the upload
// deadline. The run still ends for players (final playlists with EXT-X-ENDLIST on
// the contiguous prefix, once a store takes them), is marked failed with the
// missing segments named, and keeps its journal; once Kubo is back, resumeRun
// uploads the rest and ends the run with every segment, never shortening a
// playlist viewers saw.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { MultiResolutionHlsOutput, type PublishedVersion } from '../../src/index.js';
import { resumeRun, type ResumeRunResult } from '../../src/publish/resume-run.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import type { RunRecord } from '../../src/registry/run-records.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { FrameGenerator } from '../support/frames.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { assertAppendOnly } from '../support/playlist-history.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

const FPS = 10;
const SECONDS = 5;

describe('a run whose Kubo died', () => {
  let dir: string;
  let kubo: KuboHandle;
  let registry: RunRegistry;
  let store: KuboStore;
  let runId: string;
  let closeError: Error;
  let failedRun: RunRecord;
  let resumed: ResumeRunResult;
  let ended: RunRecord;
  let journalKept = false;
  const versions: PublishedVersion[] = [];
  const produced: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-failed-run-'));
    kubo = await startKubo();
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    store = new KuboStore({ url: kubo.apiUrl, timeoutMs: 2_000 });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: FPS, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
      store, registry, journalDir: join(dir, 'journal'), segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
      uploadRetry: { initialDelayMs: 100, maxDelayMs: 500 }, closeDeadlineMs: 6_000,
    });
    output.on('publish', (version) => versions.push(version));
    output.on('segment', (segment) => produced.push(`${segment.rendition}/${segment.index}`));
    // Kubo comes back only after close() gave up on the uploads: in time for the final playlists, not for the segments.
    let restarted: Promise<void> | undefined;
    output.on('warning', (message) => {
      if (/upload\(s\) did not finish/.test(message)) restarted ??= kubo.startDaemon();
    });

    const frames = new FrameGenerator(160, 90);
    const started = performance.now();
    for (let i = 0; i < SECONDS * FPS; i++) {
      const wait = started + (i * 1000) / FPS - performance.now();
      if (wait > 0) await sleep(wait);
      if (i === 2 * FPS) {
        // Killed once something was published (a busy machine can take longer than 2 s for the first publish).
        while (versions.length === 0) await sleep(20);
        await kubo.stopDaemon('SIGKILL');
      }
      await output.write(frames.frame(i));
    }
    runId = output.runId!;
    closeError = await output.close().then(() => assert.fail('close() succeeded with Kubo down'), (error: Error) => error);
    await restarted;
    failedRun = (await registry.getRun(runId))!;
    journalKept = existsSync(join(dir, 'journal', runId));
    resumed = await resumeRun({ registry, store, runId, journalDir: join(dir, 'journal') });
    ended = (await registry.getRun(runId))!;
  });

  after(async () => {
    await registry?.close();
    await kubo?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the run ended for players: ENDLIST on the contiguous prefix', () => {
    const final = versions.at(-1)!;
    assert.equal(final.final, true);
    for (const { name } of CHILD_RENDITIONS) {
      const { manifest } = parsePlaylist(final.media[name].text);
      assert.equal(manifest.endList, true);
      const count = produced.filter((key) => key.startsWith(`${name}/`)).length;
      assert.ok(manifest.segments.length < count, `${name}: ${manifest.segments.length} of ${count} listed`);
    }
    assertAppendOnly(versions);
  });

  test('it is marked failed, naming the missing segments and how to complete it', () => {
    assert.equal(failedRun.status, 'failed');
    const listed = new Set(Object.entries(versions.at(-1)!.media).flatMap(([name, media]) =>
      Array.from({ length: media.segmentCount }, (_, index) => `${name}/${index}`)));
    const unlisted = produced.filter((key) => !listed.has(key));
    assert.ok(unlisted.length > 0);
    for (const key of unlisted) assert.ok(closeError.message.includes(`${key}: `), `${key} named in: ${closeError.message}`);
    assert.match(closeError.message, new RegExp(`abrcast resume ${runId}`));
    assert.equal(failedRun.error, closeError.message);
    // Uploads that never finished are the missing list (needs the registry's `missing` field).
    const missing = (failedRun as RunRecord & { missing?: { rendition: string; index: number }[] }).missing;
    assert.ok(missing, 'the registry stores the missing list');
    const missingKeys = missing.map(({ rendition, index }) => `${rendition}/${index}`);
    for (const key of unlisted) assert.ok(missingKeys.includes(key) || closeError.message.includes(key), key);
    assert.ok(journalKept, 'the journal is kept for resume');
  });

  test('once Kubo is back, resume completes it with every segment, never shortening a published playlist', async () => {
    assert.ok(resumed.uploaded > 0);
    assert.equal(ended.status, 'ended');
    const final: PublishedVersion = { sequence: versions.length + 1, final: true, masterCid: resumed.masterCid, masterText: '', qualities: resumed.qualities, media: {} };
    for (const { name } of CHILD_RENDITIONS) {
      const text = new TextDecoder().decode(await store.cat(resumed.qualities[name].cid));
      const { manifest } = parsePlaylist(text);
      assert.equal(manifest.endList, true);
      assert.equal(manifest.segments.length, produced.filter((key) => key.startsWith(`${name}/`)).length);
      for (const segment of manifest.segments) assert.ok(await store.has(segment.uri.slice('/ipfs/'.length)));
      final.media[name] = { cid: resumed.qualities[name].cid, text, segmentCount: manifest.segments.length };
    }
    assertAppendOnly([...versions, final]);
    assert.equal(existsSync(join(dir, 'journal', runId)), false);
  });
});
