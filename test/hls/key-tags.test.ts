// EXT-X-KEY in the playlist models (RFC 8216bis 4.4.4.4): written where the key in
// effect changes (every segment, with per-segment IVs), before EXT-X-MAP for an
// encrypted init segment, before a segment's parts in LL-HLS (and the pending
// segment's), again after EXT-X-SKIP; METHOD=NONE when a clear segment follows an
// encrypted one; nothing at all for a clear playlist; read back by the parser; and
// checked by m3u8-parser, an independent reader.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { serializeLowLatencyPlaylist, serverControlFor } from '../../src/hls/low-latency-playlist.js';
import type { LowLatencyMediaPlaylist } from '../../src/hls/low-latency-types.js';
import { serializeMediaPlaylist } from '../../src/hls/media-playlist.js';
import { parseMediaPlaylist } from '../../src/hls/parse-media-playlist.js';
import type { MediaPlaylist, SegmentKey } from '../../src/hls/types.js';
import { timelineMediaPlaylist, type TimelineSegment } from '../../src/publish/playlist-entries.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const key = (index: number, iv: string, run = 'r1'): SegmentKey => ({ method: 'AES-128', uri: `/runs/${run}/keys/${index}`, iv: iv.repeat(32 / iv.length) });

describe('EXT-X-KEY', () => {
  test('a media playlist: the init segment\'s key before EXT-X-MAP, then one per segment; parsed back as written', () => {
    const playlist: MediaPlaylist = {
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList: true,
      mapUri: '/ipfs/bafyinit', mapKey: key(0, 'a0'),
      segments: [
        { duration: 2, uri: '/ipfs/bafy0', key: key(0, 'b0') },
        { duration: 2, uri: '/ipfs/bafy1', key: key(0, 'b1') },
        { duration: 2, uri: '/ipfs/bafy2', key: key(1, 'b2') },
        { duration: 2, uri: '/ipfs/bafy3', key: key(1, 'b2') },
        { duration: 2, uri: '/ipfs/bafy4' },
      ],
    };
    const text = serializeMediaPlaylist(playlist);
    assert.match(text, /#EXT-X-KEY:METHOD=AES-128,URI="\/runs\/r1\/keys\/0",IV=0x(a0){16}\n#EXT-X-MAP:URI="\/ipfs\/bafyinit"\n#EXT-X-KEY:METHOD=AES-128,URI="\/runs\/r1\/keys\/0",IV=0x(b0){16}\n#EXTINF/);
    // The same key again (segment 3) is not repeated; a clear segment after an encrypted one gets METHOD=NONE.
    assert.equal(text.match(/#EXT-X-KEY:METHOD=AES-128/g)!.length, 4);
    assert.match(text, /#EXT-X-KEY:METHOD=NONE\n#EXTINF:2\.00000,\n\/ipfs\/bafy4\n/);
    assert.deepEqual(parseMediaPlaylist(text), playlist);
    // An independent reader sees the same keys.
    const { manifest } = parsePlaylist(text);
    assert.deepEqual(manifest.segments.map((s) => s.key?.uri), ['/runs/r1/keys/0', '/runs/r1/keys/0', '/runs/r1/keys/1', '/runs/r1/keys/1', undefined]);
    assert.deepEqual(Array.from(manifest.segments[1].key!.iv!), [0xb1b1b1b1, 0xb1b1b1b1, 0xb1b1b1b1, 0xb1b1b1b1]);
    assert.equal(manifest.segments[0].map?.key?.uri, '/runs/r1/keys/0');
  });

  test('a clear playlist has no EXT-X-KEY at all; a bad IV is refused', () => {
    const clear: MediaPlaylist = { targetDuration: 2, mediaSequence: 0, independentSegments: true, endList: false, segments: [{ duration: 2, uri: 'a.ts' }] };
    assert.doesNotMatch(serializeMediaPlaylist(clear), /EXT-X-KEY/);
    assert.throws(() => serializeMediaPlaylist({ ...clear, segments: [{ duration: 2, uri: 'a.ts', key: { method: 'AES-128', uri: 'k', iv: 'xyz' } }] }), /iv of key of segment 0/);
  });

  test('LL-HLS: a segment\'s key before its parts, the pending segment\'s before its parts, and again after EXT-X-SKIP', () => {
    const part = (uri: string) => ({ duration: 0.5, uri, independent: false });
    const playlist: LowLatencyMediaPlaylist = {
      targetDuration: 1, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList: false,
      serverControl: serverControlFor(1, 0.5), partTarget: 0.5,
      segments: Array.from({ length: 8 }, (_, n) => ({
        duration: 1, uri: `segment/${n}.ts`, key: key(Math.floor(n / 2), `c${n}`), ...(n === 7 ? { parts: [part('part/7.0.ts'), part('part/7.1.ts')] } : {}),
      })),
      pendingParts: [part('part/8.0.ts')], pendingKey: key(4, 'c8'),
      preloadHint: { type: 'PART', uri: 'part/8.1.ts' }, renditionReports: [],
    };
    const full = serializeLowLatencyPlaylist(playlist);
    assert.match(full, /#EXT-X-KEY:[^\n]*IV=0x(c7){16}\n#EXT-X-PART:DURATION=0\.50000,URI="part\/7\.0\.ts"/);
    assert.match(full, /#EXT-X-KEY:[^\n]*keys\/4",IV=0x(c8){16}\n#EXT-X-PART:DURATION=0\.50000,URI="part\/8\.0\.ts"\n#EXT-X-PRELOAD-HINT/);
    const delta = serializeLowLatencyPlaylist({ ...playlist, skippedSegments: 6 });
    assert.match(delta, /#EXT-X-SKIP:SKIPPED-SEGMENTS=6\n#EXT-X-KEY:[^\n]*IV=0x(c6){16}\n#EXTINF/);
    assert.equal(delta.match(/#EXT-X-KEY/g)!.length, 3);
    // A pending segment under the same key as the last one still gets its own line (its IV differs), and no map key without a map.
    assert.doesNotMatch(full, /#EXT-X-MAP/);
  });

  test('a private channel\'s next run: the tail under its run\'s keys, then after the discontinuity its own init segment\'s key before EXT-X-MAP', () => {
    // Two runs of one channel (fMP4): the tail of r0 (MSN 7-8, its init and keys) and r1 from MSN 9 (its own).
    const segment = (msn: number, run: string, map: string, mapKey: SegmentKey | undefined, segmentKey: SegmentKey | undefined): TimelineSegment => ({
      msn, duration: 2, uri: `/ipfs/bafy${msn}`, startMs: msn * 2000, discontinuity: msn === 9, discontinuitySequence: msn >= 9 ? 1 : 0,
      mapUri: map, ...(mapKey ? { mapKey } : {}), ...(segmentKey ? { key: segmentKey } : {}),
    });
    const tail = [7, 8].map((msn) => segment(msn, 'r0', '/ipfs/bafyinit0', key(0, 'a0', 'r0'), key(0, `b${msn}`, 'r0')));
    const own = [9, 10].map((msn) => segment(msn, 'r1', '/ipfs/bafyinit1', key(0, 'a1'), key(0, `c${msn.toString(16)}`)));
    const playlist = timelineMediaPlaylist({ targetDuration: 2, segments: [...tail, ...own], type: 'live', endList: false, alwaysDiscontinuitySequence: true });
    const text = serializeMediaPlaylist(playlist);
    assert.match(text, /#EXT-X-KEY:METHOD=AES-128,URI="\/runs\/r0\/keys\/0",IV=0x(a0){16}\n#EXT-X-MAP:URI="\/ipfs\/bafyinit0"\n#EXT-X-KEY:[^\n]*r0\/keys\/0",IV=0x(b7){16}\n/);
    assert.match(text, new RegExp(
      '/ipfs/bafy8\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/0",IV=0x(a1){16}\n#EXT-X-MAP:URI="/ipfs/bafyinit1"\n' +
        '#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/0",IV=0x(c9){16}\n#EXT-X-PROGRAM-DATE-TIME',
    ));
    assert.deepEqual(parseMediaPlaylist(text), playlist, 'parsed back as written, the init segment\'s key with it');
    // An independent reader gives each segment its own init segment and that init segment's key.
    const { manifest } = parsePlaylist(text);
    assert.deepEqual(manifest.segments.map((s) => [s.map?.uri, s.map?.key?.uri, s.key?.uri]), [
      ['/ipfs/bafyinit0', '/runs/r0/keys/0', '/runs/r0/keys/0'], ['/ipfs/bafyinit0', '/runs/r0/keys/0', '/runs/r0/keys/0'],
      ['/ipfs/bafyinit1', '/runs/r1/keys/0', '/runs/r1/keys/0'], ['/ipfs/bafyinit1', '/runs/r1/keys/0', '/runs/r1/keys/0'],
    ]);
    assert.deepEqual(Array.from(manifest.segments[2].map!.key!.iv!), [0xa1a1a1a1, 0xa1a1a1a1, 0xa1a1a1a1, 0xa1a1a1a1]);
    // A clear init segment after encrypted media (the serializer allows it; abrcast's channels refuse mixing): METHOD=NONE first.
    const clearOwn = [9, 10].map((msn) => segment(msn, 'r1', '/ipfs/bafyinit1', undefined, undefined));
    const mixed = serializeMediaPlaylist(timelineMediaPlaylist({ targetDuration: 2, segments: [...tail, ...clearOwn], type: 'live', endList: false }));
    assert.match(mixed, /#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-MAP:URI="\/ipfs\/bafyinit1"\n#EXT-X-PROGRAM-DATE-TIME/);
    assert.equal(mixed.match(/METHOD=NONE/g)!.length, 1);
    assert.deepEqual(parsePlaylist(mixed).manifest.segments.map((s) => s.map?.key?.uri ?? null), ['/runs/r0/keys/0', '/runs/r0/keys/0', null, null]);
  });

  test('LL-HLS: the pending segment that opens a channel\'s next run writes its init segment\'s key and EXT-X-MAP before its parts', () => {
    const part = (uri: string) => ({ duration: 0.5, uri, independent: true });
    const text = serializeLowLatencyPlaylist({
      targetDuration: 1, mediaSequence: 7, discontinuitySequence: 0, independentSegments: true, endList: false,
      serverControl: serverControlFor(1, 0.5), partTarget: 0.5,
      map: { uri: '/ipfs/bafyinit0', key: key(0, 'a0', 'r0') },
      segments: [{ duration: 1, uri: 'segment/7.m4s', key: key(0, 'b7', 'r0') }],
      pendingParts: [part('part/8.0.m4s')], pendingDiscontinuity: true, pendingKey: key(0, 'c8'),
      pendingMap: { uri: '/ipfs/bafyinit1', key: key(0, 'a1') }, renditionReports: [],
    });
    assert.match(text, new RegExp(
      'segment/7.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/0",IV=0x(a1){16}\n#EXT-X-MAP:URI="/ipfs/bafyinit1"\n' +
        '#EXT-X-KEY:METHOD=AES-128,URI="/runs/r1/keys/0",IV=0x(c8){16}\n#EXT-X-PART:DURATION=0\.50000,URI="part/8\.0\.m4s"',
    ));
  });
});
