// LadderEncoder: the TS face of the native core. One frame in, every
// rendition out, as MPEG-TS segments that start on the same IDR everywhere.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { debuglog } from 'node:util';

import { AbrcastError, describeValue, invalidParameterError, withCallSiteStack } from '../errors.js';
import { loadNativeAddon, type NativeEvent, type NativeLadderEncoder, type NativeThreadPlan } from '../native/binding.js';
import { checkFrameBytes, isCudaDeviceFrame, normalizeCudaFrame } from './cuda-frame.js';
import { probeHardware, probeHardwareSync, selectEncoder } from './hardware.js';
import { fileEncoderOptions, probeMediaFile } from './media-file.js';
import { toNativeConfig } from './native-config.js';
import { normalizeEncoderOptions, type NormalizedEncoderOptions } from './options.js';
import type {
  ActiveEncoder, CudaDeviceFrame, EncodeProgress, EncodeSummary, FileEncoderOptions, InitEvent, LadderEncoderOptions, MediaInfo, PartEvent, Rendition, SegmentEvent,
  ThreadPlan, ThumbnailEvent, TimedMetadataInput,
} from './types.js';

type State = 'open' | 'closing' | 'closed';

// Lifetime: the native pipeline's one owner is the addon's PipelineRegistry (docs/native-lifetime.md);
// this class only asks it to stop (abort(), end()) and lets go of it (dispose() once 'finished').
// The native event function holds only a weak reference to its encoder and none to the native
// object. An encoder that someone waits on (opening, a write, close(), file decoding) is also held
// here, so its events keep arriving; any other is held by its owner alone. One dropped without
// close() is collected with its native object, whose destructor closes the pipeline.
const awaited = new Set<LadderEncoder>();

// NODE_DEBUG=abrcast prints each encoder's thread plan.
const debug = debuglog('abrcast');

/** Every rendition's audio is AAC at this rate, whatever the source's. */
const AAC_SAMPLE_RATE = 48_000;

/**
 * SegmentEvent.ptsOffset: what the bytes add to every timestamp, the same for every segment, part,
 * rendition, container and encoder (native: TsSegmenter/Fmp4Segmenter::kPtsOffsetSeconds).
 */
export const PTS_OFFSET_SECONDS = 1.4;

/** An ID3 tag in one MPEG-TS PES packet (PES_packet_length is 16 bits) with room for the PES header. */
export const MAX_TIMED_METADATA_BYTES = 60 * 1024;

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  callSite: Error;
}

export interface LadderEncoderEvents {
  segment: [SegmentEvent];
  init: [InitEvent];
  part: [PartEvent];
  /** With `thumbnails`: one per segment, before the segment's own events. */
  thumbnail: [ThumbnailEvent];
  /** File input only, a few times a second. */
  progress: [EncodeProgress];
  warning: [string];
  error: [Error];
}

export class LadderEncoder extends EventEmitter<LadderEncoderEvents> {
  /** The resolved ladder. */
  readonly renditions: readonly Rendition[];
  /** The encoder that runs: `auto` resolves to one of these. */
  readonly encoder: ActiveEncoder;
  /** Why `auto` fell back to x264, when it did. */
  readonly fallbackReason?: string;
  readonly options: Readonly<NormalizedEncoderOptions>;
  /** The threads this encoder runs, decided when it was created from the process's thread budget. */
  readonly threadPlan: Readonly<ThreadPlan>;

  /**
   * Resolves once the inputs, CUDA and every encoder are open (all of it off the JS thread);
   * rejects with what failed, naming it. Frames and audio written before are queued.
   * `await LadderEncoder.open(options)` is `new LadderEncoder(options)` plus this.
   */
  readonly ready: Promise<void>;

  #native: NativeLadderEncoder;
  #state: State = 'open';
  #opened = false;
  #settleReady!: (error?: Error) => void;
  #failure?: Error;
  #drainWaiters: Waiter<void>[] = [];
  /** write()s of host frames whose buffer the pipeline still holds, by the id given to the native write. */
  #frameWaiters = new Map<number, Waiter<void>>();
  #nextFrameId = 0;
  #audioDrainWaiters: Waiter<void>[] = [];
  #refusedWaiters: Waiter<void>[] = [];
  #closeWaiter?: Waiter<EncodeSummary>;
  #closePromise?: Promise<EncodeSummary>;
  #framesWritten = 0;
  #audioSamplesWritten = 0;
  #inputStarted = false;
  #outcome?: { summary: EncodeSummary } | { failure: Error };
  #metadataIds = 0;

  /**
   * An encoder that decodes `source` (a path or URL) inside the addon: probes it, takes its size and
   * frame rate, and its audio unless `options.audio` is given (or false). Call start() to begin and
   * close() to wait for the end; `media` is what the probe read.
   */
  static async fromFile(source: string, options: FileEncoderOptions = {}): Promise<LadderEncoder & { media: MediaInfo }> {
    const media = await probeMediaFile(source, { ioTimeout: options.ioTimeout });
    const encoder = (await LadderEncoder.open(fileEncoderOptions(source, media, options))) as LadderEncoder & { media: MediaInfo };
    Object.defineProperty(encoder, 'media', { value: media, enumerable: true });
    return encoder;
  }

  /** A new encoder, once open: rejects (naming what failed) rather than failing its first write. */
  static async open(options: LadderEncoderOptions): Promise<LadderEncoder> {
    // The hardware probe the constructor makes (NVENC for `auto`, CUDA for cudaFrames), done here
    // off the JS thread first; the constructor then finds it cached.
    const normalized = normalizeEncoderOptions(options);
    if (normalized.encoder !== 'x264' || normalized.cudaFrames) await probeHardware(smallestRendition(normalized.renditions));
    const encoder = new LadderEncoder(options);
    await encoder.ready;
    return encoder;
  }

  constructor(options: LadderEncoderOptions) {
    super();
    const normalized = normalizeEncoderOptions(options);
    this.options = normalized;
    this.renditions = normalized.renditions;
    const smallest = smallestRendition(normalized.renditions);
    const selection = selectEncoder(normalized.encoder, smallest);
    this.encoder = selection.encoder;
    this.fallbackReason = selection.fallbackReason;
    if (normalized.cudaFrames) {
      const { cuda, reason } = probeHardwareSync(smallest.width, smallest.height);
      if (!cuda) throw new AbrcastError(`Cannot use cudaFrames: ${reason ?? 'no CUDA device'}`);
    }
    if (normalized.outputDir) {
      for (const r of normalized.renditions) mkdirSync(join(normalized.outputDir, r.name), { recursive: true });
    }
    const addon = loadNativeAddon();
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (error) => (error ? reject(error) : resolve());
    });
    this.ready.catch(() => {}); // not awaiting it is fine: the failure also reaches write() and close()
    const onEvent = weakEventHandler(new WeakRef(this), LadderEncoder.#deliver);
    try {
      this.#native = new addon.NativeLadderEncoder(toNativeConfig(normalized, selection.encoder), onEvent);
    } catch (cause) {
      throw new AbrcastError(cause instanceof Error ? cause.message : String(cause), { cause });
    }
    this.threadPlan = threadPlanOf(this.#native.threadPlan()!, normalized.renditions);
    debug('encoder %s: thread plan %j', normalized.renditions.map((r) => r.name).join('/'), this.threadPlan);
    this.#updateRef();
  }

  /** Frames accepted so far (file input: frames decoded into the ladder, as of the last 'progress'). */
  get framesWritten(): number {
    return this.#framesWritten;
  }

  /** Whether frames come from `options.input` rather than write(). */
  get fromFile(): boolean {
    return this.options.input !== undefined;
  }

  /**
   * File input: begins decoding (once; later calls do nothing). Until closed, the encoder then keeps
   * the process alive. Set up listeners first: segments follow at once.
   */
  start(): void {
    if (!this.options.input) throw new AbrcastError('start() needs file input (options.input); write() frames instead');
    if (this.#inputStarted || this.#state !== 'open') return;
    this.#inputStarted = true;
    this.#native.start();
    this.#updateRef();
  }

  /** File input: stops reading the input; what was read is still encoded. close() then resolves as usual. */
  stopInput(): void {
    if (this.options.input && this.#state !== 'closed') this.#native.end();
  }

  /**
   * Hands the frame to the pipeline, which reads the buffer in place (no copy): the encoder's own
   * threads convert it to YUV. Resolves once it has been converted: **the buffer may be reused once
   * this resolves**, not before. Until then it is the encoder's: a change made to it meanwhile
   * may or may not be in the picture (what the buffer holds when it is converted is encoded), and it
   * must not be transferred (postMessage) or detached. Later writes need not wait for earlier ones:
   * several frames may be in flight, each with its own buffer (up to 4 x `maxFramesInFlight` + 8
   * frames; beyond that write() rejects). Awaiting each write() holds a fast renderer back to the
   * encoders' pace, so memory stays flat. Rejects if the encoder fails or is aborted first.
   * With `cudaFrames`, `frame` is `{ cudaDevicePtr, pitch }`: converted on the GPU (NVENC) or copied
   * to host memory (x264) before this returns; it resolves once at most `maxFramesInFlight` frames wait.
   */
  write(frame: Uint8Array | Uint8ClampedArray | CudaDeviceFrame): Promise<void> {
    const callSite = new Error();
    // A device frame is converted on the GPU, which is set up while opening: wait for it.
    if (this.options.cudaFrames && !this.#opened && !this.#failure) return this.ready.then(() => this.write(frame));
    const id = this.#nextFrameId++;
    let queued: number;
    try {
      this.#checkWritable();
      queued = this.options.cudaFrames
        ? this.#native.writeCuda(normalizeCudaFrame(frame, this.options))
        : this.#native.write(this.#checkFrameBuffer(frame), id);
    } catch (error) {
      return Promise.reject(withCallSiteStack(asCallerError(error), callSite));
    }
    if (queued < 0) return this.#refused(callSite);
    this.#framesWritten += 1;
    if (this.options.cudaFrames) {
      if (queued <= this.options.maxFramesInFlight) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        this.#drainWaiters.push({ resolve, reject, callSite });
        this.#updateRef();
      });
    }
    return new Promise<void>((resolve, reject) => {
      this.#frameWaiters.set(id, { resolve, reject, callSite });
      this.#updateRef();
    });
  }

  /** Sample frames (one sample per channel) accepted by writeAudio() so far. */
  get audioSamplesWritten(): number {
    return this.#audioSamplesWritten;
  }

  /**
   * Copies interleaved float32 PCM (needs `audio: { pcm }`) into the pipeline; it is
   * resampled to 48 kHz stereo and encoded once for every rendition. Timestamps follow
   * the sample count, so write silence too: a gap in the audio is a gap in time.
   * Resolves once accepted: about half a second of samples may wait to be encoded.
   * Segments are cut only once the audio up to their end has been written, so write
   * audio alongside video rather than all video first.
   */
  writeAudio(samples: Float32Array): Promise<void> {
    const callSite = new Error();
    let queued: number;
    try {
      this.#checkAudioWritable(samples);
      if (samples.length === 0) return Promise.resolve();
      queued = this.#native.writeAudio(samples);
    } catch (error) {
      return Promise.reject(withCallSiteStack(asCallerError(error), callSite));
    }
    if (queued < 0) return this.#refused(callSite);
    const audio = this.options.audio as Extract<NormalizedEncoderOptions['audio'], { kind: 'pcm' }>;
    this.#audioSamplesWritten += samples.length / audio.channels;
    if (queued <= audio.maxQueuedSamples) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#audioDrainWaiters.push({ resolve, reject, callSite });
      this.#updateRef();
    });
  }

  /**
   * Carries timed metadata in band in every rendition, with the frame shown at `item.time`: an
   * ID3 PES (timed ID3 stream, needs `timedMetadata: true`) in MPEG-TS, an emsg box (version 1,
   * scheme https://aomedia.org/emsg/ID3) ahead of the fragment that covers the time in fMP4. An
   * item whose time has already been muxed goes into the next part or segment; one due after the
   * stream's end is dropped with a warning.
   */
  writeMetadata(item: TimedMetadataInput): void {
    if (typeof item !== 'object' || item === null) throw invalidParameterError('metadata', 'object with time and id3', item);
    const { time, id3, duration, id } = item;
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) throw invalidParameterError('metadata.time', 'seconds, 0 or more', time);
    if (!(id3 instanceof Uint8Array) || id3.length === 0 || id3.length > MAX_TIMED_METADATA_BYTES) {
      throw invalidParameterError('metadata.id3', `Uint8Array of 1 to ${MAX_TIMED_METADATA_BYTES} bytes (an ID3v2 tag)`, id3);
    }
    if (duration !== undefined && (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0)) {
      throw invalidParameterError('metadata.duration', 'seconds, 0 or more', duration);
    }
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff)) {
      throw invalidParameterError('metadata.id', 'integer between 0 and 4294967295', id);
    }
    if (this.options.container === 'ts' && !this.options.timedMetadata) {
      throw new AbrcastError('writeMetadata() on MPEG-TS needs the option timedMetadata: true (the stream must be declared from the start)');
    }
    if (this.#state !== 'open') throw new AbrcastError('Cannot write metadata after close() was called');
    if (this.#failure) throw this.#failure;
    const itemId = id ?? this.#metadataIds;
    this.#metadataIds = Math.max(this.#metadataIds, itemId + 1) >>> 0;
    if (!this.#native.writeMetadata(time, id3, duration ?? -1, itemId)) throw this.#stoppedError();
  }

  /**
   * Flushes every encoder, emits the last (short) segments, and resolves with the totals.
   * File input: waits for the input to end (or stopInput()); never started, it closes empty.
   */
  close(): Promise<EncodeSummary> {
    if (this.#closePromise) return this.#closePromise;
    const callSite = new Error();
    if (this.#outcome) {
      const outcome = this.#outcome;
      this.#closePromise =
        'summary' in outcome ? Promise.resolve(outcome.summary) : Promise.reject(withCallSiteStack(outcome.failure, callSite));
      return this.#closePromise;
    }
    this.#state = 'closing';
    this.#closePromise = new Promise<EncodeSummary>((resolve, reject) => {
      this.#closeWaiter = { resolve, reject, callSite };
    });
    this.#updateRef();
    if (!this.options.input || !this.#inputStarted) this.#native.end();
    return this.#closePromise;
  }

  /** Stops at once without flushing. Pending writes and close() reject. */
  abort(reason = 'Encoder aborted'): void {
    if (this.#state === 'closed') return;
    this.#failure ??= new AbrcastError(reason);
    this.#native.abort();
    if (!this.#closePromise) void this.close().catch(() => {});
  }

  #checkWritable(): void {
    if (this.options.input) throw new AbrcastError(`write() is not available: frames are decoded from ${this.options.input.file}`);
    if (this.#state !== 'open') throw new AbrcastError('Cannot write a frame after close() was called');
    if (this.#failure) throw this.#failure;
  }

  #checkFrameBuffer(frame: unknown): Uint8Array {
    if (!(frame instanceof Uint8Array || frame instanceof Uint8ClampedArray)) {
      const hint = isCudaDeviceFrame(frame) ? ' (to write CUDA device frames, create the encoder with cudaFrames: true)' : '';
      throw new TypeError(`Expected Buffer or Uint8Array for frame but received ${describeValue(frame)}${hint}`);
    }
    return checkFrameBytes(frame, this.options);
  }

  #checkAudioWritable(samples: unknown): void {
    const audio = this.options.audio;
    if (audio?.kind !== 'pcm') {
      throw new AbrcastError('writeAudio() needs the option audio: { pcm: { sampleRate, channels } }');
    }
    if (this.#state !== 'open') throw new AbrcastError('Cannot write audio after close() was called');
    if (this.#failure) throw this.#failure;
    if (!(samples instanceof Float32Array)) {
      throw invalidParameterError('samples', 'Float32Array of interleaved samples', samples);
    }
    if (samples.length % audio.channels !== 0) {
      throw invalidParameterError(
        'samples.length', `integer multiple of ${audio.channels} (interleaved channels)`, samples.length,
      );
    }
  }

  // The pipeline failed, but its error event may still be on its way: reject
  // with that error once it arrives rather than with a vaguer one now.
  #refused(callSite: Error): Promise<void> {
    if (this.#failure || this.#state === 'closed') return Promise.reject(withCallSiteStack(this.#stoppedError(), callSite));
    return new Promise<void>((_resolve, reject) => {
      this.#refusedWaiters.push({ resolve: () => {}, reject, callSite });
      this.#updateRef();
    });
  }

  #stoppedError(): Error {
    return this.#failure ?? new AbrcastError('The encoder stopped taking frames');
  }

  // The native event function keeps the process alive only while a caller awaits us.
  #updateRef(): void {
    if (this.#state === 'closed') {
      awaited.delete(this);
      return;
    }
    const waiting =
      this.#frameWaiters.size + this.#drainWaiters.length + this.#audioDrainWaiters.length + this.#refusedWaiters.length > 0;
    const decoding = this.#inputStarted && this.#state === 'open';
    if (!this.#opened || waiting || decoding || this.#state === 'closing') {
      awaited.add(this);
      this.#native.ref();
    } else {
      awaited.delete(this);
      this.#native.unref();
    }
  }

  #takeFrameWaiters(): Waiter<void>[] {
    const waiters = [...this.#frameWaiters.values()];
    this.#frameWaiters.clear();
    return waiters;
  }

  static #deliver(encoder: LadderEncoder, event: NativeEvent): void {
    encoder.#onNativeEvent(event);
  }

  #onNativeEvent(event: NativeEvent): void {
    switch (event.type) {
      case 'ready':
        this.#opened = true;
        this.#settleReady();
        this.#updateRef();
        return;
      case 'init': {
        const init: InitEvent = { rendition: event.rendition, data: event.data, bytes: event.data.length, codecs: event.codecs };
        if (event.path) init.path = event.path;
        this.emit('init', init);
        return;
      }
      case 'part': {
        const tick = this.options.fpsDen / this.options.fpsNum;
        this.emit('part', {
          rendition: event.rendition,
          segmentIndex: event.segmentIndex,
          partIndex: event.partIndex,
          startPts: event.startFrame * tick,
          duration: event.durationFrames * tick,
          independent: event.independent,
          codecs: event.codecs,
          bytes: event.data.length,
          data: event.data,
        });
        return;
      }
      case 'segment': {
        const tick = this.options.fpsDen / this.options.fpsNum;
        const segment: SegmentEvent = {
          rendition: event.rendition,
          index: event.index,
          container: this.options.container,
          startPts: event.startFrame * tick,
          ptsOffset: event.ptsOffset,
          duration: event.durationFrames * tick,
          bytes: event.data.length,
          data: event.data,
          codecs: event.codecs,
          iframes: event.iframes.map(({ offset, length, frame }) => ({ offset, length, pts: frame * tick })),
        };
        if (event.path) segment.path = event.path;
        this.emit('segment', segment);
        return;
      }
      case 'thumbnail': {
        const tick = this.options.fpsDen / this.options.fpsNum;
        this.emit('thumbnail', {
          rendition: event.rendition,
          segmentIndex: event.segmentIndex,
          startPts: event.startFrame * tick,
          width: event.width,
          height: event.height,
          data: event.data,
        });
        return;
      }
      case 'warning':
        this.emit('warning', event.message);
        return;
      case 'drain': {
        const waiters = this.#drainWaiters.splice(0);
        for (const waiter of waiters) waiter.resolve();
        this.#updateRef();
        return;
      }
      case 'released': {
        // Converted (the buffer is the caller's again), or dropped by a failure or abort().
        const waiter = this.#frameWaiters.get(event.id);
        if (!waiter) return; // refused, or settled by 'error' or 'finished' already
        this.#frameWaiters.delete(event.id);
        if (this.#failure) waiter.reject(withCallSiteStack(this.#failure, waiter.callSite));
        else waiter.resolve();
        this.#updateRef();
        return;
      }
      case 'progress':
        this.#framesWritten = event.frames;
        this.emit('progress', { frames: event.frames, seconds: (event.frames * this.options.fpsDen) / this.options.fpsNum });
        return;
      case 'audioDrain': {
        const waiters = this.#audioDrainWaiters.splice(0);
        for (const waiter of waiters) waiter.resolve();
        this.#updateRef();
        return;
      }
      case 'error': {
        this.#failure ??= new AbrcastError(event.message);
        if (!this.#opened) this.#settleReady(this.#failure);
        // Frames not yet converted may still be read: their write()s reject on 'released' or 'finished'.
        const waiters = [...this.#drainWaiters.splice(0), ...this.#audioDrainWaiters.splice(0), ...this.#refusedWaiters.splice(0)];
        for (const waiter of waiters) waiter.reject(withCallSiteStack(this.#failure, waiter.callSite));
        // Only when someone listens: an unheard 'error' event would crash the process.
        if (this.listenerCount('error') > 0) this.emit('error', this.#failure);
        return;
      }
      case 'finished':
        this.#finish(event);
        return;
    }
  }

  #finish(event: Extract<NativeEvent, { type: 'finished' }>): void {
    this.#state = 'closed';
    if (this.options.input) this.#framesWritten = event.frames;
    this.#native.dispose();
    awaited.delete(this);
    if (!this.#opened) this.#settleReady(this.#stoppedError());
    // Every thread has stopped: no buffer is read any more, whatever 'released' events are still on their way.
    const waiters = [...this.#takeFrameWaiters(), ...this.#drainWaiters.splice(0), ...this.#audioDrainWaiters.splice(0)];
    const failure = event.failed ? this.#stoppedError() : undefined;
    for (const waiter of this.#refusedWaiters.splice(0)) waiter.reject(withCallSiteStack(this.#stoppedError(), waiter.callSite));
    for (const waiter of waiters) {
      if (failure) waiter.reject(withCallSiteStack(failure, waiter.callSite));
      else waiter.resolve();
    }
    const summary: EncodeSummary = {
      frames: event.frames,
      encoder: this.encoder,
      ...(this.fallbackReason ? { fallbackReason: this.fallbackReason } : {}),
      renditions: this.renditions.map((r, i) => ({
        name: r.name,
        width: r.width,
        height: r.height,
        segments: event.renditions[i]?.segments ?? 0,
        bytes: event.renditions[i]?.bytes ?? 0,
      })),
      ...(event.audioSamples !== undefined
        ? { audio: { samples: event.audioSamples, sampleRate: AAC_SAMPLE_RATE, durationSeconds: event.audioSamples / AAC_SAMPLE_RATE } }
        : {}),
    };
    // A file can end (or any pipeline fail) before close(): close() then settles with this.
    this.#outcome = failure ? { failure } : { summary };
    const closeWaiter = this.#closeWaiter;
    if (!closeWaiter) return;
    if (failure) closeWaiter.reject(withCallSiteStack(failure, closeWaiter.callSite));
    else closeWaiter.resolve(summary);
  }
}

function smallestRendition(renditions: readonly Rendition[]): Rendition {
  return renditions.reduce((a, b) => (a.width * a.height <= b.width * b.height ? a : b));
}

// Built outside the constructor: a closure there would share its scope, `this` included, and the
// native event function would hold the encoder after all. Events of a collected encoder are dropped.
function weakEventHandler(
  weak: WeakRef<LadderEncoder>,
  deliver: (encoder: LadderEncoder, event: NativeEvent) => void,
): (event: NativeEvent) => void {
  return (event) => {
    const encoder = weak.deref();
    if (encoder) deliver(encoder, event);
  };
}

function threadPlanOf(plan: NativeThreadPlan, renditions: readonly Rendition[]): ThreadPlan {
  return Object.freeze({
    usableCpus: plan.usableCpus,
    cpuSource: plan.cpuSource,
    budget: plan.budget,
    budgetSet: plan.budgetSet,
    encoders: plan.encoders,
    share: plan.share,
    shareSet: plan.shareSet,
    x264Threads: Object.fromEntries(plan.x264Threads.map((threads, i) => [renditions[i]!.name, threads])),
    scalerThreads: plan.scalerThreads,
    decoderThreads: plan.decoderThreads,
  });
}

// Option errors keep their TypeError/RangeError; what the addon threw becomes an AbrcastError.
function asCallerError(error: unknown): Error {
  if (error instanceof TypeError || error instanceof RangeError || error instanceof AbrcastError) return error;
  return new AbrcastError(error instanceof Error ? error.message : String(error), { cause: error });
}
