// The onPlaylistUpdate lane alone: one call per version, in publish order even
// when a call is slow, and a callback that throws is a warning, not the end of
// the calls after it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { PlaylistUpdateLane } from '../../src/publish/playlist-update-lane.js';
import type { PublishedVersion } from '../../src/publish/types.js';

const version = (sequence: number): PublishedVersion =>
  ({ sequence, final: false, masterCid: `bafymaster${sequence}`, masterText: '', qualities: {}, media: {} });

describe('PlaylistUpdateLane', () => {
  test('calls in publish order, a slow call delaying only the later ones; a throw is a warning', async () => {
    const calls: string[] = [];
    const warnings: string[] = [];
    const lane = new PlaylistUpdateLane({
      onPlaylistUpdate: async (masterCid) => {
        calls.push(`start ${masterCid}`);
        if (masterCid === 'bafymaster1') await sleep(30);
        if (masterCid === 'bafymaster2') throw new Error('boom');
        calls.push(`end ${masterCid}`);
      },
      onWarning: (message) => warnings.push(message),
    });
    for (const sequence of [1, 2, 3]) lane.published(version(sequence));
    assert.deepEqual(calls, [], 'off the caller: nothing runs before the caller returns');
    await lane.drain(Date.now() + 10_000);
    assert.deepEqual(calls, ['start bafymaster1', 'end bafymaster1', 'start bafymaster2', 'start bafymaster3', 'end bafymaster3']);
    assert.deepEqual(warnings, ['onPlaylistUpdate threw: boom']);
  });
});
