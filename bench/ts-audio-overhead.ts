// How many MPEG-TS bytes a second of 128 kbit/s AAC costs in abrcast's segments: the packets on the
// audio PID (PES headers, adaptation-field padding) over the encoded duration. The muxer's max_delay
// decides how many AAC frames share one PES packet (ts-segmenter.h). Run: npx tsx bench/ts-audio-overhead.ts
import { LadderEncoder } from '../src/index.js';

const TS_PACKET = 188;

/** Bytes per PID over the concatenated segments, and the PID of the AAC stream (from the PMT). */
export function tsBytesByPid(data: Buffer): { byPid: Map<number, number>; audioPid?: number } {
  const byPid = new Map<number, number>();
  let pmtPid: number | undefined;
  let audioPid: number | undefined;
  for (let offset = 0; offset + TS_PACKET <= data.length; offset += TS_PACKET) {
    if (data[offset] !== 0x47) throw new Error(`Lost TS sync at byte ${offset}`);
    const pid = ((data[offset + 1]! & 0x1f) << 8) | data[offset + 2]!;
    byPid.set(pid, (byPid.get(pid) ?? 0) + TS_PACKET);
    const start = (data[offset + 1]! & 0x40) !== 0;
    const adaptation = (data[offset + 3]! >> 4) & 0x3;
    let payload = offset + 4 + (adaptation & 2 ? 1 + data[offset + 4]! : 0);
    if (!start) continue;
    payload += 1 + data[payload]!; // pointer field (PSI only; harmless to skip for PAT/PMT)
    if (pid === 0) pmtPid = ((data[payload + 10]! & 0x1f) << 8) | data[payload + 11]!;
    else if (pid === pmtPid && audioPid === undefined) {
      const sectionEnd = payload + 3 + (((data[payload + 1]! & 0x0f) << 8) | data[payload + 2]!) - 4;
      let p = payload + 12 + (((data[payload + 10]! & 0x0f) << 8) | data[payload + 11]!);
      while (p + 5 <= sectionEnd) {
        const type = data[p]!;
        const esPid = ((data[p + 1]! & 0x1f) << 8) | data[p + 2]!;
        if (type === 0x0f) audioPid = esPid; // ISO/IEC 13818-7 ADTS AAC
        p += 5 + (((data[p + 3]! & 0x0f) << 8) | data[p + 4]!);
      }
    }
  }
  return { byPid, ...(audioPid !== undefined ? { audioPid } : {}) };
}

async function main(): Promise<void> {
  const seconds = 20;
  const fps = 30;
  const encoder = new LadderEncoder({
    width: 320, height: 180, fps, segmentDuration: 2, encoder: 'x264', x264Preset: 'ultrafast',
    renditions: [{ name: '180p', width: 320, height: 180, bitrate: 200 }],
    audio: { pcm: { sampleRate: 48_000, channels: 2 }, bitrate: 128 },
  });
  const chunks: Buffer[] = [];
  encoder.on('segment', (s) => chunks.push(s.data));
  const frame = Buffer.alloc(320 * 180 * 3);
  const samplesPerFrame = 48_000 / fps;
  for (let i = 0; i < seconds * fps; i++) {
    const pcm = new Float32Array(samplesPerFrame * 2);
    for (let j = 0; j < samplesPerFrame; j++) pcm[2 * j] = pcm[2 * j + 1] = 0.3 * Math.sin((2 * Math.PI * 440 * (i * samplesPerFrame + j)) / 48_000);
    frame.fill(i & 255);
    await encoder.writeAudio(pcm);
    await encoder.write(frame);
  }
  const summary = await encoder.close();
  const { byPid, audioPid } = tsBytesByPid(Buffer.concat(chunks));
  if (audioPid === undefined) throw new Error('No AAC stream in the PMT');
  const audioBytes = byPid.get(audioPid) ?? 0;
  const duration = summary.audio?.durationSeconds ?? seconds;
  console.log(JSON.stringify({ audioPid, audioTsBytes: audioBytes, seconds: duration, tsBytesPerSecond: Math.round(audioBytes / duration), payloadBytesPerSecond: 128_000 / 8 }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
