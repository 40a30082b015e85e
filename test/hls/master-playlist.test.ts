import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MASTER_PLAYLIST_VERSION, serializeMasterPlaylist, type VariantStream } from '../../src/hls/index.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const variants: VariantStream[] = [
  {
    uri: '/runs/7/quality/1080p/playlist.m3u8',
    bandwidth: 7_612_345,
    averageBandwidth: 4_950_001,
    codecs: 'avc1.640028',
    resolution: { width: 1920, height: 1080 },
    frameRate: 30000 / 1001,
    name: '1080p',
  },
  {
    uri: '/runs/7/quality/720p/playlist.m3u8',
    bandwidth: 4_500_000,
    averageBandwidth: 2_800_000,
    codecs: 'avc1.64001f',
    resolution: { width: 1280, height: 720 },
    frameRate: 30000 / 1001,
    name: '720p',
  },
  {
    uri: 'https://ipfs.io/ipfs/bafkreiplaylist360',
    bandwidth: 1_200_000,
    codecs: 'avc1.42c01e',
    resolution: { width: 640, height: 360 },
    frameRate: 25,
    name: '360p',
  },
];

describe('serializeMasterPlaylist', () => {
  test('every variant reads back with its attributes and URI', () => {
    const text = serializeMasterPlaylist({ independentSegments: true, variants });
    const { manifest, warnings } = parsePlaylist(text);
    assert.deepEqual(warnings, []);
    assert.equal(manifest.version, MASTER_PLAYLIST_VERSION);
    assert.equal(manifest.independentSegments, true);
    assert.equal(manifest.playlists?.length, variants.length);
    manifest.playlists!.forEach((parsed, index) => {
      const variant = variants[index];
      assert.equal(parsed.uri, variant.uri);
      assert.equal(parsed.attributes.BANDWIDTH, variant.bandwidth);
      assert.equal(
        parsed.attributes['AVERAGE-BANDWIDTH'] === undefined ? undefined : Number(parsed.attributes['AVERAGE-BANDWIDTH']),
        variant.averageBandwidth,
      );
      assert.equal(parsed.attributes.CODECS, variant.codecs);
      assert.deepEqual(parsed.attributes.RESOLUTION, variant.resolution);
      assert.equal(parsed.attributes['FRAME-RATE'], Number(variant.frameRate.toFixed(3)));
      assert.equal(parsed.attributes.NAME, variant.name);
      // No CEA-608/708 captions in the video: NONE on every variant (RFC 8216bis 4.4.6.2), so players do not probe for them.
      assert.equal(parsed.attributes['CLOSED-CAPTIONS'], 'NONE');
    });
  });

  test('STREAM-INF uses the RFC 8216 attribute names, quoting and number formats', () => {
    const lines = serializeMasterPlaylist({ independentSegments: true, variants }).split('\n');
    assert.deepEqual(lines.slice(0, 3), ['#EXTM3U', `#EXT-X-VERSION:${MASTER_PLAYLIST_VERSION}`, '#EXT-X-INDEPENDENT-SEGMENTS']);
    const streamInf = lines.filter((line) => line.startsWith('#EXT-X-STREAM-INF:'));
    assert.equal(streamInf.length, variants.length);
    assert.match(
      streamInf[0],
      /^#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="[^"]+",RESOLUTION=\d+x\d+,FRAME-RATE=\d+\.\d{3},CLOSED-CAPTIONS=NONE,NAME="[^"]+"$/,
    );
    assert.ok(streamInf[0].includes('FRAME-RATE=29.970,'));
    assert.ok(streamInf[2].includes('FRAME-RATE=25.000,'));
    assert.ok(!streamInf[2].includes('AVERAGE-BANDWIDTH'));
    // Each STREAM-INF is followed by its URI line.
    streamInf.forEach((line, index) => assert.equal(lines[lines.indexOf(line) + 1], variants[index].uri));
  });

  test('EXT-X-INDEPENDENT-SEGMENTS only when asked for', () => {
    const text = serializeMasterPlaylist({ independentSegments: false, variants });
    assert.ok(!text.includes('#EXT-X-INDEPENDENT-SEGMENTS'));
    assert.equal(parsePlaylist(text).manifest.independentSegments, undefined);
  });

  test('values that would break the attribute list are rejected', () => {
    const withVariant = (change: Partial<VariantStream>) => ({ independentSegments: true, variants: [{ ...variants[0], ...change }] });
    assert.throws(() => serializeMasterPlaylist(withVariant({ codecs: 'avc1.640028", x="y' })), /for codecs of variant 0/);
    assert.throws(() => serializeMasterPlaylist(withVariant({ codecs: '' })), /non-empty string for codecs of variant 0/);
    assert.throws(() => serializeMasterPlaylist(withVariant({ name: 'a\nb' })), /for name of variant 0/);
    assert.throws(() => serializeMasterPlaylist(withVariant({ bandwidth: 0 })), {
      name: 'RangeError',
      message: /^Expected integer between 1 and \d+ for bandwidth of variant 0 but received 0$/,
    });
    assert.throws(() => serializeMasterPlaylist(withVariant({ bandwidth: 1.5 })), /bandwidth of variant 0 but received 1.5/);
    assert.throws(() => serializeMasterPlaylist(withVariant({ averageBandwidth: -3 })), /averageBandwidth of variant 0/);
    assert.throws(() => serializeMasterPlaylist(withVariant({ resolution: { width: 0, height: 720 } })), /width of variant 0/);
    assert.throws(() => serializeMasterPlaylist(withVariant({ frameRate: 0 })), /frameRate of variant 0/);
    assert.throws(() => serializeMasterPlaylist(withVariant({ uri: '' })), /uri of variant 0/);
  });
});
