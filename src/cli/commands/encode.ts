// `abrcast encode <input>`: a file or URL decoded inside the addon (no pipes,
// no RGB round trip), encoded into every rendition, published to IPFS and
// recorded in the registry; as fast as it goes, or at real time with --live.
import { once } from 'node:events';
import { fileEncoderOptions, probeMediaFile } from '../../encoder/media-file.js';
import { ladderFromHeights, validateLadder } from '../../encoder/ladder.js';
import type { MediaInfo, Rendition } from '../../encoder/types.js';
import { segmentFileName } from '../../hls/segment-url.js';
import type { MultiResolutionHlsOutput } from '../../publish/multi-resolution-hls-output.js';
import { ENCODE_DEFAULTS, lowLatencyPartDuration, type EncodeConfig } from '../config.js';
import { formatEncodeProgress } from '../encode-progress.js';
import { CliError, EXIT_CODES, usageError, type ExitCode } from '../errors.js';
import { startFrameRateTicker } from '../frame-rate-ticker.js';
import type { Interrupts } from '../interrupts.js';
import { journalDir, type Services } from '../open-services.js';
import { describeServices, reportPublishing, runEndFields } from '../publish-reporting.js';
import type { Reporter } from '../reporter.js';
import { encryptionOptions, playbackQuery } from '../private-run.js';
import { withRunSession } from '../run-session.js';

/** Root-relative, so playlists play through the local server and through any path gateway alike. */
const ROOT_CID_URL = '/ipfs/{cid}';
/** --json progress lines at most this often; the terminal status line redraws faster. */
const JSON_PROGRESS_MS = 1000;
const STATUS_MS = 250;

async function probeInput(input: string, what: string): Promise<MediaInfo> {
  try {
    return await probeMediaFile(input);
  } catch (error) {
    throw new CliError((error as Error).message, {
      fix: `Check the ${what} path or URL: any file or stream ffmpeg can read works (try \`ffprobe ${input}\`)`,
      exitCode: EXIT_CODES.usage,
      cause: error,
    });
  }
}

/** The ladder the flags ask for, checked against the input's (even) size. */
function chooseLadder(config: EncodeConfig, width: number, height: number): Rendition[] | undefined {
  const fix = `The input is ${width}x${height}: renditions cannot be larger; see \`abrcast encode --help\``;
  try {
    if (config.ladderHeights) return ladderFromHeights(width, height, config.ladderHeights);
    if (config.renditions !== undefined) return validateLadder(config.renditions, width, height);
  } catch (error) {
    const flag = config.ladderHeights ? '--ladder' : '--renditions';
    throw usageError(`${flag}: ${(error as Error).message}`, fix);
  }
  return undefined;
}

export async function runEncode(config: EncodeConfig, reporter: Reporter): Promise<ExitCode> {
  // Everything about the input is checked before any service opens: a typo fails in milliseconds.
  const media = await probeInput(config.input, 'input');
  if (config.audio !== undefined) await probeAudio(config.audio);
  const options = fileEncoderOptions(config.input, media, {
    segmentDuration: config.segmentSeconds,
    live: config.live,
    audio: config.audio !== undefined ? { source: config.audio } : undefined,
  });
  const renditions = chooseLadder(config, options.width, options.height);
  const audioSource = options.audio && 'source' in options.audio ? options.audio.source : undefined;

  let encoding = true;
  return withRunSession(config, reporter, {
    serve: config.serve,
    firstInterrupt: (name) =>
      encoding ? `${name}: stopping the input and finishing the run (press Ctrl-C again to abort)` : `${name}: stopping the server`,
  }, async (session) => {
    const cidUrl = config.gateway ? `${config.gateway}/ipfs/{cid}` : ROOT_CID_URL;
    const output = session.createOutput({
      sourceSize: [options.width, options.height],
      fps: options.fps,
      segmentDuration: options.segmentDuration,
      input: options.input,
      ...(audioSource !== undefined ? { audioSource } : {}),
      ...(renditions ? { renditions } : {}),
      store: session.services.store,
      registry: session.services.registry,
      journalDir: journalDir(config),
      segmentUrl: `${cidUrl}${segmentFileName(config.container)}`,
      playlistUrl: cidUrl,
      encoder: config.encoder,
      x264Preset: config.preset,
      container: config.container,
      latency: config.latency,
      ...(config.lowLatency ? { partDuration: lowLatencyPartDuration(options.fps, options.segmentDuration ?? config.segmentSeconds) } : {}),
      ...(config.outDir ? { outputDir: config.outDir } : {}),
      ...(config.windowSeconds !== undefined ? { windowSeconds: config.windowSeconds } : {}),
      ...(config.channel !== undefined ? { channel: config.channel } : {}),
      ...encryptionOptions(config),
      ...(config.captions ? { captions: [{ language: config.captions.language }] } : {}),
    });
    // The file's cues are known up front: each goes into the subtitle files of the segments it overlaps.
    for (const cue of config.captions?.cues ?? []) output.addCaption(cue);
    const { interrupts } = session;
    const exitCode = await encodeRun(config, reporter, output, media, session.serverUrl, session.services, interrupts, (id) => {
      session.runId = id;
    });
    encoding = false;
    if (exitCode === EXIT_CODES.ok && session.server && !interrupts.requested) {
      reporter.info('Encode finished; still serving. Ctrl-C stops the server.');
      await once(interrupts.signal, 'abort');
    }
    return exitCode;
  });
}

async function probeAudio(source: string): Promise<void> {
  try {
    await probeMediaFile(source);
  } catch (error) {
    // Audio-only files have no video stream, which is exactly what --audio expects.
    if (/^No video stream in /.test((error as Error).message)) return;
    throw new CliError((error as Error).message, {
      fix: 'Check the --audio path or URL: any file or stream with an audio track that ffmpeg can read works',
      exitCode: EXIT_CODES.usage,
      cause: error,
    });
  }
}

async function encodeRun(
  config: EncodeConfig,
  reporter: Reporter,
  output: MultiResolutionHlsOutput,
  media: MediaInfo,
  serverUrl: string | undefined,
  services: Services,
  interrupts: Interrupts,
  onRunId: (id: string) => void,
): Promise<ExitCode> {
  const { encoder } = output;
  const { fps, segmentDuration, width, height } = encoder.options;
  const totalFrames = media.frames ?? (media.durationSeconds !== undefined ? Math.round(media.durationSeconds * fps) : undefined);
  const gateway = config.gateway ?? ENCODE_DEFAULTS.gateway;
  const ladder = output.renditions.map((r) => `${r.name} ${r.width}x${r.height}`).join(', ');
  const audio = encoder.options.audio?.kind === 'file' ? encoder.options.audio.source : undefined;

  // The tally listens before start(): the first segments can be uploaded at once.
  let runId = '';
  const tally = reportPublishing(output, reporter, () => runId, (cid) => (serverUrl ? `${serverUrl}/ipfs/${cid}` : `${gateway}/ipfs/${cid}`));
  const startedAt = performance.now();
  await output.start();
  runId = output.runId!;
  onRunId(runId);
  const query = playbackQuery(config, runId);
  // On a channel, its stable URL: it outlives this run (a restart continues it).
  const watchPath = config.channel !== undefined ? `/channels/${config.channel}` : `/runs/${runId}`;
  const runUrl = serverUrl ? `${serverUrl}${watchPath}/watch${query}` : undefined;

  reporter.info(
    `Encoding ${config.input}: ${media.width}x${media.height} ${media.videoCodec} at ${Number(fps.toFixed(3))} fps` +
      `${config.live ? ' (live, real time)' : ''}, ${Number(segmentDuration.toFixed(3))} s segments, ${encoder.encoder} (${config.preset}); ` +
      `renditions: ${ladder}; audio: ${audio ?? 'none'}`,
  );
  if (encoder.fallbackReason) reporter.debug(`NVENC not used: ${encoder.fallbackReason}`);
  reporter.info(describeServices(config, services));
  if (runUrl) reporter.essential(`Watch: ${runUrl}`);
  reporter.event('start', {
    runId,
    input: config.input,
    live: config.live,
    audio: audio ?? null,
    width,
    height,
    fps,
    segmentDuration,
    totalFrames: totalFrames ?? null,
    renditions: output.renditions,
    encoder: encoder.encoder,
    ...(encoder.fallbackReason ? { fallbackReason: encoder.fallbackReason } : {}),
    store: output.store.kind,
    database: services.registry.dialect,
    dataDir: config.dataDir,
    encrypted: config.encryption !== undefined,
    ...(serverUrl ? { serverUrl, runUrl, masterUrl: `${serverUrl}${watchPath}/master.m3u8${query}` } : {}),
    ...(config.channel !== undefined ? { channel: config.channel } : {}),
    windowSeconds: config.windowSeconds ?? null,
  });

  let lastJson = 0;
  const stopTicker = startFrameRateTicker({
    startedAt,
    frames: () => encoder.framesWritten,
    intervalMs: STATUS_MS,
    tick: (frames, rate, now) => {
      const uploads = output.uploads;
      const state = { frames, fps: rate, speed: rate / fps, segments: tally.segmentsUploaded, queue: uploads.pending + uploads.inFlight };
      reporter.status(formatEncodeProgress({ ...state, ...(totalFrames !== undefined ? { totalFrames } : {}) }));
      if (reporter.json && now - lastJson >= JSON_PROGRESS_MS) {
        lastJson = now;
        reporter.event('progress', { runId, ...state, fps: Number(rate.toFixed(2)), speed: Number(state.speed.toFixed(3)), totalFrames: totalFrames ?? null });
      }
    },
  });
  const stopOnInterrupt = () => encoder.stopInput();
  interrupts.signal.addEventListener('abort', stopOnInterrupt);

  let failure: unknown;
  let masterCid: string | undefined;
  let frames = 0;
  try {
    const summary = await output.close();
    masterCid = summary.masterCid;
    frames = summary.frames;
  } catch (error) {
    failure = error;
    frames = encoder.framesWritten;
  } finally {
    stopTicker();
    interrupts.signal.removeEventListener('abort', stopOnInterrupt);
    reporter.clearStatus();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const gatewayUrl = masterCid ? `${gateway}/ipfs/${masterCid}` : undefined;
  reporter.event('end', {
    parts: output.parts,
    ...runEndFields({ runId, failure, interrupted: interrupts.requested !== undefined, frames, seconds, tally, masterCid }),
    speed: Number((frames / fps / Math.max(seconds, 1e-3)).toFixed(3)),
    gatewayUrl: gatewayUrl ?? null,
    runUrl: runUrl ?? null,
  });
  if (failure) return reporter.error(failure, 'abrcast encode');
  reporter.info(
    `Run ${runId} ended: ${frames} frames (${(frames / fps).toFixed(2)} s) in ${seconds.toFixed(1)} s, ` +
      `${tally.segmentsUploaded} segments uploaded.`,
  );
  if (masterCid) {
    reporter.essential(`Master playlist: ${masterCid}`);
    reporter.essential(`Gateway: ${gatewayUrl}`);
  }
  if (runUrl) reporter.essential(`Run: ${runUrl}`);
  return EXIT_CODES.ok;
}
