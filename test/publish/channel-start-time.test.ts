// A run's startedAt is frame 0's date, the origin of EXT-X-PROGRAM-DATE-TIME and
// of a channel MPD's Period@start. On a channel, start() first hands the channel
// over (it may record a crashed run's journal, seconds of uploads); no frame is
// encoded before that ends, so startedAt is stamped as the run is created, after
// it. Dated at the call to start(), every date ran ahead of the media by the
// hand-over, and dash.js asked for segments that did not exist yet.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { makeTempDir } from '../cli/cli-process.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

/** How long the channel lookup takes here: a stand-in for a slow hand-over. */
const HANDOVER_MS = 1_500;

describe('a channel run\'s startedAt', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let registry: RunRegistry;
  let store: HeliaStore;

  before(async () => {
    temp = await makeTempDir('abrcast-channel-start-');
    registry = await openRegistry({ databaseUrl: '', dataDir: join(temp.path, 'db') });
    store = new HeliaStore({ dir: join(temp.path, 'ipfs') });
  });

  after(async () => {
    await store?.close();
    await registry?.close();
    await temp?.remove();
  });

  test('is stamped after the hand-over, as the run is created (the registry records the same date)', async () => {
    const slow = new Proxy(registry, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'getChannel' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          await new Promise((resolve) => setTimeout(resolve, HANDOVER_MS));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
      store, registry: slow, journalDir: join(temp.path, 'journal'), channel: 'late', windowSeconds: 4,
    });
    try {
      const called = Date.now();
      await output.start();
      const startedAt = output.startedAt!.getTime();
      assert.ok(startedAt - called >= HANDOVER_MS - 5, `startedAt ${startedAt - called} ms after start() was called, expected after the ${HANDOVER_MS}-ms hand-over`);
      assert.equal((await registry.getRun(output.runId!))!.startedAt?.getTime(), startedAt);
    } finally {
      await output.close();
    }
  });
});
