// A demo killed outright (SIGKILL: no chance to finish) leaves a live run whose
// playlists lack EXT-X-ENDLIST; `abrcast finalize <id>` ends it from what the
// registry recorded, and a second finalize is a harmless no-op.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRecord } from '../../src/registry/run-records.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { CliProcess, cliEnv, makeTempDir, playlistUris, runCli } from './cli-process.js';

interface Event {
  event: string;
  [key: string]: unknown;
}

async function readRun(dataDir: string, id: string): Promise<RunRecord | undefined> {
  const registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
  try {
    return await registry.getRun(id);
  } finally {
    await registry.close();
  }
}

describe('abrcast finalize', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let dataDir: string;
  let runId: string;
  let demo: CliProcess;

  before(async () => {
    temp = await makeTempDir('abrcast-cli-finalize-');
    dataDir = join(temp.path, 'data');
    demo = new CliProcess(['demo', '--size', '640x360', '--segment', '1', '--port', '0', '--json', '--data-dir', dataDir], cliEnv(temp.path));
    const published = await demo.waitForJson<Event>((event) => event.event === 'publish', 60_000);
    runId = String(published.runId);
    demo.child.kill('SIGKILL');
    await demo.exited;
  });

  after(async () => {
    await demo?.stop();
    await temp?.remove();
  });

  test('a killed demo leaves its run live', async () => {
    assert.equal((await readRun(dataDir, runId))?.status, 'live');
  });

  test('finalize ends the run with ENDLIST playlists, then is a no-op', async () => {
    const result = await runCli(['finalize', runId, '--data-dir', dataDir], cliEnv(temp.path), 60_000);
    assert.equal(result.code, 0, result.stderr);
    const masterCid = /^Master playlist: (\S+)$/m.exec(result.stdout)?.[1];
    assert.ok(masterCid, result.stdout);
    const run = await readRun(dataDir, runId);
    assert.equal(run?.status, 'ended');
    assert.equal(run?.masterCid, masterCid);

    const store = new HeliaStore({ dir: join(dataDir, 'ipfs') });
    try {
      const master = new TextDecoder().decode(await store.cat(masterCid));
      for (const uri of playlistUris(master)) {
        const media = new TextDecoder().decode(await store.cat(uri.replace(/^\/ipfs\//, '')));
        assert.match(media, /^#EXT-X-ENDLIST$/m);
        assert.ok(playlistUris(media).length >= 1);
      }
    } finally {
      await store.close();
    }

    const again = await runCli(['finalize', runId, '--json', '--data-dir', dataDir], cliEnv(temp.path), 60_000);
    assert.equal(again.code, 0, again.stderr);
    const event = JSON.parse(again.stdout.trim()) as Event;
    assert.deepEqual([event.event, event.masterCid, event.alreadyEnded], ['end', masterCid, true]);
  });
});
