// One ffmpeg child whose CPU time we can read exactly: it runs under bash,
// which reaps it and prints the children's user+sys with `times` on fd 3.
// Reading /proc/<pid>/stat just before exit would race the exit itself.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

import type { FrameRing } from './frames.js';
import { parseBashTimes, type CpuSeconds } from './measure.js';

const WRAPPER = '"$@"; rc=$?; times >&3; exit $rc';
const STDERR_TAIL = 4000;

export interface FfmpegChild {
  /** The bash wrapper's pid; ffmpeg is its child. */
  pid: number | undefined;
  /** The child's stdin, when it reads frames from a pipe. */
  stdin: Writable | null;
  /** Resolves with the child's CPU once it exited cleanly; rejects with its stderr otherwise. */
  exited: Promise<CpuSeconds>;
}

export function spawnFfmpeg(label: string, args: string[], { pipeStdin }: { pipeStdin: boolean }): FfmpegChild {
  const child = spawn('bash', ['-c', WRAPPER, 'bash', 'ffmpeg', ...args], {
    stdio: [pipeStdin ? 'pipe' : 'ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  let stderr = '';
  let times = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
  });
  const timesStream = child.stdio[3] as NodeJS.ReadableStream;
  timesStream.setEncoding('utf8');
  timesStream.on('data', (text: string) => {
    times += text;
  });
  // A child that dies mid-frame makes our pipe write fail with EPIPE; the exit status says why.
  child.stdin?.on('error', () => {});
  const exited = new Promise<CpuSeconds>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`Cannot start ffmpeg (${label}): ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        reject(new Error(`ffmpeg (${label}) ${why}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no message'}`));
        return;
      }
      try {
        resolve(parseBashTimes(times));
      } catch (error) {
        reject(error);
      }
    });
  });
  return { pid: child.pid, stdin: child.stdin, exited };
}

function writeFully(stream: Writable, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Writes frames 0..count-1 into every pipe, each frame to all pipes before the
 * next, then closes them: the Python original's write loop. A pipe that
 * breaks ends the loop; the caller learns why from the child's exit.
 */
export async function feedPipes(pipes: Writable[], ring: FrameRing, count: number): Promise<void> {
  try {
    for (let i = 0; i < count; i++) {
      const frame = ring.frame(i);
      await Promise.all(pipes.map((pipe) => writeFully(pipe, frame)));
    }
  } catch {
    // Fall through to end(): the exit status of the child carries the real error.
  }
  for (const pipe of pipes) pipe.end();
}

/** Waits for every child; the first failure wins, after all have ended. */
export async function waitForAll(children: FfmpegChild[]): Promise<CpuSeconds> {
  const results = await Promise.allSettled(children.map((c) => c.exited));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const total: CpuSeconds = { user: 0, system: 0 };
  for (const r of results as PromiseFulfilledResult<CpuSeconds>[]) {
    total.user += r.value.user;
    total.system += r.value.system;
  }
  return total;
}
