// Clients other than browser players: `ffmpeg -i <master> -c copy` records a run while it is
// live and once it has ended (its HLS demuxer ignores the LL-HLS tags and reads whole segments,
// so LL and plain runs alike), and GStreamer's HLS demuxer (hlsdemux, gstreamer1.0-plugins-bad,
// picked by playbin) decodes every frame of an ended run and follows a live one. Real runs of
// both containers through the server's own gateway; ffprobe judges what ffmpeg wrote.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import type { Container } from '../../src/encoder/types.js';
import { LIVE_LADDER, startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';

const run = promisify(execFile);
const FPS = 30;
const RECORD_S = 3;
/** Past ffmpeg's live start (3 segments from the end) with room to record RECORD_S seconds. */
const LIVE_SEGMENTS_FIRST = 4;

interface Probed {
  streams: { codec_type: string; width?: number; height?: number }[];
  format: { duration?: string };
}

async function probe(path: string): Promise<Probed> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-of', 'json', '-show_entries', 'stream=codec_type,width,height:format=duration', path]);
  return JSON.parse(stdout) as Probed;
}

/**
 * `ffmpeg -v error -i <master> -map 0:v -map 0:a? -c copy [...extra] -f matroska <out>`: exit code and everything it printed.
 * Video and audio only: an MPEG-TS run's timed ID3 stream has no place in Matroska.
 */
async function record(master: string, out: string, extra: string[] = []): Promise<{ code: number; stderr: string }> {
  const args = ['-nostdin', '-v', 'error', '-y', '-i', master, '-map', '0:v', '-map', '0:a?', '-c', 'copy', ...extra, '-f', 'matroska', out];
  try {
    const { stderr } = await run('ffmpeg', args, { timeout: 120_000 });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stderr: failed.stderr ?? String(error) };
  }
}

/** The video frames GStreamer decoded (playbin into a verbose fakesink), its exit code and any error or warning line. */
function gstPlay(master: string, { stopAfterMs }: { stopAfterMs?: number } = {}): Promise<{ code: number | null; frames: number; problems: string[]; demuxer: string | undefined }> {
  return new Promise((resolve, reject) => {
    // -e: SIGINT sends EOS and the pipeline stops cleanly; -v prints each buffer the video sink gets.
    const child = spawn('gst-launch-1.0', ['-e', '-v', 'playbin', `uri=${master}`, 'video-sink=fakesink name=video silent=false', 'audio-sink=fakesink'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let frames = 0;
    let demuxer: string | undefined;
    const problems: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (/last-message = chain .*\(video:sink\)/.test(line)) frames += 1;
        demuxer ??= /Gst(HLSDemux\d?):/.exec(line)?.[1];
        if (/\b(ERROR|WARNING)\b/.test(line)) problems.push(line.slice(0, 300));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    const timer = setTimeout(() => child.kill('SIGINT'), stopAfterMs ?? 120_000);
    // A live pipeline's EOS waits on hlsdemux's next download: what it decoded is counted already.
    const hardStop = setTimeout(() => child.kill('SIGKILL'), (stopAfterMs ?? 120_000) + 3000);
    child.once('close', (code) => {
      clearTimeout(timer);
      clearTimeout(hardStop);
      resolve({ code, frames, problems, demuxer });
    });
  });
}

for (const [container, lowLatency] of [['ts', true], ['fmp4', true], ['ts', false], ['fmp4', false]] as [Container, boolean][]) {
  describe(`ffmpeg and GStreamer as clients: ${container}${lowLatency ? ' LL-HLS' : ''}`, () => {
    let live: LiveRun;
    let dir: string;
    let master: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'abrcast-clients-'));
      live = await startLiveRun({ output: { container }, fps: FPS, maxSeconds: 90, ...(lowLatency ? { partDuration: 10 / FPS } : {}) });
      master = `${live.server.url}/runs/${live.runId}/master.m3u8`;
      await waitFor(`${LIVE_SEGMENTS_FIRST} published segments`, () => live.versions.length >= LIVE_SEGMENTS_FIRST, { timeoutMs: 60_000 });
    });
    after(async () => {
      await live?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    test('ffmpeg records the live run: every rendition, no error', { timeout: 180_000 }, async () => {
      const out = join(dir, 'live.mkv');
      const { code, stderr } = await record(master, out, ['-t', String(RECORD_S)]);
      assert.equal(code, 0, `ffmpeg failed: ${stderr}`);
      assert.equal(stderr.trim(), '', 'ffmpeg printed no error');
      const probed = await probe(out);
      assert.deepEqual(probed.streams.filter((s) => s.codec_type === 'video').map((s) => s.width), LIVE_LADDER.map((r) => r.width));
      assert.ok(Math.abs(Number(probed.format.duration) - RECORD_S) < 0.5, `recorded ${probed.format.duration} s of ${RECORD_S}`);
    });

    if (container === 'ts' && lowLatency) {
      test('GStreamer (hlsdemux in playbin) follows the live run, decoding frames, with no error', { timeout: 120_000 }, async () => {
        const played = await gstPlay(master, { stopAfterMs: 8000 });
        assert.deepEqual(played.problems, []);
        assert.equal(played.demuxer, 'HLSDemux', 'the HLS demuxer of gstreamer1.0-plugins-bad');
        // It starts some segments back from the live edge, so it decodes more than real time at first.
        assert.ok(played.frames >= 2 * FPS, `${played.frames} frames decoded`);
      });
    }

    test('once the run has ended: ffmpeg records all of it, and GStreamer decodes every frame', { timeout: 180_000 }, async () => {
      await live.stop();
      const frames = live.framesWritten();
      const out = join(dir, 'ended.mkv');
      const { code, stderr } = await record(master, out);
      assert.equal(code, 0, `ffmpeg failed: ${stderr}`);
      assert.equal(stderr.trim(), '', 'ffmpeg printed no error');
      const probed = await probe(out);
      assert.deepEqual(probed.streams.filter((s) => s.codec_type === 'video').map((s) => s.width), LIVE_LADDER.map((r) => r.width));
      assert.ok(Math.abs(Number(probed.format.duration) - frames / FPS) < 0.2, `recorded ${probed.format.duration} s of ${frames / FPS}`);
      const played = await gstPlay(master);
      assert.equal(played.code, 0);
      assert.deepEqual(played.problems, []);
      assert.equal(played.frames, frames, 'every frame of the top rendition decoded');
    });
  });
}
