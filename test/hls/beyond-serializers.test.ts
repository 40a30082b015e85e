// The serializers of issue 25, pure: EXT-X-DATERANGE (RFC 8216bis 4.4.5.1, with the rules for
// updates by ID), I-frame playlists (EXT-X-I-FRAMES-ONLY, BYTERANGE), image playlists
// (EXT-X-IMAGES-ONLY), WebVTT files, and the master's EXT-X-MEDIA, SUBTITLES=,
// EXT-X-I-FRAME-STREAM-INF and EXT-X-IMAGE-STREAM-INF. Read back with m3u8-parser where it can.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  checkDateRange, dateRangeLine, mergeDateRange, parseMediaPlaylist, serializeIframePlaylist, serializeImagePlaylist, serializeMasterPlaylist,
  serializeMediaPlaylist, serializeWebVtt, webVttTimestamp, type DateRange, type VariantStream,
} from '../../src/index.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const START = new Date('2026-01-02T03:04:05.678Z');

describe('EXT-X-DATERANGE', () => {
  test('writes the attributes RFC 8216bis names, client attributes sorted, SCTE-35 as hex', () => {
    const range: DateRange = {
      id: 'splice-1', class: 'com.example.ad', startDate: START, cue: ['ONCE'], duration: 30.5, plannedDuration: 30,
      clientAttributes: { 'X-TITLE': 'Break "one"'.replace(/"/g, ''), 'X-BYTES': Uint8Array.from([1, 0xab]), 'X-N': 2 },
      scte35Out: Uint8Array.from([0xfc, 0x30]),
    };
    assert.equal(
      dateRangeLine(range),
      '#EXT-X-DATERANGE:ID="splice-1",CLASS="com.example.ad",START-DATE="2026-01-02T03:04:05.678Z",CUE="ONCE",DURATION=30.5,' +
        'PLANNED-DURATION=30,X-BYTES=0x01AB,X-N=2,X-TITLE="Break one",SCTE35-OUT=0xFC30',
    );
    assert.equal(dateRangeLine({ id: 'next', class: 'c', startDate: START, endOnNext: true }), '#EXT-X-DATERANGE:ID="next",CLASS="c",START-DATE="2026-01-02T03:04:05.678Z",END-ON-NEXT=YES');
  });

  test('refuses what the RFC forbids, naming the attribute', () => {
    const base = { id: 'a', startDate: START };
    assert.throws(() => checkDateRange({ ...base, endDate: new Date(START.getTime() - 1) }), /a date at or after startDate/);
    assert.throws(() => checkDateRange({ ...base, duration: 1, endDate: new Date(START.getTime() + 2000) }), /startDate \+ duration/);
    assert.throws(() => checkDateRange({ ...base, endOnNext: true }), /CLASS \(END-ON-NEXT=YES needs one\) for dateRange\.class/);
    assert.throws(() => checkDateRange({ ...base, class: 'c', endOnNext: true, duration: 1 }), /no END-ON-NEXT with DURATION/);
    assert.throws(() => checkDateRange({ ...base, duration: -1 }), /for dateRange\.duration/);
    assert.throws(() => checkDateRange({ ...base, clientAttributes: { 'X-a': 'lower case' } }), /names X- followed by A-Z/);
    assert.throws(() => checkDateRange({ ...base, clientAttributes: { 'X-Q': 'a "quote"' } }), /without double quotes/);
    assert.throws(() => checkDateRange({ ...base, cue: ['PRE', 'PRE'] }), /distinct PRE, POST, ONCE/);
    assert.throws(() => checkDateRange({ id: '', startDate: START }), /non-empty string for dateRange\.id/);
  });

  test('a later tag with the same ID may add attributes, never change one', () => {
    const first: DateRange = { id: 'a', class: 'c', startDate: START, plannedDuration: 10, clientAttributes: { 'X-A': '1' } };
    const merged = mergeDateRange(first, { id: 'a', startDate: START, duration: 9, clientAttributes: { 'X-B': 2 } });
    assert.deepEqual(merged, { ...first, duration: 9, clientAttributes: { 'X-A': '1', 'X-B': 2 } });
    assert.throws(() => mergeDateRange(first, { id: 'a', startDate: new Date(START.getTime() + 1) }), /START-DATE is "2026-01-02T03:04:05\.678Z" and cannot change/);
    assert.throws(() => mergeDateRange(first, { id: 'a', startDate: START, clientAttributes: { 'X-A': '2' } }), /X-A is "1" and cannot change to "2"/);
  });

  test('media playlists carry them (read back by m3u8-parser), and need a PROGRAM-DATE-TIME', () => {
    const playlist = {
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT' as const, independentSegments: true, endList: false,
      segments: [{ duration: 2, uri: 'a.ts', programDateTime: START }],
      dateRanges: [{ id: 'a', class: 'c', startDate: new Date(START.getTime() + 500), duration: 1, clientAttributes: { 'X-K': 'v' } }],
    };
    const parsed = parsePlaylist(serializeMediaPlaylist(playlist));
    assert.deepEqual(parsed.warnings, []);
    assert.equal(parsed.manifest.dateRanges?.[0]?.id, 'a');
    assert.equal(parsed.manifest.dateRanges?.[0]?.xK ?? parsed.manifest.dateRanges?.[0]?.['X-K'], 'v');
    assert.throws(() => serializeMediaPlaylist({ ...playlist, segments: [{ duration: 2, uri: 'a.ts' }] }), /needs an EXT-X-PROGRAM-DATE-TIME/);
    // The server's parser reads such a playlist (its LL view takes the date ranges from the registry):
    // refusing the tag left an LL view on a stale published playlist, without PROGRAM-DATE-TIME.
    const { dateRanges, ...rest } = playlist;
    assert.ok(dateRanges.length > 0);
    assert.deepEqual(parseMediaPlaylist(serializeMediaPlaylist(playlist)), rest);
    assert.throws(() => serializeMediaPlaylist({ ...playlist, dateRanges: [playlist.dateRanges[0]!, playlist.dateRanges[0]!] }), /listed twice/);
  });
});

describe('I-frame and image playlists', () => {
  test('an I-frame playlist: EXT-X-I-FRAMES-ONLY, a byte range per I-frame, EXT-X-MAP at version 5', () => {
    const text = serializeIframePlaylist({
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList: true, mapUri: 'init.mp4',
      iframes: [{ duration: 2, uri: 's0.m4s', offset: 0, length: 1000, programDateTime: START }, { duration: 1.5, uri: 's1.m4s', offset: 92, length: 800 }],
    });
    assert.equal(text, [
      '#EXTM3U', '#EXT-X-VERSION:5', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-I-FRAMES-ONLY', '#EXT-X-MAP:URI="init.mp4"', `#EXT-X-PROGRAM-DATE-TIME:${START.toISOString()}`, '#EXTINF:2.00000,',
      '#EXT-X-BYTERANGE:1000@0', 's0.m4s', '#EXTINF:1.50000,', '#EXT-X-BYTERANGE:800@92', 's1.m4s', '#EXT-X-ENDLIST', '',
    ].join('\n'));
    const parsed = parsePlaylist(text);
    assert.deepEqual(parsed.warnings, []);
    assert.deepEqual(parsed.manifest.segments.map((s) => s.byterange), [{ length: 1000, offset: 0 }, { length: 800, offset: 92 }]);
    assert.throws(() => serializeIframePlaylist({ targetDuration: 1, mediaSequence: 0, independentSegments: false, endList: false, iframes: [{ duration: 2, uri: 'a', offset: 0, length: 1 }] }), /rounds above #EXT-X-TARGETDURATION:1/);
    assert.throws(() => serializeIframePlaylist({ targetDuration: 2, mediaSequence: 0, independentSegments: false, endList: false, iframes: [{ duration: 1, uri: 'a', offset: 0, length: 0 }] }), /length of I-frame 0/);
  });

  test('an image playlist: EXT-X-IMAGES-ONLY and one EXT-X-TILES per image', () => {
    const text = serializeImagePlaylist({
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT', endList: false, resolution: { width: 320, height: 180 },
      images: [{ duration: 2, uri: 'a.jpg' }],
    });
    assert.equal(text, [
      '#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-IMAGES-ONLY',
      '#EXTINF:2.00000,', '#EXT-X-TILES:RESOLUTION=320x180,LAYOUT=1x1,DURATION=2.00000', 'a.jpg', '',
    ].join('\n'));
  });

  test('of a low-latency run, both declare its PART-HOLD-BACK and PART-TARGET, with no blocking reload or delta updates', () => {
    // Shaka reads the image playlist first and keeps the live edge it gives: 3 target durations without these lines.
    const head = ['#EXT-X-TARGETDURATION:2', '#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=1.00002', '#EXT-X-PART-INF:PART-TARGET=0.33334', '#EXT-X-MEDIA-SEQUENCE:0'].join('\n');
    const image = serializeImagePlaylist({
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT', endList: false, resolution: { width: 320, height: 180 },
      images: [{ duration: 2, uri: 'a.jpg' }], partTarget: 1 / 3,
    });
    const iframe = serializeIframePlaylist({
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList: false,
      iframes: [{ duration: 2, uri: 's.ts', offset: 0, length: 10 }], partTarget: 1 / 3,
    });
    for (const text of [image, iframe]) {
      assert.ok(text.includes(head), text);
      // The same PART-HOLD-BACK the run's media playlists carry (3 parts), read back by a parser.
      const { manifest, warnings } = parsePlaylist(text);
      assert.deepEqual([manifest.serverControl?.partHoldBack, manifest.partTargetDuration, manifest.serverControl?.canBlockReload, manifest.serverControl?.canSkipUntil], [1.00002, 0.33334, false, undefined]);
      assert.deepEqual(warnings, []);
    }
    assert.throws(() => serializeImagePlaylist({
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT', endList: false, resolution: { width: 320, height: 180 }, images: [], partTarget: 0,
    }), /partTarget/);
  });
});

describe('WebVTT', () => {
  test('X-TIMESTAMP-MAP, identifiers, timestamps and escaped cue text', () => {
    assert.equal(webVttTimestamp(3725.0042), '01:02:05.004');
    assert.equal(
      serializeWebVtt({ mpegts: 126000, cues: [{ id: 'c1', start: 1, end: 2.5, text: 'a < b & c > d\n\n\nsecond line' }] }),
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\nc1\n00:00:01.000 --> 00:00:02.500\na &lt; b &amp; c &gt; d\nsecond line\n',
    );
    assert.throws(() => serializeWebVtt({ cues: [{ start: 2, end: 2, text: 'x' }] }), /a time after its start \(2\) for cue end/);
    assert.throws(() => serializeWebVtt({ cues: [{ id: 'a --> b', start: 0, end: 1, text: 'x' }] }), /one line without -->/);
  });
});

describe('master playlist companions', () => {
  const variant: VariantStream = {
    uri: 'high.m3u8', bandwidth: 1000, codecs: 'avc1.64001f,mp4a.40.2', resolution: { width: 640, height: 360 }, frameRate: 30, name: 'high', subtitles: 'subs',
  };
  test('EXT-X-MEDIA before the variants, SUBTITLES on them, I-frame and image streams after', () => {
    const text = serializeMasterPlaylist({
      independentSegments: true,
      media: [{ type: 'SUBTITLES', groupId: 'subs', name: 'English', language: 'en', default: true, autoselect: true, uri: 'en.m3u8' }],
      variants: [variant],
      iframeStreams: [{ uri: 'high-i.m3u8', bandwidth: 200, averageBandwidth: 100, codecs: 'avc1.64001f', resolution: { width: 640, height: 360 } }],
      imageStreams: [{ uri: 'images.m3u8', bandwidth: 9000, resolution: { width: 320, height: 180 }, codecs: 'jpeg' }],
    });
    assert.equal(text, [
      '#EXTM3U', '#EXT-X-VERSION:1', '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="en.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000,CLOSED-CAPTIONS=NONE,NAME="high",SUBTITLES="subs"', 'high.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=200,AVERAGE-BANDWIDTH=100,CODECS="avc1.64001f",RESOLUTION=640x360,URI="high-i.m3u8"',
      '#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=9000,RESOLUTION=320x180,CODECS="jpeg",URI="images.m3u8"', '',
    ].join('\n'));
    const parsed = parsePlaylist(text);
    assert.deepEqual(parsed.warnings, []);
    assert.equal(parsed.manifest.iFramePlaylists?.[0]?.uri, 'high-i.m3u8');
  });

  test('a SUBTITLES group that no EXT-X-MEDIA defines, and DEFAULT without AUTOSELECT, are refused', () => {
    assert.throws(() => serializeMasterPlaylist({ independentSegments: true, variants: [variant] }), /one of the EXT-X-MEDIA groups \(none\) for subtitles of variant 0/);
    assert.throws(() => serializeMasterPlaylist({
      independentSegments: true, variants: [],
      media: [{ type: 'SUBTITLES', groupId: 'subs', name: 'x', default: true, autoselect: false, uri: 'x.m3u8' }],
    }), /true when default is true for autoselect of media 0/);
  });
});
