#!/usr/bin/env bash
# Builds the addon with AddressSanitizer into build-asan/ and runs a short
# encode (video and audio, every rendition, plus an abort, plus encoders dropped
# without close() and collected, plus writes in flight when an encoder is aborted,
# closed or dropped) under it. Fails on
# any ASan report. Leak checking is off: Node itself holds memory until exit.
set -euo pipefail
cd "$(dirname "$0")/.."

npx cmake-js compile --out build-asan --CDABRCAST_ASAN=ON >/dev/null
libasan=$(g++ -print-file-name=libasan.so)
export ABRCAST_NATIVE_PATH="$PWD/build-asan/Release/abrcast.node"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
LD_PRELOAD="$libasan" node --expose-gc --import tsx --input-type=module -e "
  import { LadderEncoder } from './src/index.ts';
  const run = async (options, frames, abort = false) => {
    const encoder = new LadderEncoder({ width: 640, height: 360, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264', ...options });
    let segments = 0;
    encoder.on('segment', () => segments++);
    const frame = Buffer.alloc(640 * 360 * 3);
    for (let i = 0; i < frames; i++) {
      frame.fill(i & 255);
      if (options.audio?.pcm) await encoder.writeAudio(new Float32Array(1600 * 2).fill(0.1));
      await encoder.write(frame);
    }
    if (abort) { encoder.abort(); await encoder.close().catch(() => {}); return 0; }
    await encoder.close();
    return segments;
  };
  // Encoders dropped without close(), with events still queued: collected, aborted, disposed (no freed memory read).
  const dropped = async () => {
    const encoder = new LadderEncoder({ width: 320, height: 180, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264' });
    const frame = Buffer.alloc(320 * 180 * 3);
    for (let i = 0; i < 40; i++) await encoder.write(frame);
  };
  // Writes in flight (each its own buffer, which write() borrows until the frame is converted), then
  // aborted, or dropped unawaited, with collections in between: no buffer is read once V8 has it back.
  const inFlight = async (ending) => {
    const encoder = new LadderEncoder({ width: 1280, height: 720, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264' });
    const writes = Array.from({ length: 20 }, (_, i) => encoder.write(Buffer.alloc(1280 * 720 * 3, i * 12)).catch(() => {}));
    // Collections while the frames are converted: a buffer let go of too early would be freed under its reader.
    for (let i = 0; i < 4; i++) { await new Promise((r) => setImmediate(r)); globalThis.gc(); }
    if (ending === 'abort') { encoder.abort(); await encoder.close().catch(() => {}); }
    if (ending === 'close') await encoder.close();
    globalThis.gc();
    return ending === 'drop' ? undefined : Promise.all(writes);
  };
  for (const ending of ['abort', 'close', 'drop', 'abort', 'drop']) await inFlight(ending);
  for (let i = 0; i < 8; i++) await dropped();
  for (let i = 0; i < 30; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); }
  const video = await run({}, 45);
  const audio = await run({ audio: { pcm: { sampleRate: 48000, channels: 2 } } }, 45);
  await run({}, 20, true);
  if (video < 2 || audio < 2) throw new Error('expected segments, got ' + video + ' and ' + audio);
  console.log('asan: ' + video + ' video-only and ' + audio + ' audio segments, 8 dropped encoders collected, writes in flight aborted, closed and dropped, no ASan report');
"
