// Checks of what callers hand the registry, before anything reaches the
// database: each names the value and what was expected (invalidParameterError).
import { invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';
import type { ResourceKey } from '../hls/types.js';
import type { MissingSegment, NewRun, PartInput, SegmentInput } from '../model/run-inputs.js';
import type { RunTracks } from '../model/run-tracks.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import { requireChannelName } from '../model/channel-name.js';
import { isValidQualityName, isValidRunId, QUALITY_NAME_PATTERN, RUN_ID_PATTERN } from './validation.js';

const MAX_INT32 = 2_147_483_647;
const MAX_URL_TEMPLATE_LENGTH = 2048;

export function requirePositiveInteger(name: string, value: unknown, max = MAX_INT32): void {
  if (!isInteger(value) || value < 1 || value > max) throw invalidParameterError(name, `integer between 1 and ${max}`, value);
}

/** A timeout or wait of the registry's clients, in whole milliseconds. */
export function requireMilliseconds(name: string, value: unknown): void {
  if (!isInteger(value) || value < 1) throw invalidParameterError(name, 'positive integer of milliseconds', value);
}

export function requireNonNegativeInteger(name: string, value: unknown, max = MAX_INT32): void {
  if (!isInteger(value) || value < 0 || value > max) throw invalidParameterError(name, `integer between 0 and ${max}`, value);
}

export function requirePositiveNumber(name: string, value: unknown): void {
  if (!isPositiveFinite(value)) throw invalidParameterError(name, 'positive finite number', value);
}

export function requireNonNegativeNumber(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidParameterError(name, 'non-negative finite number', value);
  }
}

export function requireNonEmptyString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) throw invalidParameterError(name, 'non-empty string', value);
}

export function requireQualityName(name: string, value: unknown): void {
  if (!isValidQualityName(value)) throw invalidParameterError(name, `string matching ${QUALITY_NAME_PATTERN}`, value);
}

export function requireUrlTemplate(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_TEMPLATE_LENGTH) {
    throw invalidParameterError(name, `string of 1 to ${MAX_URL_TEMPLATE_LENGTH} characters`, value);
  }
}

/** Copies only the known fields, so stray properties never reach the database. */
export function checkedMissing(value: unknown): MissingSegment[] {
  if (!Array.isArray(value)) throw invalidParameterError('missing', 'array of { rendition, index }', value);
  return value.map((entry: unknown, position) => {
    if (typeof entry !== 'object' || entry === null) throw invalidParameterError(`missing[${position}]`, 'object', entry);
    const { rendition, index } = entry as Record<string, unknown>;
    requireQualityName(`missing[${position}].rendition`, rendition);
    requireNonNegativeInteger(`missing[${position}].index`, index);
    return { rendition: rendition as string, index: index as number };
  });
}

/** Copies only the known fields, so stray properties never reach the database. */
export function checkedVariants(value: unknown): VariantStreamRecords {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameterError('qualityPlaylists', 'object keyed by quality name', value);
  }
  const checked: VariantStreamRecords = {};
  for (const [name, info] of Object.entries(value as Record<string, unknown>)) {
    requireQualityName('qualityPlaylists key', name);
    const prefix = `qualityPlaylists.${name}`;
    if (typeof info !== 'object' || info === null) throw invalidParameterError(prefix, 'object', info);
    const entry = info as Record<string, unknown>;
    requireNonEmptyString(`${prefix}.cid`, entry.cid);
    requirePositiveInteger(`${prefix}.width`, entry.width);
    requirePositiveInteger(`${prefix}.height`, entry.height);
    requireNonNegativeNumber(`${prefix}.bitrate`, entry.bitrate);
    requireNonNegativeNumber(`${prefix}.bandwidth`, entry.bandwidth);
    requireNonNegativeNumber(`${prefix}.averageBandwidth`, entry.averageBandwidth);
    if (typeof entry.codecs !== 'string') throw invalidParameterError(`${prefix}.codecs`, 'string', entry.codecs);
    requirePositiveNumber(`${prefix}.frameRate`, entry.frameRate);
    checked[name] = {
      cid: entry.cid as string,
      width: entry.width as number,
      height: entry.height as number,
      bitrate: entry.bitrate as number,
      bandwidth: entry.bandwidth as number,
      averageBandwidth: entry.averageBandwidth as number,
      codecs: entry.codecs,
      frameRate: entry.frameRate as number,
    };
  }
  return checked;
}

export function checkNewRun(run: NewRun): void {
  if (typeof run !== 'object' || run === null) throw invalidParameterError('run', 'object', run);
  if (run.id !== undefined && !isValidRunId(run.id)) {
    throw invalidParameterError('id', `string matching ${RUN_ID_PATTERN}`, run.id);
  }
  requirePositiveInteger('width', run.width);
  requirePositiveInteger('height', run.height);
  requirePositiveNumber('fps', run.fps);
  requirePositiveNumber('segmentDuration', run.segmentDuration);
  if (run.startedAt !== undefined && !(run.startedAt instanceof Date && Number.isFinite(run.startedAt.getTime()))) {
    throw invalidParameterError('startedAt', 'valid Date', run.startedAt);
  }
  if (run.segmentUrl !== undefined) requireUrlTemplate('segmentUrl', run.segmentUrl);
  if (run.playlistUrl !== undefined) requireUrlTemplate('playlistUrl', run.playlistUrl);
  if (run.windowSeconds !== undefined) requirePositiveNumber('windowSeconds', run.windowSeconds);
  if (run.channel !== undefined) {
    requireChannelName('channel', run.channel);
    if (run.windowSeconds === undefined) throw invalidParameterError('windowSeconds', 'number of seconds for a channel run (a channel slides)', run.windowSeconds);
  }
  if (run.follows !== undefined && run.follows !== null && !isValidRunId(run.follows)) {
    throw invalidParameterError('follows', `null or a run id matching ${RUN_ID_PATTERN}`, run.follows);
  }
  if (run.encryption !== undefined && run.encryption !== 'aes-128') throw invalidParameterError('encryption', "'aes-128'", run.encryption);
  if (run.keyRotation !== undefined) {
    if (run.encryption === undefined) throw invalidParameterError('keyRotation', 'nothing without encryption', run.keyRotation);
    requirePositiveInteger('keyRotation', run.keyRotation);
  }
  if (run.keyUrl !== undefined) {
    if (run.encryption === undefined) throw invalidParameterError('keyUrl', 'nothing without encryption', run.keyUrl);
    requireUrlTemplate('keyUrl', run.keyUrl);
  }
}

const IV_HEX = /^[0-9a-f]{32}$/;

/** An optional key reference: absent, or a key index and a 32-hex-digit IV. */
export function checkResourceKey(name: string, key: ResourceKey | undefined): void {
  if (key === undefined) return;
  if (typeof key !== 'object' || key === null) throw invalidParameterError(name, '{ index, iv }', key);
  requireNonNegativeInteger(`${name}.index`, key.index);
  if (typeof key.iv !== 'string' || !IV_HEX.test(key.iv)) throw invalidParameterError(`${name}.iv`, '32 lowercase hex digits', key.iv);
}


export function checkSegment(segment: SegmentInput): void {
  if (typeof segment !== 'object' || segment === null) throw invalidParameterError('segment', 'object', segment);
  requireQualityName('rendition', segment.rendition);
  requireNonNegativeInteger('index', segment.index);
  requireNonEmptyString('cid', segment.cid);
  requireNonNegativeNumber('duration', segment.duration);
  requireNonNegativeInteger('bytes', segment.bytes);
  checkResourceKey('key', segment.key);
}

export function checkPart(part: PartInput): void {
  if (typeof part !== 'object' || part === null) throw invalidParameterError('part', 'object', part);
  requireQualityName('rendition', part.rendition);
  requireNonNegativeInteger('segmentIndex', part.segmentIndex);
  requireNonNegativeInteger('partIndex', part.partIndex);
  requireNonEmptyString('cid', part.cid);
  requirePositiveNumber('duration', part.duration);
  if (typeof part.independent !== 'boolean') throw invalidParameterError('independent', 'boolean', part.independent);
  requireNonNegativeInteger('bytes', part.bytes);
  checkResourceKey('key', part.key);
}

/** The run's subtitle, I-frame and image playlists as a publish hands them over (RunTracks), checked field by field. */
export function checkedTracks(value: unknown): RunTracks {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParameterError('tracks', 'object', value);
  const tracks = value as RunTracks;
  const checked: RunTracks = {};
  if (tracks.subtitles !== undefined) {
    checked.subtitles = {};
    for (const [name, track] of Object.entries(tracks.subtitles)) {
      requireQualityName('tracks.subtitles key', name);
      const at = `tracks.subtitles.${name}`;
      if (typeof track !== 'object' || track === null) throw invalidParameterError(at, 'object', track);
      requireNonEmptyString(`${at}.cid`, track.cid);
      requireNonEmptyString(`${at}.name`, track.name);
      requireNonEmptyString(`${at}.language`, track.language);
      if (typeof track.default !== 'boolean') throw invalidParameterError(`${at}.default`, 'boolean', track.default);
      requireNonNegativeInteger(`${at}.segmentCount`, track.segmentCount);
      checked.subtitles[name] = { cid: track.cid, name: track.name, language: track.language, default: track.default, segmentCount: track.segmentCount };
    }
  }
  if (tracks.iframes !== undefined) {
    checked.iframes = {};
    for (const [name, track] of Object.entries(tracks.iframes)) {
      requireQualityName('tracks.iframes key', name);
      const at = `tracks.iframes.${name}`;
      if (typeof track !== 'object' || track === null) throw invalidParameterError(at, 'object', track);
      requireNonEmptyString(`${at}.cid`, track.cid);
      requireNonEmptyString(`${at}.codecs`, track.codecs);
      requirePositiveInteger(`${at}.bandwidth`, track.bandwidth, Number.MAX_SAFE_INTEGER);
      requirePositiveInteger(`${at}.averageBandwidth`, track.averageBandwidth, Number.MAX_SAFE_INTEGER);
      requirePositiveInteger(`${at}.width`, track.width);
      requirePositiveInteger(`${at}.height`, track.height);
      checked.iframes[name] = { cid: track.cid, bandwidth: track.bandwidth, averageBandwidth: track.averageBandwidth, codecs: track.codecs, width: track.width, height: track.height };
    }
  }
  if (tracks.images !== undefined) {
    const images = tracks.images;
    if (typeof images !== 'object' || images === null) throw invalidParameterError('tracks.images', 'object', images);
    requireNonEmptyString('tracks.images.cid', images.cid);
    requireNonEmptyString('tracks.images.vttCid', images.vttCid);
    requireNonEmptyString('tracks.images.codecs', images.codecs);
    requirePositiveInteger('tracks.images.bandwidth', images.bandwidth, Number.MAX_SAFE_INTEGER);
    requirePositiveInteger('tracks.images.width', images.width);
    requirePositiveInteger('tracks.images.height', images.height);
    requireNonNegativeInteger('tracks.images.count', images.count);
    checked.images = { cid: images.cid, vttCid: images.vttCid, bandwidth: images.bandwidth, width: images.width, height: images.height, codecs: images.codecs, count: images.count };
  }
  if (tracks.dateRanges !== undefined) {
    if (!Array.isArray(tracks.dateRanges) || tracks.dateRanges.some((line) => typeof line !== 'string' || !line.startsWith('#EXT-X-DATERANGE:') || /[\r\n]/.test(line))) {
      throw invalidParameterError('tracks.dateRanges', 'array of single #EXT-X-DATERANGE lines', tracks.dateRanges);
    }
    checked.dateRanges = [...tracks.dateRanges];
  }
  return checked;
}
