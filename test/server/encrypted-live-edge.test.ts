// The LL-HLS view of an encrypted rendition (buildLiveEdge, pure): segments known
// from their parts and the pending segment carry their parts' key and IV, before
// their parts; the init segment's key comes before EXT-X-MAP; and no preload hint
// names the first part of a segment not listed yet, which a player would read
// under the previous segment's IV (Shaka preloads it so). A clear rendition keeps
// its hint at every position.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { serializeLowLatencyPlaylist } from '../../src/hls/low-latency-playlist.js';
import { serializeMediaPlaylist } from '../../src/hls/media-playlist.js';
import { parseMediaPlaylist } from '../../src/hls/parse-media-playlist.js';
import type { ResourceKey, SegmentKey } from '../../src/hls/types.js';
import { lowLatencyPlaylistWithToken } from '../../src/server/playback-access.js';
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

  test('a private channel\'s next run: the tail under the previous run\'s keys, then its own init key, map and keys (listed and pending), with the token', () => {
    const runKey = (run: string, index: number, ivHex: string): SegmentKey => ({ method: 'AES-128', uri: `/runs/${run}/keys/${index}`, iv: ivHex });
    // r1's first version: r0's tail (MSN 7-9, its init segment and keys), as the publisher stored it and the server reads it back.
    const published = parseMediaPlaylist(serializeMediaPlaylist({
      targetDuration: 1, mediaSequence: 7, discontinuitySequence: 0, independentSegments: true, endList: false,
      mapUri: '/ipfs/bafyinit0', mapKey: runKey('r0', 0, 'e'.repeat(32)),
      segments: [7, 8, 9].map((msn) => ({ duration: 1, uri: `/ipfs/bafy${msn}`, key: runKey('r0', 0, iv(msn)) })),
    }));
    // r1's own parts from MSN 10 (its keys: /runs/r1/keys/n).
    const own = (whole: number, pending: number): PartsBySegment => new Map([...parts(whole, pending, true)].map(([msn, group]) => [msn + 10, group.map((part): PartRecord => ({ ...part!, segmentIndex: msn + 10 }))]));
    const edge = (whole: number, pending: number) => buildLiveEdge({
      run: { ...RUN, msnBase: 10, discontinuitySequence: 1 }, published, parts: own(whole, pending), container: 'm4s', reports: {},
      mapUri: '/ipfs/bafyinit1', mapKey: runKey('r1', 0, 'f'.repeat(32)), keyUri,
    })!;
    const tail = new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="/runs/r0/keys/0",IV=0x${'e'.repeat(32)}\n#EXT-X-MAP:URI="/ipfs/bafyinit0"\n` +
      `#EXT-X-KEY:METHOD=AES-128,URI="/runs/r0/keys/0",IV=0x${iv(7)}\n`);
    const opening = (first: string) => new RegExp(`segment/9\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/0",IV=0x${'f'.repeat(32)}\n` +
      `#EXT-X-MAP:URI="/ipfs/bafyinit1"\n#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/0",IV=0x${iv(0)}\n(#EXT-X-PROGRAM-DATE-TIME:[^\n]*\n)?${first}`);
    // Only parts of r1's first segment yet: the pending segment opens the run.
    const pendingOnly = serializeLowLatencyPlaylist(edge(0, 2).playlist);
    assert.match(pendingOnly, tail);
    assert.match(pendingOnly, opening('#EXT-X-PART:DURATION=0\\.33333,URI="part/10\\.0\\.m4s"'));
    // Its first segment whole (listed from its parts), the next pending.
    const listed = edge(2, 1);
    const text = serializeLowLatencyPlaylist(listed.playlist);
    assert.match(text, tail);
    assert.match(text, opening('#EXT-X-PART:DURATION=0\\.33333,URI="part/10\\.0\\.m4s"'));
    assert.equal(text.match(/#EXT-X-MAP/g)!.length, 2, 'one map per run');
    assert.match(text, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/1",IV=0x${iv(2)}\n#EXT-X-PART:[^\n]*part/12\.0\.m4s`));
    // Through a channel with a query token: every key URI carries it, the init segment keys included.
    const withToken = serializeLowLatencyPlaylist(lowLatencyPlaylistWithToken(listed.playlist, 'T0K'));
    const keyUris = [...withToken.matchAll(/#EXT-X-KEY:METHOD=AES-128,URI="([^"]*)"/g)].map((match) => match[1]);
    assert.ok(keyUris.length >= 6 && keyUris.every((uri) => uri.endsWith('?token=T0K')), keyUris.join(' '));
    assert.ok(keyUris.includes('/runs/r0/keys/0?token=T0K') && keyUris.includes('/runs/r1/keys/0?token=T0K'));
    assert.match(serializeLowLatencyPlaylist(lowLatencyPlaylistWithToken(edge(0, 2).playlist, 'T0K')), /URI="\/runs\/r1\/keys\/0\?token=T0K",IV=0xf{32}\n#EXT-X-MAP:URI="\/ipfs\/bafyinit1"/);
    // Before this server knows r1's init segment (its container with it), or its key: the tail only, named as fMP4,
    // and none of r1's parts, which would play under r0's init segment.
    for (const early of [
      buildLiveEdge({ run: { ...RUN, msnBase: 10, discontinuitySequence: 1 }, published, parts: own(2, 1), container: 'ts', reports: {}, keyUri })!,
      buildLiveEdge({ run: { ...RUN, msnBase: 10, discontinuitySequence: 1 }, published, parts: own(2, 1), container: 'm4s', reports: {}, keyUri, mapUri: '/ipfs/bafyinit1' })!,
    ]) {
      const earlyText = serializeLowLatencyPlaylist(early.playlist);
      assert.doesNotMatch(earlyText, /#EXT-X-DISCONTINUITY\n|\/1\d\.\d\.m4s|\.ts\b/, earlyText);
      assert.match(earlyText, /\nsegment\/9\.m4s\n/);
      assert.equal(early.lastCompleteMsn, 9);
    }
  });
});
