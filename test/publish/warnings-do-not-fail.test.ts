// A warning is not a failure: a run whose every segment is uploaded and listed
// ends (ENDLIST, marked ended, journal removed) even when the user's
// onPlaylistUpdate throws on every call. The warnings are still reported.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { MultiResolutionHlsOutput, type HlsOutputSummary, type PublishedVersion } from '../../src/index.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRecord } from '../../src/registry/run-records.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { FrameGenerator } from '../support/frames.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

describe('a throwing onPlaylistUpdate', () => {
  let dir: string;
  let summary: HlsOutputSummary;
  let run: RunRecord;
  let calls = 0;
  const warnings: string[] = [];
  const versions: PublishedVersion[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-warnings-'));
    const registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    const store = new HeliaStore({ dir: join(dir, 'ipfs') });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
      store, registry, journalDir: join(dir, 'journal'),
      onPlaylistUpdate: () => {
        calls += 1;
        throw new Error('the user callback broke');
      },
    });
    output.on('warning', (message) => warnings.push(message));
    output.on('publish', (version) => versions.push(version));
    const frames = new FrameGenerator(160, 90);
    for (let i = 0; i < 40; i++) await output.write(frames.frame(i));
    summary = await output.close();
    run = (await registry.getRun(summary.runId!))!;
    await store.close();
    await registry.close();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('is reported once per publish, as a warning', () => {
    assert.equal(calls, versions.length);
    assert.equal(warnings.filter((w) => /onPlaylistUpdate threw: the user callback broke/.test(w)).length, calls);
  });

  test('does not fail a complete run: it ends, with ENDLIST, and its journal is removed', async () => {
    assert.equal(run.status, 'ended', run.error ?? '');
    assert.equal(versions.at(-1)!.final, true);
    assert.equal(run.masterCid, summary.masterCid);
    assert.equal(existsSync(join(dir, 'journal', summary.runId!)), false);
    assert.deepEqual(await readdir(join(dir, 'journal')), []);
  });
});
