import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  commonListedCount,
  ContiguousSegments,
  serializeMediaPlaylist,
  type UploadedSegment,
} from '../../src/hls/index.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const segment = (index: number): UploadedSegment => ({ index, cid: `bafkrei${index}x`, duration: 2 + index / 1000, bytes: 1000 + index });

/** Deterministic shuffle (mulberry32), so a failure can be replayed. */
function shuffled(count: number, seed: number): number[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: count }, (_, index) => index);
  for (let i = count - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

describe('ContiguousSegments', () => {
  test('lists only the complete prefix, growing when a gap is filled', () => {
    const track = new ContiguousSegments();
    const steps: [number, boolean, number[]][] = [
      [2, false, []],
      [0, true, [0]],
      [3, false, [0]],
      [1, true, [0, 1, 2, 3]],
      [5, false, [0, 1, 2, 3]],
      [4, true, [0, 1, 2, 3, 4, 5]],
    ];
    for (const [index, grows, listed] of steps) {
      assert.equal(track.add(segment(index)), grows, `add(${index})`);
      assert.deepEqual(track.listed().map((s) => s.index), listed, `after add(${index})`);
      assert.equal(track.listedCount, listed.length);
      assert.equal(track.firstMissingIndex, listed.length);
    }
    assert.equal(track.waitingCount, 0);
    assert.deepEqual(track.listed()[3], segment(3));
  });

  test('never lists past a gap', () => {
    const track = new ContiguousSegments();
    for (const index of [1, 2, 3, 7]) track.add(segment(index));
    assert.equal(track.listedCount, 0);
    assert.deepEqual(track.listed(), []);
    assert.equal(track.waitingCount, 4);
    assert.equal(track.hasNewSinceLastTake(), false);
  });

  test('with any arrival order, each view extends the previous one and has no gaps', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const track = new ContiguousSegments();
      let previous = track.listed();
      for (const index of shuffled(60, seed)) {
        track.add(segment(index));
        const view = track.listed();
        assert.ok(view.length >= previous.length, 'the prefix never shrinks');
        previous.forEach((old, position) => assert.equal(view[position], old, 'earlier entries stay put'));
        view.forEach((listed, position) => assert.equal(listed.index, position, 'no gaps, in order'));
        previous = view;
      }
      assert.equal(previous.length, 60);
    }
  });

  test('a playlist published from each view only ever appends', () => {
    const track = new ContiguousSegments();
    let published: string[] = [];
    for (const index of shuffled(25, 7)) {
      if (!track.add(segment(index))) continue;
      const text = serializeMediaPlaylist({
        targetDuration: 2,
        mediaSequence: 0,
        playlistType: 'EVENT',
        independentSegments: true,
        segments: track.listed().map((s) => ({ duration: s.duration, uri: `/ipfs/${s.cid}` })),
        endList: false,
      });
      const uris = parsePlaylist(text).manifest.segments.map((s) => s.uri);
      assert.deepEqual(uris.slice(0, published.length), published);
      assert.ok(uris.length > published.length);
      assert.deepEqual(uris, track.listed().map((s) => `/ipfs/${s.cid}`));
      published = uris;
    }
    assert.equal(published.length, 25);
  });

  test('views are frozen snapshots', () => {
    const track = new ContiguousSegments();
    track.add(segment(0));
    const view = track.listed();
    track.add(segment(1));
    assert.equal(view.length, 1);
    assert.ok(Object.isFrozen(view));
    assert.ok(Object.isFrozen(view[0]));
    assert.throws(() => (view as UploadedSegment[]).push(segment(9)), TypeError);
  });

  test('takeNew hands out each listed segment exactly once', () => {
    const track = new ContiguousSegments();
    assert.deepEqual(track.takeNew(), []);
    track.add(segment(1));
    assert.equal(track.hasNewSinceLastTake(), false);
    track.add(segment(0));
    assert.equal(track.hasNewSinceLastTake(), true);
    assert.deepEqual(track.takeNew().map((s) => s.index), [0, 1]);
    assert.equal(track.hasNewSinceLastTake(), false);
    assert.deepEqual(track.takeNew(), []);
    track.add(segment(3));
    track.add(segment(2));
    assert.deepEqual(track.takeNew().map((s) => s.index), [2, 3]);
  });

  test('a repeated upload is ignored; a different CID for a known index throws', () => {
    const track = new ContiguousSegments();
    track.add(segment(0));
    track.add(segment(2));
    assert.equal(track.add(segment(0)), false);
    assert.equal(track.add(segment(2)), false);
    assert.equal(track.listedCount, 1);
    assert.equal(track.waitingCount, 1);
    assert.throws(() => track.add({ ...segment(0), cid: 'bafkreiother' }), /Segment 0 was already added with CID bafkrei0x, now bafkreiother/);
    assert.throws(() => track.add({ ...segment(2), cid: 'bafkreiother' }), /Segment 2 was already added/);
  });

  test('keeps extra fields of the segment type', () => {
    const track = new ContiguousSegments<UploadedSegment & { programDateTime: Date }>();
    const when = new Date(0);
    track.add({ ...segment(0), programDateTime: when });
    assert.equal(track.listed()[0].programDateTime, when);
  });

  test('rejects malformed segments with option errors', () => {
    const track = new ContiguousSegments();
    assert.throws(() => track.add({ ...segment(0), index: -1 }), { name: 'RangeError', message: 'Expected integer of at least 0 for index but received -1' });
    assert.throws(() => track.add({ ...segment(0), index: 1.5 }), /for index but received 1.5/);
    assert.throws(() => track.add({ ...segment(0), cid: '' }), /non-empty string for cid/);
    assert.throws(() => track.add({ ...segment(0), duration: 0 }), /positive number of seconds for duration/);
    assert.throws(() => track.add({ ...segment(0), bytes: -5 }), /for bytes but received -5/);
    assert.equal(track.listedCount, 0);
  });
});

describe('commonListedCount', () => {
  test('is the prefix every rendition has listed', () => {
    const renditions = [new ContiguousSegments(), new ContiguousSegments(), new ContiguousSegments()];
    assert.equal(commonListedCount(renditions), 0);
    for (const index of [0, 1, 2]) renditions[0].add(segment(index));
    for (const index of [1, 0]) renditions[1].add(segment(index));
    assert.equal(commonListedCount(renditions), 0);
    renditions[2].add(segment(0));
    assert.equal(commonListedCount(renditions), 1);
    renditions[2].add(segment(2));
    assert.equal(commonListedCount(renditions), 1);
    renditions[2].add(segment(1));
    assert.equal(commonListedCount(renditions), 2);
    assert.equal(commonListedCount([]), 0);
  });
});

describe('ContiguousSegments.forget', () => {
  test('drops taken segments from memory, keeps counting, and ignores repeats of them', () => {
    const track = new ContiguousSegments();
    for (const index of [0, 1, 2, 4]) track.add(segment(index));
    assert.deepEqual(track.takeNew().map((s) => s.index), [0, 1, 2]);
    track.forget(2);
    assert.equal(track.firstHeldIndex, 2);
    assert.equal(track.listedCount, 3);
    assert.deepEqual(track.listed().map((s) => s.index), [2]);
    assert.equal(track.get(1), undefined);
    assert.equal(track.add(segment(1)), false, 'a repeat of a forgotten segment changes nothing');
    track.add(segment(3));
    assert.equal(track.listedCount, 5);
    // Not yet taken: forget() keeps them for takeNew().
    track.forget(5);
    assert.equal(track.firstHeldIndex, 3);
    assert.deepEqual(track.takeNew().map((s) => s.index), [3, 4]);
  });
});
