// What the encoder carries beyond the picture (issue 25), judged by ffprobe/ffmpeg and by a box
// reader of the tests' own: each segment's I-frame byte ranges decode alone as one I-frame; the
// thumbnails are their segment's first frame (PSNR against the frame ffmpeg decodes, which a
// neighbouring segment's frame fails); writeMetadata() items are timed ID3 PES packets in MPEG-TS
// and emsg boxes ahead of the fragment covering their time in fMP4.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { id3Tag, LadderEncoder, type Container, type PartEvent, type SegmentEvent, type ThumbnailEvent } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { playable } from '../support/media.js';
import { parseEmsg, topLevelBoxes } from '../support/mp4-boxes.js';
import { psnr } from '../support/psnr.js';

const run = promisify(execFile);
const FPS = 30;
const SEGMENTS = 4;
const LADDER = [
  { name: 'high', width: 640, height: 360, bitrate: 700 },
  { name: 'low', width: 320, height: 180, bitrate: 250 },
];
const THUMB = { width: 160, height: 90 };
const PART_FRAMES = 10;
/** Items written before the first frame, so where each lands is fixed. */
const ITEMS = [
  { time: 0.5, id3: id3Tag([{ id: 'TXXX', description: 'scene', value: 'intro' }]) },
  { time: 1.25, duration: 2, id3: id3Tag([{ id: 'TIT2', text: 'chapter two' }, { id: 'PRIV', owner: 'com.example', data: Buffer.from([1, 2, 3]) }]) },
  { time: 2.9, id3: id3Tag([{ id: 'TXXX', description: 'scene', value: 'outro ✓' }]) },
];
const AFTER_END = { time: 10, id3: id3Tag([{ id: 'TXXX', description: 'late', value: 'never' }]) };

interface Encoded {
  segments: SegmentEvent[];
  parts: PartEvent[];
  inits: Map<string, Buffer>;
  thumbnails: ThumbnailEvent[];
  warnings: string[];
}

async function encode(container: Container, parts: boolean): Promise<Encoded> {
  const encoder = new LadderEncoder({
    width: 640, height: 360, fps: FPS, segmentDuration: 1, renditions: LADDER, encoder: 'x264', container,
    thumbnails: { width: THUMB.width }, timedMetadata: true, ...(parts ? { partDuration: PART_FRAMES / FPS } : {}),
  });
  const out: Encoded = { segments: [], parts: [], inits: new Map(), thumbnails: [], warnings: [] };
  encoder.on('segment', (s) => out.segments.push(s));
  encoder.on('part', (p) => out.parts.push(p));
  encoder.on('init', (i) => out.inits.set(i.rendition, i.data));
  encoder.on('thumbnail', (t) => out.thumbnails.push(t));
  encoder.on('warning', (w) => out.warnings.push(w));
  for (const item of [...ITEMS, AFTER_END]) encoder.writeMetadata(item);
  const frames = new FrameGenerator(640, 360);
  for (let i = 0; i < SEGMENTS * FPS; i++) await encoder.write(frames.frame(i));
  await encoder.close();
  return out;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'abrcast-beyond-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function tempFile(name: string, data: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

interface VideoFrame {
  pict_type: string;
  key_frame: number;
  pts_time: string;
}

async function videoFrames(data: Uint8Array): Promise<VideoFrame[]> {
  const path = await tempFile(`probe-${Math.random().toString(36).slice(2)}`, data);
  const { stdout } = await run('ffprobe', ['-v', 'quiet', '-select_streams', 'v', '-show_frames', '-show_entries', 'frame=pict_type,key_frame,pts_time', '-of', 'json', path]);
  return (JSON.parse(stdout) as { frames?: VideoFrame[] }).frames ?? [];
}

/** The first frame ffmpeg decodes from `data`, scaled to the thumbnail size, as RGB. */
async function firstFrameRgb(data: Uint8Array, width: number, height: number): Promise<Buffer> {
  const path = await tempFile(`frame-${Math.random().toString(36).slice(2)}`, data);
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-frames:v', '1', '-vf', `scale=${width}:${height}:flags=bicubic`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 });
  assert.equal(stdout.length, width * height * 3);
  return stdout;
}

for (const container of ['ts', 'fmp4'] as const) {
  for (const parts of [false, true]) {
    describe(`${container}${parts ? ' with parts' : ''}`, () => {
      let out: Encoded;
      before(async () => {
        out = await encode(container, parts);
      });
      const init = (s: SegmentEvent) => out.inits.get(s.rendition);

      test('every segment lists its IDR, and that byte range alone decodes as exactly one I-frame at its time', { timeout: 120_000 }, async () => {
        assert.equal(out.segments.length, SEGMENTS * LADDER.length);
        for (const segment of out.segments) {
          const where = `${segment.rendition} segment ${segment.index}`;
          assert.equal(segment.iframes.length, 1, `${where}: ${JSON.stringify(segment.iframes)}`);
          const [range] = segment.iframes;
          assert.ok(Math.abs(range!.pts - segment.startPts) < 1e-9, `${where}: I-frame at ${range!.pts}`);
          if (container === 'ts') assert.equal(range!.offset, 0, `${where}: the PAT/PMT that open it are in the range`);
          else {
            const moof = topLevelBoxes(segment.data).find((box) => box.type === 'moof');
            assert.equal(range!.offset, moof?.start, `${where}: the range starts at the first moof`);
          }
          assert.ok(range!.offset + range!.length < segment.bytes, `${where}: the range is less than the segment`);
          const frames = await videoFrames(playable(segment.data.subarray(range!.offset, range!.offset + range!.length), init(segment)));
          assert.equal(frames.length, 1, `${where}: ${JSON.stringify(frames)}`);
          assert.equal(frames[0]!.pict_type, 'I', where);
          assert.equal(frames[0]!.key_frame, 1, where);
          assert.ok(Math.abs(Number(frames[0]!.pts_time) - (segment.startPts + segment.ptsOffset)) < 0.002, `${where}: pts ${frames[0]!.pts_time}`);
          // The whole segment holds more: the range is not the segment by accident.
          assert.ok((await videoFrames(playable(segment.data, init(segment)))).length > 1, where);
        }
      });

      test('a thumbnail per segment, from the smallest rendition, that is its first frame (PSNR)', { timeout: 120_000 }, async () => {
        assert.deepEqual(out.thumbnails.map((t) => t.segmentIndex), [0, 1, 2, 3]);
        const low = out.segments.filter((s) => s.rendition === 'low').sort((a, b) => a.index - b.index);
        for (const thumbnail of out.thumbnails) {
          assert.equal(thumbnail.rendition, 'low');
          assert.deepEqual([thumbnail.width, thumbnail.height], [THUMB.width, THUMB.height]);
          assert.ok(Math.abs(thumbnail.startPts - thumbnail.segmentIndex) < 1e-9);
          assert.equal(thumbnail.data.readUInt16BE(0), 0xffd8, 'a JPEG (SOI)');
          const picture = await firstFrameRgb(thumbnail.data, THUMB.width, THUMB.height);
          const own = low[thumbnail.segmentIndex]!;
          const neighbour = low[thumbnail.segmentIndex === 0 ? 1 : thumbnail.segmentIndex - 1]!;
          const right = psnr(picture, await firstFrameRgb(playable(own.data, init(own)), THUMB.width, THUMB.height));
          const wrong = psnr(picture, await firstFrameRgb(playable(neighbour.data, init(neighbour)), THUMB.width, THUMB.height));
          assert.ok(right >= 30, `thumbnail ${thumbnail.segmentIndex}: PSNR ${right.toFixed(1)} dB against its segment's first frame`);
          assert.ok(right >= wrong + 3, `thumbnail ${thumbnail.segmentIndex}: ${right.toFixed(1)} dB, a neighbouring segment's frame ${wrong.toFixed(1)} dB`);
        }
      });

      test('timed metadata reaches every rendition in band, in the segment that covers its time', { timeout: 120_000 }, async () => {
        assert.ok(out.warnings.some((w) => /1 timed metadata item\(s\) due after the end/.test(w)), out.warnings.join('\n'));
        for (const { name } of LADDER) {
          const segments = out.segments.filter((s) => s.rendition === name).sort((a, b) => a.index - b.index);
          for (const [n, item] of ITEMS.entries()) {
            const holder = segments.find((s) => item.time >= s.startPts && item.time < s.startPts + s.duration)!;
            if (container === 'ts') {
              const path = await tempFile(`${name}-${holder.index}.ts`, holder.data);
              const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'd', '-show_streams', '-show_packets', '-of', 'json', path]);
              const probed = JSON.parse(stdout) as { streams: Array<{ codec_name: string }>; packets?: Array<{ pts_time: string; size: string }> };
              assert.equal(probed.streams[0]?.codec_name, 'timed_id3');
              const packet = probed.packets?.find((p) => Math.abs(Number(p.pts_time) - (item.time + holder.ptsOffset)) < 1e-3);
              assert.ok(packet, `${name} segment ${holder.index}: no ID3 at ${item.time}: ${stdout}`);
              // FFmpeg 5.1's demuxer takes the first 5 bytes of any stream type 0x15 PES for a metadata
              // AU cell header (ISO 13818-1 2.12.4), which only stream_id 0xfc carries; 6.1 reads only those.
              const size = Number(packet.size);
              assert.ok(size === item.id3.length || size === item.id3.length - 5, `ID3 PES of ${size} bytes`);
              const { stdout: bytes } = await run('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:d:0', '-c', 'copy', '-f', 'data', '-'], { encoding: 'buffer' });
              assert.ok(bytes.includes(item.id3.subarray(item.id3.length - size)), `${name} segment ${holder.index}: the tag's bytes`);
            } else {
              const boxes = topLevelBoxes(holder.data);
              const events = boxes.filter((box) => box.type === 'emsg').map((box) => ({ box, emsg: parseEmsg(holder.data, box) }));
              const found = events.find(({ emsg }) => emsg.messageData.equals(item.id3));
              assert.ok(found, `${name} segment ${holder.index}: emsg ${n}`);
              const { emsg, box } = found;
              assert.equal(emsg.schemeIdUri, 'https://aomedia.org/emsg/ID3');
              assert.equal(emsg.value, '');
              assert.equal(emsg.timescale, 90_000);
              assert.equal(emsg.presentationTime, Math.round((item.time + holder.ptsOffset) * 90_000));
              assert.equal(emsg.eventDuration, item.duration === undefined ? 0xffff_ffff : item.duration * 90_000);
              // Ahead of the moof of the fragment that covers the time: with parts, the part's.
              const moofs = boxes.filter((b) => b.type === 'moof');
              const fragment = parts
                ? out.parts.filter((p) => p.rendition === name && p.segmentIndex === holder.index)
                  .findIndex((p) => item.time >= p.startPts && item.time < p.startPts + p.duration)
                : 0;
              const next = moofs[fragment]!;
              assert.ok(box.start < next.start && (fragment === 0 || box.start > moofs[fragment - 1]!.start), `${name}: emsg at ${box.start}, moofs ${moofs.map((m) => m.start)}`);
              // Readers that know nothing of emsg skip it.
              assert.ok((await videoFrames(playable(holder.data, init(holder)))).length === holder.duration * FPS);
            }
          }
        }
      });
    });
  }
}
