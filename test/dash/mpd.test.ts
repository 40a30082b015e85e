// The MPD serializer and the live MPD model, without a server: element order and
// attributes as ISO/IEC 23009-1 writes them (checked by test/support/mpd-check.ts,
// an independent parser), the LL and live-to-VoD shapes, and bad values refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { serializeMpd, xsDuration } from '../../src/dash/mpd.js';
import { CHANNEL_AVAILABILITY_START, channelMpd, latencyTargets, liveMpd, MPD_TIMESCALE, type ChannelMpdInput, type LiveMpdInput } from '../../src/server/live-mpd.js';
import { checkMpd, SCHEMA_SKIP, validateMpdSchema } from '../support/mpd-check.js';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const input: LiveMpdInput = {
  startedAt: new Date(NOW.getTime() - 61_000),
  segmentDuration: 2,
  partTarget: 1 / 3,
  ptsOffset: 1.4,
  updatedAt: new Date(NOW.getTime() - 5000),
  now: NOW,
  renditions: [
    { name: '720p', bandwidth: 3_750_000, codecs: 'avc1.64001f,mp4a.40.2', width: 1280, height: 720, frameRate: 30, initialization: '/ipfs/bafy1', media: 'quality/720p/segment/$Number$.m4s' },
    { name: '360p', bandwidth: 1_200_000, codecs: 'avc1.64001e,mp4a.40.2', width: 640, height: 360, frameRate: 30, initialization: '/ipfs/bafy2', media: 'quality/360p/segment/$Number$.m4s' },
  ],
};

describe('MPD', () => {
  test('a live run: dynamic, LL signalling, the time-shift buffer in whole segments, publishTime at its last change', () => {
    const mpd = liveMpd(input);
    const checked = checkMpd(serializeMpd(mpd), NOW);
    assert.equal(checked.type, 'dynamic');
    assert.equal(mpd.timeShiftBufferDepth, 62, '61 s of run, counted in whole 2-s segments');
    assert.equal(mpd.publishTime.getTime(), input.startedAt.getTime() + 60_000, 'the MPD changed when the 31st segment began');
    assert.equal(mpd.suggestedPresentationDelay, undefined);
    const template = mpd.periods[0].adaptationSets[0].representations[0].segmentTemplate;
    assert.deepEqual(
      [template.timescale, template.duration, template.startNumber, template.presentationTimeOffset, template.availabilityTimeComplete],
      [MPD_TIMESCALE, 2 * MPD_TIMESCALE, 0, 126_000, false],
    );
    assert.ok(Math.abs(template.availabilityTimeOffset! - (2 - 1 / 3)) < 1e-9);
    assert.deepEqual(latencyTargets(1 / 3, 2), { target: 1333, min: 667, max: 5333 });
    assert.equal(mpd.periods[0].adaptationSets[0].representations[0].frameRate, undefined, 'no @frameRate (dash.js would ask MediaCapabilities about muxed codecs)');
    assert.equal(mpd.periods[0].adaptationSets[0].maxFrameRate, 30);
  });

  test('a channel\'s run numbers its segments from its first Media Sequence Number: startNumber is it', () => {
    // Its segment URIs are by MSN (the LL-HLS ones), and its first segment starts at availabilityStartTime.
    const mpd = liveMpd({ ...input, firstNumber: 412 });
    checkMpd(serializeMpd(mpd), NOW);
    assert.deepEqual(mpd.periods[0].adaptationSets[0].representations.map((r) => r.segmentTemplate.startNumber), [412, 412]);
  });

  test('an ended run: static, its duration, no live-only attributes, the same URLs', () => {
    const text = serializeMpd(liveMpd({ ...input, endedDuration: 59.5 }));
    const checked = checkMpd(text, NOW);
    assert.equal(checked.type, 'static');
    assert.match(text, /mediaPresentationDuration="PT59.5S"/);
    assert.doesNotMatch(text, /minimumUpdatePeriod|timeShiftBufferDepth|availabilityTimeOffset|ServiceDescription/);
    assert.equal(checked.representations[1].template.media, 'quality/360p/segment/$Number$.m4s');
  });

  test('values that would break the XML or the schema are refused, text is escaped', () => {
    const mpd = liveMpd(input);
    const rep = mpd.periods[0].adaptationSets[0].representations[0];
    const withRep = (changes: object) => ({
      ...mpd,
      periods: [{ ...mpd.periods[0], adaptationSets: [{ ...mpd.periods[0].adaptationSets[0], representations: [{ ...rep, ...changes }] }] }],
    });
    assert.throws(() => serializeMpd(withRep({ bandwidth: 0 })), /Expected integer between 1 .* for period.adaptationSets\[0\].representations\[0\].bandwidth but received 0/);
    assert.throws(() => serializeMpd(withRep({ id: '' })), /non-empty string/);
    assert.throws(() => serializeMpd(withRep({ segmentTemplate: { ...rep.segmentTemplate, media: 'segment.m4s' } })), /\$Number\$/);
    assert.throws(() => serializeMpd({ ...mpd, availabilityStartTime: undefined }), /availabilityStartTime/);
    assert.throws(() => xsDuration('x', -1), /non-negative/);
    assert.match(serializeMpd(withRep({ id: 'a"<b>&' })), /id="a&quot;&lt;b&gt;&amp;"/);
    assert.match(serializeMpd(withRep({ frameRate: 30000 / 1001 })), /frameRate="30000\/1001"/);
  });

  // Run a: MSNs 0…29 (30 s), its producer gone; run b started 4.5 s after a's last segment ended and numbers from 30.
  const aStart = new Date(NOW.getTime() - 50_000);
  const bStart = new Date(aStart.getTime() + 30_000 + 4500);
  const channel: ChannelMpdInput = {
    availabilityStartTime: CHANNEL_AVAILABILITY_START,
    segmentDuration: 1, partTarget: 1 / 3, ptsOffset: 1.4, windowSeconds: 20, updatedAt: new Date(NOW.getTime() - 800), now: NOW,
    periods: [
      { id: 'ra', startedAt: aStart, firstNumber: 0, renditions: input.renditions, duration: 30 },
      { id: 'rb', startedAt: bStart, firstNumber: 30, renditions: input.renditions.map((r) => ({ ...r, initialization: `${r.initialization}b` })) },
    ],
  };

  test('a channel across a producer restart: a Period per run on the channel\'s timeline, the previous one ending with its last listed segment', () => {
    const mpd = channelMpd(channel);
    const checked = checkMpd(serializeMpd(mpd), NOW);
    assert.equal(checked.type, 'dynamic');
    assert.equal(checked.availabilityStartTime?.getTime(), 0, 'the Unix epoch: one origin whatever runs are listed');
    assert.deepEqual(checked.periods.map((p) => [p.id, p.start, p.duration]), [
      ['ra', aStart.getTime() / 1000, 30],
      ['rb', bStart.getTime() / 1000, undefined],
    ]);
    assert.deepEqual(checked.periods.map((p) => p.representations[0].template.startNumber), ['0', '30']);
    assert.deepEqual(checked.periods.map((p) => p.representations[1].template.initialization), ['/ipfs/bafy2', '/ipfs/bafy2b'], 'each Period its run\'s init segment');
    assert.deepEqual(checked.periods.map((p) => p.representations[0].template.media), ['quality/720p/segment/$Number$.m4s', 'quality/720p/segment/$Number$.m4s']);
    for (const period of checked.periods) assert.equal(period.representations[0].template.availabilityTimeComplete, 'false', 'LL signalling in every Period');
    assert.equal(mpd.timeShiftBufferDepth, 20, 'the window');
    assert.equal(mpd.publishTime.getTime(), bStart.getTime() + 15_000, 'the newest segment boundary of the current run');
    assert.ok(mpd.serviceDescription);
    // The serializer refuses a Period that starts before the previous one ends, and the check catches one written anyway.
    const overlapping = { ...mpd, periods: [{ ...mpd.periods[0], duration: 40 }, mpd.periods[1]] };
    assert.throws(() => serializeMpd(overlapping), /periods\[1\]\.start/);
    const text = serializeMpd(mpd).replace('duration="PT30S"', 'duration="PT40S"');
    assert.throws(() => checkMpd(text, NOW), /Period ra ends at .* after the next one starts/);
  });

  test('the live, ended and channel MPDs validate against DASH-MPD.xsd (ABRCAST_DASH_XSD)', { skip: SCHEMA_SKIP }, () => {
    for (const mpd of [liveMpd(input), liveMpd({ ...input, endedDuration: 59.5 }), channelMpd(channel)]) validateMpdSchema(serializeMpd(mpd));
    // It can fail: UTCTiming moved before the Periods is out of the schema's order.
    const text = serializeMpd(channelMpd(channel));
    const timing = /  <UTCTiming[^>]*\/>\n/.exec(text)![0];
    assert.throws(() => validateMpdSchema(text.replace(timing, '').replace('  <Period', `${timing}  <Period`)), /UTCTiming/);
  });
});
