import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averageBandwidth,
  bandwidthUpperBound,
  maxrateBandwidth,
  peakBandwidth,
  serializeMasterPlaylist,
  variantBandwidth,
} from '../../src/hls/index.js';
import { parsePlaylist } from '../support/parse-playlist.js';

// 2-second segments at 1, 2 and 1.2 Mbit/s.
const steady = [
  { bytes: 250_000, duration: 2 },
  { bytes: 500_000, duration: 2 },
  { bytes: 300_000, duration: 2 },
];

describe('peakBandwidth', () => {
  test('is the largest segment bit rate in bits/s', () => {
    assert.equal(peakBandwidth(steady, 2), 2_000_000);
  });

  test('a short tail segment counts together with its neighbour (0.5 to 1.5 x target duration)', () => {
    // Alone the 0.2 s tail runs at 4 Mbit/s; with the segment before it, 2.2 s at 350 kB.
    const withTail = [...steady.slice(0, 1), { bytes: 250_000, duration: 2 }, { bytes: 100_000, duration: 0.2 }];
    const peak = peakBandwidth(withTail, 2)!;
    assert.equal(peak, Math.ceil((350_000 * 8) / 2.2));
    assert.ok(peak < (100_000 * 8) / 0.2);
  });

  test('with too little listed for any qualifying run, the largest single-segment rate', () => {
    assert.equal(peakBandwidth([{ bytes: 30_000, duration: 0.3 }], 2), 800_000);
  });

  test('results are whole bits/s, rounded up', () => {
    const peak = peakBandwidth([{ bytes: 1001, duration: 3 }], 2)!;
    assert.ok(Number.isInteger(peak));
    assert.ok(peak >= (1001 * 8) / 3 && peak - (1001 * 8) / 3 < 1);
    assert.equal(peakBandwidth([{ bytes: 1000, duration: 2 }], 2), 4000);
  });

  test('no segments: undefined; bad input: option errors', () => {
    assert.equal(peakBandwidth([], 2), undefined);
    assert.throws(() => peakBandwidth(steady, 0), /positive number of seconds for targetDuration but received 0/);
    assert.throws(() => peakBandwidth([{ bytes: -1, duration: 2 }], 2), /bytes of segment 0 but received -1/);
    assert.throws(() => peakBandwidth([{ bytes: 1, duration: 0 }], 2), /duration of segment 0 but received 0/);
  });
});

describe('averageBandwidth', () => {
  test('is all listed bits over all listed seconds', () => {
    assert.equal(averageBandwidth(steady), (1_050_000 * 8) / 6);
    assert.equal(averageBandwidth([]), undefined);
  });
});

describe('bandwidthUpperBound', () => {
  test('is the maxrate plus audio plus MPEG-TS overhead, so above both', () => {
    assert.equal(maxrateBandwidth(3000), 4_500_000);
    assert.equal(maxrateBandwidth(800), 1_200_000);
    assert.throws(() => maxrateBandwidth(0), /positive number of kbit\/s for bitrate but received 0/);
    const video = bandwidthUpperBound({ bitrateKbps: 800, fps: 30 });
    const withAudio = bandwidthUpperBound({ bitrateKbps: 800, fps: 30, audioKbps: 128 });
    // 188/184 of 1.2 Mbit/s, a PES header and a padded packet per frame, PAT/PMT 10 times a second.
    assert.equal(video, Math.ceil((1_200_000 * 188) / 184 + 30 * (19 + 188) * 8 + 20 * 188 * 8));
    assert.ok(withAudio - video > 128_000, 'audio counts with its packet overhead');
    assert.ok(bandwidthUpperBound({ bitrateKbps: 800, fps: 60 }) > video, 'more frames, more per-frame overhead');
    assert.throws(() => bandwidthUpperBound({ bitrateKbps: 800, fps: 0 }), /positive number of frames per second for fps/);
    assert.throws(() => bandwidthUpperBound({ bitrateKbps: 800, fps: 30, audioKbps: -1 }), /at least 0 for audioKbps/);
  });
});

describe('variantBandwidth', () => {
  const live = { live: true, fps: 30 };
  const ended = { live: false, fps: 30 };
  const bound = bandwidthUpperBound({ bitrateKbps: 3000, fps: 30 });

  test('before the first segment: the bound and no average', () => {
    assert.deepEqual(variantBandwidth([], 2, 3000, live), { bandwidth: bound });
    assert.deepEqual(variantBandwidth([], 2, 3000, ended), { bandwidth: bound });
  });

  test('while live, a low first peak does not lower BANDWIDTH below the bound', () => {
    // Segment 0 of a stream at 1 Mbit/s: its rate is all a viewer would see without the bound,
    // and the next segments (up to the 4.5 Mbit/s maxrate) would exceed it.
    assert.deepEqual(variantBandwidth([steady[0]], 2, 3000, live), { bandwidth: bound, averageBandwidth: 1_000_000 });
    // A measured peak above the bound (a VBV burst) wins.
    const burst = [{ bytes: 1_500_000, duration: 2 }];
    assert.deepEqual(variantBandwidth(burst, 2, 3000, live), { bandwidth: 6_000_000, averageBandwidth: 6_000_000 });
  });

  test('once the playlist has ENDLIST: measured values, which a master playlist carries', () => {
    const measured = variantBandwidth(steady, 2, 3000, ended);
    assert.deepEqual(measured, { bandwidth: 2_000_000, averageBandwidth: 1_400_000 });
    const text = serializeMasterPlaylist({
      independentSegments: true,
      variants: [
        { uri: 'v.m3u8', ...measured, codecs: 'avc1.64001f', resolution: { width: 1280, height: 720 }, frameRate: 30, name: '720p' },
      ],
    });
    const [variant] = parsePlaylist(text).manifest.playlists!;
    assert.equal(variant.attributes.BANDWIDTH, 2_000_000);
    assert.equal(Number(variant.attributes['AVERAGE-BANDWIDTH']), 1_400_000);
  });
});

describe('BandwidthMeter', () => {
  test('counts one segment at a time what peakBandwidth and averageBandwidth compute over all of them', async () => {
    const { BandwidthMeter } = await import('../../src/hls/bandwidth.js');
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const targetDuration of [1, 2, 4]) {
      const segments = Array.from({ length: 300 }, () => ({
        bytes: Math.floor(random() * 500_000),
        duration: Math.max(0.04, Number((random() * targetDuration * 1.2).toFixed(3))),
      }));
      const meter = new BandwidthMeter(targetDuration);
      assert.equal(meter.peak, undefined);
      assert.equal(meter.average, undefined);
      segments.forEach((segment, position) => {
        meter.add(segment);
        const seen = segments.slice(0, position + 1);
        assert.equal(meter.peak, peakBandwidth(seen, targetDuration), `peak after ${position + 1} (target ${targetDuration})`);
        assert.equal(meter.average, averageBandwidth(seen));
      });
      const ended = { live: false, fps: 30 };
      assert.deepEqual(variantBandwidth(meter, targetDuration, 3000, ended), variantBandwidth(segments, targetDuration, 3000, ended));
    }
  });
});
