// MPD serializer (ISO/IEC 23009-1). Pure: model in, XML text out. Elements are
// written in the order the MPD schema's sequences give them (ServiceDescription
// before Period, UTCTiming after it), attributes as the standard spells them.
import { invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';
import type { AdaptationSet, Mpd, Representation, SegmentTemplate } from './types.js';

export const MPD_NAMESPACE = 'urn:mpeg:dash:schema:mpd:2011';
/** The ISO base media file format live profile (8.4): SegmentTemplate addressing of fragmented MP4. */
export const PROFILE_ISOFF_LIVE = 'urn:mpeg:dash:profile:isoff-live:2011';
export const MPD_CONTENT_TYPE = 'application/dash+xml';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** An attribute value, escaped for a double-quoted XML attribute. */
const escapeAttribute = (value: string) => value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);

/** Seconds with at most millisecond precision, without trailing zeros. */
function decimalSeconds(seconds: number): string {
  return String(Math.round(seconds * 1000) / 1000);
}

/** xs:duration of `seconds` (PT…S: what players parse; minutes and hours are optional). */
export function xsDuration(name: string, seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw invalidParameterError(name, 'non-negative number of seconds', seconds);
  }
  return `PT${decimalSeconds(seconds)}S`;
}

/** xs:dateTime in UTC, with milliseconds. */
export function xsDateTime(name: string, date: unknown): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw invalidParameterError(name, 'valid Date', date);
  return date.toISOString();
}

function unsigned(name: string, value: unknown, min = 0): string {
  if (!isInteger(value) || value < min || value > Number.MAX_SAFE_INTEGER) {
    throw invalidParameterError(name, `integer between ${min} and ${Number.MAX_SAFE_INTEGER}`, value);
  }
  return String(value);
}

function text(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidParameterError(name, 'non-empty string', value);
  return escapeAttribute(value);
}

/** FrameRateType: an integer, or a fraction when the rate is not whole (29.97 → 30000/1001). */
function frameRate(name: string, fps: unknown): string {
  if (!isPositiveFinite(fps)) throw invalidParameterError(name, 'positive number', fps);
  if (Number.isInteger(fps)) return String(fps);
  const ntsc = Math.round(fps * 1001);
  if (Math.abs(ntsc / 1001 - fps) < 1e-6) return `${ntsc}/1001`;
  return `${Math.round(fps * 1000)}/1000`;
}

/** Element text: `<name a="1" …/>` or with children. */
function element(name: string, attributes: [string, string | undefined][], children: string[] = [], indent = ''): string {
  const attrs = attributes.filter(([, value]) => value !== undefined).map(([key, value]) => ` ${key}="${value}"`).join('');
  if (children.length === 0) return `${indent}<${name}${attrs}/>`;
  return `${indent}<${name}${attrs}>\n${children.join('\n')}\n${indent}</${name}>`;
}

function segmentTemplate(template: SegmentTemplate, at: string, indent: string): string {
  const { availabilityTimeOffset: ato, availabilityTimeComplete: atc } = template;
  if (!template.media.includes('$Number$')) throw invalidParameterError(`${at}.media`, 'URL template with $Number$', template.media);
  if (ato !== undefined && (typeof ato !== 'number' || !Number.isFinite(ato) || ato < 0)) {
    throw invalidParameterError(`${at}.availabilityTimeOffset`, 'non-negative number of seconds', ato);
  }
  return element('SegmentTemplate', [
    ['timescale', unsigned(`${at}.timescale`, template.timescale, 1)],
    ['duration', unsigned(`${at}.duration`, template.duration, 1)],
    ['startNumber', unsigned(`${at}.startNumber`, template.startNumber)],
    ['presentationTimeOffset', unsigned(`${at}.presentationTimeOffset`, template.presentationTimeOffset)],
    ['initialization', text(`${at}.initialization`, template.initialization)],
    ['media', text(`${at}.media`, template.media)],
    ['availabilityTimeOffset', ato === undefined ? undefined : decimalSeconds(ato)],
    ['availabilityTimeComplete', atc === undefined ? undefined : String(atc)],
  ], [], indent);
}

function representation(rep: Representation, at: string, indent: string): string {
  return element('Representation', [
    ['id', text(`${at}.id`, rep.id)],
    ['bandwidth', unsigned(`${at}.bandwidth`, rep.bandwidth, 1)],
    ['codecs', text(`${at}.codecs`, rep.codecs)],
    ['width', unsigned(`${at}.width`, rep.width, 1)],
    ['height', unsigned(`${at}.height`, rep.height, 1)],
    ...(rep.frameRate === undefined ? [] : [['frameRate', frameRate(`${at}.frameRate`, rep.frameRate)] as [string, string]]),
  ], [segmentTemplate(rep.segmentTemplate, `${at}.segmentTemplate`, `${indent}  `)], indent);
}

function adaptationSet(set: AdaptationSet, at: string, indent: string): string {
  if (set.representations.length === 0) throw invalidParameterError(`${at}.representations`, 'non-empty array', set.representations);
  const most = (pick: (rep: Representation) => number) => Math.max(...set.representations.map(pick));
  return element('AdaptationSet', [
    ['id', unsigned(`${at}.id`, set.id)],
    ['mimeType', text(`${at}.mimeType`, set.mimeType)],
    ['segmentAlignment', String(set.segmentAlignment)],
    ['startWithSAP', unsigned(`${at}.startWithSAP`, set.startWithSAP)],
    ['maxWidth', String(most((rep) => rep.width))],
    ['maxHeight', String(most((rep) => rep.height))],
    ['maxFrameRate', set.maxFrameRate === undefined ? undefined : frameRate(`${at}.maxFrameRate`, set.maxFrameRate)],
  ], set.representations.map((rep, i) => representation(rep, `${at}.representations[${i}]`, `${indent}  `)), indent);
}

export function serializeMpd(mpd: Mpd): string {
  if (mpd.type !== 'static' && mpd.type !== 'dynamic') throw invalidParameterError('type', 'one of "static", "dynamic"', mpd.type);
  if (mpd.profiles.length === 0) throw invalidParameterError('profiles', 'non-empty array', mpd.profiles);
  const dynamic = mpd.type === 'dynamic';
  if (dynamic && mpd.availabilityStartTime === undefined) throw invalidParameterError('availabilityStartTime', 'Date for a dynamic MPD', undefined);
  const optional = (name: string, value: number | undefined) => (value === undefined ? undefined : xsDuration(name, value));
  const children: string[] = [];
  const service = mpd.serviceDescription;
  if (service) {
    const { latency, playbackRate } = service;
    const rate = (name: string, value: number) => {
      if (!isPositiveFinite(value)) throw invalidParameterError(name, 'positive number', value);
      return String(value);
    };
    children.push(element('ServiceDescription', [['id', unsigned('serviceDescription.id', service.id)]], [
      element('Latency', [
        ['target', unsigned('latency.target', latency.target)],
        ['min', unsigned('latency.min', latency.min)],
        ['max', unsigned('latency.max', latency.max)],
      ], [], '    '),
      element('PlaybackRate', [['min', rate('playbackRate.min', playbackRate.min)], ['max', rate('playbackRate.max', playbackRate.max)]], [], '    '),
    ], '  '));
  }
  if (mpd.periods.length === 0) throw invalidParameterError('periods', 'non-empty array', mpd.periods);
  mpd.periods.forEach((period, p) => {
    // The one Period of a run is written as `period` (its messages name it so).
    const at = mpd.periods.length === 1 ? 'period' : `periods[${p}]`;
    const previous = mpd.periods[p - 1];
    // Periods follow each other: a Period that ends early (@duration) may leave a gap before the next, never an overlap.
    if (previous && !(period.start > previous.start && period.start >= previous.start + (previous.duration ?? 0) - 1e-6)) {
      throw invalidParameterError(`${at}.start`, `number of seconds after the previous Period's end (${previous.start + (previous.duration ?? 0)})`, period.start);
    }
    children.push(element('Period', [
      ['id', text(`${at}.id`, period.id)],
      ['start', xsDuration(`${at}.start`, period.start)],
      ['duration', period.duration === undefined ? undefined : xsDuration(`${at}.duration`, period.duration)],
    ], period.adaptationSets.map((set, i) => adaptationSet(set, `${at}.adaptationSets[${i}]`, '    ')), '  '));
  });
  mpd.utcTimings.forEach((timing, i) => {
    children.push(element('UTCTiming', [
      ['schemeIdUri', text(`utcTimings[${i}].schemeIdUri`, timing.schemeIdUri)],
      ['value', text(`utcTimings[${i}].value`, timing.value)],
    ], [], '  '));
  });
  const root = element('MPD', [
    ['xmlns', MPD_NAMESPACE],
    ['profiles', mpd.profiles.map((profile, i) => text(`profiles[${i}]`, profile)).join(',')],
    ['type', mpd.type],
    ['availabilityStartTime', mpd.availabilityStartTime === undefined ? undefined : xsDateTime('availabilityStartTime', mpd.availabilityStartTime)],
    ['publishTime', xsDateTime('publishTime', mpd.publishTime)],
    ['minimumUpdatePeriod', optional('minimumUpdatePeriod', mpd.minimumUpdatePeriod)],
    ['timeShiftBufferDepth', optional('timeShiftBufferDepth', mpd.timeShiftBufferDepth)],
    ['suggestedPresentationDelay', optional('suggestedPresentationDelay', mpd.suggestedPresentationDelay)],
    ['mediaPresentationDuration', optional('mediaPresentationDuration', mpd.mediaPresentationDuration)],
    ['maxSegmentDuration', optional('maxSegmentDuration', mpd.maxSegmentDuration)],
    ['minBufferTime', xsDuration('minBufferTime', mpd.minBufferTime)],
  ], children);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
