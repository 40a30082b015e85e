import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mediaPlaylistVersion,
  serializeMediaPlaylist,
  targetDurationFor,
  type MediaPlaylist,
  type MediaSegment,
} from '../../src/hls/index.js';
import { parsePlaylist } from '../support/parse-playlist.js';

// 29.97 fps: 60 frames last 60 * 1001 / 30000 s; the last segment of a run is shorter.
const frame = 1001 / 30000;
const durations = [60 * frame, 60 * frame, 60 * frame, 21 * frame];
const cids = ['bafkreia1', 'bafkreib2', 'bafkreic3', 'bafkreid4'];
const start = new Date(Date.UTC(2025, 4, 6, 12, 30, 15, 123));

function segments(): MediaSegment[] {
  return durations.map((duration, index) => ({
    duration,
    uri: `https://ipfs.io/ipfs/${cids[index]}`,
    programDateTime: index === 0 ? start : undefined,
  }));
}

function playlist(overrides: Partial<MediaPlaylist> = {}): MediaPlaylist {
  return {
    targetDuration: targetDurationFor(2.002),
    mediaSequence: 0,
    playlistType: 'EVENT',
    independentSegments: true,
    segments: segments(),
    endList: false,
    ...overrides,
  };
}

describe('serializeMediaPlaylist', () => {
  test('a live EVENT playlist reads back with its durations, URIs and tags', () => {
    const model = playlist();
    const text = serializeMediaPlaylist(model);
    const { manifest, warnings } = parsePlaylist(text);

    assert.deepEqual(warnings, []);
    assert.ok(text.startsWith('#EXTM3U\n'));
    assert.equal(manifest.targetDuration, model.targetDuration);
    assert.equal(manifest.mediaSequence, 0);
    assert.equal(manifest.playlistType, 'EVENT');
    assert.equal(manifest.independentSegments, true);
    assert.equal(manifest.endList, undefined);
    assert.equal(manifest.segments.length, durations.length);
    manifest.segments.forEach((segment, index) => {
      assert.ok(Math.abs(segment.duration - durations[index]) <= 5e-6, `segment ${index} duration ${segment.duration}`);
      assert.equal(segment.uri, model.segments[index].uri);
    });
    assert.equal(manifest.segments[0].programDateTime, start.getTime());
    assert.equal(manifest.segments[1].dateTimeString, undefined);
  });

  test('EXTINF is written with five decimals and PROGRAM-DATE-TIME as ISO 8601 with milliseconds', () => {
    const lines = serializeMediaPlaylist(playlist()).split('\n');
    const extinf = lines.filter((line) => line.startsWith('#EXTINF:'));
    assert.equal(extinf.length, durations.length);
    for (const line of extinf) assert.match(line, /^#EXTINF:\d+\.\d{5},$/);
    const dateLine = lines.indexOf(`#EXT-X-PROGRAM-DATE-TIME:${start.toISOString()}`);
    assert.match(start.toISOString(), /\.\d{3}Z$/);
    // The date tag applies to the segment that follows it.
    assert.equal(lines[dateLine + 1], extinf[0]);
    assert.equal(lines[dateLine + 2], `https://ipfs.io/ipfs/${cids[0]}`);
  });

  test('a finished VOD playlist ends with EXT-X-ENDLIST', () => {
    const text = serializeMediaPlaylist(playlist({ playlistType: 'VOD', endList: true }));
    const { manifest, warnings } = parsePlaylist(text);
    assert.deepEqual(warnings, []);
    assert.equal(manifest.playlistType, 'VOD');
    assert.equal(manifest.endList, true);
    assert.ok(text.endsWith('#EXT-X-ENDLIST\n'));
  });

  test('optional tags are left out when not asked for', () => {
    const text = serializeMediaPlaylist(playlist({ playlistType: undefined, independentSegments: false, mediaSequence: 7 }));
    const { manifest } = parsePlaylist(text);
    assert.equal(manifest.playlistType, undefined);
    assert.equal(manifest.independentSegments, undefined);
    assert.equal(manifest.mediaSequence, 7);
    assert.ok(!text.includes('#EXT-X-PLAYLIST-TYPE'));
    assert.ok(!text.includes('#EXT-X-INDEPENDENT-SEGMENTS'));
  });

  test('version is the lowest that fits: 3 with decimal EXTINF, 1 with no segments', () => {
    const withSegments = playlist();
    assert.equal(mediaPlaylistVersion(withSegments), 3);
    assert.equal(parsePlaylist(serializeMediaPlaylist(withSegments)).manifest.version, 3);

    const empty = playlist({ segments: [] });
    assert.equal(mediaPlaylistVersion(empty), 1);
    const { manifest } = parsePlaylist(serializeMediaPlaylist(empty));
    assert.equal(manifest.version, 1);
    assert.equal(manifest.segments.length, 0);
  });

  test('a segment whose rounded EXTINF exceeds TARGETDURATION throws (RFC 8216 4.3.3.1)', () => {
    const tooLong = playlist({ targetDuration: 2, segments: [{ duration: 2.5, uri: 'a.ts' }] });
    assert.throws(() => serializeMediaPlaylist(tooLong), (error: Error) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /#EXTINF:2\.50000/);
      assert.match(error.message, /4\.3\.3\.1/);
      return true;
    });
    // Just under the rounding boundary is allowed...
    assert.doesNotThrow(() => serializeMediaPlaylist(playlist({ targetDuration: 2, segments: [{ duration: 2.49999, uri: 'a.ts' }] })));
    // ...but the check is on the written value, which a client reads as 2.50000.
    assert.throws(
      () => serializeMediaPlaylist(playlist({ targetDuration: 2, segments: [{ duration: 2.499996, uri: 'a.ts' }] })),
      RangeError,
    );
  });

  test('bad values are rejected with the option error format', () => {
    assert.throws(() => serializeMediaPlaylist(playlist({ targetDuration: 0 })), {
      message: /^Expected integer between 1 and \d+ for targetDuration but received 0$/,
    });
    assert.throws(() => serializeMediaPlaylist(playlist({ mediaSequence: -1 })), /for mediaSequence but received -1/);
    assert.throws(
      () => serializeMediaPlaylist(playlist({ segments: [{ duration: Number.NaN, uri: 'a.ts' }] })),
      /positive number of seconds for duration of segment 0 but received NaN/,
    );
    assert.throws(() => serializeMediaPlaylist(playlist({ segments: [{ duration: 1, uri: 'a.ts\n#EXT-X-ENDLIST' }] })), /uri of segment 0/);
    assert.throws(() => serializeMediaPlaylist(playlist({ segments: [{ duration: 1, uri: '#a' }] })), /uri of segment 0/);
    assert.throws(
      () => serializeMediaPlaylist(playlist({ segments: [{ duration: 1, uri: 'a.ts', programDateTime: new Date(Number.NaN) }] })),
      /valid Date for programDateTime of segment 0/,
    );
    assert.throws(
      () => serializeMediaPlaylist(playlist({ playlistType: 'LIVE' as 'EVENT' })),
      /one of EVENT, VOD for playlistType/,
    );
  });
});

describe('targetDurationFor', () => {
  // 2.4999999 is written as EXTINF 2.50000, which a client rounds to 3.
  const configured = [0.4, 0.5, 1, 1001 / 1000, 2, 2 * 1.001, 2.4, 2.4999999, 2.5, 2.6, 3.5, 4, 6, 10];

  test('covers every segment no longer than the configured duration, allowing floating error', () => {
    for (const segmentDuration of configured) {
      const targetDuration = targetDurationFor(segmentDuration);
      assert.ok(Number.isInteger(targetDuration) && targetDuration >= 1);
      // The longest segment, a hair longer from timestamp arithmetic, and shorter ones.
      const lengths = [segmentDuration, segmentDuration * (1 + 1e-12), segmentDuration + 1e-9, segmentDuration * 0.5, 0.01];
      const model = playlist({ targetDuration, segments: lengths.map((duration, index) => ({ duration, uri: `s${index}.ts` })) });
      const { manifest } = parsePlaylist(serializeMediaPlaylist(model));
      assert.equal(manifest.targetDuration, targetDuration);
      for (const segment of manifest.segments) {
        assert.ok(Math.round(segment.duration) <= targetDuration, `${segment.duration} > ${targetDuration}`);
      }
    }
  });

  test('is the smallest value that covers a full-length segment', () => {
    for (const segmentDuration of configured) {
      const targetDuration = targetDurationFor(segmentDuration);
      if (targetDuration === 1) continue; // TARGETDURATION is at least 1
      const full = [{ duration: segmentDuration, uri: 'a.ts' }];
      assert.throws(() => serializeMediaPlaylist(playlist({ targetDuration: targetDuration - 1, segments: full })), RangeError);
    }
  });

  test('rejects a duration that is not a positive number', () => {
    for (const bad of [0, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => targetDurationFor(bad), {
        name: 'RangeError',
        message: `Expected positive number of seconds for segmentDuration but received ${bad}`,
      });
    }
    assert.throws(() => targetDurationFor('2' as unknown as number), TypeError);
  });
});

describe('parseMediaPlaylist', () => {
  test('reads back what serializeMediaPlaylist writes', async () => {
    const { parseMediaPlaylist } = await import('../../src/hls/parse-media-playlist.js');
    const model = {
      targetDuration: 2,
      mediaSequence: 0,
      playlistType: 'EVENT' as const,
      independentSegments: true,
      endList: true,
      segments: [
        { duration: 2, uri: '/ipfs/a', programDateTime: new Date('2026-11-30T10:00:00.000Z') },
        { duration: 1.5, uri: '/ipfs/b' },
      ],
    };
    assert.deepEqual(parseMediaPlaylist(serializeMediaPlaylist(model)), model);
    assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-BYTERANGE:100@0\n'), /EXT-X-BYTERANGE is not a tag abrcast writes/);
    // EXT-X-KEY only in the forms abrcast writes (AES-128 with URI and IV, or NONE).
    assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="k"\n'), /an EXT-X-KEY abrcast does not write/);
  });
});
