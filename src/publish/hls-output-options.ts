// What a MultiResolutionHlsOutput is asked for, and the one place its options
// are checked and turned into the settings of its parts (the encoder's own
// options are checked by the encoder; URL templates by cidUrlResolver).
import type { EncoderChoice, FileInputOptions, LadderEncoderOptions, LatencyProfile, PixelFormat, Rendition } from '../encoder/types.js';
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import { targetDurationFor } from '../hls/media-playlist.js';
import { cidUrlResolver, DEFAULT_KEY_URL_TEMPLATE, DEFAULT_URL_TEMPLATE, gatewayFileName, keyUrlResolver, segmentFileName, type CidUrl, type KeyUrl } from '../hls/segment-url.js';
import { requireChannelName } from '../model/channel-name.js';
import { resolveSecrets, type SecretInput, type ServerSecrets } from '../crypto/server-secret.js';
import { defaultJournalDir } from '../journal/segment-journal.js';
import type { RunRecorder } from '../model/run-recorder.js';
import type { ContentStore } from '../store/content-store.js';
import type { RetryOptions } from './backoff.js';
import type { SubtitleTrack } from './companion-playlists.js';
import type { PlaylistUpdateCallback } from './playlist-update-lane.js';

/** Default journalLimitBytes: 4 GiB of segments waiting for upload. */
export const DEFAULT_JOURNAL_LIMIT_BYTES = 4 * 1024 ** 3;

export interface MultiResolutionHlsOutputOptions {
  sourceSize: [number, number];
  fps: number;
  /** Seconds per segment (default 4, as in the Python original). */
  segmentDuration?: number;
  /** When set, segments are also written under it (`<outputDir>/<rendition>/segment_00000.ts`); the journal then uses those files instead of a copy. */
  outputDir?: string;
  /**
   * Where run journals live (default ~/.abrcast/journal): each finished segment is
   * fsync'd to `<journalDir>/<runId>/` before it is queued for upload, so a crash
   * loses nothing `abrcast resume <runId>` cannot finish. Removed when the run ends complete.
   */
  journalDir?: string;
  /**
   * Most bytes of segments waiting for upload the journal may hold (default 4 GiB). Over
   * it, write() waits for uploads; after closeDeadlineMs it rejects with JournalFullError.
   */
  journalLimitBytes?: number;
  /** Where segments and playlists go; default: the embedded Helia store under ~/.abrcast/ipfs. */
  store?: ContentStore;
  /** Gateway origin for `{gateway}` in segment and playlist URLs (default https://ipfs.io). */
  gateway?: string;
  /**
   * Segment URL: a template with {cid} (and {gateway}), or a function. Default: with the
   * embedded store and no gateway, the server-relative `/ipfs/{cid}` (players resolve it against
   * the playlist's URL, i.e. the gateway of the server that serves the run; a local blockstore
   * announces nothing to public gateways); otherwise `{gateway}/ipfs/{cid}`; either followed by
   * `?filename=segment.ts` (fMP4: `segment.mp4`), which FFmpeg's HLS demuxer needs (see segmentFileName).
   */
  segmentUrl?: string | CidUrl;
  /** Media playlist URL inside the IPFS master playlist; default as segmentUrl, without the file name. */
  playlistUrl?: string | CidUrl;
  /** Called after every publish with the master CID and the per-quality info, as in the Python original. */
  onPlaylistUpdate?: PlaylistUpdateCallback;
  /** Audio file or URL, decoded in-process and muxed as AAC into every rendition (the run ends with the shorter input). */
  audioSource?: string;
  /**
   * Encode this file or URL (decoded in the addon) instead of frames from write(); sourceSize and fps
   * must describe it (see probeMediaFile() and fileEncoderOptions()). start() creates the run and
   * begins decoding; close() waits for the end of the input (encoder.stopInput() ends it sooner).
   */
  input?: FileInputOptions;
  encoder?: EncoderChoice;
  renditions?: Rendition[];
  pixelFormat?: PixelFormat;
  x264Preset?: string;
  /** write() takes `{ cudaDevicePtr, pitch }` frames already in CUDA memory (see LadderEncoderOptions.cudaFrames). */
  cudaFrames?: boolean;
  /**
   * LL-HLS: seconds per partial segment (a whole number of frames). Each part is
   * uploaded and recorded as the encoder emits it, so a server can list it at
   * once; the immutable IPFS playlists stay plain. Undefined: no parts.
   */
  partDuration?: number;
  /** Segment container (default 'ts'); 'fmp4' uploads each rendition's init segment and names it in EXT-X-MAP. */
  container?: 'ts' | 'fmp4';
  /** Encoder latency (LadderEncoderOptions.latency, default 'normal'); 'low' for LL-HLS. */
  latency?: LatencyProfile;
  /** Records the run (segments, newest playlists, status) for a server; RunRegistry fits. */
  registry?: RunRecorder;
  /** Run id to create in the registry; generated when absent. */
  runId?: string;
  /** Segment uploads at once (default 4). */
  uploadConcurrency?: number;
  /** Backoff between upload attempts (default: 250 ms doubling to 10 s, full jitter). */
  uploadRetry?: RetryOptions;
  /** How long close() keeps retrying uploads and registry writes before it reports what failed (default 60 s). */
  closeDeadlineMs?: number;
  /**
   * A sliding window: while live, media playlists list only about this many seconds of the
   * newest segments (at least 3 target durations), and what slides out is published as
   * immutable archive playlists (archiveSeconds each). The run's final playlists list
   * every segment (VOD). Undefined: playlists list the whole run (EVENT). A channel slides
   * over DEFAULT_CHANNEL_WINDOW_SECONDS unless set.
   */
  windowSeconds?: number;
  /** Seconds of media per archive playlist of a windowed run (default 3600: one per hour). */
  archiveSeconds?: number;
  /**
   * Publish on this channel (a slug): its stable URL /channels/{name}/master.m3u8 outlives
   * producer restarts. The run continues the channel's previous one (its segments follow
   * after EXT-X-DISCONTINUITY, numbered after it); a previous run that crashed with its
   * journal in journalDir is recorded first. Needs a registry (RunRegistry).
   */
  channel?: string;
  /**
   * 'aes-128': a private run. Every segment, part and init segment is encrypted
   * (AES-128-CBC of the whole resource, RFC 8216bis 4.4.4.4) before it leaves the
   * process; the playlists name each resource's key and IV (EXT-X-KEY); the keys are
   * kept in the registry, wrapped under `keySecret`, and a server hands them out
   * only for a valid playback token. Needs a registry.
   */
  encryption?: 'aes-128';
  /** A new key every this many segments (several EXT-X-KEY URIs); default: one key for the run. */
  keyRotation?: number;
  /**
   * Key URI written in the playlists, a template with `{run}` and `{key}` (default
   * `/runs/{run}/keys/{key}`, the key route of the server the playlist is read from).
   * Make it absolute when players read the playlists through a public gateway.
   */
  keyUrl?: string;
  /**
   * The server secret the run's keys are wrapped with (at least 32 characters);
   * default: ABRCAST_KEY_SECRET. The servers that serve the run need the same one.
   */
  keySecret?: SecretInput;
  /**
   * WebVTT subtitle renditions for addCaption() (default none). `true`: one English track; or a
   * list of tracks, the first being addCaption()'s default language. Each is listed in the master
   * as EXT-X-MEDIA TYPE=SUBTITLES, and every variant names their group (SUBTITLES=).
   */
  captions?: boolean | CaptionTrackOptions[];
  /**
   * A JPEG thumbnail per segment, listed as an image playlist (EXT-X-IMAGE-STREAM-INF) and a
   * WebVTT thumbnail track (default true: 320 pixels wide; `{ width }` sets it; false: none).
   */
  thumbnails?: boolean | { width?: number };
  /** An I-frame playlist per rendition (EXT-X-I-FRAME-STREAM-INF), for trick play (default true). */
  iframePlaylists?: boolean;
  /**
   * addMetadata() also carries its items in band: timed ID3 in MPEG-TS (the PMT then declares a
   * timed ID3 stream), emsg boxes in fMP4 (default true).
   */
  timedMetadata?: boolean;
}

/** One subtitle rendition. */
export interface CaptionTrackOptions {
  /** RFC 5646 language tag, e.g. en or pt-BR (LANGUAGE). */
  language: string;
  /** What players show (NAME); default: the language tag. */
  name?: string;
  /** DEFAULT=YES (default: the first track only). */
  default?: boolean;
}

/** How an encrypted run's keys are made and named. */
export interface EncryptionSettings {
  keyRotation?: number;
  /** The key URI template, as the registry keeps it. */
  keyUrlTemplate: string;
  keyUrl: KeyUrl;
  secrets: ServerSecrets;
}

/** A channel's window when none is given: two minutes (a player needs 3 target durations; the archive keeps the rest). */
export const DEFAULT_CHANNEL_WINDOW_SECONDS = 120;

/** The checked settings of a run, apart from the encoder's and the URLs. */
export interface OutputSettings {
  closeDeadlineMs: number;
  journalLimitBytes: number;
  journalDir: string;
  segmentDuration: number;
  partDuration?: number;
  /** Live playlists slide over this many seconds (the publisher checks it against the target duration). */
  windowSeconds?: number;
  channel?: string;
  /** Set for an encrypted run. */
  encryption?: EncryptionSettings;
  /** The LadderEncoder's options (it validates them itself). */
  encoder: LadderEncoderOptions;
  subtitles: SubtitleTrack[];
  iframePlaylists: boolean;
}

const LANGUAGE_TAG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;

/** The subtitle tracks `captions` asks for, each with its key (`subtitles-<language>`). */
export function subtitleTracks(captions: MultiResolutionHlsOutputOptions['captions'], renditions: readonly Pick<Rendition, 'name'>[] = []): SubtitleTrack[] {
  if (captions === undefined || captions === false) return [];
  const list: CaptionTrackOptions[] = captions === true ? [{ language: 'en', name: 'English' }] : captions;
  if (!Array.isArray(list) || list.length === 0) throw invalidParameterError('captions', 'boolean or non-empty array of { language, name? }', captions);
  const seen = new Set<string>();
  return list.map((track, position) => {
    const at = `captions[${position}]`;
    if (typeof track !== 'object' || track === null) throw invalidParameterError(at, 'object with language', track);
    if (typeof track.language !== 'string' || !LANGUAGE_TAG.test(track.language)) {
      throw invalidParameterError(`${at}.language`, 'RFC 5646 language tag (e.g. en, pt-BR)', track.language);
    }
    const name = `subtitles-${track.language.toLowerCase()}`;
    if (seen.has(name)) throw invalidParameterError(`${at}.language`, 'a language no other track has', track.language);
    if (renditions.some((r) => r.name === name)) throw invalidParameterError(`${at}.language`, `a track key (${name}) no rendition is named`, track.language);
    seen.add(name);
    const label = track.name ?? track.language;
    if (typeof label !== 'string' || label.length === 0 || /["\r\n]/.test(label)) {
      throw invalidParameterError(`${at}.name`, 'non-empty string without double quotes or line breaks', track.name);
    }
    const isDefault = track.default ?? position === 0;
    if (typeof isDefault !== 'boolean') throw invalidParameterError(`${at}.default`, 'boolean', track.default);
    return { name, label, language: track.language, default: isDefault };
  });
}

/** Checks the options of a MultiResolutionHlsOutput; throws invalidParameterError naming the first bad one. */
export function outputSettings(options: MultiResolutionHlsOutputOptions): OutputSettings {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  const { sourceSize } = options;
  if (!Array.isArray(sourceSize) || sourceSize.length !== 2) {
    throw invalidParameterError('sourceSize', '[width, height] array', sourceSize);
  }
  const closeDeadlineMs = options.closeDeadlineMs ?? 60_000;
  if (typeof closeDeadlineMs !== 'number' || !(closeDeadlineMs >= 0)) {
    throw invalidParameterError('closeDeadlineMs', 'number of at least 0', closeDeadlineMs);
  }
  const journalLimitBytes = options.journalLimitBytes ?? DEFAULT_JOURNAL_LIMIT_BYTES;
  if (typeof journalLimitBytes !== 'number' || !(journalLimitBytes > 0)) {
    throw invalidParameterError('journalLimitBytes', 'positive number of bytes', journalLimitBytes);
  }
  const journalDir = options.journalDir ?? defaultJournalDir();
  if (typeof journalDir !== 'string' || journalDir.length === 0) throw invalidParameterError('journalDir', 'non-empty string path', journalDir);
  const segmentDuration = options.segmentDuration ?? 4;
  if (options.partDuration !== undefined && !isPositiveFinite(options.partDuration)) {
    throw invalidParameterError('partDuration', 'positive number of seconds', options.partDuration);
  }
  if (options.container !== undefined && options.container !== 'ts' && options.container !== 'fmp4') {
    throw invalidParameterError('container', "'ts' or 'fmp4'", options.container);
  }
  if (options.channel !== undefined) {
    requireChannelName('channel', options.channel);
    if (options.registry === undefined) throw invalidParameterError('registry', 'RunRegistry with channel (a channel lives in the registry)', options.registry);
  }
  const windowSeconds = options.windowSeconds ?? (options.channel !== undefined
    ? Math.max(DEFAULT_CHANNEL_WINDOW_SECONDS, 6 * targetDurationFor(segmentDuration)) : undefined);
  const encryption = encryptionSettings(options);
  // An encrypted run makes no thumbnails (clear JPEGs of the picture), subtitles (clear WebVTT) or
  // I-frame playlists (byte ranges into encrypted segments, without their keys): see docs/beyond-the-picture.md.
  // Nor does a sliding one yet: those playlists list the whole run (docs/channels.md).
  const without = encryption
    ? 'false (an encrypted run has no thumbnails, subtitles or I-frame playlists)'
    : windowSeconds !== undefined ? 'false with windowSeconds or channel (a sliding run has no thumbnails, subtitles or I-frame playlists yet)' : undefined;
  if (without) {
    for (const name of ['thumbnails', 'captions', 'iframePlaylists'] as const) {
      const value = options[name];
      if (value !== undefined && value !== false) throw invalidParameterError(name, without, value);
    }
  }
  const thumbnails = options.thumbnails ?? !without;
  const timedMetadata = options.timedMetadata ?? true;
  if (typeof timedMetadata !== 'boolean') throw invalidParameterError('timedMetadata', 'boolean', timedMetadata);
  const iframePlaylists = options.iframePlaylists ?? !without;
  if (typeof iframePlaylists !== 'boolean') throw invalidParameterError('iframePlaylists', 'boolean', iframePlaylists);
  const encoder: LadderEncoderOptions = {
    width: sourceSize[0], height: sourceSize[1], fps: options.fps, segmentDuration,
    renditions: options.renditions, encoder: options.encoder, pixelFormat: options.pixelFormat,
    x264Preset: options.x264Preset, outputDir: options.outputDir,
    // Passed only when set, as the encoder's own options (its native side validates them).
    ...(options.cudaFrames !== undefined ? { cudaFrames: options.cudaFrames } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.audioSource !== undefined ? { audio: { source: options.audioSource } } : {}),
    ...(options.partDuration !== undefined ? { partDuration: options.partDuration } : {}),
    ...(options.container !== undefined ? { container: options.container } : {}),
    ...(options.latency !== undefined ? { latency: options.latency } : {}),
    thumbnails, timedMetadata,
  };
  const subtitles = subtitleTracks(options.captions, options.renditions);
  return {
    closeDeadlineMs, journalLimitBytes, journalDir, segmentDuration, partDuration: options.partDuration, encoder, subtitles, iframePlaylists,
    ...(windowSeconds !== undefined ? { windowSeconds } : {}), ...(options.channel !== undefined ? { channel: options.channel } : {}),
    ...(encryption ? { encryption } : {}),
  };
}

function encryptionSettings(options: MultiResolutionHlsOutputOptions): EncryptionSettings | undefined {
  const { encryption, keyRotation, keyUrl } = options;
  if (encryption === undefined) {
    for (const name of ['keyRotation', 'keyUrl', 'keySecret'] as const) {
      if (options[name] !== undefined) throw invalidParameterError(name, "nothing without encryption: 'aes-128'", name === 'keySecret' ? 'a secret' : options[name]);
    }
    return undefined;
  }
  if (encryption !== 'aes-128') throw invalidParameterError('encryption', "'aes-128'", encryption);
  if (keyRotation !== undefined && (!Number.isInteger(keyRotation) || keyRotation < 1 || keyRotation > 2_147_483_647)) {
    throw invalidParameterError('keyRotation', 'integer of at least 1 (segments per key)', keyRotation);
  }
  if (typeof options.registry?.putRunKey !== 'function') {
    throw invalidParameterError('registry', 'RunRecorder with putRunKey (a RunRegistry): an encrypted run keeps its keys there', options.registry === undefined ? undefined : 'object');
  }
  const secrets = resolveSecrets(options.keySecret, 'keySecret');
  if (!secrets) throw new TypeError('An encrypted run needs the server secret: set ABRCAST_KEY_SECRET (the servers need the same) or pass keySecret');
  const keyUrlTemplate = keyUrl ?? DEFAULT_KEY_URL_TEMPLATE;
  return { ...(keyRotation !== undefined ? { keyRotation } : {}), keyUrlTemplate, keyUrl: keyUrlResolver(keyUrlTemplate, 'keyUrl'), secrets };
}

/** The end of a template that names a segment's file type for the gateway (segmentFileName). */
const SEGMENT_FILE_NAME = /\?filename=segment\.(ts|mp4)$/;

/** Segment and playlist URLs of a run, and the templates the registry and journal keep (absent for a function). */
export interface RunUrls {
  segmentUrl: CidUrl;
  playlistUrl: CidUrl;
  /** Subtitle segments and thumbnails: a template ending in `?filename=segment.ts` (the default) names a file of their own type instead; any other is used as it is. */
  fileUrl: (fileName: string) => CidUrl;
  templates: { segmentUrl?: string; playlistUrl?: string };
}

export function runUrls(
  storeKind: ContentStore['kind'],
  options: Pick<MultiResolutionHlsOutputOptions, 'gateway' | 'segmentUrl' | 'playlistUrl' | 'container'>,
): RunUrls {
  // A local blockstore announces nothing: its segments play only through the server's own gateway.
  const defaultTemplate = storeKind === 'helia' && options.gateway === undefined ? '/ipfs/{cid}' : DEFAULT_URL_TEMPLATE;
  const segmentTemplate = options.segmentUrl ?? `${defaultTemplate}${segmentFileName(options.container ?? 'ts')}`;
  const playlistTemplate = options.playlistUrl ?? defaultTemplate;
  const segmentUrl = cidUrlResolver({ gateway: options.gateway, template: segmentTemplate, optionName: 'segmentUrl' });
  const playlistUrl = cidUrlResolver({ gateway: options.gateway, template: playlistTemplate, optionName: 'playlistUrl' });
  // A template that names its segments' file (the default, abrcast demo's) names each other file by its own type.
  const fileUrl = (fileName: string): CidUrl =>
    typeof segmentTemplate === 'string' && SEGMENT_FILE_NAME.test(segmentTemplate)
      ? cidUrlResolver({ gateway: options.gateway, template: segmentTemplate.replace(SEGMENT_FILE_NAME, gatewayFileName(fileName)), optionName: 'segmentUrl' })
      : segmentUrl;
  const expand = (template: string | CidUrl | undefined) =>
    typeof template === 'function' ? undefined : (template ?? '{gateway}/ipfs/{cid}').replaceAll('{gateway}', (options.gateway ?? 'https://ipfs.io').replace(/\/+$/, ''));
  return { segmentUrl, playlistUrl, fileUrl, templates: { segmentUrl: expand(segmentTemplate), playlistUrl: expand(playlistTemplate) } };
}
