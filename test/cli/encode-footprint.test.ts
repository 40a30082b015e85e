// What `abrcast encode` of a small clip costs in memory on a new data directory:
// the embedded registry starts from the build's seed with a small
// shared_buffers, and the CLI keeps PGlite's WASM on Liftoff. It peaked at
// ~870 MB when the registry ran initdb.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CliProcess, cliEnv, makeTempDir } from './cli-process.js';

const run = promisify(execFile);

/** The process's peak RSS so far (VmHWM), in bytes; undefined once it is gone. */
function peakRss(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

describe('abrcast encode of a 160x90 clip on a new data directory', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let clip: string;

  before(async () => {
    temp = await makeTempDir('abrcast-cli-footprint-');
    clip = join(temp.path, 'clip.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30', '-t', '4', '-c:v', 'libx264',
      '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
  });

  after(async () => {
    await temp?.remove();
  });

  test('peaks under 300 MB RSS', async () => {
    const cli = new CliProcess(['encode', clip, '--json', '--data-dir', join(temp.path, 'data')], cliEnv(temp.path));
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, peakRss(cli.child.pid!) ?? 0)), 20);
    try {
      // VmHWM only grows: read once more when the run has ended, before the process is gone.
      await cli.waitForJson<{ event: string }>((event) => event.event === 'end', 90_000);
      peak = Math.max(peak, peakRss(cli.child.pid!) ?? 0);
      const result = await cli.result(30_000);
      assert.equal(result.code, 0, result.stderr);
    } finally {
      clearInterval(poll);
      await cli.stop();
    }
    assert.ok(peak > 0, 'the peak was read');
    assert.ok(peak < 300 * 1048576, `peak RSS ${(peak / 1048576).toFixed(0)} MB`);
  });
});
