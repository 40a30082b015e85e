// The LL-HLS view of an encrypted rendition (buildLiveEdge, pure): segments known
// from their parts and the pending segment carry their parts' key and IV, before
// their parts; the init segment's key comes before EXT-X-MAP; and no preload hint
// names the first part of a segment not listed yet, which a player would read
// under the previous segment's IV (Shaka preloads it so). A clear rendition keeps
// its hint at every position.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { serializeLowLatencyPlaylist } from '../../src/hls/low-latency-playlist.js';
import type { ResourceKey } from '../../src/hls/types.js';
import type { PartRecord } from '../../src/registry/run-records.js';
import { buildLiveEdge, type PartsBySegment } from '../../src/server/live-edge.js';

const PART_S = 1 / 3;
const RUN = { segmentDuration: 1, fps: 30, startedAt: new Date(0), partTarget: PART_S };
const iv = (msn: number) => msn.toString(16).padStart(32, '0');
const keyUri = (index: number) => `/runs/r1/keys/${index}`;

/** Parts 0.. of segments 0..whole-1 complete, and `pending` parts of the next; keys rotate every 2 segments. */
function parts(whole: number, pending: number, encrypted: boolean): PartsBySegment {
  const bySegment = new Map<number, PartRecord[]>();
  for (let msn = 0; msn <= whole; msn++) {
    const count = msn < whole ? 3 : pending;
    const key: ResourceKey | undefined = encrypted ? { index: Math.floor(msn / 2), iv: iv(msn) } : undefined;
    bySegment.set(msn, Array.from({ length: count }, (_, partIndex) => ({
      runId: 'r1', rendition: '360p', segmentIndex: msn, partIndex, cid: `bafy${msn}x${partIndex}`, duration: PART_S,
      independent: partIndex === 0, bytes: 100, ...(key ? { key } : {}),
    })));
  }
  return bySegment;
}

const edgeOf = (whole: number, pending: number, encrypted: boolean) => buildLiveEdge({
  run: RUN, parts: parts(whole, pending, encrypted), container: 'm4s', mapUri: '/ipfs/bafyinit', reports: {},
  ...(encrypted ? { keyUri, mapKey: { method: 'AES-128' as const, uri: keyUri(0), iv: 'f'.repeat(32) } } : {}),
})!;

describe('the live edge of an encrypted rendition', () => {
  test('keys before the map, before each segment\'s parts and before the pending parts', () => {
    const text = serializeLowLatencyPlaylist(edgeOf(3, 2, true).playlist);
    assert.match(text, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/0",IV=0x${'f'.repeat(32)}\\n#EXT-X-MAP:URI="/ipfs/bafyinit"`));
    for (const msn of [0, 1, 2]) {
      assert.match(text, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/${Math.floor(msn / 2)}",IV=0x${iv(msn)}\\n(#EXT-X-PROGRAM-DATE-TIME:[^\\n]*\\n)?#EXT-X-PART:[^\\n]*part/${msn}\\.0\\.m4s`), `segment ${msn}`);
    }
    assert.match(text, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/1",IV=0x${iv(3)}\\n#EXT-X-PART:DURATION=0\\.33333,URI="part/3\\.0\\.m4s",INDEPENDENT=YES`), 'the pending segment\'s key');
    assert.match(text, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part\/3\.2\.m4s"/, 'a hint inside the pending segment');
  });

  test('no hint for the first part of the next segment; a clear rendition keeps it', () => {
    const encrypted = edgeOf(3, 0, true);
    assert.equal(encrypted.playlist.preloadHint, undefined);
    assert.deepEqual(encrypted.hinted, { segmentIndex: 3, partIndex: 0 }, 'the server still holds a request for it');
    assert.doesNotMatch(serializeLowLatencyPlaylist(encrypted.playlist), /PRELOAD-HINT|EXT-X-KEY:[^\n]*\n#EXT-X-RENDITION|EXT-X-KEY[^\n]*\n$/);
    const clear = edgeOf(3, 0, false);
    assert.deepEqual(clear.playlist.preloadHint, { type: 'PART', uri: 'part/3.0.m4s' });
    assert.doesNotMatch(serializeLowLatencyPlaylist(clear.playlist), /EXT-X-KEY/);
  });
});
