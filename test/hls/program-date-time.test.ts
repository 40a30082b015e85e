// EXT-X-PROGRAM-DATE-TIME on the first segment and after every gap (RFC 8216
// 4.3.2.6), from the run's start time, in the helper and in the playlists the
// publisher and finalize build.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { programDateTimes, serializeMediaPlaylist } from '../../src/hls/index.js';
import { eventMediaPlaylist, qualityEntry } from '../../src/publish/playlist-entries.js';
import { bandwidthUpperBound } from '../../src/hls/bandwidth.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const startedAt = new Date('2026-11-30T10:00:00.000Z');
const at = (seconds: number) => new Date(startedAt.getTime() + seconds * 1000);

describe('programDateTimes', () => {
  test('the first segment gets startedAt; contiguous ones need none', () => {
    const dates = programDateTimes(
      [{ index: 0, duration: 2 }, { index: 1, duration: 2 }, { index: 2, duration: 1.5 }],
      startedAt,
      2,
    );
    assert.deepEqual(dates, [startedAt, undefined, undefined]);
  });

  test('after a missing index or a discontinuity: the time from the durations before it', () => {
    const dates = programDateTimes(
      [
        { index: 0, duration: 1.96 },
        { index: 1, duration: 2.04 },
        { index: 4, duration: 2 }, // 2 and 3 missing: 2 s each
        { index: 5, duration: 2, discontinuity: true },
        { index: 6, duration: 2 },
      ],
      startedAt,
      2,
    );
    assert.deepEqual(dates, [startedAt, undefined, at(8), at(10), undefined]);
  });

  test('a list that starts after 0 is dated from its first index', () => {
    assert.deepEqual(programDateTimes([{ index: 3, duration: 1 }], startedAt, 1), [at(3)]);
    assert.deepEqual(programDateTimes([], startedAt, 1), []);
  });

  test('bad input names the value', () => {
    assert.throws(() => programDateTimes([], new Date(Number.NaN), 1), /valid Date for startedAt/);
    assert.throws(() => programDateTimes([], startedAt, 0), /positive number of seconds for nominalDuration/);
    assert.throws(
      () => programDateTimes([{ index: 2, duration: 1 }, { index: 2, duration: 1 }], startedAt, 1),
      /integer above 2 for index of segment 1 but received 2/,
    );
  });
});

describe('eventMediaPlaylist', () => {
  const segment = (index: number) => ({ index, cid: `c${index}`, duration: 2, bytes: 1000 });

  test('writes PROGRAM-DATE-TIME on segment 0 and after a gap, from startedAt', () => {
    const playlist = eventMediaPlaylist({
      targetDuration: 2, segments: [0, 1, 3].map(segment), segmentUrl: (cid) => `/ipfs/${cid}`, endList: false, startedAt,
    });
    const text = serializeMediaPlaylist(playlist);
    assert.deepEqual(
      text.split('\n').filter((line) => line.startsWith('#EXT-X-PROGRAM-DATE-TIME:') || line.startsWith('/ipfs/')),
      [
        `#EXT-X-PROGRAM-DATE-TIME:${startedAt.toISOString()}`, '/ipfs/c0',
        '/ipfs/c1',
        `#EXT-X-PROGRAM-DATE-TIME:${at(6).toISOString()}`, '/ipfs/c3',
      ],
    );
    // A client extrapolates the others from the dated ones (m3u8-parser does, as RFC 8216 4.3.2.6 allows).
    const parsed = parsePlaylist(text).manifest;
    assert.deepEqual(parsed.segments.map((s) => s.programDateTime), [0, 2, 6].map((t) => at(t).getTime()));
  });
});

describe('qualityEntry', () => {
  const rendition = { name: '360p', width: 640, height: 360, bitrate: 800 };
  const listed = [{ index: 0, cid: 'c0', duration: 1, bytes: 50_000 }]; // 400 kbit/s so far
  const base = { rendition, listed, targetDuration: 1, fps: 30, cid: 'p', uri: 'p.m3u8' };

  test('while live, BANDWIDTH is the bound (audio counted from the codecs); at the end, the measured peak', () => {
    const live = qualityEntry({ ...base, codecs: 'avc1.64001e' });
    assert.equal(live.quality.bandwidth, bandwidthUpperBound({ bitrateKbps: 800, fps: 30 }));
    assert.equal(live.variant.bandwidth, live.quality.bandwidth);
    assert.equal(live.quality.averageBandwidth, 400_000);

    const withAudio = qualityEntry({ ...base, codecs: 'avc1.64001e,mp4a.40.2' });
    assert.equal(withAudio.quality.bandwidth, bandwidthUpperBound({ bitrateKbps: 800, fps: 30, audioKbps: 128 }));
    const lowAudio = qualityEntry({ ...base, codecs: 'avc1.64001e,mp4a.40.2', audioBitrate: 64 });
    assert.equal(lowAudio.quality.bandwidth, bandwidthUpperBound({ bitrateKbps: 800, fps: 30, audioKbps: 64 }));

    const final = qualityEntry({ ...base, codecs: 'avc1.64001e', final: true });
    assert.equal(final.quality.bandwidth, 400_000);
  });
});
