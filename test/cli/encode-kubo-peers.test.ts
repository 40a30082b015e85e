// `abrcast encode` through the real CLI onto two real Kubo peers with
// `--kubo-url A,B --replicas 2`: the run ends, and every segment the registry
// lists, and the final master playlist, is pinned on both peers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { RunRecord, SegmentRecord } from '../../src/registry/run-records.js';
import { startKuboPeers, type KuboPeers } from '../support/kubo-peers.js';
import { cliEnv, makeTempDir, readJsonRun, runCli, type CliResult } from './cli-process.js';

const run = promisify(execFile);

describe('abrcast encode --store kubo --kubo-url A,B --replicas 2', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let set: KuboPeers;
  let result: CliResult;
  let events: Array<{ event: string; [key: string]: unknown }>;
  let run_: RunRecord | undefined;
  let segments: SegmentRecord[] = [];

  before(async () => {
    temp = await makeTempDir('abrcast-cli-peers-');
    set = await startKuboPeers(2);
    const clip = join(temp.path, 'clip.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
    result = await runCli(
      ['encode', clip, '--ladder', '180', '--segment', '1', '--encoder', 'x264', '--json', '--data-dir', join(temp.path, 'data'),
        '--store', 'kubo', '--kubo-url', set.apiUrls.join(','), '--replicas', '2'],
      cliEnv(temp.path),
      90_000,
    );
    ({ events, run: run_, segments } = await readJsonRun<{ event: string; [key: string]: unknown }>(result.stdout, join(temp.path, 'data')));
  });

  after(async () => {
    await set?.stop();
    await temp?.remove();
  });

  test('the run ends with every segment listed in order and pinned on both peers', async () => {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(run_?.status, 'ended');
    assert.deepEqual(segments.map((s) => `${s.rendition}/${s.index}`), ['180p/0', '180p/1']);
    for (const segment of segments) {
      for (const peer of set.peers) assert.equal(await peer.pinned(segment.cid), true, `${segment.rendition}/${segment.index} on ${peer.apiUrl}`);
    }
    const masterCid = String(events.at(-1)!.masterCid);
    for (const peer of set.peers) assert.equal(await peer.pinned(masterCid), true, `master on ${peer.apiUrl}`);
  });
});
