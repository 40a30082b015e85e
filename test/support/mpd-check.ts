// An independent check of the MPDs abrcast serves, against the rules that can
// be checked offline: ISO/IEC 23009-1's MPD schema for what abrcast writes
// (elements in the schema's sequence order, attributes of the right types,
// required ones present), and the DASH-IF IOP rules for dynamic MPDs (UTCTiming,
// availability start, update period, time-shift buffer, SegmentTemplate
// addressing), its low-latency rules (ServiceDescription, availabilityTimeOffset)
// and its live-to-VoD rules for the static MPD of an ended run; with several
// Periods (a channel's), the Period timeline (5.3.2.1: each after the one before,
// an early terminated one never past the next one's start, ids unique). Parsed with
// @xmldom/xmldom (a W3C DOM), not with the code that wrote it. No package ships
// the normative DASH-MPD.xsd (docs/players.md says where it was looked for).
import { spawnSync } from 'node:child_process';

import { DOMParser, type Element } from '@xmldom/xmldom';

const NS = 'urn:mpeg:dash:schema:mpd:2011';
const XS_DURATION = /^-?P(?!$)(\d+Y)?(\d+M)?(\d+D)?(T(?!$)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const XS_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const UNSIGNED = /^\d+$/;
/** DASH-IF IOP 4.7.2: the UTCTiming schemes a client is expected to know. */
const UTC_SCHEMES = new Set([
  'urn:mpeg:dash:utc:http-xsdate:2014', 'urn:mpeg:dash:utc:http-iso:2014', 'urn:mpeg:dash:utc:http-ntp:2014',
  'urn:mpeg:dash:utc:ntp:2014', 'urn:mpeg:dash:utc:http-head:2014', 'urn:mpeg:dash:utc:direct:2014',
]);
/** The MPD schema's MPDtype sequence (children in this order) and attributes. */
const MPD_CHILDREN = ['ProgramInformation', 'BaseURL', 'Location', 'ServiceDescription', 'InitializationSet', 'InitializationGroup', 'InitializationPresentation', 'Period', 'Metrics', 'EssentialProperty', 'SupplementalProperty', 'UTCTiming', 'LeapSecondInformation'];
const MPD_ATTRIBUTES = ['id', 'profiles', 'type', 'availabilityStartTime', 'availabilityEndTime', 'publishTime', 'mediaPresentationDuration', 'minimumUpdatePeriod', 'minBufferTime', 'timeShiftBufferDepth', 'suggestedPresentationDelay', 'maxSegmentDuration', 'maxSubsegmentDuration'];
const SEGMENT_TEMPLATE_ATTRIBUTES = ['media', 'index', 'initialization', 'bitstreamSwitching', 'duration', 'startNumber', 'endNumber', 'timescale', 'eptDelta', 'pdDelta', 'presentationTimeOffset', 'presentationDuration', 'timeShiftBufferDepth', 'availabilityTimeOffset', 'availabilityTimeComplete', 'indexRange', 'indexRangeExact'];

/** xs:duration in seconds (only the forms MPDs use: no years or months). */
export function durationSeconds(value: string): number {
  const match = /^PT?(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(value);
  if (!match) throw new Error(`not an xs:duration this check reads: ${value}`);
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

export interface CheckedRepresentation {
  id: string;
  bandwidth: number;
  template: Record<string, string>;
}

export interface CheckedPeriod {
  id: string;
  /** Seconds (PeriodStart). */
  start: number;
  /** Seconds, when the Period ends before the next one starts (@duration). */
  duration?: number;
  representations: CheckedRepresentation[];
}

export interface CheckedMpd {
  root: Element;
  type: 'static' | 'dynamic';
  availabilityStartTime?: Date;
  /** The first Period's (a run's MPD has one). */
  representations: CheckedRepresentation[];
  periods: CheckedPeriod[];
}

const children = (element: Element, name?: string) =>
  Array.from(element.childNodes).filter((node): node is Element => node.nodeType === 1 && (name === undefined || (node as Element).localName === name));

const attributes = (element: Element) => Object.fromEntries(Array.from(element.attributes).map((a) => [a.name, a.value]));

/**
 * Parses and checks an MPD; throws one error listing every problem found.
 * `now` is when it was fetched (publishTime may not be later).
 */
export function checkMpd(text: string, now = new Date()): CheckedMpd {
  const problems: string[] = [];
  const fail = (why: string) => problems.push(why);
  const document = new DOMParser({ onError: (level, message) => { if (level !== 'warning') fail(`XML ${level}: ${message}`); } }).parseFromString(text, 'application/xml');
  const root = document.documentElement;
  if (!root || root.localName !== 'MPD' || root.namespaceURI !== NS) throw new Error(`not an MPD in ${NS}: ${problems.join('; ')}`);
  const mpd = attributes(root);
  for (const name of Object.keys(mpd)) if (name !== 'xmlns' && !name.startsWith('xmlns:') && !MPD_ATTRIBUTES.includes(name)) fail(`MPD@${name} is not in the schema`);
  if (!mpd.profiles) fail('MPD@profiles is required');
  else if (!mpd.profiles.split(',').includes('urn:mpeg:dash:profile:isoff-live:2011')) fail(`MPD@profiles ${mpd.profiles} lacks the ISO BMFF live profile`);
  if (!mpd.minBufferTime) fail('MPD@minBufferTime is required');
  for (const name of ['minBufferTime', 'mediaPresentationDuration', 'minimumUpdatePeriod', 'timeShiftBufferDepth', 'suggestedPresentationDelay', 'maxSegmentDuration']) {
    if (mpd[name] !== undefined && !XS_DURATION.test(mpd[name])) fail(`MPD@${name} ${mpd[name]} is not an xs:duration`);
  }
  for (const name of ['availabilityStartTime', 'publishTime']) {
    if (mpd[name] !== undefined && !XS_DATETIME.test(mpd[name])) fail(`MPD@${name} ${mpd[name]} is not an xs:dateTime`);
  }
  const type = mpd.type ?? 'static';
  if (type !== 'static' && type !== 'dynamic') fail(`MPD@type ${type}`);

  // Children in the schema's order.
  let last = -1;
  for (const child of children(root)) {
    const position = MPD_CHILDREN.indexOf(child.localName!);
    if (position < 0) fail(`MPD has an unknown child ${child.localName}`);
    else if (position < last) fail(`MPD child ${child.localName} is out of the schema's order`);
    last = Math.max(last, position);
  }
  const periods = children(root, 'Period');
  if (periods.length === 0) fail('no Period');
  const utc = children(root, 'UTCTiming');

  const ast = mpd.availabilityStartTime ? new Date(mpd.availabilityStartTime) : undefined;
  if (type === 'dynamic') {
    // ISO/IEC 23009-1 5.3.1.2 and DASH-IF IOP 4.7: what a live client needs to compute the live edge.
    if (!ast) fail('a dynamic MPD needs availabilityStartTime');
    if (!mpd.publishTime) fail('a dynamic MPD needs publishTime');
    else if (new Date(mpd.publishTime).getTime() > now.getTime() + 1000) fail(`publishTime ${mpd.publishTime} is after the fetch (${now.toISOString()})`);
    if (mpd.minimumUpdatePeriod === undefined) fail('a dynamic MPD of a live run needs minimumUpdatePeriod (it ends by an update)');
    if (mpd.timeShiftBufferDepth === undefined) fail('timeShiftBufferDepth missing');
    if (mpd.mediaPresentationDuration !== undefined) fail('a live MPD has no mediaPresentationDuration yet');
    if (utc.length === 0) fail('DASH-IF IOP: a dynamic MPD needs UTCTiming');
  } else {
    // DASH-IF live-to-VoD: static, with its duration, without the live-only attributes.
    if (mpd.mediaPresentationDuration === undefined) fail('a static MPD needs mediaPresentationDuration');
    for (const name of ['minimumUpdatePeriod', 'timeShiftBufferDepth']) if (mpd[name] !== undefined) fail(`a static MPD should not have ${name}`);
  }
  for (const timing of utc) {
    const { schemeIdUri, value } = attributes(timing);
    if (!UTC_SCHEMES.has(schemeIdUri)) fail(`UTCTiming scheme ${schemeIdUri} is not one DASH-IF IOP lists`);
    if (!value) fail('UTCTiming@value missing');
  }

  const services = children(root, 'ServiceDescription');
  for (const service of services) {
    const latency = children(service, 'Latency')[0];
    if (latency) {
      const { target, min, max } = attributes(latency);
      for (const [name, value] of Object.entries({ target, min, max })) if (value !== undefined && !UNSIGNED.test(value)) fail(`Latency@${name} ${value} is not an unsignedInt (ms)`);
      if (!(Number(min) <= Number(target) && Number(target) <= Number(max))) fail(`Latency min ${min} ≤ target ${target} ≤ max ${max} does not hold`);
    } else fail('ServiceDescription without Latency');
    const rate = children(service, 'PlaybackRate')[0];
    if (rate && !(Number(rate.getAttribute('min')) <= 1 && Number(rate.getAttribute('max')) >= 1)) fail('PlaybackRate must allow 1.0');
  }

  const checkedPeriods: CheckedPeriod[] = [];
  const periodIds = new Set<string>();
  for (const [index, period] of periods.entries()) {
    const representations: CheckedRepresentation[] = [];
    const ids = new Set<string>();
    const { id, start, duration } = attributes(period);
    for (const name of Object.keys(attributes(period))) if (!['id', 'start', 'duration', 'bitstreamSwitching'].includes(name)) fail(`Period@${name} is not in the schema`);
    if (start === undefined && index === 0 && type === 'dynamic') fail('DASH-IF IOP: the first Period of a dynamic MPD has @start');
    for (const [name, value] of Object.entries({ start, duration })) if (value !== undefined && !XS_DURATION.test(value)) fail(`Period@${name} ${value} is not an xs:duration`);
    // 5.3.2.2: in a dynamic MPD every Period has an id, kept across updates; ids are unique within the MPD.
    if (type === 'dynamic' && !id) fail(`Period ${index} of a dynamic MPD has no @id`);
    if (id !== undefined && periodIds.has(id)) fail(`Period@id ${id} twice`);
    if (id !== undefined) periodIds.add(id);
    // 5.3.2.1: PeriodStart is @start, or the previous Period's start plus its @duration.
    const previous = checkedPeriods.at(-1);
    const startS = start !== undefined ? durationSeconds(start) : previous?.duration !== undefined ? previous.start + previous.duration : 0;
    if (previous) {
      if (!(startS > previous.start)) fail(`Period ${id} starts at ${startS} s, not after the previous one (${previous.start} s)`);
      // An early terminated Period (@duration with a later Period's @start) may leave a gap, never an overlap.
      if (previous.duration !== undefined && startS < previous.start + previous.duration - 1e-3) fail(`Period ${previous.id} ends at ${previous.start + previous.duration} s, after the next one starts (${startS} s)`);
    }
    const checked: CheckedPeriod = { id: id ?? '', start: startS, ...(duration !== undefined ? { duration: durationSeconds(duration) } : {}), representations };
    checkedPeriods.push(checked);
    for (const set of children(period, 'AdaptationSet')) {
      if (!set.getAttribute('mimeType')) fail('AdaptationSet@mimeType missing');
      if (set.getAttribute('segmentAlignment') !== 'true') fail('AdaptationSet@segmentAlignment should be true (DASH-IF IOP: switchable Representations)');
      if (!['1', '2'].includes(set.getAttribute('startWithSAP') ?? '')) fail('AdaptationSet@startWithSAP should be 1 or 2');
      for (const rep of children(set, 'Representation')) {
        const a = attributes(rep);
        if (!a.id || /\s/.test(a.id)) fail(`Representation@id ${a.id} missing or with whitespace`);
        if (ids.has(a.id)) fail(`Representation@id ${a.id} twice`);
        ids.add(a.id);
        if (!UNSIGNED.test(a.bandwidth ?? '') || Number(a.bandwidth) === 0) fail(`Representation ${a.id}: @bandwidth ${a.bandwidth}`);
        if (!a.codecs) fail(`Representation ${a.id}: @codecs missing`);
        const templates = children(rep, 'SegmentTemplate');
        if (templates.length !== 1) {
          fail(`Representation ${a.id}: ${templates.length} SegmentTemplates`);
          continue;
        }
        const t = attributes(templates[0]);
        for (const name of Object.keys(t)) if (!SEGMENT_TEMPLATE_ATTRIBUTES.includes(name)) fail(`SegmentTemplate@${name} is not in the schema`);
        for (const name of ['timescale', 'duration', 'startNumber', 'presentationTimeOffset']) {
          if (!UNSIGNED.test(t[name] ?? '')) fail(`Representation ${a.id}: SegmentTemplate@${name} ${t[name]} is not an unsigned integer`);
        }
        // $Number$ addressing, and no identifier 5.3.9.4.4 does not define for it.
        if (!(t.media ?? '').includes('$Number$') || t.media.replace(/\$(Number|RepresentationID|Bandwidth)\$/g, '').includes('$')) {
          fail(`Representation ${a.id}: SegmentTemplate@media ${t.media} is not $Number$ addressing`);
        }
        if (!t.initialization) fail(`Representation ${a.id}: SegmentTemplate@initialization missing`);
        const segment = Number(t.duration) / Number(t.timescale);
        if (t.availabilityTimeOffset !== undefined) {
          const ato = Number(t.availabilityTimeOffset);
          // DASH-IF IOP LL: a segment is asked for once its first chunk exists, never before it starts.
          if (!(ato > 0 && ato < segment)) fail(`Representation ${a.id}: availabilityTimeOffset ${ato} outside (0, ${segment})`);
          if (t.availabilityTimeComplete !== 'false') fail(`Representation ${a.id}: availabilityTimeOffset without availabilityTimeComplete="false"`);
          if (type === 'static') fail('availabilityTimeOffset in a static MPD');
        } else if (t.availabilityTimeComplete !== undefined) fail(`Representation ${a.id}: availabilityTimeComplete without availabilityTimeOffset`);
        if (type === 'dynamic' && t.availabilityTimeComplete === 'false' && services.length === 0) fail('DASH-IF IOP LL: a low-latency MPD carries a ServiceDescription');
        representations.push({ id: a.id, bandwidth: Number(a.bandwidth), template: t });
      }
    }
    if (representations.length === 0) fail(`no Representation in Period ${id}`);
  }
  if (problems.length > 0) throw new Error(`MPD check failed:\n- ${problems.join('\n- ')}\n${text}`);
  return {
    root, type: type as 'static' | 'dynamic', ...(ast ? { availabilityStartTime: ast } : {}),
    representations: checkedPeriods[0]?.representations ?? [], periods: checkedPeriods,
  };
}

/**
 * The normative schema ships in no npm, PyPI or Debian package (docs/players.md): with ABRCAST_DASH_XSD naming a
 * local DASH-MPD.xsd (MPEGGroup/DASHSchema, its xlink import pointed at a local copy), xmllint validates an MPD
 * against it. The reason a test skips without it, or undefined.
 */
export const SCHEMA_SKIP = process.env.ABRCAST_DASH_XSD ? false : 'ABRCAST_DASH_XSD is not set';

/** Validates `text` with `xmllint --schema $ABRCAST_DASH_XSD`; throws with xmllint's errors. */
export function validateMpdSchema(text: string): void {
  const result = spawnSync('xmllint', ['--noout', '--schema', process.env.ABRCAST_DASH_XSD!, '-'], { input: text, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`xmllint --schema ${process.env.ABRCAST_DASH_XSD}: ${result.stderr}${result.error ?? ''}`);
}
