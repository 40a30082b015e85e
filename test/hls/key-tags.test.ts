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
import { parsePlaylist } from '../support/parse-playlist.js';

const key = (index: number, iv: string): SegmentKey => ({ method: 'AES-128', uri: `/runs/r1/keys/${index}`, iv: iv.repeat(32 / iv.length) });

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
});
