// The journal's lock file: one taker at a time, a dead holder's lock replaced,
// a live one (this process included) refused by name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { JournalLock, JournalLockedError } from '../../src/journal/journal-lock.js';

describe('JournalLock', () => {
  let root: string;
  let n = 0;
  const freshDir = async () => {
    const dir = join(root, `run-${n++}`);
    await rm(dir, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(dir, { recursive: true });
    return dir;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'abrcast-journal-lock-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('takers at once: one gets the lock, the others are refused (a lock being written is never taken for a torn one)', async () => {
    // Two resumes of one run started together. The lock file used to be created empty and then
    // written: the second taker could read it in between, take it for torn, and replace it.
    for (let round = 0; round < 100; round += 1) {
      const dir = await freshDir();
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => JournalLock.acquire(dir, 'resume')));
      const taken = results.filter((result): result is PromiseFulfilledResult<JournalLock> => result.status === 'fulfilled');
      assert.equal(taken.length, 1, `round ${round}: exactly one taker (${results.map((r) => r.status).join(', ')})`);
      for (const refused of results.filter((result): result is PromiseRejectedResult => result.status === 'rejected')) {
        assert.ok(refused.reason instanceof JournalLockedError, String(refused.reason));
      }
      assert.equal(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')).pid, process.pid);
      await taken[0].value.release();
    }
  });

  test('a lock whose process is gone is replaced and reported; one held by a live process is refused with its role and pid', async () => {
    const dir = await freshDir();
    const exited = spawnSync(process.execPath, ['-e', '0']).pid!;
    const since = new Date(0).toISOString();
    await writeFile(join(dir, 'lock'), JSON.stringify({ role: 'producer', pid: exited, host: hostname(), since }));
    assert.equal(await JournalLock.isStale(dir), true);
    const lock = await JournalLock.acquire(dir, 'resume');
    assert.deepEqual(lock.replaced?.owner, { role: 'producer', pid: exited, host: hostname(), since });
    await assert.rejects(JournalLock.acquire(dir, 'producer'), (error: unknown) => {
      assert.ok(error instanceof JournalLockedError);
      assert.match((error as Error).message, new RegExp(`held by the resume of this run, process ${process.pid} on `));
      return true;
    });
    await lock.release();
    assert.equal(await JournalLock.holder(dir), undefined);
  });
});
