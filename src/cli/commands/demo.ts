// `abrcast demo`: a live generative animation, encoded in real time into every
// rendition, published to IPFS, recorded in the registry and served locally.
import { setTimeout as sleep } from 'node:timers/promises';
import { segmentFileName } from '../../hls/segment-url.js';
import type { MultiResolutionHlsOutput } from '../../publish/multi-resolution-hls-output.js';
import type { DemoConfig } from '../config.js';
import { clockText, DemoRenderer } from '../demo-renderer.js';
import { EXIT_CODES, type ExitCode } from '../errors.js';
import { startFrameRateTicker } from '../frame-rate-ticker.js';
import type { Interrupts } from '../interrupts.js';
import { journalDir, type Services } from '../open-services.js';
import { describeServices, reportPublishing, runEndFields } from '../publish-reporting.js';
import type { Reporter } from '../reporter.js';
import { encryptionOptions, playbackQuery } from '../private-run.js';
import { withRunSession } from '../run-session.js';
import { formatDemoProgress } from '../status-line.js';

/** Segments and playlists point at the local gateway, so the served run plays with no outside gateway. */
const LOCAL_CID_URL = '/ipfs/{cid}';
const STATUS_MS = 250;
/** The demo marks a chapter (EXT-X-DATERANGE) this often, so players show date-range markers. */
const CHAPTER_SECONDS = 10;

export async function runDemo(config: DemoConfig, reporter: Reporter): Promise<ExitCode> {
  // Before any service opens: without the canvas package there is no run to start.
  const renderer = await DemoRenderer.create(config.width, config.height, config.fps);
  return withRunSession(config, reporter, {
    serve: true,
    firstInterrupt: (name) => `${name}: finishing the run (press Ctrl-C again to abort)`,
  }, async (session) => {
    const output = session.createOutput({
      sourceSize: [config.width, config.height],
      fps: config.fps,
      segmentDuration: config.segmentSeconds,
      store: session.services.store,
      registry: session.services.registry,
      journalDir: journalDir(config),
      segmentUrl: `${LOCAL_CID_URL}${segmentFileName(config.container)}`,
      playlistUrl: LOCAL_CID_URL,
      pixelFormat: 'rgba',
      encoder: config.encoder,
      x264Preset: config.preset,
      container: config.container,
      latency: config.latency,
      ...(config.partDuration !== undefined ? { partDuration: config.partDuration } : {}),
      ...(config.windowSeconds !== undefined ? { windowSeconds: config.windowSeconds } : {}),
      ...(config.channel !== undefined ? { channel: config.channel } : {}),
      ...encryptionOptions(config),
      // The demo captions its own clock once a second (a private run has no clear WebVTT, a sliding one no
      // subtitle playlists yet). Not DEFAULT: hls.js would load it unasked, which doubles an LL viewer's requests
      // (a part and a blocking reload of the subtitle playlist per video part); the watch page turns it on itself.
      ...(config.encryption || config.windowSeconds !== undefined || config.channel !== undefined
        ? {} : { captions: [{ language: 'en', name: 'Clock', default: false }] }),
    });
    await output.start();
    session.runId = output.runId!;
    return streamRun(config, reporter, renderer, output, session.serverUrl!, session.services, session.interrupts);
  });
}

async function streamRun(
  config: DemoConfig,
  reporter: Reporter,
  renderer: DemoRenderer,
  output: MultiResolutionHlsOutput,
  serverUrl: string,
  services: Services,
  interrupts: Interrupts,
): Promise<ExitCode> {
  const runId = output.runId!;
  const query = playbackQuery(config, runId);
  // On a channel, its stable URL: it outlives this run (a restart continues it).
  const watchPath = config.channel !== undefined ? `/channels/${config.channel}` : `/runs/${runId}`;
  const watchUrl = `${serverUrl}${watchPath}/watch${query}`;
  const ladder = output.renditions.map((r) => `${r.name} ${r.width}x${r.height}`).join(', ');
  reporter.info(
    `Demo ${config.width}x${config.height} at ${config.fps} fps, ${config.segmentSeconds} s segments, ` +
      `${config.container === 'fmp4' ? 'fMP4' : 'MPEG-TS'}${config.partDuration !== undefined ? `, LL-HLS parts of ${config.partDuration.toFixed(3)} s` : ''}, ` +
      `${config.encryption ? `encrypted (AES-128${config.encryption.keyRotation ? `, a new key every ${config.encryption.keyRotation} segments` : ''}), ` : ''}` +
      `${output.encoder.encoder} (${config.preset}); renditions: ${ladder}`,
  );
  if (output.encoder.fallbackReason) reporter.debug(`NVENC not used: ${output.encoder.fallbackReason}`);
  reporter.info(describeServices(config, services));
  reporter.essential(`Watch: ${watchUrl}`);
  reporter.info(config.durationSeconds > 0 ? `Stops after ${config.durationSeconds} s of video; Ctrl-C ends it sooner.` : 'Ctrl-C ends the run.');
  reporter.event('start', {
    runId,
    watchUrl,
    masterUrl: `${serverUrl}${watchPath}/master.m3u8${query}`,
    runUrl: `${serverUrl}/runs/${runId}/watch${query}`,
    ...(config.channel !== undefined ? { channel: config.channel } : {}),
    windowSeconds: config.windowSeconds ?? null,
    serverUrl,
    encrypted: config.encryption !== undefined,
    width: config.width,
    height: config.height,
    fps: config.fps,
    segmentDuration: config.segmentSeconds,
    container: config.container,
    partDuration: config.partDuration ?? null,
    renditions: output.renditions,
    encoder: output.encoder.encoder,
    ...(output.encoder.fallbackReason ? { fallbackReason: output.encoder.fallbackReason } : {}),
    store: output.store.kind,
    database: services.registry.dialect,
    dataDir: config.dataDir,
  });

  const tally = reportPublishing(output, reporter, runId, (cid) => `${serverUrl}/ipfs/${cid}`);

  const maxFrames = config.durationSeconds > 0 ? Math.round(config.durationSeconds * config.fps) : Infinity;
  const frameMs = 1000 / config.fps;
  const startedAt = performance.now();
  let frames = 0;
  let renderMs = 0;
  let failure: unknown;

  const stopTicker = startFrameRateTicker({
    startedAt,
    frames: () => frames,
    intervalMs: STATUS_MS,
    tick: (done, fps, now) => {
      const uploads = output.uploads;
      reporter.status(
        formatDemoProgress({
          frames: done,
          fps,
          segments: tally.segmentsUploaded,
          queue: uploads.pending + uploads.inFlight,
          lagSeconds: Math.max(0, (now - (startedAt + done * frameMs)) / 1000),
        }),
      );
    },
  });

  try {
    while (!interrupts.requested && frames < maxFrames) {
      // Frame n is due n/fps after the start: real time, whatever the machine's speed.
      const wait = startedAt + frames * frameMs - performance.now();
      if (wait > 1) await sleep(wait, undefined, { signal: interrupts.signal }).catch(() => {});
      if (interrupts.requested) break;
      const before = performance.now();
      const now = new Date();
      if (frames % config.fps === 0) describeSecond(output, frames / config.fps, now);
      const frame = renderer.render(frames, now);
      renderMs += performance.now() - before;
      await output.write(frame);
      frames += 1;
    }
  } catch (error) {
    failure = error;
  } finally {
    stopTicker();
    reporter.clearStatus();
  }

  reporter.info(`Finishing run ${runId}: last segments, final playlists...`);
  let masterCid: string | undefined;
  try {
    const summary = await output.close();
    masterCid = summary.masterCid;
  } catch (error) {
    failure ??= error;
  }
  const elapsed = (performance.now() - startedAt) / 1000;
  reporter.debug(`render cost ${(renderMs / Math.max(1, frames)).toFixed(2)} ms/frame over ${frames} frames`);
  reporter.event('end', {
    parts: output.parts,
    ...runEndFields({ runId, failure, interrupted: interrupts.requested !== undefined, frames, seconds: elapsed, tally, masterCid }),
    renderMsPerFrame: Number((renderMs / Math.max(1, frames)).toFixed(3)),
  });
  if (failure) return reporter.error(failure, 'abrcast demo');
  reporter.info(`Run ${runId} ended: ${frames} frames, ${tally.segmentsUploaded} segments uploaded.`);
  if (masterCid) reporter.essential(`Master playlist: ${masterCid}`);
  return EXIT_CODES.ok;
}

/** Once a second of video: a caption of the clock drawn on it, and every CHAPTER_SECONDS a chapter date range. */
function describeSecond(output: MultiResolutionHlsOutput, second: number, now: Date): void {
  if (output.subtitleTracks.length > 0) output.addCaption({ start: second, end: second + 1, text: `Clock ${clockText(now).slice(0, 8)}` });
  if (second % CHAPTER_SECONDS === 0) {
    const chapter = second / CHAPTER_SECONDS + 1;
    output.addMetadata({
      id: `chapter-${chapter}`, start: second, duration: CHAPTER_SECONDS, class: 'com.abrcast.demo.chapter',
      attributes: { 'X-TITLE': `Chapter ${chapter}` },
    });
  }
}
