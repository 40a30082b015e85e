// The LL-HLS serializer, read back by m3u8-parser and by the spec checker; and
// the checker itself rejecting playlists that break each rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  serializeLowLatencyPlaylist,
  serverControlFor,
  skippableSegments,
  type LowLatencyMediaPlaylist,
  type PartialSegment,
} from '../../src/hls/index.js';
import { checkDeltaUpdate, checkLowLatencyPlaylist } from '../support/ll-playlist-check.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const PART = 1 / 3;
const partNumber = (uri: string) => {
  const match = /^part\/(\d+)\.(\d+)\.ts$/.exec(uri);
  assert.ok(match, `part URI ${uri}`);
  return { msn: Number(match[1]), part: Number(match[2]) };
};
const partsOf = (msn: number, count: number, last = PART): PartialSegment[] =>
  Array.from({ length: count }, (_, i) => ({ duration: i === count - 1 ? last : PART, uri: `part/${msn}.${i}.ts`, independent: i === 0 }));

/** `complete` 2-s segments from MSN 0 (parts for the last `withParts`), then `pending` parts of the next. */
function playlist(complete: number, withParts: number, pending: number, skip = false): LowLatencyMediaPlaylist {
  const segments = Array.from({ length: complete }, (_, msn) => ({
    duration: 2,
    uri: `/ipfs/seg${msn}`,
    ...(msn === 0 ? { programDateTime: new Date('2026-11-30T10:00:00.000Z') } : {}),
    ...(msn >= complete - withParts ? { parts: partsOf(msn, 6) } : {}),
  }));
  const pendingParts = partsOf(complete, pending).slice(0, pending);
  const serverControl = serverControlFor(2, PART);
  return {
    targetDuration: 2,
    mediaSequence: 0,
    playlistType: 'EVENT',
    independentSegments: true,
    endList: false,
    serverControl,
    partTarget: PART,
    segments,
    pendingParts,
    preloadHint: { type: 'PART', uri: `part/${complete}.${pending}.ts` },
    renditionReports: [{ uri: '../low/playlist.m3u8', lastMsn: complete, lastPart: pending - 1 }],
    skippedSegments: skip ? skippableSegments(segments, pendingParts, serverControl.canSkipUntil!) : 0,
  };
}

describe('serializeLowLatencyPlaylist', () => {
  test('writes the LL tags as RFC 8216bis names them, and m3u8-parser reads them', () => {
    const text = serializeLowLatencyPlaylist(playlist(5, 3, 2));
    assert.match(text, /^#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1\.00002,CAN-SKIP-UNTIL=12\.00000$/m);
    assert.match(text, /^#EXT-X-PART-INF:PART-TARGET=0\.33334$/m);
    assert.match(text, /^#EXT-X-PART:DURATION=0\.33333,URI="part\/2\.0\.ts",INDEPENDENT=YES$/m);
    assert.match(text, /^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part\/5\.2\.ts"$/m);
    assert.match(text, /^#EXT-X-RENDITION-REPORT:URI="\.\.\/low\/playlist\.m3u8",LAST-MSN=5,LAST-PART=1$/m);
    assert.doesNotMatch(text, /part\/1\./, 'segment 1 is listed without parts');
    const { manifest, warnings } = parsePlaylist(text);
    assert.deepEqual(warnings, []);
    assert.equal(manifest.segments.length, 5);
    assert.equal(manifest.segments[4].parts?.length, 6);
    assert.equal(manifest.preloadSegment?.parts?.length, 2);
    assert.equal(manifest.serverControl?.canBlockReload, true);
    assert.equal(manifest.partTargetDuration, 0.33334);
    assert.equal(manifest.renditionReports?.[0].lastMsn, 5);
    checkLowLatencyPlaylist(text, { partNumber });
  });

  test('a delta update skips only segments older than CAN-SKIP-UNTIL and restores to the full playlist', () => {
    const full = serializeLowLatencyPlaylist(playlist(12, 3, 4));
    const deltaModel = playlist(12, 3, 4, true);
    // 12 s skip boundary, 2-s segments, 4 parts pending: segments 0-5 start ≥ 12 s before the end.
    assert.equal(deltaModel.skippedSegments, 6);
    const delta = serializeLowLatencyPlaylist(deltaModel);
    assert.match(delta, /^#EXT-X-SKIP:SKIPPED-SEGMENTS=6$/m);
    assert.match(delta, /^#EXT-X-VERSION:9$/m);
    assert.doesNotMatch(delta, /seg5$/m);
    checkDeltaUpdate(full, delta, { partNumber });
    // The checker fails a delta that drops a line of a kept segment.
    assert.throws(() => checkDeltaUpdate(full, delta.replace('/ipfs/seg6\n', '/ipfs/segX\n'), { partNumber }));
  });

  test('rejects a part longer than PART-TARGET and a hold back under two parts', () => {
    const model = playlist(3, 2, 1);
    assert.throws(
      () => serializeLowLatencyPlaylist({ ...model, pendingParts: [{ duration: 0.4, uri: 'part/3.0.ts', independent: true }] }),
      /DURATION=0\.40000, above PART-TARGET=0\.33334/,
    );
    assert.throws(
      () => serializeLowLatencyPlaylist({ ...model, serverControl: { ...model.serverControl, partHoldBack: 0.5 } }),
      /partHoldBack/,
    );
    assert.throws(
      () => serializeLowLatencyPlaylist({ ...model, serverControl: { ...model.serverControl, canSkipUntil: 6 } }),
      /canSkipUntil/,
    );
  });

  test('parts of 1/3 s are written so that a segment\'s add up to its EXTINF, PART-TARGET bounding each as written', () => {
    // Each rounded alone, three parts of 1/3 s are 0.99999 s, and hls.js's subtitle controller
    // never counts the segment as loaded (video-dev/hls.js#8051): ends are rounded instead.
    const text = serializeLowLatencyPlaylist(playlist(6, 3, 2));
    assert.match(text, /^#EXT-X-PART-INF:PART-TARGET=0\.33334$/m);
    const parts = [...text.matchAll(/#EXT-X-PART:DURATION=([\d.]+),URI="part\/5\.\d\.ts"/g)].map((m) => m[1]);
    assert.deepEqual(parts, ['0.33333', '0.33334', '0.33333', '0.33333', '0.33334', '0.33333']);
    assert.equal(parts.reduce((sum, d) => sum + Math.round(Number(d) * 1e5), 0), 2e5, 'the segment\'s EXTINF:2.00000 in 1e-5 s');
  });

  test('EXT-X-MAP for fMP4', () => {
    const text = serializeLowLatencyPlaylist({ ...playlist(2, 2, 1), map: { uri: '/ipfs/init' } });
    assert.match(text, /^#EXT-X-MAP:URI="\/ipfs\/init"$/m);
    assert.equal(parsePlaylist(text).manifest.segments[0].map?.uri, '/ipfs/init');
  });
});

describe('the LL spec checker fails playlists that break a rule', () => {
  const good = serializeLowLatencyPlaylist(playlist(6, 3, 2));
  test('accepts the good one', () => {
    checkLowLatencyPlaylist(good, { partNumber });
  });
  const broken: [string, string][] = [
    ['no INDEPENDENT on an IDR part', good.replace('URI="part/4.0.ts",INDEPENDENT=YES', 'URI="part/4.0.ts"')],
    ['a numbering gap', good.replace('part/5.3.ts', 'part/5.4.ts')],
    ['parts that do not add up to EXTINF', good.replace('#EXTINF:2.00000,\n/ipfs/seg5', '#EXTINF:1.90000,\n/ipfs/seg5')],
    ['a part above PART-TARGET', good.replace('DURATION=0.33333,URI="part/5.2.ts"', 'DURATION=0.34000,URI="part/5.2.ts"')],
    ['no parts on a recent segment', good.replace(/#EXT-X-PART:[^\n]*part\/5\.[^\n]*\n/g, '')],
    ['a hold back under 3 parts', good.replace('PART-HOLD-BACK=1.00002', 'PART-HOLD-BACK=0.70000')],
    ['a preload hint that is not the next part', good.replace('URI="part/6.2.ts"', 'URI="part/6.3.ts"')],
  ];
  for (const [name, text] of broken) {
    test(name, () => {
      assert.notEqual(text, good, 'the mutation applied');
      assert.throws(() => checkLowLatencyPlaylist(text, { partNumber }));
    });
  }
});
