import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defaultLadder, ladderFromHeights, validateLadder } from '../../src/encoder/ladder.js';

describe('defaultLadder', () => {
  test('1080p source gives original, 720p and 360p with the original bitrates', () => {
    assert.deepEqual(defaultLadder(1920, 1080), [
      { name: 'original', width: 1920, height: 1080, bitrate: 5000 },
      { name: '720p', width: 1280, height: 720, bitrate: 2500 },
      { name: '360p', width: 640, height: 360, bitrate: 800 },
    ]);
  });

  test('bitrate of the source rung follows its pixel count', () => {
    assert.equal(defaultLadder(3840, 2160)[0]!.bitrate, 15000);
    assert.equal(defaultLadder(1280, 720)[0]!.bitrate, 2500);
    assert.equal(defaultLadder(854, 480)[0]!.bitrate, 1500);
    assert.equal(defaultLadder(640, 360)[0]!.bitrate, 800);
  });

  test('adds only the rungs below the source height', () => {
    assert.deepEqual(defaultLadder(1280, 720).map((r) => r.name), ['original', '360p']);
    assert.deepEqual(defaultLadder(640, 360).map((r) => r.name), ['original']);
  });

  test('keeps the aspect ratio and rounds widths down to even', () => {
    // 4:3 at 1000x750 -> 720p is 960 wide; 360p is 480 wide.
    const ladder = defaultLadder(1000, 750);
    assert.equal(ladder[1]!.width, 960);
    assert.equal(ladder[2]!.width, 480);
    // 2.39:1 -> 720 * 1998/836 = 1720.76 -> 1720
    assert.equal(defaultLadder(1998, 836)[1]!.width, 1720);
    for (const r of defaultLadder(1998, 836)) assert.equal(r.width % 2, 0);
  });
});

describe('custom ladders', () => {
  test('ladderFromHeights names rungs by height and refuses upscaling', () => {
    assert.deepEqual(ladderFromHeights(1920, 1080, [1080, 540]).map((r) => [r.name, r.width, r.height]), [
      ['1080p', 1920, 1080],
      ['540p', 960, 540],
    ]);
    assert.throws(() => ladderFromHeights(1280, 720, [1080]), /Expected even integer between 2 and 720 for heights\[0\] but received 1080/);
  });

  test('validateLadder rejects odd sizes, upscaling, duplicate and invalid names', () => {
    const ok = { name: 'a', width: 640, height: 360, bitrate: 800 };
    assert.throws(() => validateLadder([{ ...ok, width: 641 }], 1280, 720), {
      name: 'RangeError',
      message: 'Expected even integer between 2 and 1280 (no upscaling) for renditions[0].width but received 641',
    });
    assert.throws(() => validateLadder([{ ...ok, height: 1080 }], 1280, 720), /no upscaling\) for renditions\[0\]\.height but received 1080/);
    assert.throws(() => validateLadder([ok, { ...ok }], 1280, 720), /unique rendition name for renditions\[1\]\.name but received "a"/);
    assert.throws(() => validateLadder([{ ...ok, name: '720P!' }], 1280, 720), {
      name: 'RangeError',
      message: 'Expected string of 1 to 32 characters [a-z0-9_-] for renditions[0].name but received "720P!"',
    });
    assert.throws(() => validateLadder([], 1280, 720), /non-empty array of renditions for renditions but received array of length 0/);
    assert.throws(() => validateLadder('720p', 1280, 720), { name: 'TypeError' });
    assert.deepEqual(validateLadder([ok], 1280, 720), [ok]);
  });
});
