// What thumbnails and I-frame indexing cost per frame, counted in instructions (load-independent):
//   valgrind --tool=callgrind --callgrind-out-file=cg.out node --import tsx bench/thumbnail-instructions.ts [ts|fmp4]
//   callgrind_annotate --inclusive=yes --threshold=100 cg.out | grep -E 'start_thread|LadderPipeline::submit|ThumbnailEncoder::encode|Segmenter::write'
// The native pipeline is start_thread (every pipeline and x264 thread) plus LadderPipeline::submit (the JS thread's
// frame conversion); thumbnails are ThumbnailEncoder::encode; I-frame indexing is Segmenter::write minus Segmenter::writeTo.
import { LadderEncoder } from '../src/index.js';

const container = (process.argv[2] ?? 'ts') as 'ts' | 'fmp4';
const FRAMES = 60;
const encoder = new LadderEncoder({
  width: 1920, height: 1080, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264', container, thumbnails: true,
});
const frame = Buffer.alloc(1920 * 1080 * 3);
for (let i = 0; i < frame.length; i++) frame[i] = (i * 7 + (i >> 11)) & 255;
let thumbnails = 0;
encoder.on('thumbnail', () => {
  thumbnails += 1;
});
for (let i = 0; i < FRAMES; i++) {
  frame[(i * 9973) % frame.length] ^= 0xff;
  await encoder.write(frame);
}
await encoder.close();
console.log(`${FRAMES} frames, ${thumbnails} thumbnails`);
